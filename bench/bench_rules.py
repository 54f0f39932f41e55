"""Per-position cost of compiled rule predicates against business-rules ``run_all``.

Evaluates the default ruleset's web channel on generated position facts both ways, checks
they agree, and prints microseconds per position and the ratio. Run:
``.venv/bin/python bench/bench_rules.py [--positions N]``.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from service.rules.evaluate import evaluate_channel, evaluate_channel_reference  # noqa: E402
from service.rules.registry import Registry  # noqa: E402

TYPES = ["store", "store", "store", "dc", "3pl", "dropship"]
TAGS = ["bulky", "sale", "new", "fragile", "clearance"]


def position(rng: random.Random, index: int) -> dict[str, Any]:
    """One generated (location, sku) position with every channel variable."""
    on_hand = rng.randint(0, 200)
    return {
        "sku": f"SKU-{index % 5000:05d}", "category": rng.choice(["shoes", "tv", "toys"]),
        "brand": rng.choice(["acme", "globex", "initech"]), "price": rng.uniform(1, 900),
        "tags": rng.sample(TAGS, rng.randint(0, 2)), "location_id": f"L{index % 1000:04d}",
        "location_type": rng.choice(TYPES), "region": rng.choice(["north", "south"]),
        "location_tags": [], "can_ship": rng.random() < 0.9, "can_pickup": rng.random() < 0.5,
        "on_hand": on_hand, "available": max(0, on_hand - rng.randint(0, 10)), "channel": "web",
    }


def timed(fn: Callable[[dict[str, Any]], Any], facts: list[dict[str, Any]]) -> tuple[float, list]:
    """Best of three runs, seconds per position, and the outcomes."""
    best, outcomes = float("inf"), []
    for _ in range(3):
        start = time.perf_counter()
        outcomes = [fn(f) for f in facts]
        best = min(best, time.perf_counter() - start)
    return best / len(facts), outcomes


def main() -> None:
    """Run the benchmark and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--positions", type=int, default=20_000)
    args = parser.parse_args()
    registry = Registry(ROOT / "rulesets")
    registry.reload()
    ruleset = registry.resolve("default")
    rng = random.Random(42)
    facts = [position(rng, i) for i in range(args.positions)]
    compiled, fast = timed(lambda f: evaluate_channel(ruleset, "web", f), facts)
    reference, slow = timed(lambda f: evaluate_channel_reference(ruleset, "web", f), facts)
    if fast != slow:
        raise SystemExit("compiled and reference outcomes differ")
    rules = len(ruleset.channels["web"])
    print(f"ruleset {ruleset.ref}, channel web ({rules} rules), {args.positions} positions")
    print(f"{'evaluator':<28}{'us/position':>14}")
    print(f"{'business-rules run_all':<28}{reference * 1e6:>14.2f}")
    print(f"{'compiled predicates':<28}{compiled * 1e6:>14.2f}")
    print(f"speed-up: {reference / compiled:.1f}x (outcomes identical)")


if __name__ == "__main__":
    main()
