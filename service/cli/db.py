"""`oms db ...`: migrate the schema up or back, show its revision, list the partitions."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from service.settings import load_settings

ContextFactory = Callable[[argparse.Namespace], Any]


def add_db_commands(sub: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register the db subcommands."""
    db = sub.add_parser("db", help="database schema").add_subparsers(metavar="ACTION")
    up = db.add_parser("upgrade", help="migrate the configured database to the latest schema "
                                       "(or to REVISION)")
    up.add_argument("revision", nargs="?", default="head",
                    help="a revision such as 0036 (default: head, the latest)")
    up.set_defaults(handler=_upgrade)
    down = db.add_parser("downgrade", help="undo the migrations above REVISION, newest first "
                                           "(what they added is dropped; back up first)")
    down.add_argument("revision", help="the revision to go back to, such as 0036, or base")
    down.set_defaults(handler=_downgrade)
    db.add_parser("current", help="the database's revision and the latest this code knows"
                  ).set_defaults(handler=_current)
    parts = db.add_parser("partitions", help="list the time partitions (PostgreSQL); "
                                             "--maintain runs partitions.maintain now")
    parts.add_argument("--maintain", action="store_true",
                       help="create the partitions ahead and retire the old ones now, in this "
                            "process (as the scheduler's partitions.maintain job does)")
    parts.set_defaults(handler=lambda a: _partitions(a, context))


def _upgrade(args: argparse.Namespace) -> int:
    from service.services.operations.schema import migrate, revisions

    url = load_settings(args.config).database_url
    migrate(url, args.revision)
    found, latest = revisions(url)
    where = "the latest schema" if found == latest else f"revision {found}"
    print(f"database at {where} ({_redacted(url)})")
    return 0


def _downgrade(args: argparse.Namespace) -> int:
    from service.services.operations.schema import revisions, roll_back

    url = load_settings(args.config).database_url
    before, _latest = revisions(url)
    roll_back(url, args.revision)
    after, _latest = revisions(url)
    print(f"database downgraded from {before} to {after or 'base (no schema)'} "
          f"({_redacted(url)})")
    return 0


def _current(args: argparse.Namespace) -> int:
    from service.services.operations.schema import revisions

    url = load_settings(args.config).database_url
    found, latest = revisions(url)
    state = ("up to date" if found == latest else
             "no schema: run `oms db upgrade`" if found is None else
             "behind: run `oms db upgrade`")
    print(f"revision {found or '-'}, latest {latest}: {state} ({_redacted(url)})")
    return 0


def _partitions(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.cli.feeds import format_table
    from service.services.operations import partitions

    ctx = context(args)
    if args.maintain:
        done = partitions.maintain(ctx)
        if not done.supported:
            print(partitions.NOT_SUPPORTED)
            return 0
        for what in ("created", "retired", "kept", "busy", "skipped"):
            print(f"{what}: {', '.join(getattr(done, what)) or '-'}")
    found = partitions.listing(ctx)
    if not found:
        print("partitions: no partitioned table" if partitions.supported(ctx)
              else partitions.NOT_SUPPORTED)
        return 0
    print(format_table(["table", "partition", "from", "to", "rows (estimate)"], [
        [p["table"], p["partition"], _bound(p["from"]), _bound(p["to"]), str(p["rows"])]
        for p in found]))
    return 0


def _bound(at: object) -> str:
    return "DEFAULT" if at is None else str(at)


def _redacted(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)
