"""`oms settlements ...`: export the settlement records now, list them."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from service.cli.feeds import format_table

ContextFactory = Callable[[argparse.Namespace], Any]


def add_settlements_commands(sub: argparse._SubParsersAction, context: ContextFactory) -> None:
    """Register the settlements subcommands."""
    settlements = sub.add_parser("settlements", help="the ERP settlement export").add_subparsers(
        metavar="ACTION")
    export = settlements.add_parser(
        "export", help="write the records not yet exported to files now (as the scheduler's "
                       "settlements.export job does); prints each file")
    export.add_argument("--now", action="store_true", required=True,
                        help="run the export now, in this process")
    export.set_defaults(handler=lambda a: _export(a, context))
    listing = settlements.add_parser("list", help="settlement records in id order, with the "
                                                  "file that exported each")
    listing.add_argument("--since", default=None, help="start after this record id")
    listing.add_argument("--limit", default="100", help="how many (1-500, default 100)")
    listing.set_defaults(handler=lambda a: _list(a, context))


def _export(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.services.settlements import exporting

    written = exporting.export_pending(context(args))
    if not written:
        print("settlements: nothing new to export")
        return 0
    rows = [[w["path"], str(w["records"]), f"{w['first_id']}-{w['last_id']}",
             "redone" if w["redone"] else "new"] for w in written]
    print(format_table(["file", "records", "ids", "batch"], rows))
    return 0


def _list(args: argparse.Namespace, context: ContextFactory) -> int:
    from service.services.settlements import listing

    page = listing.page(context(args), listing.since_id(args.since),
                        listing.page_limit(args.limit))
    rows = [[str(r["id"]), r["kind"], r["order_id"], r["order_ref"] or "", r["sku"],
             str(r["quantity"]), r["amount"], r["location_id"] or "", r["created_at"],
             (r["export"] or {}).get("file", "")] for r in page["items"]]
    print(format_table(["id", "kind", "order", "order_ref", "sku", "qty", "amount", "location",
                        "settled", "file"], rows))
    print(f"exported through record {page['exported_through']}"
          + (f"; more: --since {page['next']}" if page["next"] else ""))
    return 0
