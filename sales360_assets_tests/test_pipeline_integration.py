"""The whole graph through a real Dagster instance into a temporary Delta lake."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.jobs import partitioned_assets, unpartitioned_assets
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.settings import REGION_CODES
from sales360_assets.staging.dead_letters import DEAD_LETTER_TABLE, read_dead_letters
from sales360_assets_tests.conftest import WINDOW_END, WINDOW_START, MaterializedLake, SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration

# Columns that say *when* and *by which run* a row was written; everything else must be identical.
RUN_COLUMNS = {"_ingested_at", "_run_id", "run_id", "rejected_at"}

PARTITIONED = sorted(a.key.path[-1] for a in partitioned_assets)
UNPARTITIONED = sorted(a.key.path[-1] for a in unpartitioned_assets)

# staging table -> (raw table, dead-letter key columns, natural key in raw, natural key in staging)
RECONCILED = {
    "stg_warehouse_orders": ("raw_warehouse_orders", ["order_id"], ["order_id"], ["order_id"]),
    "stg_warehouse_order_lines": (
        "raw_warehouse_order_lines",
        ["order_id", "line_number"],
        ["order_id", "line_number"],
        ["order_id", "line_number"],
    ),
    "stg_pos_transactions": (
        "raw_pos_transactions",
        ["_source_file", "transaction_id", "line_no"],
        ["transaction_id", "line_no"],
        ["transaction_id", "line_no"],
    ),
    "stg_warehouse_customers": ("raw_warehouse_customers", ["customer_id"], ["customer_id"], ["customer_id"]),
    "stg_warehouse_products": ("raw_warehouse_products", ["sku"], ["sku"], ["sku"]),
    "stg_warehouse_fx_rates": (
        "raw_warehouse_fx_rates",
        ["rate_date", "currency"],
        ["rate_date", "currency"],
        ["rate_date", "currency"],
    ),
    "stg_pos_stores": ("raw_pos_stores", ["store_id"], ["store_id"], ["store_id"]),
    **{
        f"stg_salesforce_{name}": (f"raw_salesforce_{name}", ["Id", "SystemModstamp"], ["Id"], [staged_id])
        for name, staged_id in [
            ("users", "user_id"),
            ("accounts", "account_id"),
            ("contacts", "contact_id"),
            ("products", "product_id"),
            ("campaigns", "campaign_id"),
            ("opportunities", "opportunity_id"),
            ("opportunity_line_items", "line_item_id"),
            ("quotas", "quota_id"),
            ("account_team_members", "account_team_member_id"),
            ("opportunity_history", "opportunity_history_id"),
        ]
    },
    # Histories keep every valid record version: the natural key is the version.
    **{
        f"stg_salesforce_{name}_history": (
            f"raw_salesforce_{plural}",
            ["Id", "SystemModstamp"],
            ["Id", "SystemModstamp"],
            [staged_id, "system_modstamp"],
        )
        for name, plural, staged_id in [("user", "users", "user_id")]
    },
}


def key(columns: list[str]) -> pl.Expr:
    return pl.concat_str([pl.col(c).cast(pl.String).fill_null("<null>") for c in columns], separator="|")


def comparable(lake: DeltaLake, table: str, selection: PartitionSelection | None = None) -> pl.DataFrame:
    frame = lake.read(table, selection)
    frame = frame.select(sorted(c for c in frame.columns if c not in RUN_COLUMNS))
    return frame.sort(frame.columns, nulls_last=True)


def test_every_layer_is_a_delta_table_partitioned_by_date_and_region(materialized: MaterializedLake) -> None:
    lake = materialized.lake
    for table in [*PARTITIONED, *UNPARTITIONED, DEAD_LETTER_TABLE]:
        assert lake.exists(table), f"{table} was not written"
    window = {WINDOW_START + timedelta(days=i) for i in range((WINDOW_END - WINDOW_START).days + 1)}
    for table in PARTITIONED:
        partitions = lake.read(table).select("date", "region").unique()
        assert set(partitions["date"]) <= window, table
        assert set(partitions["region"]) <= set(REGION_CODES), table
        # Stored one Delta partition per region, days inside (lake/delta.py says why).
        assert lake.table(table).metadata().partition_columns == ["region"], table
    # Sales exist for every day × region of the window.
    sales = lake.read("fact_sales").select("date", "region").unique()
    assert sales.height == len(window) * len(REGION_CODES)
    assert set(lake.read("fact_sales")["channel"]) == {"web", "pos", "crm"}


def test_staging_reconciles_raw_equals_staged_plus_rejected_plus_duplicates(materialized: MaterializedLake) -> None:
    """Checked from the Delta tables alone: every raw row is staged, dead-lettered or a duplicate."""
    lake = materialized.lake
    dead = read_dead_letters(lake)
    for staged_table, (raw_table, dead_key, raw_key, staged_key) in RECONCILED.items():
        raw = lake.read(raw_table)
        staged = lake.read(staged_table)
        rejected = dead.filter(pl.col("source_table") == raw_table)
        per_row_key = (
            raw.group_by(key(dead_key).alias("dead_key"), key(raw_key).alias("natural_key"))
            .len("raw_rows")
            .join(
                rejected.group_by(pl.col("source_key").alias("dead_key")).len("rejected_rows"),
                on="dead_key",
                how="full",
                coalesce=True,
            )
            .with_columns(pl.col("raw_rows", "rejected_rows").fill_null(0))
            .with_columns((pl.col("raw_rows") - pl.col("rejected_rows")).alias("accepted_rows"))
        )
        # A dead letter must point at a delivered row, and a row is rejected at most once.
        assert per_row_key["accepted_rows"].min() >= 0, f"{staged_table}: dead letters without raw rows"
        accepted = (
            per_row_key.group_by("natural_key").agg(pl.col("accepted_rows").sum()).filter(pl.col("accepted_rows") > 0)
        )
        staged_keys = staged.select(key(staged_key).alias("natural_key"))["natural_key"]
        assert staged_keys.n_unique() == staged.height, f"{staged_table}: staged keys are not unique"
        assert set(staged_keys) == set(accepted["natural_key"]), f"{staged_table}: staged keys != accepted raw keys"
        duplicates = int(accepted["accepted_rows"].sum()) - accepted.height
        assert raw.height == staged.height + rejected.height + duplicates, staged_table


def test_mart_revenue_equals_fact_revenue_for_every_partition(materialized: MaterializedLake) -> None:
    lake = materialized.lake
    fact = lake.read("fact_sales").group_by("date", "region").agg(pl.col("net_amount_usd").sum().alias("fact"))
    assert fact["fact"].sum() > 0
    for mart in ("mart_daily_sales", "mart_customer_segment_performance", "mart_product_performance"):
        totals = lake.read(mart).group_by("date", "region").agg(pl.col("revenue_usd").sum().alias("mart"))
        joined = fact.join(totals, on=["date", "region"], how="full", coalesce=True).fill_null(0.0)
        worst = joined.select((pl.col("fact") - pl.col("mart")).abs().max()).item()
        assert worst < 1e-6, f"{mart} revenue differs from fact_sales by {worst}"


def test_rematerializing_the_same_partitions_leaves_identical_tables(materialized: MaterializedLake) -> None:
    lake = materialized.lake
    tables = [*PARTITIONED, DEAD_LETTER_TABLE]
    before = {t: comparable(lake, t) for t in tables}
    versions = {t: lake.version(t) for t in tables}
    job = materialized.defs.resolve_job_def("daily_sales_job")
    for region in REGION_CODES:
        result = job.execute_in_process(
            instance=materialized.instance,
            tags={
                "dagster/asset_partition_range_start": f"{WINDOW_START}|{region}",
                "dagster/asset_partition_range_end": f"{WINDOW_END}|{region}",
            },
        )
        assert result.success
    for table in tables:
        assert lake.version(table) > versions[table], f"{table} was not rewritten"
        assert_frame_equal(comparable(lake, table), before[table], check_row_order=True, check_exact=True)


def test_range_run_equals_per_partition_runs(
    tmp_path: Path, sample_sources: SampleSources, materialized: MaterializedLake
) -> None:
    """One run over a date range gives the same rows as one run per date × region."""
    days = [WINDOW_START + timedelta(days=2), WINDOW_START + timedelta(days=3)]
    regions = ["emea", "uk"]
    with project_instance() as instance:
        single = materialize_into(tmp_path, sample_sources, instance, days[0], days[0])  # builds reference tables
        job = single.defs.resolve_job_def("daily_sales_job")
        for day in days:
            for region in regions:
                key = dg.MultiPartitionKey({"date": day.isoformat(), "region": region})
                assert job.execute_in_process(instance=instance, partition_key=key).success
    selection = PartitionSelection(days[0], days[-1], tuple(regions))
    for table in [*PARTITIONED, DEAD_LETTER_TABLE]:
        expected = comparable(materialized.lake, table, selection if table != DEAD_LETTER_TABLE else None)
        actual = comparable(single.lake, table, selection if table != DEAD_LETTER_TABLE else None)
        if table == DEAD_LETTER_TABLE:
            expected = expected.filter(selection.filter_expr() | pl.col("date").is_null())
            actual = actual.filter(selection.filter_expr() | pl.col("date").is_null())
        assert_frame_equal(actual, expected, check_row_order=True, check_exact=True)


def test_every_injected_defect_is_caught_with_its_reason(materialized: MaterializedLake) -> None:
    """The generator's manifest counts each defect it injected; staging must account for each one."""
    lake, defects = materialized.lake, materialized.sources.manifest["defects"]
    dead = read_dead_letters(lake)

    def rejected(raw_table: str, reason_prefix: str) -> int:
        return dead.filter(
            (pl.col("source_table") == raw_table) & pl.col("reason").str.starts_with(reason_prefix)
        ).height

    def collapsed(raw_table: str, staged_table: str) -> int:
        return (
            lake.read(raw_table).height
            - lake.read(staged_table).height
            - dead.filter(pl.col("source_table") == raw_table).height
        )

    pos = defects["pos_transactions"]
    assert rejected("raw_pos_transactions", "malformed") == pos["malformed"] > 0
    assert rejected("raw_pos_transactions", "unknown currency") == pos["unknown_currency"] > 0
    assert rejected("raw_pos_transactions", "negative quantity") == pos["negative_quantity"] > 0
    assert collapsed("raw_pos_transactions", "stg_pos_transactions") == pos["duplicate"] > 0

    orders, lines = defects["orders"], defects["order_lines"]
    assert rejected("raw_warehouse_orders", "unknown currency") == orders["unknown_currency"] > 0
    assert collapsed("raw_warehouse_orders", "stg_warehouse_orders") == orders["duplicate"] > 0
    assert rejected("raw_warehouse_order_lines", "negative quantity") == lines["negative_quantity"] > 0
    assert rejected("raw_warehouse_order_lines", "missing sku") == lines["null_sku"] > 0
    assert collapsed("raw_warehouse_order_lines", "stg_warehouse_order_lines") == lines["duplicate"] > 0
    # Lines of a rejected order follow it to the dead letters instead of dangling.
    orphaned = rejected("raw_warehouse_order_lines", "order ")
    bad_orders = set(dead.filter(pl.col("source_table") == "raw_warehouse_orders")["source_key"])
    lines_of_bad_orders = (
        lake.read("raw_warehouse_order_lines").filter(pl.col("order_id").is_in(list(bad_orders))).height
    )
    assert orphaned == lines_of_bad_orders > 0
    assert lake.read("stg_warehouse_orders")["is_late_arrival"].sum() == orders["late_arriving"] > 0

    deleted = lake.read("stg_salesforce_opportunities").filter(pl.col("is_deleted")).height
    assert deleted == defects["Opportunity"]["deleted"] > 0
