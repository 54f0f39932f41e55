"""The stock ledger through the API, on SQLite and PostgreSQL."""

import threading

import pytest
from sqlalchemy import select

from service.store.models import StockPosition
from tests.support import T1, T2, T3, assert_ledger_consistent, snapshot


def on_hand(ctx, location, sku):
    with ctx.sessions() as session:
        return session.scalar(select(StockPosition.on_hand).where(
            StockPosition.location_id == location, StockPosition.sku == sku))


def test_a_snapshot_sets_every_count_it_names(small_network, push, ctx):
    response = push("snapshots", snapshot("DC-1", T1, {"A": 10, "B": 4}))
    assert response.status_code == 200
    assert response.json["applied"] == 2 and response.json["ruleset"] == "ledger@1"
    assert on_hand(ctx, "DC-1", "A") == 10


def test_a_full_snapshot_zeroes_skus_absent_from_it(small_network, push, ctx):
    push("snapshots", snapshot("DC-1", T1, {"A": 10, "B": 4, "C": 6}))
    response = push("snapshots", snapshot("DC-1", T2, {"A": 9, "C": 6}))
    assert response.json["zeroed"] == 1 and response.json["unchanged"] == 1
    assert on_hand(ctx, "DC-1", "B") == 0


def test_an_older_snapshot_is_stale_and_changes_nothing(small_network, push, ctx):
    push("snapshots", snapshot("DC-1", T2, {"A": 10}))
    response = push("snapshots", snapshot("DC-1", T1, {"A": 3}))
    assert response.json["stale"] == 1 and response.json["applied"] == 0
    assert on_hand(ctx, "DC-1", "A") == 10


def test_a_delta_older_than_the_last_snapshot_is_stale(small_network, push, ctx):
    push("snapshots", snapshot("DC-1", T2, {"A": 10, "B": 1}))
    response = push("deltas", {"as_of": T1, "items": [{"location": "DC-1", "sku": "B",
                                                        "on_hand": 7}]})
    assert response.json["stale"] == 1 and on_hand(ctx, "DC-1", "B") == 1


def test_a_snapshot_that_would_zero_most_of_a_store_is_refused(small_network, push, ctx):
    push("snapshots", snapshot("ST-1", T1, {"A": 5, "B": 5, "C": 5}))
    response = push("snapshots", snapshot("ST-1", T2, {"A": 5}))
    assert response.status_code == 409 and response.json["code"] == "snapshot_refused"
    assert "67%" in response.json["detail"]
    assert on_hand(ctx, "ST-1", "B") == 5


def test_a_refused_snapshot_can_be_forced(small_network, push, ctx):
    push("snapshots", snapshot("ST-1", T1, {"A": 5, "B": 5, "C": 5}))
    response = push("snapshots", snapshot("ST-1", T2, {"A": 5}), query_string={"force": "true"})
    assert response.status_code == 200 and on_hand(ctx, "ST-1", "B") == 0


def test_a_snapshot_with_too_many_bad_rows_applies_nothing(small_network, push, ctx):
    body = snapshot("DC-1", T1, {"A": 3})
    body["items"].append({"sku": "B", "on_hand": -1})
    response = push("snapshots", body)
    assert response.status_code == 409 and "bad" in response.json["detail"]
    assert response.json["errors"][0]["line"] == 2
    assert on_hand(ctx, "DC-1", "A") is None


def test_a_delta_applies_good_rows_and_reports_bad_ones(small_network, push, ctx):
    items = [{"location": "DC-1", "sku": "A", "on_hand": 4},
             {"location": "DC-1", "sku": "ZZZ", "on_hand": 1},
             {"location": "DC-1", "sku": "B", "adjust": "x"},
             {"location": "DC-1", "sku": "C", "on_hand": 2, "adjust": 1}]
    response = push("deltas", {"as_of": T1, "items": items})
    assert response.status_code == 200
    assert response.json["applied"] == 1 and response.json["rejected"] == 3
    assert [e["line"] for e in response.json["errors"]] == [2, 3, 4]
    assert "unknown sku" in response.json["errors"][0]["reason"]


