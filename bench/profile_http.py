"""Profiling harness (not a timed test): the HTTP benchmark's requests through the Flask test
client, CPU per request in process, and with --profile a cProfile of it.

Modes: get (GET /v1/availability, one random SKU), cart (POST /v1/availability, 20 SKUs),
order (POST /v1/orders, three lines, as bench/profile_orders.py), hello (bench/hello_app.py).

Usage: python bench/profile_http.py --pg-url URL --mode get [--requests 3000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import logging
import pstats
import random
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import common  # noqa: E402
from profile_orders import _bodies  # noqa: E402

from service.app import create_app  # noqa: E402
from service.services.access.keys import create_key  # noqa: E402


def _requests(mode: str, n: int, seed: int) -> list[tuple[str, str, bytes | None, str | None]]:
    """(method, path, body, idempotency key) for n requests of mode."""
    rng = random.Random(seed)
    sku = lambda: f"SKU-{rng.randint(1, common.SKUS):06d}"  # noqa: E731
    if mode == "get":
        return [("GET", f"/v1/availability?channel=web&sku={sku()}", None, None)
                for _ in range(n)]
    if mode == "cart":
        return [("POST", "/v1/availability", json.dumps(
            {"channel": "web", "skus": [sku() for _ in range(20)]}).encode(), None)
            for _ in range(n)]
    if mode == "hello":
        return [("GET", "/hello", None, None) for _ in range(n)]
    return [("POST", "/v1/orders", json.dumps(body).encode(), key)
            for body, key in _bodies(n, common.SKUS, seed)]


def _send(client: Any, headers: dict[str, str], batch: list[Any]) -> dict[int, int]:
    statuses: dict[int, int] = {}
    for method, path, body, key in batch:
        extra = {"Idempotency-Key": key} if key else {}
        if body is not None:
            extra["Content-Type"] = "application/json"
        response = client.open(path, method=method, data=body, headers={**headers, **extra})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return statuses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--mode", choices=("get", "cart", "order", "hello"), default="get")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--warm", type=int, default=300)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    logging.disable(logging.INFO)  # as in the benchmark, where the log goes nowhere
    if args.mode == "hello":
        from hello_app import app
        headers: dict[str, str] = {}
        ctx = None
    else:
        ctx = common.bench_context(args.pg_url)
        app = create_app(ctx=ctx)
        headers = {"Authorization": f"Bearer {create_key(ctx, 'channel:web', label='prof')}"}
    client = app.test_client()
    print("warm-up:", _send(client, headers, _requests(args.mode, args.warm, args.seed + 1)))
    batch = _requests(args.mode, args.requests, args.seed)
    profile = cProfile.Profile(time.process_time) if args.profile else None
    cpu = time.process_time()
    if profile:
        profile.enable()
    statuses = _send(client, headers, batch)
    if profile:
        profile.disable()
    cpu = time.process_time() - cpu
    print(f"{args.mode}: statuses {statuses}; CPU per request {cpu * 1e6 / args.requests:.0f} us")
    if profile:
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(args.sort).print_stats(args.top)
        print(out.getvalue())
    if ctx is not None:
        ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
