"""Inventory API tests run on the fixed `ledger` test policy and the small network."""


import pytest


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def push(client, admin):
    """POST stock as admin and return the response."""

    def send(kind: str, body, **kwargs):
        return client.post(f"/v1/inventory/{kind}", json=body, headers=admin, **kwargs)

    return send


@pytest.fixture
def ats(client, admin):
    """The channel's ATS of one sku."""

    def read(channel: str, sku: str) -> int:
        response = client.get(f"/v1/availability?channel={channel}&sku={sku}", headers=admin)
        assert response.status_code == 200, response.json
        return response.json["items"][0]["available"]

    return read
