"""Profiling harness (not a timed test): the worker's instructions per order, counted.

The CPU figures of `profile_orders.py` and `cpu_per_request.py` move by 20-30 % within minutes
on a shared VM, more than most changes to the order path. This counts instead: it places
orders through the Flask test client as `profile_orders.py` does (the same bodies, the same
loaded PostgreSQL bench database), itself under valgrind's callgrind, with the count switched
on only around the measured orders (callgrind's client requests, through a small C shim built
with the machine's gcc), so the figure is the worker's instructions per order: the same for
the same code and inputs, whatever else the machine does. Beside it, from the same orders,
what PostgreSQL did: blocks touched and round trips per order (counted, not timed). Its own
CPU is not counted here; compare `profile_orders.py` for that.

Usage: python bench/instructions_per_order.py --pg-url URL [--orders 300] [--warm 300]
       [--seed 7] [--json PATH]
Needs valgrind (with its headers, /usr/include/valgrind) and gcc. Under callgrind the orders
run about 50 times slower: 300 orders take a few minutes. Use a fresh copy of one network for
each of two versions compared (the stock the orders take moves the plans).
"""

from __future__ import annotations

import argparse
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

_SHIM = """
#include <valgrind/callgrind.h>
void oms_count_start(void) { CALLGRIND_ZERO_STATS; CALLGRIND_START_INSTRUMENTATION; }
void oms_count_stop(void) { CALLGRIND_STOP_INSTRUMENTATION; CALLGRIND_DUMP_STATS_AT("orders"); }
"""


def _shim(directory: Path) -> ctypes.CDLL:
    """The start/stop shim, built into `directory`."""
    source, library = directory / "shim.c", directory / "shim.so"
    source.write_text(_SHIM)
    subprocess.run(["gcc", "-O1", "-shared", "-fPIC", "-o", str(library), str(source)],
                   check=True)
    return ctypes.CDLL(str(library))


def _instructions(out_dir: Path) -> int:
    """The instructions of the dump named "orders" (callgrind writes one file per dump)."""
    for path in sorted(out_dir.glob("callgrind.out*")):
        text = path.read_text(errors="replace")
        if "desc: Trigger: Client Request: orders" in text:
            return next(int(line.split()[1]) for line in text.splitlines()
                        if line.startswith("totals:"))
    raise SystemExit(f"no callgrind dump of the orders in {out_dir}")


def _inner(args: argparse.Namespace) -> int:
    import logging

    import common
    import profile_orders as po

    from service.app import create_app
    from service.services.access.keys import create_key

    logging.disable(logging.INFO)
    shim = _shim(Path(args.out_dir))
    ctx = common.bench_context(args.pg_url)
    client = create_app(ctx=ctx).test_client()
    headers = {"Authorization": f"Bearer {create_key(ctx, 'channel:web', label='count')}"}
    po._count_calls()
    warm = po._place_all(client, headers, po._bodies(args.warm, common.SKUS, args.seed + 1))
    po.analyze_order_tables(args.pg_url)
    orders = po._bodies(args.orders, common.SKUS, args.seed)
    po.COUNTS.clear()
    blocks = po._blocks(ctx, args.pg_url)
    shim.oms_count_start()
    statuses = po._place_all(client, headers, orders)
    shim.oms_count_stop()
    read, hit = (a - b for a, b in zip(po._blocks(ctx, args.pg_url), blocks, strict=True))
    trips = po.COUNTS["execute"] + po.COUNTS["executemany"] + po.COUNTS["command"]
    Path(args.out_dir, "figures.json").write_text(json.dumps({
        "warm": dict(warm), "statuses": dict(statuses), "blocks": (read + hit) / args.orders,
        "round_trips": trips / args.orders}))
    return 0


def _outer(args: argparse.Namespace) -> int:
    import common

    if shutil.which("valgrind") is None or not Path("/usr/include/valgrind").is_dir():
        raise SystemExit("valgrind and its headers are needed (Debian: valgrind)")
    with tempfile.TemporaryDirectory(prefix="oms_count_") as out:
        argv = ["valgrind", "--tool=callgrind", "--instr-atstart=no",
                f"--callgrind-out-file={out}/callgrind.out.%p", sys.executable, __file__,
                "--inner", "--out-dir", out, "--pg-url", args.pg_url, "--orders",
                str(args.orders), "--warm", str(args.warm), "--seed", str(args.seed)]
        started = time.perf_counter()
        subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       env={**os.environ, "PYTHONHASHSEED": "0"})
        figures: dict[str, Any] = json.loads(Path(out, "figures.json").read_text())
        per_order = _instructions(Path(out)) / args.orders
    print(f"statuses {figures['statuses']} (warm-up {figures['warm']}), "
          f"{time.perf_counter() - started:.0f} s under callgrind")
    print(f"per order: worker instructions {per_order / 1e6:.3f} M; PostgreSQL blocks "
          f"{figures['blocks']:.1f}, round trips {figures['round_trips']:.2f}")
    common.write_json(args.json, [], per_order={
        "orders": args.orders, "worker_instructions": per_order,
        "blocks": figures["blocks"], "round_trips": figures["round_trips"]})
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--orders", type=int, default=300)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--json", type=Path, help="write the per-order figures here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--out-dir", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    return _inner(args) if args.inner else _outer(args)


if __name__ == "__main__":
    sys.exit(main())
