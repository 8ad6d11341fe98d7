"""Purchase frequency and spend by category, per customer and per customer segment. Pure Polars.

Over the rolling window (the days of it the data covers), for identified customers only (the
unknown members are many anonymous buyers, not one):

* ``purchase_frequency_30d``          = orders with the category / customers × 30 / days covered
* ``category_spend_per_customer_usd`` = revenue_usd / customers

A customer row has ``customers`` = 1; a segment row sums its customers who bought the category.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.kpis import measure, ratio
from sales360_assets.recommendations import basket, cross_sell

CUSTOMER = "customer"
SEGMENT = "segment"

MART_CATEGORY_SPEND_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),  # customer | segment
    "customer_key": pl.String(),  # null on segment rows
    "segment": pl.String(),
    "category": pl.String(),
    "customers": pl.Int64(),
    "orders": pl.Int64(),
    "units": pl.Float64(),
    "revenue_usd": pl.Float64(),
    "purchase_frequency_30d": pl.Float64(),
    "category_spend_per_customer_usd": pl.Float64(),
    "window_start": pl.Date(),
    "window_end": pl.Date(),
    "days_covered": pl.Int64(),
}


def build_mart_customer_category_spend(
    fact: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    as_of: date | None = None,
    window_days: int = basket.DEFAULT_WINDOW_DAYS,
) -> pl.DataFrame:
    window, start, end = basket.in_window(fact, as_of, window_days)
    covered_from = max(start, window["date"].min() or start)
    days = (end - covered_from).days + 1
    lines = window.join(cross_sell.known_customers(dim_customer), on="customer_key").join(
        dim_product.select("product_key", "category"), on="product_key", how="left"
    )
    lines = lines.with_columns(pl.col("category").fill_null("Unmapped"))
    measures = [measure("orders").cast(pl.Int64), measure("units"), measure("revenue_usd")]
    per_customer = lines.group_by("customer_key", "segment", "category").agg(
        *measures, pl.lit(1, pl.Int64).alias("customers")
    )
    per_segment = lines.group_by("segment", "category").agg(
        *measures, pl.col("customer_key").n_unique().cast(pl.Int64).alias("customers")
    )
    both = pl.concat(
        [
            per_customer.with_columns(pl.lit(CUSTOMER).alias("level")),
            per_segment.with_columns(pl.lit(SEGMENT).alias("level")),
        ],
        how="diagonal",
    )
    mart = both.with_columns(
        (pl.col("orders") / pl.col("customers") * 30.0 / days).alias("purchase_frequency_30d"),
        ratio("category_spend_per_customer_usd"),
        pl.lit(start).alias("window_start"),
        pl.lit(end).alias("window_end"),
        pl.lit(days, pl.Int64).alias("days_covered"),
    )
    return conform(mart, MART_CATEGORY_SPEND_SCHEMA).sort("level", "segment", "customer_key", "category")
