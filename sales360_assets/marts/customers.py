"""Customer-segment marts: who buys, how often, and whether they come back. Pure Polars, no I/O.

* ``mart_customer_segment_performance`` — date × region × customer segment (partitioned like
  fact_sales).
* ``mart_customer_segment_monthly`` — month × segment across regions and channels, with the
  repeat-purchase rate (history-wide).

A line's segment is its dim_customer segment, "Unknown" when the customer is not matched. How a
customer is counted (``customer_identity``) is shared by both marts, so their counts agree.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import Frame, conform
from sales360_assets.kpis import measure, ratio

# What both segment marts publish per segment, in this order, after their own grain column(s).
_SEGMENT_TOTALS: dict[str, pl.DataType] = {
    "segment": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "customers": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
}

MART_CUSTOMER_SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    **_SEGMENT_TOTALS,
    "order_frequency": pl.Float64(),
}

MART_SEGMENT_MONTHLY_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    **_SEGMENT_TOTALS,
    "average_selling_price_usd": pl.Float64(),
    "order_frequency": pl.Float64(),
    "repeat_customers": pl.Int64(),
    "repeat_purchase_rate_pct": pl.Float64(),
}


def customer_identity() -> pl.Expr:
    """Who bought a line, for counting customers (see build_mart_customer_segment_performance).

    Needs ``_unknown`` (is the line's customer_key an unknown member) next to the fact columns.
    """
    known = ~pl.col("_unknown").fill_null(True)
    return (
        pl.when(known)
        .then(pl.concat_str([pl.lit("key"), pl.col("customer_key")], separator=":"))
        .when(pl.col("customer_ref").is_not_null())
        .then(pl.concat_str([pl.col("channel"), pl.col("customer_ref")], separator=":"))
        # Nothing identifies an anonymous walk-in: each order is its own one-time buyer. As one
        # shared member they became a single customer with every order (repeat rate 100 %).
        .otherwise(pl.concat_str([pl.lit("anonymous"), pl.col("channel"), pl.col("order_id")], separator=":"))
    )


# The segment of a line whose customer dim_customer does not know.
UNKNOWN_SEGMENT = "Unknown"


def with_segment(fact_sales: Frame, dim_customer: pl.DataFrame | pl.LazyFrame) -> Frame:
    """Fact lines with the customer's ``segment`` ("Unknown" when unmatched) and the ``_unknown`` flag."""
    customers = dim_customer.select(
        "customer_key", pl.col("segment").alias("_segment"), pl.col("is_unknown_member").alias("_unknown")
    )
    if isinstance(fact_sales, pl.LazyFrame):
        customers = customers.lazy()
    return fact_sales.join(customers, on="customer_key", how="left", validate="m:1").with_columns(
        pl.col("_segment").fill_null(pl.lit(UNKNOWN_SEGMENT)).alias("segment")
    )


def build_mart_customer_segment_performance(fact_sales: Frame, dim_customer: Frame) -> Frame:
    """Revenue, orders, customers and order frequency per date × region × customer segment.

    A customer is the conformed customer_key when it is a real customer (so one shopper buying
    on the web and, identified by email, in store counts once). Lines on an unknown member fall
    back to their channel's natural reference (a POS loyalty id still tells repeat shoppers
    apart), and a line with neither is an anonymous buyer counted once per order.
    """
    mart = (
        with_segment(fact_sales, dim_customer)
        .group_by("date", "region", "segment")
        .agg(
            measure("revenue_usd"),
            measure("units"),
            measure("orders"),
            customer_identity().n_unique().alias("customers"),
        )
        .with_columns(ratio("average_order_value_usd"), ratio("order_frequency"))
    )
    return conform(mart, MART_CUSTOMER_SEGMENT_SCHEMA).sort("date", "region", "segment")


def build_mart_customer_segment_monthly(fact_sales: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units, orders, customers, AOV, average price, order frequency and repeat-purchase rate
    per month × customer segment (all regions and channels). A customer is counted as in
    mart_customer_segment_performance; a repeat customer placed two or more orders in the month."""
    lines = with_segment(fact_sales, dim_customer).with_columns(
        pl.col("date").dt.month_start().alias("month"), customer_identity().alias("_customer")
    )
    per_customer = (
        lines.group_by("month", "segment", "_customer")
        .agg(measure("orders"))
        .group_by("month", "segment")
        .agg(
            pl.len().alias("customers"),
            (pl.col("orders") >= 2).sum().alias("repeat_customers"),
        )
    )
    mart = (
        lines.group_by("month", "segment")
        .agg(measure("revenue_usd"), measure("units"), measure("orders"))
        .join(per_customer, on=["month", "segment"], how="left")
        .with_columns(
            ratio("average_order_value_usd"),
            ratio("average_selling_price_usd"),
            ratio("order_frequency"),
            ratio("repeat_purchase_rate_pct"),
        )
    )
    return conform(mart, MART_SEGMENT_MONTHLY_SCHEMA).sort("month", "segment")
