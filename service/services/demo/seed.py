"""Load the demo network into the database (products, locations, stock)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from itertools import islice
from pathlib import Path
from typing import TYPE_CHECKING

from service.services.access.keys import KeyVerifier, create_key
from service.services.ats import kept
from service.services.demo.network import DemoNetwork
from service.services.masterdata import upserts
from service.services.rulesets import governance

if TYPE_CHECKING:
    from service.services.context import Context

_CHUNK = 5000


def database_is_empty(ctx: Context) -> bool:
    """True when no product exists yet."""
    with ctx.reading() as uow:
        return not uow.master.has_products()


def seed(
    ctx: Context, network: DemoNetwork, progress: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Upsert the network's master data and insert its stock; return the counts."""
    upserts.upsert_locations(ctx, network.locations)
    upserts.upsert_products(ctx, network.products)
    positions = insert_stock(ctx, network.stock(), progress)
    with ctx.transaction() as uow:
        if governance.ensure_active(ctx, uow) is None:
            kept.recompute(uow, ctx.rules.active(uow))
    return {
        "locations": len(network.locations),
        "products": len(network.products),
        "positions": positions,
    }


def insert_stock(
    ctx: Context,
    rows: Iterable[tuple[str, str, int]],
    progress: Callable[[int], None] | None = None,
) -> int:
    """Insert stock positions in chunks, each chunk its own transaction."""
    as_of = ctx.clock.now()
    total = 0
    iterator = iter(rows)
    while chunk := list(islice(iterator, _CHUNK)):
        with ctx.transaction() as uow:
            uow.journal.because("snapshot", seed="demo")
            total += uow.positions.insert(chunk, as_of)
        if progress:
            progress(len(chunk))
    return total


DEMO_ROLES = (
    "admin",
    "channel:web",
    "channel:marketplace",
    "channel:store_pickup",
    "location:ST-0006",
)


def demo_keys(ctx: Context, path: Path) -> dict[str, str]:
    """Keys for the demo roles, kept in a local file so `make run` can show them each time."""
    known = _read_keys(path)
    verifier = KeyVerifier(ctx)
    if set(known) == set(DEMO_ROLES) and all(verifier.role_for(k) for k in known.values()):
        return known
    keys = {role: create_key(ctx, role, label="demo") for role in DEMO_ROLES}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(f"{role}\t{key}\n" for role, key in keys.items()))
    path.chmod(0o600)
    return keys


def _read_keys(path: Path) -> dict[str, str]:
    if not path.exists():
        return {}
    pairs = (line.split("\t", 1) for line in path.read_text().splitlines() if "\t" in line)
    return {role: key for role, key in pairs}
