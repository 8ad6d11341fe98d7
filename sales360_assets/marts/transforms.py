"""Marts: business-facing aggregates of fact_sales. Pure Polars, no I/O.

Every mart is at date × region grain (plus its own dimensions) and is computed from the fact
rows of exactly those partitions. Marts never filter fact rows and join dimensions only on
unique keys, so for any date × region the marts' revenue_usd sums to fact_sales' net_amount_usd.

Conventions: revenue is sum(net_amount_usd); an order is a channel-prefixed order id (a web
order and a POS transaction may share an id); percentages are 0–100 and null when revenue is 0.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.kpis import measure, ratio

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

MART_CUSTOMER_SEGMENT_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    "segment": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "customers": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "order_frequency": pl.Float64(),
}

MART_PRODUCT_PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    "product_key": pl.String(),
    "sku": pl.String(),
    "product_name": pl.String(),
    "category": pl.String(),
    "subcategory": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "gross_margin_pct": pl.Float64(),
    "margin_rank_desc": pl.Int64(),
    "margin_rank_asc": pl.Int64(),
}

UNKNOWN_SEGMENT = "Unknown"
UNMAPPED = "Unmapped"


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


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


def with_segment(fact_sales: pl.DataFrame | pl.LazyFrame, dim_customer: pl.DataFrame) -> pl.DataFrame | pl.LazyFrame:
    """Fact lines with the customer's ``segment`` ("Unknown" when unmatched) and the ``_unknown`` flag."""
    customers = dim_customer.select(
        "customer_key", pl.col("segment").alias("_segment"), pl.col("is_unknown_member").alias("_unknown")
    )
    if isinstance(fact_sales, pl.LazyFrame):
        customers = customers.lazy()
    return fact_sales.join(customers, on="customer_key", how="left", validate="m:1").with_columns(
        pl.col("_segment").fill_null(pl.lit(UNKNOWN_SEGMENT)).alias("segment")
    )


def build_mart_daily_sales(fact_sales: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units, orders, AOV and gross margin per date × region × channel."""
    mart = (
        fact_sales.group_by("date", "region", "channel")
        .agg(
            measure("revenue_usd"),
            measure("units"),
            measure("orders"),
            measure("cost_usd"),
            measure("gross_margin_usd"),
        )
        .with_columns(ratio("average_order_value_usd"), ratio("gross_margin_pct"))
    )
    return _conform(mart, MART_DAILY_SALES_SCHEMA).sort("date", "region", "channel")


def build_mart_customer_segment_performance(fact_sales: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
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
    return _conform(mart, MART_CUSTOMER_SEGMENT_SCHEMA).sort("date", "region", "segment")


def product_lookup(dim_product: pl.DataFrame) -> pl.DataFrame:
    """dim_product columns to join on product_key before ``product_columns``."""
    return dim_product.select(
        "product_key",
        pl.col("product_name").alias("_name"),
        pl.col("category").alias("_category"),
        pl.col("subcategory").alias("_subcategory"),
        pl.col("is_unknown_member").alias("_unknown"),
    )


def product_columns() -> list[pl.Expr]:
    """product_name, category, subcategory; an unmapped SKU is named "Unmapped: <sku>" in category "Unmapped"."""
    unmapped = pl.col("_unknown").fill_null(True)
    return [
        pl.when(unmapped)
        .then(pl.concat_str([pl.lit(f"{UNMAPPED}: "), pl.col("sku").fill_null("<no sku>")]))
        .otherwise(pl.col("_name"))
        .alias("product_name"),
        pl.when(unmapped).then(pl.lit(UNMAPPED)).otherwise(pl.col("_category")).alias("category"),
        pl.when(unmapped).then(pl.lit(UNMAPPED)).otherwise(pl.col("_subcategory")).alias("subcategory"),
    ]


def build_mart_product_performance(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units and gross margin per date × region × product, ranked by margin.

    Unmapped SKUs share the unknown product key but keep one row per SKU, named
    "Unmapped: <sku>", so the catalogue gap shows which SKUs to map. Ranks are competition
    ranks (ties share the best rank, like SQL RANK()) within each date × region.
    """
    partition = ["date", "region"]
    mart = (
        fact_sales.group_by("date", "region", "product_key", "sku")
        .agg(measure("revenue_usd"), measure("units"), measure("cost_usd"), measure("gross_margin_usd"))
        .join(product_lookup(dim_product), on="product_key", how="left", validate="m:1")
        .with_columns(
            *product_columns(),
            ratio("gross_margin_pct"),
            pl.col("gross_margin_usd").rank("min", descending=True).over(partition).alias("margin_rank_desc"),
            pl.col("gross_margin_usd").rank("min").over(partition).alias("margin_rank_asc"),
        )
    )
    return _conform(mart, MART_PRODUCT_PERFORMANCE_SCHEMA).sort("date", "region", "margin_rank_desc", "sku")
