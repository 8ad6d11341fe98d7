"""``sales360 commissions``: close a commission month and list the periods."""

from __future__ import annotations

import argparse
import getpass
import sys
from pathlib import Path

from sales360_assets.commissions.periods import PeriodError, close_month, parse_month, periods
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import default_lake_uri


def _lake(args: argparse.Namespace) -> DeltaLake:
    """The lake to read; a local path that does not exist is a typo, not an empty lake."""
    uri = args.lake or default_lake_uri()
    lake = DeltaLake(uri)
    if lake.is_local and not Path(uri.removeprefix("file://")).is_dir():
        raise PeriodError(f"no lake at {uri}: pass --lake or set SALES360_LAKE_URI to the lake the runs write")
    return lake


def _cmd_close(args: argparse.Namespace) -> int:
    try:
        lake = _lake(args)
        result = close_month(lake, parse_month(args.month), getpass.getuser() if args.by is None else args.by)
    except PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    when = f"{result.closed_at:%Y-%m-%d %H:%M} UTC by {result.closed_by}"
    if result.already_closed:
        print(f"{result.month:%Y-%m} was already closed ({when}); nothing changed")
    else:
        print(
            f"closed {result.month:%Y-%m} ({when}): {result.statement_lines} statement lines frozen, "
            f"payout {result.payout_usd} USD. Later CRM changes post into the first open month."
        )
    return 0


def _cmd_periods(args: argparse.Namespace) -> int:
    try:
        table = periods(_lake(args))
    except PeriodError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if table.is_empty():
        print("no closed commission months")
        return 0
    for row in table.sort("month").iter_rows(named=True):
        print(
            f"{row['month']:%Y-%m}  {row['status']}  {row['closed_at']:%Y-%m-%d %H:%M} UTC  by {row['closed_by']}  "
            f"{row['statement_lines']} lines  payout {row['payout_usd']} USD"
        )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``commissions close`` and ``commissions periods`` to the CLI."""
    parser = sub.add_parser("commissions", help="close commission months (freeze their statements)")
    commands = parser.add_subparsers(dest="commissions_command", required=True)
    close = commands.add_parser("close", help="freeze a month's statements, e.g. `sales360 commissions close 2026-10`")
    close.add_argument("month", help="YYYY-MM")
    close.add_argument("--by", default=None, help="who closes it (default: the OS user)")
    close.add_argument("--lake", default=None, help="lake root (default: $SALES360_LAKE_URI or data/lake)")
    close.set_defaults(func=_cmd_close)
    listing = commands.add_parser("periods", help="list closed months with who closed them and the payout")
    listing.add_argument("--lake", default=None)
    listing.set_defaults(func=_cmd_periods)
