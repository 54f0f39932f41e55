"""The first load of the impact preview's per-process columnar copy of the positions
(services/rulesets/stock_columns.py), on the 1M-position demo network.

Each round loads a new copy twice in the same process, in turn: by the service's load and by
the load as it was before (SQLAlchemy rows streamed with `yield_per`, a Python call per row to
index its names, reproduced here as the baseline), and checks that both copies are equal.
Wall and this process's CPU time per load; the ratio new / old is of the same rounds.

Usage: python bench/bench_columns_load.py [--pg-url URL | --sqlite PATH] [--network 1000x1000]
       [--rounds 3] [--keep] [--json PATH]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import select

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402

from service.services.demo.network import generate_network  # noqa: E402
from service.services.rulesets.stock_columns import Columns, StockColumns, _sorted  # noqa: E402
from service.store.models import StockPosition  # noqa: E402
from service.store.position_columns import PositionColumnsSource  # noqa: E402

DATABASE = "oms_bench_columns_load"


def old_load(source: PositionColumnsSource) -> Columns:
    """The load before this change (main at c5c3520), for the baseline."""
    names: dict[str, dict[str, int]] = {"loc": {}, "sku": {}}

    def of(kind: str, name: str) -> int:
        index = names[kind]
        found = index.get(name)
        if found is None:
            found = index[name] = len(index)
        return found

    keys, on_hand, free = [], [], []
    sp = StockPosition.__table__
    result = source.session.execute(
        select(sp.c.location_id, sp.c.sku, sp.c.on_hand, sp.c.allocated, sp.c.reserved)
        .execution_options(yield_per=20_000))
    for batch in result.partitions(20_000):
        keys.append(np.fromiter(((of("loc", r[0]) << 32) | of("sku", r[1]) for r in batch),
                                np.int64, len(batch)))
        counts = np.array([r[2:] for r in batch], dtype=np.int64).reshape(-1, 3)
        on_hand.append(counts[:, 0])
        free.append(counts[:, 0] - counts[:, 1] - counts[:, 2])
    return _sorted(list(names["loc"]), list(names["sku"]), np.concatenate(keys),
                   np.concatenate(on_hand), np.concatenate(free))


def new_load(source: PositionColumnsSource) -> Columns:
    return StockColumns()._load(source)


def _by_name(columns: Columns) -> dict[tuple[str, str], tuple[int, int]]:
    loc, sku = columns.loc.tolist(), columns.sku.tolist()
    return {(columns.locations[a], columns.skus[b]): (int(h), int(f)) for a, b, h, f in
            zip(loc, sku, columns.on_hand.tolist(), columns.free.tolist(), strict=True)}


def _timed(ctx: Any, load: Any) -> tuple[float, float, Columns]:
    wall, cpu = time.perf_counter(), time.process_time()
    with ctx.transaction() as uow:
        columns = load(uow.position_columns)
    return (time.perf_counter() - wall) * 1000, (time.process_time() - cpu) * 1000, columns


def run(url: str, rounds: int) -> dict[str, Any]:
    ctx = common.bench_context(url)
    try:
        figures: dict[str, list[float]] = {"old_wall": [], "old_cpu": [], "new_wall": [],
                                           "new_cpu": []}
        for number in range(rounds):
            old_wall, old_cpu, old = _timed(ctx, old_load)
            new_wall, new_cpu, new = _timed(ctx, new_load)
            if number == 0 and _by_name(old) != _by_name(new):
                raise SystemExit("the copies differ")
            for name, value in (("old_wall", old_wall), ("old_cpu", old_cpu),
                                ("new_wall", new_wall), ("new_cpu", new_cpu)):
                figures[name].append(value)
            print(f"  round {number + 1}: old {old_wall:,.0f} ms wall ({old_cpu:,.0f} CPU), "
                  f"new {new_wall:,.0f} ms wall ({new_cpu:,.0f} CPU), "
                  f"{new.key.shape[0]:,} positions", flush=True)
        result: dict[str, Any] = {name: common.median(values)
                                  for name, values in figures.items()}
        result["ratio_wall"] = result["new_wall"] / result["old_wall"]
        result["positions"] = int(new.key.shape[0])
        return result
    finally:
        ctx.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    target = parser.add_mutually_exclusive_group()
    target.add_argument("--pg-url", help="a loaded bench database (default: a new one)")
    target.add_argument("--sqlite", type=Path, help="a SQLite file (loaded when missing)")
    parser.add_argument("--network", default="1000x1000", help="LOCATIONSxSKUS to load")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--keep", action="store_true", help="keep the database loaded here")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    locations, _, skus = args.network.partition("x")
    url, own = args.pg_url, False
    if args.sqlite is not None:
        url, own = f"sqlite:///{args.sqlite}", not args.sqlite.exists()
    elif url is None:
        url, own = common.create_pg_database(DATABASE), True
    if own:
        net = generate_network(locations=int(locations), skus=int(skus), store_coverage=1.0)
        print(f"  loaded in {common.load_network(url, net)} (setup)", flush=True)
    try:
        result = run(url, args.rounds)
    finally:
        if own and args.pg_url is None and args.sqlite is None and not args.keep:
            common.drop_pg_database(DATABASE)
    print(f"  median: old {result['old_wall']:,.0f} ms wall, new {result['new_wall']:,.0f} ms "
          f"wall, ratio {result['ratio_wall']:.3f}", flush=True)
    common.write_json(args.json, [], results=result)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
