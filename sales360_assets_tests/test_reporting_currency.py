"""The reporting currency converts at exactly 1 without a feed row, and a dates-only export loads.

Before: every USD line of an export whose FX feed had no USD→USD row was dead-lettered, and an
export without ``order_ts``/``_loaded_at`` stopped as breaking schema drift.
"""

from __future__ import annotations

import os
import time
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from sales360_assets.commissions.attainment import quotas_in_usd
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.warehouse import LocalWarehouseClient
from sales360_assets.staging.quality import attach_fx, missing_fx

DAY = date(2026, 3, 7)  # a Saturday: no feed publishes, so only the at-par rule can give USD a rate
EUR_ONLY = pl.DataFrame(
    {"rate_date": [date(2026, 3, 6)], "currency": ["EUR"], "usd_per_unit": [1.1]},
    schema={"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": pl.Float64},
)


def test_usd_converts_at_one_dated_its_own_day_without_a_feed_row() -> None:
    lines = pl.DataFrame({"date": [DAY, DAY, DAY], "currency": ["USD", "EUR", "GBP"]})
    converted = attach_fx(lines, EUR_ONLY)
    assert converted["fx_rate"].to_list() == [1.0, 1.1, None]
    assert converted["fx_rate_date"].to_list() == [DAY, date(2026, 3, 6), None]
    # GBP is still a missing rate: only the reporting currency is at par by definition.
    rejected = converted.filter(missing_fx()[0])
    assert rejected["currency"].to_list() == ["GBP"]


def test_a_delivered_usd_row_is_still_used() -> None:
    feed = pl.concat([EUR_ONLY, pl.DataFrame({"rate_date": [DAY], "currency": ["USD"], "usd_per_unit": [1.0]})])
    converted = attach_fx(pl.DataFrame({"date": [DAY], "currency": ["USD"]}), feed)
    assert converted["fx_rate"].to_list() == [1.0]


def test_usd_quotas_convert_at_one_without_a_feed_row() -> None:
    quotas = pl.DataFrame(
        {
            "user_id": ["005A"],
            "month": [date(2026, 3, 1)],
            "quota_amount": [5000.0],
            "currency": ["USD"],
            "system_modstamp": [datetime(2026, 3, 1, tzinfo=UTC)],
            "is_deleted": [False],
        }
    )
    assert quotas_in_usd(quotas, EUR_ONLY)["quota_usd"].to_list() == [5000.0]


def test_order_ts_and_loaded_at_are_derived_when_an_export_has_dates_only(tmp_path: Path) -> None:
    table = WAREHOUSE_TABLES["orders"]
    folder = tmp_path / "orders"
    folder.mkdir()
    path = folder / "orders.parquet"
    pl.DataFrame(
        {
            "order_id": ["o1"],
            "customer_id": ["c1"],
            "order_date": [DAY],
            "region": ["na"],
            "currency": ["USD"],
            "status": ["completed"],
        }
    ).write_parquet(path)
    written = time.time() - 3600
    os.utime(path, (written, written))
    frame = LocalWarehouseClient(tmp_path).read_partitioned(table, DAY, DAY, ["na"])
    assert frame["order_ts"].to_list() == [datetime(2026, 3, 7, tzinfo=UTC)]
    assert frame["_loaded_at"].to_list() == [datetime.fromtimestamp(written, tz=UTC)]
    assert frame.schema["order_ts"] == table.columns["order_ts"]
