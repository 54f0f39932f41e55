"""The results of an experiment from its orders' outcomes, without a database."""

import pytest

from service.domain.experiments.model import Experiment, Variant
from service.domain.experiments.report import METRICS, OrderOutcome, results

EXPERIMENT = Experiment("t", "customer_id", 1.0, "running", (
    Variant("control", "a@1", 0.5), Variant("b", "b@1", 0.5)))


def test_no_orders_means_zeros_and_no_intervals():
    found = results(EXPERIMENT, [])
    assert (found["orders"], found["units"]) == (0, 0)
    assert all(v == 0 for variant in found["variants"] for v in variant["metrics"].values())
    assert set(found["comparisons"][0]["metrics"]) == {m for m, _k, _s in METRICS}
    assert all(d["sequential_interval"] is None
               for d in found["comparisons"][0]["metrics"].values())


def test_units_are_distinct_customers_and_orders_of_unknown_variants_are_left_out():
    outcomes = [OrderOutcome("1", "control", "c1", cost=10, shipments=1, km=(5.0,)),
                OrderOutcome("2", "control", "c1", cost=30, shipments=2, km=(5.0, 15.0),
                             cancelled=True),
                OrderOutcome("3", "b", "c2", cost=20, shipments=1, km=(7.0,), rejected=True),
                OrderOutcome("4", "gone", "c3")]
    found = results(EXPERIMENT, outcomes)
    control, b = found["variants"]
    assert (control["units"], control["orders"], b["units"], b["orders"]) == (1, 2, 1, 1)
    assert control["metrics"]["cost_per_order"] == 20
    assert control["metrics"]["km_per_shipment"] == pytest.approx((5 + 5 + 15) / 3)
    assert (control["metrics"]["split_rate"], control["metrics"]["cancellation_rate"]) == (
        0.5, 0.5)
    assert b["metrics"]["rejection_rate"] == 1.0
    assert found["comparisons"][0]["metrics"]["cost_per_order"]["difference"] == 0


def test_the_srm_check_uses_the_weights_growthbook_would_use():
    skewed = Experiment("t", "customer_id", 1.0, "running", (
        Variant("control", "a@1", 0.7), Variant("b", "b@1", 0.7)))  # sum 1.4: equal shares
    outcomes = [OrderOutcome(str(i), "control" if i % 2 else "b", f"c{i}") for i in range(100)]
    found = results(skewed, outcomes)
    assert [v["weight"] for v in found["variants"]] == [0.5, 0.5]
    assert found["srm"]["expected"] == [50.0, 50.0] and not found["srm"]["mismatch"]
