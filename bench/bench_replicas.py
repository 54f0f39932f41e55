"""Read replicas, measured on a real primary and streaming replica started on this machine.

In one process, through the Flask test client, on the same data:
- single-SKU lookups per second: the primary alone (no read_urls), the primary with a replica
  configured but every read sent to the primary (a token it has not replayed), the replica;
- deltas per second with and without the consistency token each write answers with, and
  the token's own cost (one round trip to the primary);
- a read at once after its write, with the token: how often the replica could serve it.

Usage: python bench/bench_replicas.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from service.app import create_app  # noqa: E402
from service.bootstrap import build_context  # noqa: E402
from service.services.access.keys import create_key  # noqa: E402
from service.services.masterdata import upserts  # noqa: E402
from service.services.rulesets import governance  # noqa: E402
from service.settings import settings_from_dict  # noqa: E402
from service.store.db import make_engine  # noqa: E402
from service.store.migrate import upgrade  # noqa: E402
from service.store.replicas import parse_token  # noqa: E402
from tests.conftest import SMALL_LOCATIONS  # noqa: E402
from tests.replication import replicated_postgres  # noqa: E402
from tests.support import FIXTURES  # noqa: E402

SKUS = 200


def _service(primary: str, replica: str | None, engine: Any) -> tuple[Any, Any, dict]:
    database = {"read_urls": [replica] if replica else [], "read_poll_ms": 20}
    settings = settings_from_dict({
        "database_url": primary, "database": database,
        "rulesets": {"directory": str(FIXTURES / "rulesets"), "active": "ledger@1"}},
        base_dir=Path(tempfile.gettempdir()))
    ctx = build_context(settings, engine=engine)
    admin = {"Authorization": f"Bearer {create_key(ctx, 'admin')}"}
    return ctx, create_app(ctx=ctx).test_client(), admin


def _rate(n: int, call: Any) -> float:
    started = time.perf_counter()
    for i in range(n):
        call(i)
    return n / (time.perf_counter() - started)


def _read(client: Any, headers: dict, i: int) -> None:
    answer = client.get(f"/v1/availability?channel=web&sku=S{i % SKUS}", headers=headers)
    assert answer.status_code == 200, answer.json


def _push(client: Any, headers: dict, i: int) -> Any:
    answer = client.post("/v1/inventory/deltas", headers=headers, json={
        "items": [{"location": "DC-1", "sku": f"S{i % SKUS}", "on_hand": i}]})
    assert answer.status_code == 200, answer.json
    return answer


def measure(n: int) -> dict[str, Any]:
    """Every figure, on a pair started for the run."""
    with replicated_postgres() as pair:
        upgrade(pair.primary_url)
        engine = make_engine(pair.primary_url)
        plain, plain_client, plain_admin = _service(pair.primary_url, None, engine)
        upserts.upsert_locations(plain, SMALL_LOCATIONS)
        upserts.upsert_products(plain, [{"sku": f"S{i}", "name": "s", "price": 1}
                                        for i in range(SKUS)])
        governance.start(plain)
        for i in range(SKUS):
            _push(plain_client, plain_admin, i)
        ctx, client, admin = _service(pair.primary_url, pair.replica_url, engine)
        pair.wait_caught_up()
        time.sleep(0.2)
        far = admin | {"OMS-Consistency-Token": "pg:FFFFFFFF/0"}  # no replica is there yet
        figures = {
            "lookups_per_s_primary_no_replicas": _rate(n, lambda i: _read(
                plain_client, plain_admin, i)),
            "lookups_per_s_primary_replicas_configured": _rate(n, lambda i: _read(
                client, far, i)),
            "lookups_per_s_replica": _rate(n, lambda i: _read(client, admin, i)),
        }
        figures |= _deltas(n // 4, lambda i: _push(plain_client, plain_admin, i),
                           lambda i: _push(client, admin, i))
        figures["token_ms"] = 1000 / _rate(n, lambda i: ctx.replicas.position())
        figures["replica_share_read_at_once_after_write"] = _at_once(ctx, client, admin, n // 4)
        ctx.replicas.close()
        engine.dispose()
    return figures


def _deltas(n: int, plain: Any, tokened: Any) -> dict[str, float]:
    """Deltas per second without and with the token, in alternating blocks of ten (the
    machine's drift falls on both alike)."""
    spent = {"deltas_per_s_no_token": 0.0, "deltas_per_s_with_token": 0.0}
    for block in range(0, n, 10):
        for name, push in zip(spent, (plain, tokened), strict=True):
            started = time.perf_counter()
            for i in range(block, block + 10):
                push(i)
            spent[name] += time.perf_counter() - started
    return {name: (n // 10 * 10) / seconds for name, seconds in spent.items()}


def _at_once(ctx: Any, client: Any, admin: dict, n: int) -> float:
    """The share of reads sent at once after their write (with its token) a replica served."""
    served = 0
    for i in range(n):
        token = _push(client, admin, i).headers["OMS-Consistency-Token"]
        served += ctx.replicas.choose(parse_token(token)) is not None
        _read(client, admin | {"OMS-Consistency-Token": token}, i)
    return served / n


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few hundred requests")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    figures = measure(400 if args.quick else 4000)
    for name, value in figures.items():
        print(f"{name:45} {value:10.2f}")
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
