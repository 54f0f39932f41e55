"""An Idempotency-Key makes a transfer request safe to retry: one transfer, one allocation."""

from tests.support import assert_ledger_consistent


def test_a_replay_answers_as_the_first_time_and_allocates_once(stocked, transfer, detail,
                                                               ctx):
    lines = [{"sku": "A", "quantity": 12}]
    first = transfer(lines, key="move-1")
    assert first.status_code == 201, first.json
    again = transfer(lines, key="move-1")
    assert again.status_code == 201, again.json
    assert again.json == {**first.json, "idempotent_replay": True}
    assert detail("A", "DC-1")["allocated"] == 12
    # the replay answers even when the source no longer has the units for a second one
    assert transfer(lines, key="move-1").json["id"] == first.json["id"]
    assert_ledger_consistent(ctx)


def test_another_body_with_the_same_key_is_refused(stocked, transfer, detail, ctx):
    assert transfer([{"sku": "A", "quantity": 2}], key="move-2").status_code == 201
    refused = transfer([{"sku": "A", "quantity": 3}], key="move-2")
    assert refused.status_code == 422
    assert refused.json["code"] == "idempotency_key_reused"
    assert detail("A", "DC-1")["allocated"] == 2


def test_keys_are_per_caller(stocked, transfer, headers_for, detail):
    lines = [{"sku": "A", "quantity": 2}]
    mine = transfer(lines, key="move-3")
    theirs = transfer(lines, key="move-3", headers=headers_for("location:DC-1"))
    assert theirs.status_code == 201 and "idempotent_replay" not in theirs.json
    assert theirs.json["id"] != mine.json["id"]
    assert detail("A", "DC-1")["allocated"] == 4


def test_an_unusable_key_is_refused(stocked, transfer):
    refused = transfer([{"sku": "A", "quantity": 2}], key="k" * 129)
    assert refused.status_code == 422
    assert refused.json["problems"][0]["pointer"] == "/headers/Idempotency-Key"
