"""`oms feeds ...`: run a configured feed now, list feeds with their last run."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import PurePath
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from service.cli.progress import ProgressBar

ContextFactory = Callable[[argparse.Namespace], Any]
COLUMNS = ("status", "rows_read", "applied", "unchanged", "stale", "rejected", "duration_ms")
SHOWN_ERRORS = 10


def add_feeds_commands(sub: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register the feeds subcommands."""
    feeds = sub.add_parser("feeds", help="stock and master-data feeds").add_subparsers(
        metavar="ACTION")
    run = feeds.add_parser("run", help="run one feed now; non-zero exit if a run failed or "
                                       "was refused")
    run.add_argument("name", help="the feed's name in config.yaml")
    run.add_argument("--force", action="store_true",
                     help="retry refused content and apply snapshots past the zeroing limit")
    run.set_defaults(handler=lambda a: _run(a, context))
    listing = feeds.add_parser("list", help="configured feeds and their last run")
    listing.set_defaults(handler=lambda a: _list(a, context))


def _run(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.services.feeds import running

    ctx = context(args)
    runs = running.run_feed(ctx, args.name, progress=_file_bars(args.name), force=args.force)
    if not runs:
        print(f"feed {args.name}: nothing new")
        return 0
    print(format_table(["source", *COLUMNS], [_cells(run) for run in runs]))
    for run in runs:
        _print_details(run)
    return 1 if any(run["status"] in ("failed", "refused", "rejected") for run in runs) else 0


def _file_bars(feed: str) -> Callable[[str, int | None], ProgressBar]:
    """A progress bar per file or body applied, over its bytes, with the rows read."""
    from service.cli.progress import BYTES, ProgressBar

    def bar(source: str, size: int | None) -> ProgressBar:
        return ProgressBar(f"feed {feed}, {_name(source)}", total=size, unit=BYTES)

    return bar


def _list(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.services.feeds import running

    listed = running.list_feeds(context(args))
    if not listed:
        print("no feeds are configured (see `feeds:` in config.yaml)")
        return 0
    rows = []
    for feed in listed:
        last = feed["last_run"] or {}
        rows.append([feed["name"], feed["kind"], feed["format"], _schedule(feed),
                     feed["source"], last.get("status", "never"),
                     last.get("finished_at") or "", str(last.get("applied", ""))])
    print(format_table(["name", "kind", "format", "schedule", "source", "last run",
                        "finished", "applied"], rows))
    return 0


def _cells(run: dict[str, Any]) -> list[str]:
    return [_name(run["source"]), *(str(run[c]) for c in COLUMNS)]


def _name(source: str) -> str:
    """A file's name, a URL's last segment (or the whole source when it has none)."""
    return PurePath(source).name or source


def _schedule(feed: dict[str, Any]) -> str:
    if feed.get("cron"):
        return f"cron {feed['cron']}"
    if feed.get("every_seconds"):
        return f"every {feed['every_seconds']:g}s"
    return "on demand"


def _print_details(run: dict[str, Any]) -> None:
    name = _name(run["source"])
    if run["message"]:
        print(f"{name}: {run['message']}")
    for error in run["errors"][:SHOWN_ERRORS]:
        print(f"  line {error['line']}: {error['reason']}")
    if len(run["errors"]) > SHOWN_ERRORS:
        print(f"  ... and {len(run['errors']) - SHOWN_ERRORS} more (GET /v1/feeds/runs)")


def format_table(header: list[str], rows: list[list[str]]) -> str:
    """A plain-text table, columns padded to their widest cell."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    lines = ["  ".join(str(c).ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
             for row in [header, [("-" * w) for w in widths], *rows]]
    return "\n".join(lines)
