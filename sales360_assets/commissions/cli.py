"""``sales360 commissions``: close a commission month and list the periods."""

from __future__ import annotations

import argparse
import getpass
import sys

import polars as pl

from sales360_assets.commissions.periods import PeriodError, close_month, parse_month, periods
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import default_lake_uri


def _cmd_close(args: argparse.Namespace) -> int:
    lake = DeltaLake(args.lake or default_lake_uri())
    try:
        result = close_month(lake, parse_month(args.month), args.by or getpass.getuser())
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
    table = periods(DeltaLake(args.lake or default_lake_uri()))
    if table.is_empty():
        print("no closed commission months")
        return 0
    with pl.Config(tbl_rows=100, fmt_str_lengths=20):
        print(table.select("month", "status", "closed_at", "closed_by", "statement_lines", "payout_usd"))
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
