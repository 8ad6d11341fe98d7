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
BASKET = ("channel", "order_id")  # a basket: one web order, store receipt or won deal
# The pairs' self-join takes this many basket lines at a time (see ``_pair_baskets``).
BASKET_LINES_PER_BUCKET = 1_000_000

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
    window, start, end = lazy_window(fact.lazy(), as_of, window_days)
    return window.collect(), start, end


def lazy_window(fact: pl.LazyFrame, as_of: date | None, window_days: int) -> tuple[pl.LazyFrame, date, date]:
    """``in_window`` on a scan: the filter is part of the query, so only the window's rows are ever read."""
    end = as_of or fact.select(pl.col("date").max()).collect().item()
    if end is None:
        raise ValueError("fact_sales is empty: there are no baskets to analyse")
    start = end - timedelta(days=window_days - 1)
    return fact.filter(pl.col("date").is_between(start, end)), start, end


def basket_items(fact: pl.LazyFrame, dim_product: pl.DataFrame, level: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(channel, order_id, code) once per basket and item, and the items (code, item, item_name).

    An item is a product_key or a category, as a ``UInt32`` code in the items' sorted order; lines of
    products no catalogue knows are left out. Codes instead of 32-character keys, and only the basket's
    two columns: at 10 M order lines the pairs' self-join held the keys' text (this step: 5.9 GiB).
    """
    products = dim_product.filter(~pl.col("is_unknown_member"))
    key, name = ("product_key", "product_name") if level == PRODUCT else ("category", "category")
    items = (
        products.select(pl.col(key).alias("item"), pl.col(name).alias("item_name"))
        .unique("item", keep="first")
        .sort("item")
        .with_row_index("code")
    )
    # A product without a category has a null code: its baskets count, it pairs with nothing.
    code_of_product = products.join(items, left_on=key, right_on="item", how="left").select("product_key", "code")
    lines = (
        fact.select(*_basket_key(), "product_key")
        .join(code_of_product.lazy(), on="product_key")
        .select(*BASKET, "code")
        .unique()
        .collect(engine="streaming")
    )
    return lines, items


def _basket_key() -> list[pl.Expr]:
    """channel and order_id, both null when either is: every line without a whole key is one basket,
    as the key ``channel:order_id`` (null when a part is) made them."""
    incomplete = pl.any_horizontal(pl.col(c).is_null() for c in BASKET)
    return [pl.when(~incomplete).then(pl.col(c)).alias(c) for c in BASKET]


def _pair_baskets(kept: pl.DataFrame) -> pl.DataFrame:
    """(code, code_b, pair_baskets): baskets holding both items, for every ordered pair of distinct items.

    The self-join runs on one hash bucket of baskets at a time (a basket's lines are all in one bucket,
    so the counts are exact): its output is a bucket's pairs, never all of them at once.
    """
    if kept.height == 0:
        return pl.DataFrame(schema={"code": pl.UInt32, "code_b": pl.UInt32, "pair_baskets": pl.Int64})
    buckets = max(1, kept.height // BASKET_LINES_PER_BUCKET)
    parts = kept.with_columns((pl.struct(BASKET).hash() % buckets).alias("_bucket")).partition_by(
        "_bucket", include_key=False
    )
    counts = [
        part.join(part, on=BASKET, suffix="_b")
        .filter(pl.col("code") != pl.col("code_b"))
        .group_by("code", "code_b")
        .agg(pl.len().cast(pl.Int64).alias("pair_baskets"))
        for part in parts
    ]
    return pl.concat(counts).group_by("code", "code_b").agg(pl.col("pair_baskets").sum())


def pair_affinity(lines: pl.DataFrame, items: pl.DataFrame, min_support: float) -> pl.DataFrame:
    """Support, confidence and lift of every ordered pair of items at or above ``min_support``."""
    baskets = lines.select(pl.struct(BASKET).n_unique()).item()
    if baskets == 0:
        return pl.DataFrame()
    counts = lines.drop_nulls("code").group_by("code").agg(pl.len().cast(pl.Int64).alias("item_baskets"))
    frequent = counts.filter(pl.col("item_baskets") / baskets >= min_support).join(items, on="code")
    kept = lines.join(frequent.select("code"), on="code", how="semi")
    pairs = _pair_baskets(kept).filter(pl.col("pair_baskets") / baskets >= min_support)
    named = frequent.select(
        "code",
        pl.col("item").alias("antecedent"),
        pl.col("item_name").alias("antecedent_name"),
        pl.col("item_baskets").alias("antecedent_baskets"),
    )
    return (
        pairs.join(named, on="code")
        .join(
            named.select(
                pl.col("code").alias("code_b"),
                pl.col("antecedent").alias("consequent"),
                pl.col("antecedent_name").alias("consequent_name"),
                pl.col("antecedent_baskets").alias("consequent_baskets"),
            ),
            on="code_b",
        )
        .drop("code", "code_b")
        .with_columns(pl.lit(baskets, pl.Int64).alias("baskets"))
        .with_columns(
            (pl.col("pair_baskets") / pl.col("baskets")).alias("support"),
            (pl.col("pair_baskets") / pl.col("antecedent_baskets")).alias("confidence"),
        )
        .with_columns((pl.col("confidence") / (pl.col("consequent_baskets") / pl.col("baskets"))).alias("lift"))
    )


def build_mart_product_affinity(
    fact: pl.DataFrame | pl.LazyFrame,
    dim_product: pl.DataFrame,
    as_of: date | None = None,
    window_days: int = DEFAULT_WINDOW_DAYS,
    min_support: float = DEFAULT_MIN_SUPPORT,
) -> pl.DataFrame:
    """Product and category pairs over the window's baskets, strongest lift first.

    ``fact`` may be a scan: only the window's basket and product columns are read from it.
    """
    window, start, end = lazy_window(fact.lazy(), as_of, window_days)
    parts = []
    for level in (PRODUCT, CATEGORY):
        pairs = pair_affinity(*basket_items(window, dim_product, level), min_support)
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
