"""The `oms` command: database, server, scheduler, keys, demo data."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections.abc import Callable, MutableMapping
from typing import TYPE_CHECKING

from service.cli.db import add_db_commands
from service.cli.experiments import add_experiments_commands
from service.cli.feeds import add_feeds_commands
from service.cli.rules import add_rules_commands
from service.cli.settlements import add_settlements_commands
from service.errors import OmsError
from service.settings import ConfigError, load_settings

if TYPE_CHECKING:
    from service.services.context import Context

Handler = Callable[[argparse.Namespace], int]


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `oms` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return 2
    try:
        return args.handler(args)
    except OmsError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 1
    except ConfigError as exc:
        print(f"config error in {exc.source}:", file=sys.stderr)
        for item in exc.problems:
            print(f"  - {item}", file=sys.stderr)
        return 2


def build_parser() -> argparse.ArgumentParser:
    """All subcommands."""
    parser = argparse.ArgumentParser(prog="oms", description="OMS rules service")
    parser.add_argument("--config", help="config file (default: OMS_CONFIG or config.yaml)")
    sub = parser.add_subparsers(metavar="COMMAND")
    add_db_commands(sub, _context)
    _add_serve(sub)
    _add_scheduler(sub)
    _add_keys(sub)
    _add_demo(sub)
    add_rules_commands(sub, _context)
    add_feeds_commands(sub, _context)
    add_experiments_commands(sub, _context)
    add_settlements_commands(sub, _context)
    return parser


def _context(args: argparse.Namespace) -> Context:
    from service.bootstrap import build_context

    return build_context(load_settings(args.config))


def _add_serve(sub: argparse._SubParsersAction) -> None:
    serve = sub.add_parser("serve", help="serve the HTTP API on 127.0.0.1 (gunicorn)")
    serve.add_argument("--port", type=int, help="port (default: server.port)")
    serve.add_argument("--workers", type=int, help="worker processes (default: server.workers)")
    serve.add_argument("--threads", type=int,
                       help="threads per worker (default: server.threads; above 1: gthread)")
    serve.set_defaults(handler=_serve)


def worker_count(server: dict) -> int:
    """Configured worker processes, else CPU cores + 1.

    The service is CPU-bound against a nearby database: on the 2-core bench machine, 3 sync
    workers serve as many lookups and orders per second as 5 (gunicorn's 2 x cores + 1) with
    a lower p99, since fewer processes wait for a core (docs/benchmarks.md). Raise it when
    the database is far away or requests wait on slow clients.
    """
    return server.get("workers") or (os.cpu_count() or 1) + 1


def shared_metrics_dir(environ: MutableMapping[str, str]) -> str:
    """The directory the workers share their metrics through, so /metrics counts every
    worker's requests: PROMETHEUS_MULTIPROC_DIR when set, else a new empty one."""
    if not environ.get("PROMETHEUS_MULTIPROC_DIR"):
        environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="oms-metrics-")
    return environ["PROMETHEUS_MULTIPROC_DIR"]


def gunicorn_argv(bind: str, workers: str, threads: str,
                  app: str = "service.wsgi:app") -> list[str]:
    """The gunicorn command line `oms serve` execs (bench_http.py serves its hello-world
    baseline with the same one)."""
    return [sys.executable, "-m", "gunicorn", "--bind", bind, "--workers", workers,
            "--threads", threads, "--timeout", "60", "--limit-request-line", "8190",
            app]  # no access log: the service logs one JSON line a request


def _serve(args: argparse.Namespace) -> int:
    settings = load_settings(args.config)  # fail fast with a clear message on a bad config
    server = settings.section("server")
    if args.config:
        os.environ["OMS_CONFIG"] = args.config
    bind = f"{server['host']}:{args.port or server['port']}"
    workers = str(args.workers or worker_count(server))
    threads = str(args.threads or server["threads"])
    argv = gunicorn_argv(bind, workers, threads)
    metrics_dir = shared_metrics_dir(os.environ)
    print(f"serving on http://{bind} with {workers} workers x {threads} threads "
          f"(metrics shared through {metrics_dir})", flush=True)
    os.execv(sys.executable, argv)
    return 0  # not reached


