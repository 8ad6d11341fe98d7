"""Marts: business-facing aggregates of fact_sales. Pure Polars, no I/O.

Every mart is at date × region grain (plus its own dimensions) and is computed from the fact
rows of exactly those partitions. Marts never filter fact rows and join dimensions only on
unique keys, so for any date × region the marts' revenue_usd sums to fact_sales' net_amount_usd.

Conventions: revenue is sum(net_amount_usd); an order is a channel-prefixed order id (a web
order and a POS transaction may share an id); percentages are 0–100 and null when revenue is 0.
"""

from __future__ import annotations

import polars as pl

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


def _order_ref() -> pl.Expr:
    return pl.concat_str([pl.col("channel"), pl.col("order_id")], separator=":")


def _ratio(numerator: str, denominator: str, scale: float = 1.0) -> pl.Expr:
    return pl.when(pl.col(denominator) != 0).then(pl.col(numerator) / pl.col(denominator) * scale)


def build_mart_daily_sales(fact_sales: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units, orders, AOV and gross margin per date × region × channel."""
    mart = (
        fact_sales.group_by("date", "region", "channel")
        .agg(
            pl.col("net_amount_usd").sum().alias("revenue_usd"),
            pl.col("quantity").sum().alias("units"),
            _order_ref().n_unique().alias("orders"),
            pl.col("cost_usd").sum(),
            pl.col("gross_margin_usd").sum(),
        )
        .with_columns(
            _ratio("revenue_usd", "orders").alias("average_order_value_usd"),
            _ratio("gross_margin_usd", "revenue_usd", 100.0).alias("gross_margin_pct"),
        )
    )
    return _conform(mart, MART_DAILY_SALES_SCHEMA).sort("date", "region", "channel")


def build_mart_customer_segment_performance(fact_sales: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Revenue, orders, customers and order frequency per date × region × customer segment.

    A customer is the conformed customer_key when it is a real customer (so one shopper buying
    on the web and, identified by email, in store counts once). Lines on an unknown member fall
    back to their channel's natural reference (a POS loyalty id still tells repeat shoppers
    apart), and lines with neither count as the one unknown member.
    """
    customers = dim_customer.select(
        "customer_key", pl.col("segment").alias("_segment"), pl.col("is_unknown_member").alias("_unknown")
    )
    known = ~pl.col("_unknown").fill_null(True)
    customer_identity = (
        pl.when(known | pl.col("customer_ref").is_null())
        .then(pl.concat_str([pl.lit("key"), pl.col("customer_key")], separator=":"))
        .otherwise(pl.concat_str([pl.col("channel"), pl.col("customer_ref")], separator=":"))
    )
    mart = (
        fact_sales.join(customers, on="customer_key", how="left", validate="m:1")
        .with_columns(pl.col("_segment").fill_null(pl.lit(UNKNOWN_SEGMENT)).alias("segment"))
        .group_by("date", "region", "segment")
        .agg(
            pl.col("net_amount_usd").sum().alias("revenue_usd"),
            pl.col("quantity").sum().alias("units"),
            _order_ref().n_unique().alias("orders"),
            customer_identity.n_unique().alias("customers"),
        )
        .with_columns(
            _ratio("revenue_usd", "orders").alias("average_order_value_usd"),
            _ratio("orders", "customers").alias("order_frequency"),
        )
    )
    return _conform(mart, MART_CUSTOMER_SEGMENT_SCHEMA).sort("date", "region", "segment")


def build_mart_product_performance(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units and gross margin per date × region × product, ranked by margin.

    Unmapped SKUs share the unknown product key but keep one row per SKU, named
    "Unmapped: <sku>", so the catalogue gap shows which SKUs to map. Ranks are competition
    ranks (ties share the best rank, like SQL RANK()) within each date × region.
    """
    products = dim_product.select(
        "product_key",
        pl.col("product_name").alias("_name"),
        pl.col("category").alias("_category"),
        pl.col("subcategory").alias("_subcategory"),
        pl.col("is_unknown_member").alias("_unknown"),
    )
    unmapped = pl.col("_unknown").fill_null(True)
    partition = ["date", "region"]
    mart = (
        fact_sales.group_by("date", "region", "product_key", "sku")
        .agg(
            pl.col("net_amount_usd").sum().alias("revenue_usd"),
            pl.col("quantity").sum().alias("units"),
            pl.col("cost_usd").sum(),
            pl.col("gross_margin_usd").sum(),
        )
        .join(products, on="product_key", how="left", validate="m:1")
        .with_columns(
            pl.when(unmapped)
            .then(pl.concat_str([pl.lit(f"{UNMAPPED}: "), pl.col("sku").fill_null("<no sku>")]))
            .otherwise(pl.col("_name"))
            .alias("product_name"),
            pl.when(unmapped).then(pl.lit(UNMAPPED)).otherwise(pl.col("_category")).alias("category"),
            pl.when(unmapped).then(pl.lit(UNMAPPED)).otherwise(pl.col("_subcategory")).alias("subcategory"),
            _ratio("gross_margin_usd", "revenue_usd", 100.0).alias("gross_margin_pct"),
            pl.col("gross_margin_usd").rank("min", descending=True).over(partition).alias("margin_rank_desc"),
            pl.col("gross_margin_usd").rank("min").over(partition).alias("margin_rank_asc"),
        )
    )
    return _conform(mart, MART_PRODUCT_PERFORMANCE_SCHEMA).sort("date", "region", "margin_rank_desc", "sku")
