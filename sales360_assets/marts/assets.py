"""Mart assets, by subject: thin wrappers over the pure transforms in this package.

``mart_daily_sales``, ``mart_customer_segment_performance``, ``mart_product_performance`` and
``mart_sales_performance`` are date × region partitioned like fact_sales and run in the daily job.
The others span history (months, campaigns, seasonality): they are unpartitioned, read every
fact_sales partition as a lazy scan (only the columns they need are read; the month-grain ones a
span of months at a time) and run in
``sales_reporting_job`` after the daily job. ``mart_rep_quota_attainment`` is a mart too, but it is
computed from commission credit and feeds the statements, so it lives in ``commissions/``.
"""

from collections.abc import Callable, Iterator
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets import frames
from sales360_assets.catalogue import kpi_asset
from sales360_assets.core.assets import lineage
from sales360_assets.frames import FrameBlocks
from sales360_assets.marts import campaigns, customers, pipeline, products, sales, seasonality
from sales360_assets.marts.columns import describe_columns
from sales360_assets.partitions import DATE_REGION_PARTITIONED

OWNERS = ["team:sales-analytics"]
GROUP = "marts"
CONFIDENTIAL = {"sensitivity": "confidential"}
FACT_COLUMNS = (
    "date",
    "region",
    "channel",
    "order_id",
    "customer_key",
    "customer_ref",
    "product_key",
    "sku",
    "quantity",
    "discount_amount_local",
    "fx_rate",
    "net_amount_usd",
    "cost_usd",
    "gross_margin_usd",
)


