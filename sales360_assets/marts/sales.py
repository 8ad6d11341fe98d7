"""Sales marts: revenue, orders and margin by day, channel, category and segment. Pure Polars, no I/O.

* ``mart_daily_sales`` — date × region × channel.
* ``mart_sales_performance`` — date × region × channel × product category × customer segment.
* ``mart_promotion_effectiveness`` — month × region × channel, discounted against full-price
  lines (history-wide).

Every KPI column is computed from the glossary (``sales360_assets/kpis/glossary.py``: ``measure``
over fact rows, ``ratio`` over aggregates). The marts never filter fact rows and join dimensions
only on unique keys, so for any slice their ``revenue_usd`` sums to fact_sales' ``net_amount_usd``.

Conventions: an order is a channel-prefixed order id (a web order and a POS transaction may share
an id); percentages are 0–100 and null when their base is 0; a month is identified by its first
day (``month``, a Date).
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import Frame, conform
from sales360_assets.kpis import measure, ratio
from sales360_assets.marts.customers import with_segment
from sales360_assets.marts.products import with_category

MART_DAILY_SALES_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    "channel": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "gross_margin_pct": pl.Float64(),
}

MART_SALES_PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    "channel": pl.String(),
    "category": pl.String(),
    "segment": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "average_selling_price_usd": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "gross_margin_pct": pl.Float64(),
}

MART_PROMOTION_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "region": pl.String(),
    "channel": pl.String(),
    "is_promoted": pl.Boolean(),  # the line carried a discount
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "discount_usd": pl.Float64(),
    "discount_rate_pct": pl.Float64(),
}


def _sales_totals() -> list[pl.Expr]:
    """The additive sales KPIs both daily marts aggregate; their ratios are derived from these."""
    return [
        measure("revenue_usd"),
        measure("units"),
        measure("orders"),
        measure("cost_usd"),
        measure("gross_margin_usd"),
    ]


def build_mart_daily_sales(fact_sales: Frame) -> Frame:
    """Revenue, units, orders, AOV and gross margin per date × region × channel."""
    mart = (
        fact_sales.group_by("date", "region", "channel")
        .agg(*_sales_totals())
        .with_columns(ratio("average_order_value_usd"), ratio("gross_margin_pct"))
    )
    return conform(mart, MART_DAILY_SALES_SCHEMA).sort("date", "region", "channel")


def build_mart_sales_performance(fact_sales: Frame, dim_customer: Frame, dim_product: Frame) -> Frame:
    """Revenue, units, orders, AOV, average price and gross margin per date × region × channel ×
    category × segment. Orders count the orders with a line in the slice, so an order spanning two
    categories counts in both: orders add up across dates, regions, channels and segments only."""
    mart = (
        with_segment(with_category(fact_sales, dim_product), dim_customer)
        .group_by("date", "region", "channel", "category", "segment")
        .agg(*_sales_totals())
        .with_columns(ratio("average_order_value_usd"), ratio("average_selling_price_usd"), ratio("gross_margin_pct"))
    )
    return conform(mart, MART_SALES_PERFORMANCE_SCHEMA).sort("date", "region", "channel", "category", "segment")


def build_mart_promotion_effectiveness(fact_sales: pl.DataFrame) -> pl.DataFrame:
    """Discounted ("promoted") against full-price lines per month × region × channel: revenue, units,
    orders, AOV, the discount given in USD and the discount rate."""
    mart = (
        fact_sales.with_columns(
            pl.col("date").dt.month_start().alias("month"),
            (pl.col("discount_amount_local").fill_null(0.0) > 0).alias("is_promoted"),
        )
        .group_by("month", "region", "channel", "is_promoted")
        .agg(measure("revenue_usd"), measure("units"), measure("orders"), measure("discount_usd"))
        .with_columns(ratio("average_order_value_usd"), ratio("discount_rate_pct"))
    )
    return conform(mart, MART_PROMOTION_SCHEMA).sort("month", "region", "channel", "is_promoted")