def test_a_delta_whose_every_row_is_rejected_says_rejected_not_ok(small_network, push, ctx):
    items = [{"location": "NOWHERE", "sku": "A", "on_hand": 4},
             {"location": "DC-1", "sku": "ZZZ", "on_hand": 1}]
    response = push("deltas", {"as_of": T1, "items": items})
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert (response.json["applied"], response.json["rejected"]) == (0, 2)
    assert "unknown location" in response.json["errors"][0]["reason"]
    good = push("deltas", {"as_of": T1, "items": [*items, {"location": "DC-1", "sku": "A",
                                                           "on_hand": 4}]})
    assert good.json["status"] == "ok" and good.json["applied"] == 1
    assert on_hand(ctx, "DC-1", "A") == 4


def test_adjustments_add_up_and_a_delta_is_visible_to_the_next_read(small_network, push, ats):
    push("deltas", {"as_of": T1, "items": [{"location": "DC-1", "sku": "A", "on_hand": 10}]})
    assert ats("web", "A") == 10
    push("deltas", {"as_of": T2, "items": [{"location": "DC-1", "sku": "A", "adjust": -3},
                                           {"location": "DC-1", "sku": "A", "adjust": 1}]})
    assert ats("web", "A") == 8


def test_deltas_arrive_as_csv_with_line_numbers(small_network, client, admin, ctx):
    body = "location,sku,on_hand,as_of\nDC-1,A,5,2026-03-01T10:00:00Z\nDC-1,B,lots,\n"
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           content_type="text/csv")
    assert response.json["applied"] == 1
    assert response.json["errors"][0]["line"] == 3  # the header is line 1, as in a file


def test_a_location_key_may_push_only_its_own_location(small_network, client, headers_for):
    key = headers_for("location:ST-1")
    own = client.post("/v1/inventory/snapshots", json=snapshot("ST-1", T1, {"A": 1}),
                      headers=key)
    other = client.post("/v1/inventory/snapshots", json=snapshot("ST-2", T1, {"A": 1}),
                        headers=key)
    assert own.status_code == 200 and other.status_code == 403


def test_a_snapshot_without_as_of_is_refused_with_the_field_named(small_network, push):
    response = push("snapshots", {"location": "DC-1", "items": [{"sku": "A", "on_hand": 1}]})
    assert response.status_code == 422 and response.json["problems"][0]["pointer"] == "/as_of"


def test_every_push_is_recorded_as_a_feed_run(small_network, push, client, admin):
    push("snapshots", snapshot("DC-1", T3, {"A": 1}))
    runs = client.get("/v1/feeds/runs", headers=admin).json["runs"]
    assert runs[0]["feed"] == "push:snapshot:DC-1" and runs[0]["applied"] == 1
    assert runs[0]["duration_ms"] is not None


def test_a_refused_snapshot_lists_the_rows_naming_an_unknown_sku(small_network, push, client,
                                                                  admin, ctx):
    response = push("snapshots", snapshot("DC-1", T1, {"A": 3, "ZZZ": 1}))
    unknown = {"line": 2, "reason": "unknown sku 'ZZZ'", "sku": "ZZZ", "location": "DC-1"}
    assert response.status_code == 409 and response.json["errors"] == [unknown]
    run = client.get("/v1/feeds/runs", headers=admin).json["runs"][0]
    assert run["status"] == "refused" and run["rejected"] == 1 and run["errors"] == [unknown]
    assert on_hand(ctx, "DC-1", "A") is None


def test_a_refused_snapshot_of_an_unknown_location_lists_every_row(small_network, push):
    response = push("snapshots", snapshot("XX-9", T1, {"A": 3, "B": 1}))
    assert response.status_code == 409
    assert [(e["line"], e["reason"]) for e in response.json["errors"]] == [
        (1, "unknown location 'XX-9'"), (2, "unknown location 'XX-9'")]


