"""Shared by the issue #11 bad-input fault tests: the day they corrupt, runs and reconciliation counts."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import polars as pl

from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.settings import REGION_CODES
from sales360_assets.staging.dead_letters import read_dead_letters
from sales360_assets_tests.fault_helpers import DAYS, run_job
from sales360_assets_tests.servers import project_instance

DAY = DAYS[1]  # 2026-03-04
ALL_REGIONS = PartitionSelection(DAY, DAY, tuple(REGION_CODES))


def report(fault: str, **counts: object) -> None:
    print(f"\nFAULT {fault}: {json.dumps(counts, default=str)}")


def warehouse_file(sources: Path, table: str, day: date = DAY) -> Path:
    return next((sources / "warehouse" / table / f"order_date={day.isoformat()}").glob("*.parquet"))


def run_day(sources: Path, lake_uri: str, day: date = DAY, regions: tuple[str, ...] = tuple(REGION_CODES)) -> None:
    """One daily_sales_job range run over ``day`` × ``regions`` (Dagster orders regions by name)."""
    defs = build_definitions(str(sources), lake_uri)
    tags = {
        "dagster/asset_partition_range_start": f"{day.isoformat()}|{regions[0]}",
        "dagster/asset_partition_range_end": f"{day.isoformat()}|{regions[-1]}",
    }
    with project_instance() as instance:
        run_job(defs, "daily_sales_job", instance, tags=tags)


def reconciliation(lake: DeltaLake, raw_table: str, staged_table: str, selection: PartitionSelection) -> dict:
    """in (raw rows) = staged + rejected + duplicates, read from the Delta tables alone."""
    raw = lake.read(raw_table, selection).height
    staged = lake.read(staged_table, selection).height
    rejected = read_dead_letters(lake, raw_table, selection).height
    return {"raw": raw, "staged": staged, "rejected": rejected, "duplicates": raw - staged - rejected}


def letters_for(lake: DeltaLake, raw_table: str, key_prefix: str) -> pl.DataFrame:
    letters = read_dead_letters(lake, raw_table)
    return letters.filter(pl.col("source_key").str.starts_with(key_prefix))


def revenue(lake: DeltaLake, region: str, channel: str | None = None, day: date = DAY) -> float:
    mart = lake.read("mart_daily_sales", PartitionSelection.single(day, region))
    if channel is not None:
        mart = mart.filter(pl.col("channel") == channel)
    return float(mart["revenue_usd"].sum())


def completed_uk_lines(sources: Path) -> pl.DataFrame:
    orders = pl.read_parquet(warehouse_file(sources, "orders"))
    done = orders.filter((pl.col("region") == "uk") & (pl.col("status") == "completed"))["order_id"]
    lines = pl.read_parquet(warehouse_file(sources, "order_lines"))
    return lines.filter(pl.col("order_id").is_in(done.to_list()) & (pl.col("unit_price") > 0))


def pos_file(sources: Path, day: date, store: str) -> Path:
    return sources / "landing" / "pos" / day.isoformat() / f"{store}.csv"


def pos_revenue(lake: DeltaLake, selection: PartitionSelection) -> float:
    return float(lake.read("stg_pos_transactions", selection)["net_amount_usd"].sum())