def _mart(
    name: str,
    schema: dict[str, pl.DataType],
    summary: str,
    *,
    owners: list[str] = OWNERS,
    confidential: bool = False,
    revenue_lineage: bool = True,
    **asset_args: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``kpi_asset`` for a mart: its non-KPI columns described (``marts/columns.py``), revenue lineage;
    ``asset_args`` go to ``dg.asset``."""
    lineage_metadata = {}
    if revenue_lineage and "revenue_usd" in schema:
        lineage_metadata = lineage({"revenue_usd": [("fact_sales", "net_amount_usd")]})
    return kpi_asset(
        name,
        schema,
        summary,
        group=GROUP,
        owners=owners,
        docs=describe_columns(name, list(schema)),
        metadata=lineage_metadata,
        tags=CONFIDENTIAL if confidential else None,
        **asset_args,
    )


def _daily_mart(
    name: str,
    schema: dict[str, pl.DataType],
    summary: str,
    build: Callable[..., pl.LazyFrame],
    dimensions: tuple[str, ...] = (),
    *,
    confidential: bool = False,
) -> dg.AssetsDefinition:
    """A date × region mart of the daily job: ``build`` over the run's fact_sales partitions, then the
    named dimensions (whole), as its arguments in that order.

    The inputs are scans: a region-year of fact_sales (all its columns) and the whole customer
    dimension, read as frames, took each of these steps 1.5-2 GiB over its start at 10 M order
    lines. Now only ``FACT_COLUMNS`` of the facts are read, and of the dimensions only the columns
    the mart joins (the query reads them from the scans). The facts are collected before the query,
    as measured at 10 M lines; the sums are exact (``money.exact_sum``), so a range run and one run
    per partition give the same rows whatever order the lines are read in.
    """
    inputs = ("fact_sales", *dimensions)

    @_mart(
        name,
        schema,
        summary,
        confidential=confidential,
        ins={table: dg.AssetIn(dagster_type=pl.LazyFrame) for table in inputs},
        **DATE_REGION_PARTITIONED,
    )
    def _build(**tables: pl.LazyFrame) -> pl.DataFrame:
        facts = tables["fact_sales"].select(FACT_COLUMNS).collect().lazy()
        return build(facts, *(tables[table] for table in dimensions)).collect()

    return _build


def _month_by_month(
    fact_sales: pl.LazyFrame, schema: dict[str, pl.DataType], build: Callable[..., pl.DataFrame], *dimensions: object
) -> FrameBlocks:
    """A month-grain mart built from a span of months of sales at a time, written as one commit.

    Its rows of a month depend on that month's sales alone (totals and ranks within the month),
    and each block comes out sorted by month first, so the spans in order are the whole mart. A
    span holds up to ``ROWS_PER_BLOCK`` sales lines (``month_spans``): a small history is one pass;
    at 10 M order lines, reading the history whole took these steps to 6.0-6.7 GiB.
    """

    def spans() -> Iterator[pl.DataFrame]:
        # A history that fits one span is read in one pass, counted from the files' footers alone.
        if fact_sales.select(pl.len()).collect().item() <= frames.ROWS_PER_BLOCK:
            yield build(fact_sales.select(FACT_COLUMNS).collect(), *dimensions)
            return
        for first, last in frames.spans_of_months([fact_sales]):
            in_span = fact_sales.filter(pl.col("date").is_between(first, last))
            yield build(in_span.select(FACT_COLUMNS).collect(engine="streaming"), *dimensions)

    return FrameBlocks(pl.Schema(schema), spans)


# --- sales -------------------------------------------------------------------------------------


mart_daily_sales = _daily_mart(
    "mart_daily_sales",
    sales.MART_DAILY_SALES_SCHEMA,
    "Daily sales by date × region × channel: revenue, units, orders, average order value, cost and gross margin (USD).",
    sales.build_mart_daily_sales,
    confidential=True,
)


mart_sales_performance = _daily_mart(
    "mart_sales_performance",
    sales.MART_SALES_PERFORMANCE_SCHEMA,
    "Sales by date × region × channel × product category × customer segment.",
    sales.build_mart_sales_performance,
    ("dim_customer", "dim_product"),
    confidential=True,
)


@_mart(
    "mart_promotion_effectiveness",
    sales.MART_PROMOTION_SCHEMA,
    "Promotion effectiveness by month × region × channel: discounted (is_promoted) against full-price lines.",
)
def mart_promotion_effectiveness(fact_sales: pl.LazyFrame) -> FrameBlocks:
    return _month_by_month(fact_sales, sales.MART_PROMOTION_SCHEMA, sales.build_mart_promotion_effectiveness)


# --- customers ---------------------------------------------------------------------------------


mart_customer_segment_performance = _daily_mart(
    "mart_customer_segment_performance",
    customers.MART_CUSTOMER_SEGMENT_SCHEMA,
    "Customer-segment performance by date × region (KPIs below).",
    customers.build_mart_customer_segment_performance,
    ("dim_customer",),
)


@_mart(
    "mart_customer_segment_monthly",
    customers.MART_SEGMENT_MONTHLY_SCHEMA,
    "Customer-segment performance by month (all regions and channels).",
)
def mart_customer_segment_monthly(fact_sales: pl.LazyFrame, dim_customer: pl.DataFrame) -> FrameBlocks:
    return _month_by_month(
        fact_sales, customers.MART_SEGMENT_MONTHLY_SCHEMA, customers.build_mart_customer_segment_monthly, dim_customer
    )


# --- products ----------------------------------------------------------------------------------


mart_product_performance = _daily_mart(
    "mart_product_performance",
    products.MART_PRODUCT_PERFORMANCE_SCHEMA,
    "Product performance by date × region: revenue, units, cost, gross margin, and margin ranks (most and "
    "least profitable).",
    products.build_mart_product_performance,
    ("dim_product",),
    confidential=True,
)


@_mart(
    "mart_product_profitability",
    products.MART_PRODUCT_PROFITABILITY_SCHEMA,
    "Most and least profitable products and categories per month, all regions and channels "
    "(level = product | category; ranks by gross margin within month and level).",
    confidential=True,
)
def mart_product_profitability(fact_sales: pl.LazyFrame, dim_product: pl.DataFrame) -> FrameBlocks:
    return _month_by_month(
        fact_sales, products.MART_PRODUCT_PROFITABILITY_SCHEMA, products.build_mart_product_profitability, dim_product
    )


# --- pipeline ----------------------------------------------------------------------------------


class PipelineAlertConfig(dg.Config):
    """When a region × opportunity type counts as under-performing (set per run in the launchpad)."""

    win_rate_threshold_pct: float = 20.0
    months_running: int = 3


@_mart(
    "mart_pipeline",
    pipeline.MART_PIPELINE_SCHEMA,
    "Pipeline health per month × region × opportunity type: volume, win rate, deal size, cycle length, "
    "velocity, open pipeline, and the low win-rate alert (threshold and run length are run config).",
)
def mart_pipeline(config: PipelineAlertConfig, fact_opportunity: pl.DataFrame) -> dg.Output:
    mart = pipeline.build_mart_pipeline(fact_opportunity, config.win_rate_threshold_pct, config.months_running)
    alerts = mart.filter(pl.col("low_win_rate_alert"))
    return dg.Output(
        mart,
        metadata={
            "win_rate_threshold_pct": config.win_rate_threshold_pct,
            "months_running": config.months_running,
            "segments_alerting": alerts.select("region", "opportunity_type").unique().height,
        },
    )


@_mart(
    "mart_funnel_conversion",
    pipeline.MART_FUNNEL_SCHEMA,
    "Stage-to-stage conversion on the standard funnel (regional stage names mapped in core/funnel.py) per "
    "region × creation month.",
)
def mart_funnel_conversion(fact_opportunity: pl.DataFrame) -> pl.DataFrame:
    return pipeline.build_mart_funnel_conversion(fact_opportunity)


# --- campaigns and seasonality -----------------------------------------------------------------


@_mart(
    "mart_campaign_effectiveness",
    campaigns.MART_CAMPAIGN_SCHEMA,
    "Campaign effectiveness: deals and revenue influenced per campaign, with cost and ROI where the cost is "
    "known; '(no campaign)' holds deal revenue without one.",
    owners=["team:marketing-analytics"],
    revenue_lineage=False,
)
def mart_campaign_effectiveness(
    fact_sales: pl.LazyFrame, fact_opportunity: pl.DataFrame, stg_salesforce_campaigns: pl.DataFrame
) -> pl.DataFrame:
    return campaigns.build_mart_campaign_effectiveness(fact_sales, fact_opportunity, stg_salesforce_campaigns)


@_mart(
    "mart_seasonality",
    seasonality.MART_SEASONALITY_SCHEMA,
    "Weekly (day of week) and yearly (month of year) seasonal indices per region and overall ('all'), with "
    "the peaks (rank 1) and troughs they imply.",
)
def mart_seasonality(fact_sales: pl.LazyFrame) -> pl.DataFrame:
    return seasonality.build_mart_seasonality(fact_sales)


# Partitioned (daily job) and history-wide (sales reporting job) marts.
partitioned_mart_assets: list[dg.AssetsDefinition] = [
    mart_daily_sales,
    mart_customer_segment_performance,
    mart_product_performance,
    mart_sales_performance,
]
reporting_mart_assets: list[dg.AssetsDefinition] = [
    mart_product_profitability,
    mart_customer_segment_monthly,
    mart_promotion_effectiveness,
    mart_pipeline,
    mart_funnel_conversion,
    mart_campaign_effectiveness,
    mart_seasonality,
]