def test_ndjson_deltas_report_physical_line_numbers_blank_lines_counted(small_network, client,
                                                                         admin, ctx):
    body = ('{"location": "DC-1", "sku": "A", "on_hand": 5}\n\n'
            '{"location": "DC-1", "sku": "B", "on_hand": "lots"}\n'
            '{"location": "DC-1", "sku": "C", "adjust": 2}\n')
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           query_string={"as_of": T1}, content_type="application/x-ndjson")
    assert response.status_code == 200
    assert response.json["applied"] == 2 and response.json["rejected"] == 1
    assert [e["line"] for e in response.json["errors"]] == [3]
    assert on_hand(ctx, "DC-1", "A") == 5 and on_hand(ctx, "DC-1", "C") == 2


def test_an_unreadable_ndjson_line_is_a_rejected_row_and_the_rest_applies(small_network, client,
                                                                          admin, ctx):
    body = '{"location": "DC-1", "sku": "A", "on_hand": 5}\n{"location": oops}\n'
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           query_string={"as_of": T1}, content_type="application/x-ndjson")
    assert response.status_code == 200 and response.json["rows_read"] == 2
    assert [e["line"] for e in response.json["errors"]] == [2]
    assert "not valid JSON" in response.json["errors"][0]["reason"]
    assert on_hand(ctx, "DC-1", "A") == 5


def test_an_ndjson_line_with_a_number_too_long_to_read_is_a_rejected_row(small_network,
                                                                        client, admin, ctx):
    body = ('{"location": "DC-1", "sku": "A", "on_hand": ' + "9" * 5000 + "}\n"
            '{"location": "DC-1", "sku": "B", "on_hand": 4}\n')
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           query_string={"as_of": T1}, content_type="application/x-ndjson")
    assert response.status_code == 200 and response.json["rejected"] == 1
    assert response.json["errors"][0]["line"] == 1
    assert on_hand(ctx, "DC-1", "B") == 4


@pytest.mark.parametrize(("body", "content_type"), [
    ('{"sku": "A", "on_hand": 7}\n{"sku": "B", "on_hand": 2}\n', "application/x-ndjson"),
    ("sku,on_hand\nA,7\nB,2\n", "text/csv"),
], ids=["ndjson", "csv"])
def test_a_snapshot_arrives_as_text_with_location_and_as_of_in_the_query(
        small_network, client, admin, ctx, body, content_type):
    response = client.post("/v1/inventory/snapshots", data=body, headers=admin,
                           query_string={"location": "DC-1", "as_of": T1},
                           content_type=content_type)
    assert response.status_code == 200 and response.json["applied"] == 2
    assert on_hand(ctx, "DC-1", "A") == 7 and on_hand(ctx, "DC-1", "B") == 2
    runs = client.get("/v1/feeds/runs", headers=admin).json["runs"]
    assert runs[0]["feed"] == "push:snapshot:DC-1"


def test_a_location_key_may_not_push_deltas_for_another_location(small_network, client,
                                                                headers_for, ctx):
    key = headers_for("location:ST-1")
    body = {"as_of": T1, "items": [{"location": "ST-2", "sku": "A", "on_hand": 4}]}
    response = client.post("/v1/inventory/deltas", json=body, headers=key)
    assert response.status_code == 403 and on_hand(ctx, "ST-2", "A") is None


def test_deltas_for_its_own_and_another_location_are_refused_whole(small_network, client,
                                                                  headers_for, admin, ctx):
    key = headers_for("location:ST-1")
    body = {"as_of": T1, "items": [{"location": "ST-1", "sku": "A", "on_hand": 4},
                                   {"location": "ST-2", "sku": "A", "on_hand": 4}]}
    response = client.post("/v1/inventory/deltas", json=body, headers=key)
    assert response.status_code == 403
    assert on_hand(ctx, "ST-1", "A") is None and on_hand(ctx, "ST-2", "A") is None
    assert client.get("/v1/feeds/runs", headers=admin).json["runs"] == []


