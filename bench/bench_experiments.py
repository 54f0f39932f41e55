"""Availability for a unit in a running two-variant experiment against the same run's
no-experiment reads, in-process (issue 16).

On a loaded network, an experiments file with a running two-variant experiment on the web
(control default@3, dc-first@1, coverage 1) is put in force the way the service does it (in
one transaction with the full recompute of both variants' kept figures, which is timed).
Then each round alternates, in chunks of 250, single-SKU web availability reads without a
unit (the active ruleset's kept figures, no experiment work) and with a unit (GrowthBook
assignment from the running experiments cached for a second, then the variant's kept
figures: the same one-row lookup). Each rate is requests/s through the use case
(`availability.reads.read`, as the blueprint calls it); the median round's ratio is the
figure. Target: >= 90%.

Usage: python bench/bench_experiments.py [--pg-url URL] [--locations 100] [--requests 20000]
       [--rounds 5] [--json PATH]   (without --pg-url: a fresh database, loaded and dropped)
"""

from __future__ import annotations

import argparse
import hashlib
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from common import Figure  # noqa: E402

from service.domain.roles import Role  # noqa: E402
from service.services.availability import reads  # noqa: E402
from service.services.experiments import live  # noqa: E402
from service.services.experiments.current import in_force  # noqa: E402

EXPERIMENTS = """\
experiments:
  - key: bench-two-variants
    unit: customer_id
    channels: [web]
    coverage: 1
    status: running
    variants:
      - {name: control, ruleset: default@3, weight: 0.5}
      - {name: dc-first, ruleset: dc-first@1, weight: 0.5}
"""
TARGET = 0.9
CHUNK = 250  # requests of one kind before the other kind's turn


def start_experiment(ctx: Any) -> float:
    """Put the experiment in force with both variants' figures computed; seconds taken."""
    started = time.perf_counter()
    with ctx.transaction() as uow:
        uow.experiments.publish(EXPERIMENTS, hashlib.sha256(EXPERIMENTS.encode()).hexdigest(),
                                "bench", uow.clock.now(), "bench", uow.clock.now())
        live.recompute_all(ctx.rules, uow)
    ctx.rules.experiments_cache = None
    with ctx.reading() as uow:
        assert [e.status for e in in_force(uow)] == ["running"]
    return time.perf_counter() - started


def seconds(ctx: Any, skus: list[str], units: list[str | None], requests: int,
            offset: int = 0) -> float:
    """Seconds taken by single-SKU web availability reads (a unit per request, cycling)."""
    admin = Role.parse("admin")
    started = time.perf_counter()
    for i in range(offset, offset + requests):
        unit = units[i % len(units)]
        body = reads.read(ctx, admin, "web", [skus[i % len(skus)]], unit=unit)
        if unit is not None and body["experiment"] is None:
            raise SystemExit(f"unit {unit} is not in the experiment")
    return time.perf_counter() - started


def round_rates(ctx: Any, skus: list[str], units: list[str | None], requests: int
                ) -> tuple[float, float]:
    """(no-experiment, experiment) requests/s of one round: the two kinds alternate in
    chunks of CHUNK requests (each kind first in turn), so a machine whose load drifts
    during the round slows both alike."""
    plain = variant = 0.0
    for chunk in range(max(1, requests // CHUNK)):
        offset = chunk * CHUNK
        if chunk % 2:
            variant += seconds(ctx, skus, units, CHUNK, offset)
            plain += seconds(ctx, skus, [None], CHUNK, offset)
        else:
            plain += seconds(ctx, skus, [None], CHUNK, offset)
            variant += seconds(ctx, skus, units, CHUNK, offset)
    done = max(1, requests // CHUNK) * CHUNK
    return done / plain, done / variant


def run(url: str, requests: int, rounds: int) -> tuple[Figure, dict[str, Any]]:
    ctx = common.bench_context(url)
    try:
        recompute_s = start_experiment(ctx)
        with ctx.reading() as uow:
            skus = sorted(uow.catalog().products)
        random.Random(16).shuffle(skus)
        units: list[str | None] = [f"customer-{i}" for i in range(97)]
        round_rates(ctx, skus, units, 2 * CHUNK)  # warm: caches, prepared statements
        measured = []
        for _ in range(rounds):
            plain, variant = round_rates(ctx, skus, units, requests)
            measured.append({"no_experiment_rps": plain, "experiment_rps": variant,
                             "ratio": variant / plain})
    finally:
        ctx.close()
    chosen = sorted(measured, key=lambda r: r["ratio"])[len(measured) // 2]
    ratios = ", ".join(f"{r['ratio']:.0%}" for r in measured)
    fig = Figure("experiments", "availability, unit in a running two-variant experiment",
                 chosen["experiment_rps"], "req/s", baseline=chosen["no_experiment_rps"],
                 baseline_what="no-experiment req/s (same round)",
                 target=f">= {TARGET:.0%} of no-experiment", passed=chosen["ratio"] >= TARGET,
                 note=f"median round {chosen['ratio']:.0%} (rounds: {ratios}); in-process, "
                 f"{requests} single-SKU reads of each kind per round, alternating in "
                 f"chunks of {CHUNK}; starting the experiment (both "
                 f"variants' figures recomputed) took {recompute_s:.2f} s")
    return fig, {"rounds": measured, "recompute_s": recompute_s}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", help="an already loaded bench database (not dropped)")
    parser.add_argument("--locations", type=int, default=100,
                        help="locations of the network a fresh database gets (x 1,000 SKUs)")
    parser.add_argument("--requests", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    url, own = args.pg_url, args.pg_url is None
    if own:
        url = common.create_pg_database("oms_bench_experiments")
        common.load_network(url, common.network(args.locations))
    try:
        fig, results = run(url, args.requests, args.rounds)
    finally:
        if own:
            common.drop_pg_database("oms_bench_experiments")
    common.print_figure(fig)
    print("   ", fig.note)
    common.write_json(args.json, [fig], results=results)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
