"""``sales360 commissions``: close a commission month and list the periods."""

from __future__ import annotations

import argparse
import getpass
import sys

from sales360_assets.cli_support import command_group, existing_lake, lake_command
from sales360_assets.commissions.periods import PeriodError, close_month, parse_month, periods


def _cmd_close(args: argparse.Namespace) -> int:
    try:
        lake = existing_lake(args.lake)
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
        table = periods(existing_lake(args.lake))
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
    commands = command_group(sub, "commissions", "close commission months (freeze their statements)")
    close = lake_command(
        commands, "close", "freeze a month's statements, e.g. `sales360 commissions close 2026-10`", _cmd_close
    )
    close.add_argument("month", help="YYYY-MM")
    close.add_argument("--by", default=None, help="who closes it (default: the OS user)")
    lake_command(commands, "periods", "list closed months with who closed them and the payout", _cmd_periods)