def allocate_two_b_at_the_dc(push, client, admin) -> None:
    """B is stocked at DC-1 only (5 units); a web order for 2 leaves them allocated there."""
    assert push("snapshots", snapshot("DC-1", T1, {"A": 20, "B": 5})).status_code == 200
    body = {"channel": "web", "ship_to": {"lat": 40.71, "lon": -74.0},
            "lines": [{"sku": "B", "quantity": 2}]}
    placed = client.post("/v1/orders", json=body, headers=admin)
    assert placed.status_code == 201
    assert [f["location"] for f in placed.json["fulfilments"]] == ["DC-1"]


def dc_stock(client, admin, sku: str) -> tuple[int, dict]:
    response = client.get(f"/v1/availability?channel=web&sku={sku}&detail=locations",
                          headers=admin)
    item = response.json["items"][0]
    return item["available"], {loc["location"]: loc for loc in item["locations"]}["DC-1"]


@pytest.mark.parametrize("kind, body", [
    ("snapshots", snapshot("DC-1", T2, {"A": 20, "B": 8})),
    ("deltas", {"as_of": T2, "items": [{"location": "DC-1", "sku": "B", "on_hand": 8}]}),
], ids=["snapshot", "delta"])
def test_a_count_pushed_after_an_order_keeps_its_allocation(small_network, push, client, admin,
                                                            kind, body):
    allocate_two_b_at_the_dc(push, client, admin)
    assert push(kind, body).status_code == 200
    available, dc = dc_stock(client, admin, "B")
    assert (dc["on_hand"], dc["allocated"], dc["available"]) == (8, 2, 6)
    assert available == 8 - 2
    assert_ledger_consistent(small_network)


def test_concurrent_deltas_on_one_position_all_apply(small_network, app, push, admin, ctx):
    push("deltas", {"as_of": T1, "items": [{"location": "DC-1", "sku": "A", "on_hand": 0}]})
    threads, each = 6, 5
    barrier = threading.Barrier(threads)
    statuses: list[int] = []

    def add_ones() -> None:
        client = app.test_client()
        barrier.wait()
        for _ in range(each):
            body = {"as_of": T2, "items": [{"location": "DC-1", "sku": "A", "adjust": 1}]}
            statuses.append(client.post("/v1/inventory/deltas", json=body,
                                        headers=admin).status_code)

    workers = [threading.Thread(target=add_ones) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    assert statuses == [200] * threads * each
    assert on_hand(ctx, "DC-1", "A") == threads * each
    assert_ledger_consistent(ctx)


def test_an_unreadable_csv_push_is_a_malformed_body_naming_the_problem(small_network, client,
                                                                       admin):
    body = "location,sku,on_hand\nDC-1,A," + "1" * 200_000 + "\n"
    response = client.post("/v1/inventory/deltas", data=body, headers=admin,
                           query_string={"as_of": T1}, content_type="text/csv")
    assert response.status_code == 400 and response.json["code"] == "malformed_body"
    assert "field larger than field limit" in response.json["problems"][0]["message"]


def test_a_delta_without_as_of_applies_as_of_the_time_it_was_received(small_network, push, ctx):
    response = push("deltas", {"items": [{"location": "DC-1", "sku": "A", "on_hand": 7},
                                         {"location": "DC-1", "sku": "B", "adjust": 2}]})
    assert response.status_code == 200, response.json
    assert (response.json["applied"], response.json["rejected"]) == (2, 0)
    assert (on_hand(ctx, "DC-1", "A"), on_hand(ctx, "DC-1", "B")) == (7, 2)


def test_a_csv_delta_without_as_of_applies_too(small_network, client, admin, ctx):
    response = client.post("/v1/inventory/deltas", data="location,sku,on_hand\nDC-1,C,4\n",
                           headers=admin, content_type="text/csv")
    assert response.json["applied"] == 1 and on_hand(ctx, "DC-1", "C") == 4


def test_force_that_is_neither_true_nor_false_is_a_422(small_network, push):
    response = push("snapshots", snapshot("ST-1", T2, {"A": 5}), query_string={"force": "maybe"})
    assert response.status_code == 422
    assert response.json["problems"][0]["pointer"] == "/query/force"
