"""Experiment tests: a copy of the fixture rulesets with an experiments file, the small
network stocked, and a helper that places orders."""

import shutil
from pathlib import Path

import pytest

from tests.support import FIXTURES, T1, snapshot

HEAD = "# yaml-language-server: $schema=../schemas/experiments.schema.json\nexperiments:\n"
RUNNING = HEAD + """\
  - key: dc-test
    unit: customer_id
    channels: [web]
    coverage: 1
    status: running
    variants:
      - {name: control, ruleset: ledger@1, weight: 0.5}
      - {name: dc-first, ruleset: dc-first@1, weight: 0.5}
  - key: app-draft
    unit: unit
    channels: [app]
    coverage: 0.3
    status: draft
    variants:
      - {name: control, ruleset: ledger@1, weight: 0.5}
      - {name: other, ruleset: ledger@9, weight: 0.5}
"""
NYC = {"lat": 40.71, "lon": -74.0}


@pytest.fixture
def policy() -> str:
    return "ledger@1"


@pytest.fixture
def rulesets_dir(tmp_path: Path) -> Path:
    """The fixture rulesets and a running experiment (web) beside a draft one (app)."""
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rulesets", root)
    (root / "experiments.yaml").write_text(RUNNING)
    return root


@pytest.fixture
def started(small_network):
    """The network with the rule files and the experiments file imported."""
    return small_network


@pytest.fixture
def stocked(started, client, admin):
    """A: 10 at ST-1 (New York), 10 at ST-2 (Chicago), 20 at DC-1. B: 5 at DC-1."""
    counts = {"ST-1": {"A": 10}, "ST-2": {"A": 10}, "DC-1": {"A": 20, "B": 5}}
    for location, items in counts.items():
        response = client.post("/v1/inventory/snapshots", json=snapshot(location, T1, items),
                               headers=admin)
        assert response.status_code == 200
    return started


@pytest.fixture
def order(client, admin):
    """Place a web order for New York and return its JSON."""

    def place(lines, customer_id):
        body = {"channel": "web", "ship_to": NYC, "lines": lines, "customer_id": customer_id}
        response = client.post("/v1/orders", json=body, headers=admin)
        assert response.status_code == 201, response.json
        return response.json

    return place
