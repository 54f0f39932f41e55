"""Profiling harness (not a timed test): the channel rules applied to sourcing's reads.

Reads the positions of 3 random SKUs at 22 random locations, as an order's first ring reads
them, a few hundred times from a loaded PostgreSQL bench database, then applies the channel's
rules to every row read, two ways in alternated rounds: `position_ats()` row by row (what
sourcing did before) and `channel_ats_reader()` (the figures remembered by what the rules can
see, what sourcing does now). Prints the CPU per order of each and their ratio; the rows are
read once, so only the rule evaluation is timed. Every row's two figures must agree.

Usage: python bench/profile_ats_reads.py --pg-url URL [--orders 200] [--rounds 3]
       [--ruleset FILE (default: the database's active ruleset)] [--channel web]
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402

from service.rules.loader import load_file  # noqa: E402
from service.services.ats.deltas import channel_ats_reader  # noqa: E402
from service.services.ats.position import position_ats  # noqa: E402

RING_LOCATIONS, LINES = 22, 3


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--ruleset", type=Path, help="a rule file (default: the active one)")
    parser.add_argument("--channel", default="web")
    args = parser.parse_args(argv)
    ctx = common.bench_context(args.pg_url)
    rng = random.Random(1)
    with ctx.transaction() as uow:
        ruleset = load_file(args.ruleset).ruleset if args.ruleset else ctx.rules.active(uow)
        if ruleset is None:
            raise SystemExit(f"{args.ruleset} does not load")
        catalog = uow.catalog()
        locations = list(catalog.locations)
        skus = sorted(catalog.products)
        reads = [uow.positions.at(rng.sample(skus, LINES), rng.sample(locations, RING_LOCATIONS))
                 for _ in range(args.orders)]
    rows = sum(map(len, reads))
    for read in reads:
        reader = channel_ats_reader(ruleset, catalog, args.channel)
        for row in read:
            assert reader(row) == position_ats(ruleset, catalog, row, args.channel), row
    print(f"{args.orders} reads, {rows / args.orders:.0f} positions each; every figure agrees")
    for number in range(1, args.rounds + 1):
        started = time.process_time()
        for read in reads:
            for row in read:
                position_ats(ruleset, catalog, row, args.channel)
        each = (time.process_time() - started) / args.orders
        started = time.process_time()
        for read in reads:
            reader = channel_ats_reader(ruleset, catalog, args.channel)  # one per order
            for row in read:
                reader(row)
        remembered = (time.process_time() - started) / args.orders
        print(f"round {number}: position_ats {each * 1e6:.0f} us an order, "
              f"channel_ats_reader {remembered * 1e6:.0f} us ({remembered / each:.2f}x)")
    ctx.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
