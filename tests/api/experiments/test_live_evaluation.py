"""Live evaluation on SQLite and PostgreSQL: a unit in a running experiment reads, plans and
orders with its variant's ruleset (ledger@2: the web sees no store stock) while every other
request uses the active one (ledger@1: stores keep two back); responses name experiment and
variant; an order keeps its variant's ruleset through a re-route and a backorder release
after the active ruleset changed; the variants' kept figures equal a full recomputation."""

import shutil
from datetime import UTC, datetime

import pytest

from service.domain.experiments.assignment import assign
from service.services.experiments.current import in_force
from service.services.orders import releasing
from service.services.rulesets import experiment_file
from tests.api.experiments.conftest import HEAD, NYC
from tests.support import FIXTURES, T2, T3, snapshot

LIVE = HEAD + """\
  - key: buffer-test
    unit: customer_id
    channels: [web]
    coverage: 1
    status: running
    variants:
      - {name: control, ruleset: ledger@1, weight: 0.5}
      - {name: lean, ruleset: ledger@2, weight: 0.5}
"""


@pytest.fixture
def rulesets_dir(tmp_path):
    root = tmp_path / "rules"
    shutil.copytree(FIXTURES / "rulesets", root)
    (root / "experiments.yaml").write_text(LIVE)
    return root


@pytest.fixture
def units(started):
    """A customer in each variant, as GrowthBook assigns them."""
    with started.reading() as uow:
        experiment = in_force(uow)[0]
    found: dict[str, str] = {}
    for i in range(200):
        chosen = assign(experiment, f"c{i}", datetime.now(UTC), "web")
        found.setdefault(chosen.variant, f"c{i}")
    return found


def availability(client, headers, unit=None, sku="A", **more):
    query = {"channel": "web", "sku": sku, **({"unit": unit} if unit else {}), **more}
    response = client.get("/v1/availability", query_string=query, headers=headers)
    assert response.status_code == 200, response.json
    body = response.json
    return body["items"][0]["available"], body["ruleset"], body["experiment"], body["variant"]


def test_a_unit_in_the_experiment_reads_its_variants_figure_and_others_the_active_one(
        stocked, client, admin, units):
    # A: ST-1 10, ST-2 10, DC-1 20. ledger@1 (active, control): 8 + 8 + 20; ledger@2: 20.
    assert availability(client, admin, units["lean"]) == (20, "ledger@2", "buffer-test", "lean")
    assert availability(client, admin, units["control"]) == (
        36, "ledger@1", "buffer-test", "control")
    assert availability(client, admin) == (36, "ledger@1", None, None)
    detail = availability(client, admin, units["lean"], detail="locations")
    assert detail == (20, "ledger@2", "buffer-test", "lean")  # computed live: the same
    posted = client.post("/v1/availability", headers=admin, json={
        "channel": "web", "skus": ["A"], "unit": units["lean"]}).json
    assert (posted["items"], posted["experiment"], posted["variant"]) == (
        [{"sku": "A", "available": 20}], "buffer-test", "lean")
    app = client.get("/v1/availability", headers=admin, query_string={
        "channel": "marketplace", "sku": "A", "unit": units["lean"]}).json
    assert (app["ruleset"], app["experiment"], app["variant"]) == ("ledger@1", None, None)


def test_a_unit_longer_than_an_id_is_a_422_naming_it(stocked, client, admin):
    response = client.get("/v1/availability", headers=admin,
                          query_string={"channel": "web", "sku": "A", "unit": "u" * 65})
    assert response.status_code == 422
    assert [p["pointer"] for p in response.json["problems"]] == ["/unit"]


def test_a_plan_is_made_by_the_units_variant_and_names_it(stocked, client, admin, units):
    def plan(**who):
        body = {"channel": "web", "ship_to": NYC, "lines": [{"sku": "A", "quantity": 1}],
                **who}
        response = client.post("/v1/sourcing/plan", json=body, headers=admin)
        assert response.status_code == 200, response.json
        return (response.json["shipments"][0]["location"], response.json["ruleset"],
                response.json["experiment"], response.json["variant"])

    assert plan(unit=units["lean"]) == ("DC-1", "ledger@2", "buffer-test", "lean")
    assert plan(customer_id=units["lean"]) == ("DC-1", "ledger@2", "buffer-test", "lean")
    assert plan(unit=units["control"]) == ("ST-1", "ledger@1", "buffer-test", "control")
    assert plan() == ("ST-1", "ledger@1", None, None)


