"""Creating a transfer: its units allocated at the source in the same transaction.

An Idempotency-Key makes retries safe: per key role, the key names one transfer; the same body
again replays the first 201 body, another body is refused (422). The key's unique index
settles two requests racing with one key: the loser's transaction (its allocation too) rolls
back and it replays the winner's answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from service.domain.ids import new_id
from service.domain.roles import Role, authorize
from service.domain.transfers import Transfer
from service.errors import Conflict, IdempotencyMismatch, OmsError, ValidationFailed, problem
from service.payloads import require
from service.services.orders.placing import request_hash
from service.services.transfers.access import refuse_channels
from service.services.transfers.arrivals import expected_at
from service.services.transfers.stock import allocate_at_source
from service.services.transfers.views import transfer_view
from service.store.catalog import CatalogSnapshot
from service.store.errors import DuplicateRow, WriteConflict
from service.store.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from service.services.context import Context

ATTEMPTS = 3
Earlier = tuple[str | None, dict[str, Any]]


def create(ctx: Context, role: Role, body: dict[str, Any], key: str | None) -> dict[str, Any]:
    """Create a transfer (201 body), or replay the one this key created."""
    refuse_channels(role)
    require("transfer_request", body)
    expected_at(body)  # a bad time is a 422 before anything is read
    authorize(role, location=body["from"], action="send transfers from")
    fingerprint = request_hash(body)
    for _attempt in range(ATTEMPTS):
        try:
            with ctx.transaction() as uow:
                return _create_once(ctx, uow, role, body, key, fingerprint)
        except WriteConflict:  # a deadlock or serialization failure: nothing was written
            continue
        except (DuplicateRow, OmsError):  # a replay that raced the first, else the error
            earlier = _created_before(ctx, role, key)
            if earlier is None:
                raise
            return _replay(earlier, fingerprint)
    raise Conflict(f"The transfer met concurrent writers {ATTEMPTS} times; nothing was written: "
                   "try again.")


def _create_once(ctx: Context, uow: UnitOfWork, role: Role, body: dict[str, Any],
                 key: str | None, fingerprint: str) -> dict[str, Any]:
    if key is not None:
        earlier = uow.transfers.find_by_key(str(role), key)
        if earlier is not None:
            return _replay(earlier, fingerprint)
    lines = _checked_lines(body, uow.catalog())
    transfer = Transfer.create(id=new_id(), source=body["from"], destination=body["to"],
                               lines=lines, at=ctx.clock.now(), reference=body.get("reference"),
                               expected_at=expected_at(body))
    uow.journal.because("transfer", transfer=transfer.id, event="created")
    allocate_at_source(ctx, uow, transfer)
    response = transfer_view(transfer)
    uow.transfers.add(transfer, str(role), key, fingerprint, response)
    return response


def _checked_lines(body: dict[str, Any], catalog: CatalogSnapshot) -> list[tuple[str, int]]:
    """The lines as (sku, quantity), or a 422 naming every unknown or repeated field."""
    problems = []
    for field in ("from", "to"):
        if body[field] not in catalog.locations:
            problems.append(problem(f"/{field}", f"unknown location {body[field]!r}"))
    if body["from"] == body["to"]:
        problems.append(problem("/to", f"the destination is the source ({body['to']!r})"))
    elif body["to"] in catalog.locations and not catalog.locations[body["to"]]["active"]:
        problems.append(problem("/to", f"location {body['to']!r} is not active"))
    seen: set[str] = set()
    for i, line in enumerate(body["lines"]):
        if line["sku"] not in catalog.products:
            problems.append(problem(f"/lines/{i}/sku", f"unknown sku {line['sku']!r}"))
        elif line["sku"] in seen:
            problems.append(problem(f"/lines/{i}/sku", f"{line['sku']!r} is on an earlier "
                                    "line: one line per SKU"))
        seen.add(line["sku"])
    if problems:
        raise ValidationFailed(f"{len(problems)} problem(s) in the transfer.", problems)
    return [(line["sku"], line["quantity"]) for line in body["lines"]]


def _created_before(ctx: Context, role: Role, key: str | None) -> Earlier | None:
    if key is None:
        return None
    with ctx.reading() as uow:
        return uow.transfers.find_by_key(str(role), key)


def _replay(earlier: Earlier, fingerprint: str) -> dict[str, Any]:
    if earlier[0] != fingerprint:
        raise IdempotencyMismatch(
            "This Idempotency-Key was used with a different request body; use a new key.",
            [problem("/headers/Idempotency-Key", "already used with another body")])
    return {**earlier[1], "idempotent_replay": True}
