"""Closing commission months: what is refused, with what message, before anything is frozen."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.cli import main as cli
from sales360_assets.commissions import periods
from sales360_assets.commissions.periods import PeriodError, close_month
from sales360_assets.lake.delta import DeltaLake

JAN, FEB = date(2024, 1, 1), date(2024, 2, 1)
NOW = datetime(2024, 6, 1, tzinfo=UTC)


@pytest.fixture
def lake(tmp_path: Path) -> DeltaLake:
    lake = DeltaLake(str(tmp_path / "lake"))
    money = pl.Decimal(18, 2)
    statements = pl.DataFrame(
        {"statement_month": [JAN, FEB], "user_id": ["U1", "U1"], "payout_usd": [Decimal("10.00"), Decimal("5.50")]},
        schema={"statement_month": pl.Date, "user_id": pl.String, "payout_usd": money},
    )
    lines = statements.rename({"payout_usd": "commission_usd"})
    lake.overwrite(periods.STATEMENTS_TABLE, statements)
    lake.overwrite(periods.LINES_TABLE, lines)
    return lake


def test_months_close_in_order_and_only_once(lake: DeltaLake) -> None:
    with pytest.raises(PeriodError, match="close the earlier open month"):
        close_month(lake, FEB, "ops", NOW)
    assert not lake.exists(periods.PERIODS_TABLE), "a refused close wrote something"
    first = close_month(lake, JAN, "ops", NOW)
    assert (first.already_closed, first.payout_usd) == (False, Decimal("10.00"))
    assert close_month(lake, FEB, "ops", NOW).payout_usd == Decimal("5.50")
    again = close_month(lake, JAN, "someone else", NOW)
    assert again.already_closed and again.closed_by == "ops"
    assert periods.closed_months(lake) == [JAN, FEB]


@pytest.mark.parametrize(
    ("month", "by", "message"),
    [
        (date(2024, 6, 1), "ops", "has not ended yet"),
        (date(2024, 3, 1), "ops", "no commission statements for 2024-03; months with statements: 2024-01, 2024-02"),
        (JAN, " ", "--by must name who closes the month"),
    ],
)
def test_a_close_that_cannot_be_right_is_refused(lake: DeltaLake, month: date, by: str, message: str) -> None:
    with pytest.raises(PeriodError, match=message):
        close_month(lake, month, by, NOW)


def test_a_mistyped_lake_is_named_not_taken_for_an_empty_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = str(tmp_path / "nope")
    assert cli(["commissions", "periods", "--lake", missing]) == 2
    assert cli(["commissions", "close", "2024-01", "--lake", missing]) == 2
    assert capsys.readouterr().err.count(f"no lake at {missing}") == 2