def test_an_order_keeps_its_variants_ruleset_through_a_reroute_and_a_release(
        stocked, client, admin, order, units):
    placed = client.post("/v1/orders", headers=admin, json={
        "channel": "web", "ship_to": NYC, "lines": [{"sku": "A", "quantity": 1}],
        "customer_id": units["lean"], "on_short": "backorder"}).json
    assert (placed["ruleset"], placed["experiment"], placed["variant"]) == (
        "ledger@2", "buffer-test", "lean")
    assert [f["location"] for f in placed["fulfilments"]] == ["DC-1"]
    switched = client.post("/v1/rulesets/activate", json={"name": "dc-first"}, headers=admin)
    assert switched.status_code == 200, switched.json
    # DC-1 rejects: dc-first (active) would ship from ST-1; ledger@2 sees no store stock
    rejected = client.post(f"/v1/fulfilments/{placed['fulfilments'][0]['id']}/events",
                           headers=admin, json={"type": "rejected", "reason": "not_found"})
    assert rejected.status_code == 200, rejected.json
    after = client.get(f"/v1/orders/{placed['id']}", headers=admin).json
    assert [f["location"] for f in after["fulfilments"] if f["status"] != "rejected"] == []
    assert after["lines"][0]["backordered"] == 1
    # stock at the drop-shipper: dc-first hides it from the web, ledger@2 does not
    assert client.post("/v1/inventory/snapshots", json=snapshot("DS-1", T2, {"A": 3}),
                       headers=admin).status_code == 200
    releasing.release_all(stocked)
    released = client.get(f"/v1/orders/{placed['id']}", headers=admin).json
    assert [f["location"] for f in released["fulfilments"] if f["status"] != "rejected"
            ] == ["DS-1"]
    assert (released["ruleset"], released["variant"]) == ("ledger@2", "lean")


def kept_and_recomputed(ctx, ref):
    """The kept rows of a variant ruleset, and the same rows recomputed in full (in a
    transaction that is rolled back)."""
    with ctx.reading() as uow:
        kept = uow.variant_ats.all(ref)
        uow.variant_ats.refresh(ctx.rules.resolve(uow, ref))
        recomputed = uow.variant_ats.all(ref)
    return kept, recomputed


def test_a_variants_kept_figures_equal_a_full_recomputation_after_every_kind_of_change(
        stocked, client, admin, order, units):
    kept, recomputed = kept_and_recomputed(stocked, "ledger@2")
    assert kept == recomputed and kept[("web", "A")] == 20
    steps = [
        lambda: client.post("/v1/inventory/deltas", headers=admin, json={
            "as_of": T2, "items": [{"location": "DC-1", "sku": "A", "adjust": -3},
                                   {"location": "DS-1", "sku": "B", "on_hand": 4}]}),
        lambda: order([{"sku": "A", "quantity": 2}, {"sku": "B", "quantity": 1}],
                      units["lean"]),
        lambda: order([{"sku": "A", "quantity": 1}], units["control"]),
        lambda: client.post("/v1/reservations", headers=admin, json={  # a checkout hold
            "channel": "web", "sku": "A", "quantity": 2, "location": "ST-1"}),
        lambda: client.post("/v1/inventory/snapshots", headers=admin,
                            json=snapshot("DC-1", T3, {"A": 7, "C": 2})),
    ]
    for step in steps:
        step()
        for ref in ("ledger@1", "ledger@2"):
            kept, recomputed = kept_and_recomputed(stocked, ref)
            assert kept == recomputed, ref
    kept, _ = kept_and_recomputed(stocked, "ledger@2")
    assert (kept[("web", "A")], kept[("web", "C")]) == (7 - 2, 2)  # ledger@2: DC-1 only
    assert availability(client, admin, units["lean"], sku="A")[0] == 5


def test_stopping_the_experiment_drops_its_figures_and_its_units_read_the_active_ones(
        stocked, client, admin, units, rulesets_dir):
    with stocked.reading() as uow:
        assert uow.variant_ats.all("ledger@2")
    (rulesets_dir / "experiments.yaml").write_text(LIVE.replace("running", "stopped"))
    assert experiment_file.import_file(stocked)
    with stocked.reading() as uow:
        assert uow.variant_ats.all("ledger@2") == {} == uow.variant_ats.all("ledger@1")
    assert availability(client, admin, units["lean"]) == (36, "ledger@1", None, None)


def variant_rows(ctx):
    """Every variant row with the time it was last written."""
    from sqlalchemy import select

    from service.store.models import VariantAvailability

    table = VariantAvailability.__table__
    with ctx.sessions() as session:
        return {(r.ruleset, r.channel, r.sku): (r.available, r.updated_at)
                for r in session.execute(select(table))}


def test_a_ruleset_switch_leaves_the_variants_figures_unwritten_and_still_exact(
        stocked, client, admin, units):
    from service.services.rulesets import governance

    before = variant_rows(stocked)
    assert before
    governance.activate(stocked, {"name": "ledger", "version": 2}, "test")
    assert variant_rows(stocked) == before  # no variant row rewritten by the switch
    for ref in ("ledger@1", "ledger@2"):
        kept, recomputed = kept_and_recomputed(stocked, ref)
        assert kept == recomputed, ref
    assert availability(client, admin)[:2] == (20, "ledger@2")  # the switch itself happened
