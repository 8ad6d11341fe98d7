"""Market basket analysis: which products (and categories) sell together. Pure Polars.

A basket is one order (``channel:order_id``: a web order, a store receipt or a won deal). Over the
baskets of a rolling window (``window_days`` up to ``as_of``; cost stays flat as history grows),
for every ordered pair A → B that occur together:

* ``support``    = baskets with A and B / baskets
* ``confidence`` = baskets with A and B / baskets with A        (P(B | A))
* ``lift``       = confidence / (baskets with B / baskets)       (> 1: A makes B more likely)

Pairs below ``min_support`` are dropped; since a pair is never more frequent than either of its
items, items below it are dropped before the self-join (the Apriori pruning), which keeps the
join small.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from sales360_assets.frames import conform

DEFAULT_WINDOW_DAYS = 365
DEFAULT_MIN_SUPPORT = 0.001
PRODUCT = "product"
CATEGORY = "category"

MART_PRODUCT_AFFINITY_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),  # product | category
    "antecedent": pl.String(),  # product_key or category name
    "consequent": pl.String(),
    "antecedent_name": pl.String(),
    "consequent_name": pl.String(),
    "baskets": pl.Int64(),
    "antecedent_baskets": pl.Int64(),
    "consequent_baskets": pl.Int64(),
    "pair_baskets": pl.Int64(),
    "support": pl.Float64(),
    "confidence": pl.Float64(),
    "lift": pl.Float64(),
    "window_start": pl.Date(),
    "window_end": pl.Date(),
}


def in_window(fact: pl.DataFrame, as_of: date | None, window_days: int) -> tuple[pl.DataFrame, date, date]:
    """The fact rows of the ``window_days`` ending on ``as_of`` (default: the latest sale), and the window."""
    end = as_of or fact["date"].max()
    if end is None:
        raise ValueError("fact_sales is empty: there are no baskets to analyse")
    start = end - timedelta(days=window_days - 1)
    return fact.filter(pl.col("date").is_between(start, end)), start, end


def basket_items(fact: pl.DataFrame, dim_product: pl.DataFrame, level: str) -> pl.DataFrame:
    """(basket, item, item_name) once per basket; lines of products no catalogue knows are left out."""
    products = dim_product.filter(~pl.col("is_unknown_member")).select("product_key", "product_name", "category")
    lines = fact.join(products, on="product_key", how="inner").with_columns(
        pl.concat_str([pl.col("channel"), pl.col("order_id")], separator=":").alias("basket")
    )
    if level == PRODUCT:
        item = lines.select("basket", pl.col("product_key").alias("item"), pl.col("product_name").alias("item_name"))
    else:
        item = lines.select("basket", pl.col("category").alias("item"), pl.col("category").alias("item_name"))
    return item.unique(["basket", "item"])


def pair_affinity(items: pl.DataFrame, min_support: float) -> pl.DataFrame:
    """Support, confidence and lift of every ordered pair of items at or above ``min_support``."""
    baskets = items["basket"].n_unique()
    if baskets == 0:
        return pl.DataFrame()
    counts = items.group_by("item", "item_name").agg(pl.len().cast(pl.Int64).alias("item_baskets"))
    frequent = counts.filter(pl.col("item_baskets") / baskets >= min_support)
    kept = items.join(frequent.select("item"), on="item", how="semi").select("basket", "item")
    pairs = (
        kept.join(kept, on="basket", suffix="_b")
        .filter(pl.col("item") != pl.col("item_b"))
        .group_by("item", "item_b")
        .agg(pl.len().cast(pl.Int64).alias("pair_baskets"))
        .filter(pl.col("pair_baskets") / baskets >= min_support)
    )
    named = frequent.rename({"item": "a", "item_name": "antecedent_name", "item_baskets": "antecedent_baskets"})
    return (
        pairs.rename({"item": "a", "item_b": "b"})
        .join(named, on="a")
        .join(
            named.rename({"a": "b", "antecedent_name": "consequent_name", "antecedent_baskets": "consequent_baskets"}),
            on="b",
        )
        .with_columns(pl.lit(baskets, pl.Int64).alias("baskets"))
        .with_columns(
            (pl.col("pair_baskets") / pl.col("baskets")).alias("support"),
            (pl.col("pair_baskets") / pl.col("antecedent_baskets")).alias("confidence"),
        )
        .with_columns((pl.col("confidence") / (pl.col("consequent_baskets") / pl.col("baskets"))).alias("lift"))
        .rename({"a": "antecedent", "b": "consequent"})
    )


def build_mart_product_affinity(
    fact: pl.DataFrame,
    dim_product: pl.DataFrame,
    as_of: date | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_support: float = DEFAULT_MIN_SUPPORT,
) -> pl.DataFrame:
    """Product and category pairs over the window's baskets, strongest lift first."""
    window, start, end = in_window(fact, as_of, window_days)
    parts = []
    for level in (PRODUCT, CATEGORY):
        pairs = pair_affinity(basket_items(window, dim_product, level), min_support)
        if pairs.height:
            parts.append(pairs.with_columns(pl.lit(level).alias("level")))
    if not parts:
        return pl.DataFrame(schema=MART_PRODUCT_AFFINITY_SCHEMA)
    mart = pl.concat(parts, how="diagonal").with_columns(
        pl.lit(start).alias("window_start"), pl.lit(end).alias("window_end")
    )
    return conform(mart, MART_PRODUCT_AFFINITY_SCHEMA).sort(
        ["level", "lift", "antecedent", "consequent"], descending=[True, True, False, False]
    )
