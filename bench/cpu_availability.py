"""CPU per availability request (not a timed test): the plain GET (one random SKU) or the
20-SKU cart called through the app's WSGI callable as gunicorn calls it (its environ keys,
the log on and written to /dev/null as in the benchmark, prometheus in multi-process mode),
the worker's CPU (time.process_time) and the PostgreSQL backend's (utime + stime of the kept
connection's backend, from /proc: the database must run on this machine) per request.

Compare two trees alternately: `PYTHONPATH=TREE python TREE/bench/cpu_availability.py ...`
from each tree in turn (the `service from` line says which code ran).

Usage: python bench/cpu_availability.py --pg-url URL [--mode get|cart] [--requests 4000]
       [--rounds 1] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import random
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("PROMETHEUS_MULTIPROC_DIR", tempfile.mkdtemp(prefix="oms-cpu-metrics-"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import common  # noqa: E402

import service  # noqa: E402
from service.app import create_app  # noqa: E402
from service.services.access.keys import create_key  # noqa: E402
from service.store import kept_connections  # noqa: E402

_GUNICORN_ENVIRON = {
    "wsgi.version": (1, 0), "wsgi.multithread": False, "wsgi.multiprocess": True,
    "wsgi.run_once": False, "wsgi.url_scheme": "http", "wsgi.file_wrapper": None,
    "wsgi.input_terminated": True, "SERVER_SOFTWARE": "gunicorn", "SCRIPT_NAME": "",
    "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1", "REMOTE_PORT": "40000",
    "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "RAW_URI": "",
    "HTTP_HOST": "127.0.0.1:8000", "PATH_INFO": "/v1/availability",
}


def _environ(mode: str, key: str, rng: random.Random) -> dict[str, Any]:
    def sku() -> str:
        return f"SKU-{rng.randint(1, common.SKUS):06d}"
    environ = {**_GUNICORN_ENVIRON, "wsgi.errors": sys.stderr,
               "HTTP_AUTHORIZATION": "Bearer " + key}
    if mode == "get":
        environ.update(REQUEST_METHOD="GET", QUERY_STRING=f"channel=web&sku={sku()}")
        environ["wsgi.input"] = io.BytesIO(b"")
        return environ
    body = json.dumps({"channel": "web", "skus": [sku() for _ in range(20)]},
                      separators=(",", ":")).encode()
    environ.update(REQUEST_METHOD="POST", QUERY_STRING="", CONTENT_TYPE="application/json",
                   CONTENT_LENGTH=str(len(body)))
    environ["wsgi.input"] = io.BytesIO(body)
    return environ


def _backend_cpu(ctx: Any) -> float:
    pid = kept_connections.run(ctx.engine, lambda conn: conn.info.backend_pid)
    return sum(common.cpu_seconds(pid))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", required=True)
    parser.add_argument("--mode", choices=("get", "cart"), default="get")
    parser.add_argument("--requests", type=int, default=4000)
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--top", type=int, default=35)
    parser.add_argument("--sort", default="tottime")
    args = parser.parse_args(argv)
    out = os.fdopen(os.dup(1), "w")
    print("service from", service.__file__, file=out)
    ctx = common.bench_context(args.pg_url)
    app = create_app(ctx=ctx)
    key = create_key(ctx, "channel:web", label="cpu")
    os.dup2(os.open(os.devnull, os.O_WRONLY), 2)  # the log goes to /dev/null, as in the bench
    rng = random.Random(7)
    statuses: dict[str, int] = {}

    def start_response(status: str, headers: Any, exc_info: Any = None) -> None:
        statuses[status] = statuses.get(status, 0) + 1

    def send(batch: list[dict[str, Any]]) -> None:
        for environ in batch:
            for _ in app(environ, start_response):
                pass

    send([_environ(args.mode, key, rng) for _ in range(300)])
    for _ in range(args.rounds):
        batch = [_environ(args.mode, key, rng) for _ in range(args.requests)]
        statuses.clear()
        profile = cProfile.Profile(time.process_time) if args.profile else None
        backend, cpu = _backend_cpu(ctx), time.process_time()
        if profile:
            profile.enable()
        send(batch)
        if profile:
            profile.disable()
        cpu, backend = time.process_time() - cpu, _backend_cpu(ctx) - backend
        print(f"{args.mode}: {statuses} worker {cpu * 1e6 / args.requests:.0f} us/req, "
              f"backend {backend * 1e6 / args.requests:.0f} us/req", file=out, flush=True)
        if profile:
            text = io.StringIO()
            pstats.Stats(profile, stream=text).sort_stats(args.sort).print_stats(args.top)
            print(text.getvalue(), file=out)
    ctx.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
