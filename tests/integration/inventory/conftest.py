import pytest


@pytest.fixture
def policy() -> str:
    return "ledger@1"
