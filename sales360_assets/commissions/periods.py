"""Commission periods: closing a month freezes its statements. Knows the lake, not Dagster.

``sales360 commissions close 2026-10`` copies October's statement lines and statements, as the
last run computed them, into append-only frozen tables with a content hash, then records the
period as closed (who, when, the hashes, the payout). From then on:

* the ledger posts every later change into the first open month (``ledger.first_open_month``);
* ``commission_statement_lines`` serves October from the frozen copy, and its blocking check
  ``closed_months_unchanged`` fails a run whose recomputation would differ from it;
* closing again is a no-op that says when and by whom the month was closed.

The period row is written last: it is the commit point of a close.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import UTC, date, datetime

import polars as pl

from sales360_assets.lake.delta import DeltaLake

PERIODS_TABLE = "commission_periods"
FROZEN_LINES_TABLE = "commission_closed_statement_lines"
FROZEN_STATEMENTS_TABLE = "commission_closed_statements"
LINES_TABLE = "commission_statement_lines"
STATEMENTS_TABLE = "commission_statements"

PERIOD_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "status": pl.String(),
    "closed_at": pl.Datetime("us", "UTC"),
    "closed_by": pl.String(),
    "statement_lines": pl.Int64(),
    "lines_hash": pl.String(),
    "statements_hash": pl.String(),
    "payout_usd": pl.Decimal(18, 2),
}


class PeriodError(ValueError):
    """A period cannot be closed as asked; the message says what to do."""


@dataclass(frozen=True)
class CloseResult:
    month: date
    already_closed: bool
    closed_at: datetime
    closed_by: str
    statement_lines: int
    payout_usd: object


def parse_month(text: str) -> date:
    try:
        year, month = (int(p) for p in text.split("-")[:2])
        return date(year, month, 1)
    except ValueError:
        raise PeriodError(f"month must look like 2026-10, got {text!r}") from None


def content_hash(frame: pl.DataFrame) -> str:
    """SHA-256 of the rows in a fixed order and text form: equal content, equal hash."""
    ordered = frame.select(sorted(frame.columns)).sort(sorted(frame.columns), nulls_last=True)
    return hashlib.sha256(ordered.write_csv().encode()).hexdigest()


def periods(lake: DeltaLake) -> pl.DataFrame:
    periods = lake.read_if_exists(PERIODS_TABLE)
    return pl.DataFrame(schema=PERIOD_SCHEMA) if periods is None else periods


def closed_months(lake: DeltaLake) -> list[date]:
    return sorted(periods(lake).filter(pl.col("status") == "closed")["month"].to_list())


def frozen_lines(lake: DeltaLake) -> pl.DataFrame | None:
    return lake.read(FROZEN_LINES_TABLE).drop("line_no") if lake.exists(FROZEN_LINES_TABLE) else None


def frozen_statements(lake: DeltaLake) -> pl.DataFrame | None:
    return lake.read_if_exists(FROZEN_STATEMENTS_TABLE)


def close_month(lake: DeltaLake, month: date, closed_by: str, now: datetime | None = None) -> CloseResult:
    """Freeze ``month``'s statements (see module docstring)."""
    known = periods(lake).filter(pl.col("month") == month, pl.col("status") == "closed")
    if known.height:
        row = known.row(0, named=True)
        return CloseResult(month, True, row["closed_at"], row["closed_by"], row["statement_lines"], row["payout_usd"])
    if not closed_by.strip():
        raise PeriodError("--by must name who closes the month")
    now = now or datetime.now(UTC)
    if month >= now.date().replace(day=1):
        raise PeriodError(f"{month:%Y-%m} has not ended yet: close a month after its last day")
    if not (lake.exists(LINES_TABLE) and lake.exists(STATEMENTS_TABLE)):
        raise PeriodError(
            "no commission statements in the lake yet: run `sales360 materialize` (or the sales_reporting_job) first"
        )
    all_months = lake.read(STATEMENTS_TABLE)["statement_month"].unique().sort().to_list()
    if month not in all_months:
        have = ", ".join(m.strftime("%Y-%m") for m in all_months)
        raise PeriodError(f"no commission statements for {month:%Y-%m}; months with statements: {have}")
    closed = set(closed_months(lake))
    still_open = [m for m in all_months if m < month and m not in closed]
    if still_open:
        raise PeriodError(
            f"close the earlier open month(s) first: {', '.join(m.strftime('%Y-%m') for m in still_open)} "
            "(months are paid in order, and a later close would freeze statements an earlier change may still move)"
        )
    lines = lake.read(LINES_TABLE).filter(pl.col("statement_month") == month)
    statements = lake.read(STATEMENTS_TABLE).filter(pl.col("statement_month") == month)
    lake.insert_new(
        FROZEN_LINES_TABLE, lines.with_row_index("line_no").cast({"line_no": pl.Int64}), ["statement_month", "line_no"]
    )
    lake.insert_new(FROZEN_STATEMENTS_TABLE, statements, ["statement_month", "user_id"])
    payout = statements["payout_usd"].sum()
    period = pl.DataFrame(
        [
            {
                "month": month,
                "status": "closed",
                "closed_at": now,
                "closed_by": closed_by,
                "statement_lines": lines.height,
                "lines_hash": content_hash(lines),
                "statements_hash": content_hash(statements),
                "payout_usd": payout,
            }
        ],
        schema=PERIOD_SCHEMA,
    )
    lake.insert_new(PERIODS_TABLE, period, ["month"])
    return CloseResult(month, False, now, closed_by, lines.height, payout)
