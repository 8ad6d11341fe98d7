"""Mart assets at date × region grain, computed per partition from fact_sales. Wrappers over transforms.py."""

import dagster as dg
import polars as pl

from sales360_assets.core.assets import MARGIN, column_metadata, lineage
from sales360_assets.marts import transforms
from sales360_assets.partitions import date_region_partitions, single_run_backfill

OWNERS = ["team:sales-analytics"]
GROUP = "marts"
KINDS = {"polars", "delta"}
PARTITIONED = {"partitions_def": date_region_partitions, "backfill_policy": single_run_backfill}


@dg.asset(
    metadata={
        **column_metadata(transforms.MART_DAILY_SALES_SCHEMA, sensitivity=MARGIN),
        **lineage({"revenue_usd": [("fact_sales", "net_amount_usd")]}),
    },
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Daily sales by date × region × channel: revenue, units, orders, average order value, "
    "cost and gross margin (USD).",
    tags={"sensitivity": "confidential"},
    **PARTITIONED,
)
def mart_daily_sales(fact_sales: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_mart_daily_sales(fact_sales)


@dg.asset(
    metadata={
        **column_metadata(transforms.MART_CUSTOMER_SEGMENT_SCHEMA, sensitivity=MARGIN),
        **lineage({"revenue_usd": [("fact_sales", "net_amount_usd")]}),
    },
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Customer-segment performance by date × region: revenue, units, orders, customers, "
    "average order value and order frequency.",
    **PARTITIONED,
)
def mart_customer_segment_performance(fact_sales: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_mart_customer_segment_performance(fact_sales, dim_customer)


@dg.asset(
    metadata={
        **column_metadata(transforms.MART_PRODUCT_PERFORMANCE_SCHEMA, sensitivity=MARGIN),
        **lineage({"revenue_usd": [("fact_sales", "net_amount_usd")]}),
    },
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Product performance by date × region: revenue, units, cost, gross margin, and margin "
    "ranks (most and least profitable).",
    tags={"sensitivity": "confidential"},
    **PARTITIONED,
)
def mart_product_performance(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_mart_product_performance(fact_sales, dim_product)


mart_assets: list[dg.AssetsDefinition] = [mart_daily_sales, mart_customer_segment_performance, mart_product_performance]
