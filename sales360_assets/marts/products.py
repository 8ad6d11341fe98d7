"""Product marts: what sells and what earns, per day and per month. Pure Polars, no I/O.

* ``mart_product_performance`` — date × region × product, ranked by gross margin within the day
  and region (partitioned like fact_sales).
* ``mart_product_profitability`` — month × product and month × category across regions and
  channels, ranked both ways (history-wide).

An unmapped SKU (sold, but in no catalogue) shares dim_product's unknown member; both marts keep
one row per such SKU, named "Unmapped: <sku>" in category "Unmapped", so the catalogue gap shows
which SKUs to map. The product helpers here also serve the sales marts' category column.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import Frame, conform
from sales360_assets.kpis import measure, ratio
from sales360_assets.money import to_the_cent

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

MART_PRODUCT_PROFITABILITY_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "level": pl.String(),  # "product" | "category"
    "product_key": pl.String(),
    "sku": pl.String(),
    "product_name": pl.String(),
    "category": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "gross_margin_pct": pl.Float64(),
    "rank_most_profitable": pl.Int64(),
    "rank_least_profitable": pl.Int64(),
}


def product_lookup(dim_product: Frame) -> Frame:
    """dim_product columns to join on product_key before ``product_columns``."""
    return dim_product.select(
        "product_key",
        pl.col("product_name").alias("_name"),
        pl.col("category").alias("_category"),
        pl.col("subcategory").alias("_subcategory"),
        pl.col("is_unknown_member").alias("_unknown"),
    )


# Category, subcategory and name prefix of a SKU no catalogue knows.
UNMAPPED = "Unmapped"


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


def with_category(fact_sales: Frame, dim_product: Frame) -> Frame:
    """Fact lines with their product's name, category and subcategory (``product_columns``)."""
    return fact_sales.join(product_lookup(dim_product), on="product_key", how="left", validate="m:1").with_columns(
        *product_columns()
    )


def build_mart_product_performance(fact_sales: Frame, dim_product: Frame) -> Frame:
    """Revenue, units and gross margin per date × region × product, ranked by margin.

    Unmapped SKUs share the unknown product key but keep one row per SKU, named
    "Unmapped: <sku>", so the catalogue gap shows which SKUs to map. Ranks are competition
    ranks (ties share the best rank, like SQL RANK()) of the margin to the cent within each date ×
    region.
    """
    partition = ["date", "region"]
    mart = (
        fact_sales.group_by("date", "region", "product_key", "sku")
        .agg(measure("revenue_usd"), measure("units"), measure("cost_usd"), measure("gross_margin_usd"))
        .join(product_lookup(dim_product), on="product_key", how="left", validate="m:1")
        .with_columns(
            *product_columns(),
            ratio("gross_margin_pct"),
            to_the_cent("gross_margin_usd").rank("min", descending=True).over(partition).alias("margin_rank_desc"),
            to_the_cent("gross_margin_usd").rank("min").over(partition).alias("margin_rank_asc"),
        )
    )
    return conform(mart, MART_PRODUCT_PERFORMANCE_SCHEMA).sort("date", "region", "margin_rank_desc", "sku")


def build_mart_product_profitability(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    """Most and least profitable products and categories per month, across regions and channels.

    One row per month × product (``level`` "product"; unmapped SKUs one row each, named
    "Unmapped: <sku>") and per month × category (``level`` "category"). Ranks are competition ranks
    of gross margin to the cent within the month and level: rank 1 of ``rank_most_profitable`` is the biggest
    margin, rank 1 of ``rank_least_profitable`` the smallest (most negative).
    """
    lines = with_category(fact_sales, dim_product).with_columns(pl.col("date").dt.month_start().alias("month"))
    totals = [measure("revenue_usd"), measure("units"), measure("cost_usd"), measure("gross_margin_usd")]
    products = (
        lines.group_by("month", "product_key", "sku")
        .agg(*totals, pl.col("product_name").first(), pl.col("category").first())
        .with_columns(pl.lit("product").alias("level"))
    )
    categories = (
        lines.group_by("month", "category")
        .agg(*totals)
        .with_columns(
            pl.lit("category").alias("level"),
            pl.lit(None, dtype=pl.String).alias("product_key"),
            pl.lit(None, dtype=pl.String).alias("sku"),
            pl.lit(None, dtype=pl.String).alias("product_name"),
        )
    )
    columns = [
        "month",
        "level",
        "product_key",
        "sku",
        "product_name",
        "category",
        *(e.meta.output_name() for e in totals),
    ]
    mart = pl.concat([products.select(columns), categories.select(columns)]).with_columns(
        ratio("gross_margin_pct"),
        to_the_cent("gross_margin_usd")
        .rank("min", descending=True)
        .over("month", "level")
        .alias("rank_most_profitable"),
        to_the_cent("gross_margin_usd").rank("min").over("month", "level").alias("rank_least_profitable"),
    )
    return conform(mart, MART_PRODUCT_PROFITABILITY_SCHEMA).sort(
        "month", "level", "rank_most_profitable", "category", "sku", nulls_last=True
    )