def _add_scheduler(sub: argparse._SubParsersAction) -> None:
    sched = sub.add_parser("scheduler", help="run the scheduled jobs in this process")
    sched.set_defaults(handler=_scheduler)


def _scheduler(args: argparse.Namespace) -> int:
    import logging

    from service.scheduler import run_forever

    ctx = _context(args)
    logging.basicConfig(level=ctx.settings.section("logging")["level"])
    run_forever(ctx)
    return 0


def _add_keys(sub: argparse._SubParsersAction) -> None:
    keys = sub.add_parser("keys", help="API keys").add_subparsers(metavar="ACTION")
    create = keys.add_parser("create", help="create a key; prints it once, stores its hash")
    create.add_argument("--role", required=True, help="admin, channel:<name>, location:<id> or erp")
    create.add_argument("--label", help="a note on who uses the key")
    create.set_defaults(handler=_keys_create)
    listed = keys.add_parser("list", help="every key: id, prefix, role, label, created, revoked")
    listed.set_defaults(handler=_keys_list)
    revoke = keys.add_parser("revoke", help="revoke a key by id; refused from the next request")
    revoke.add_argument("id", type=int, help="the key's id (oms keys list)")
    revoke.set_defaults(handler=_keys_revoke)


def _keys_create(args: argparse.Namespace) -> int:
    from service.domain.roles import Role, UnknownRole
    from service.services.access.keys import create_key

    try:
        Role.parse(args.role)
    except UnknownRole as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(create_key(_context(args), args.role, args.label))
    return 0


def _keys_list(args: argparse.Namespace) -> int:
    from service.services.access.keys import list_keys

    for key in list_keys(_context(args)):
        revoked = f"revoked {key['revoked_at']:%Y-%m-%dT%H:%M:%SZ}" if key["revoked_at"] else ""
        print(f"{key['id']:>5}  {key['prefix']}...  {key['role']:<24} "
              f"{key['created_at']:%Y-%m-%dT%H:%M:%SZ}  {revoked:<28} {key['label'] or ''}"
              .rstrip())
    return 0


def _keys_revoke(args: argparse.Namespace) -> int:
    from service.errors import NotFound
    from service.services.access.keys import revoke_key

    try:
        revoked_at = revoke_key(_context(args), args.id)
    except NotFound as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"key {args.id} revoked at {revoked_at:%Y-%m-%dT%H:%M:%SZ}")
    return 0


def _add_demo(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="demo data").add_subparsers(metavar="ACTION")
    seed = demo.add_parser("seed", help="load the demo network (locations, SKUs, stock)")
    seed.add_argument("--locations", type=int, default=50)
    seed.add_argument("--skus", type=int, default=2000)
    seed.add_argument("--seed", type=int, default=7)
    seed.add_argument(
        "--if-empty", action="store_true", help="do nothing when the database already has products"
    )
    seed.set_defaults(handler=_demo_seed)
    keys = demo.add_parser("keys", help="create (once) and print API keys for the demo roles")
    keys.set_defaults(handler=_demo_keys)


def _demo_seed(args: argparse.Namespace) -> int:
    from service.cli.progress import ProgressBar
    from service.services.demo import seed as demo_seed
    from service.services.demo.network import generate_network

    ctx = _context(args)
    if args.if_empty and not demo_seed.database_is_empty(ctx):
        print("demo data: the database already has products; nothing to do")
        return 0
    network = generate_network(args.locations, args.skus, args.seed)
    with ProgressBar("stock positions", total=None) as bar:
        counts = demo_seed.seed(ctx, network, progress=bar.advance)
    print(
        "demo data: {locations} locations, {products} SKUs, {positions} stock positions".format(
            **counts
        )
    )
    return 0


def _demo_keys(args: argparse.Namespace) -> int:
    from service.services.demo.seed import demo_keys
    from service.settings import PROJECT_ROOT

    keys = demo_keys(_context(args), PROJECT_ROOT / "var" / "demo-keys.txt")
    print("demo API keys (send as 'Authorization: Bearer <key>'):")
    for role, key in keys.items():
        print(f"  {role:<24} {key}")
    return 0
