"""Offline evaluation of the recommenders on a time holdout. Pure Polars (the models are passed in).

Train on the purchases of the ``window_days`` up to a cut-off, test on the ``test_days`` after it
(cut-off = latest sale − ``test_days``). The customers evaluated are those who bought in the
training window and bought something *new to them* in the test period; their relevant items are
those new products. Each recommender's published list (its products, then popularity to fill, as
``recommend.list_blocks`` builds it) is scored:

* ``hit_rate_at_k`` — share of customers with at least one relevant item in their top k;
* ``recall_at_k``   — mean over customers of (relevant items in the top k / relevant items).

``popularity`` is the baseline: the same lists with no model in front.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from sales360_assets.recommendations import cross_sell, recommend

DEFAULT_TEST_DAYS = 30
K = 10

EVALUATION_SCHEMA: dict[str, pl.DataType] = {
    "method": pl.String(),
    "customers": pl.Int64(),
    "k": pl.Int64(),
    "hit_rate_at_k": pl.Float64(),
    "recall_at_k": pl.Float64(),
    "cutoff": pl.Date(),
    "test_days": pl.Int64(),
}


@dataclass(frozen=True)
class Holdout:
    train: pl.LazyFrame  # fact rows of the training window (a scan when the facts are one)
    relevant: pl.DataFrame  # (customer_key, product_key): new products each evaluated customer bought
    cutoff: date
    owned: pl.DataFrame  # (customer_key, product_key): what each customer bought in the training window


def time_holdout(
    fact: recommend.Facts, dim_customer: pl.DataFrame, test_days: int = DEFAULT_TEST_DAYS, window_days: int = 365
) -> Holdout:
    """Train up to the cut-off (inclusive), test on the ``test_days`` after it."""
    fact = fact.lazy()
    end = fact.select(pl.col("date").max()).collect().item()
    if end is None:
        raise ValueError("fact_sales is empty: nothing to evaluate")
    cutoff = end - timedelta(days=test_days)
    train = fact.filter(pl.col("date").is_between(cutoff - timedelta(days=window_days - 1), cutoff))
    owned = cross_sell.owned_products(train, dim_customer)
    later = cross_sell.owned_products(fact.filter(pl.col("date") > cutoff), dim_customer)
    relevant = later.join(owned, on=["customer_key", "product_key"], how="anti").join(
        owned.select("customer_key").unique(), on="customer_key", how="semi"
    )
    return Holdout(train, relevant, cutoff, owned)


def score_lists(lists: pl.DataFrame, relevant: pl.DataFrame, k: int = K) -> tuple[float | None, float | None]:
    """(hit rate@k, recall@k) of ranked lists (customer_key, product_key, rank) against the relevant items."""
    if relevant.height == 0:
        return None, None
    top = lists.filter(pl.col("rank") <= k).select("customer_key", "product_key")
    hits = relevant.join(top, on=["customer_key", "product_key"], how="semi").group_by("customer_key").len("hits")
    per_customer = (
        relevant.group_by("customer_key")
        .len("relevant")
        .join(hits, on="customer_key", how="left")
        .with_columns(pl.col("hits").fill_null(0))
    )
    hit_rate = per_customer.select((pl.col("hits") > 0).mean()).item()
    recall = per_customer.select((pl.col("hits") / pl.col("relevant")).mean()).item()
    return float(hit_rate), float(recall)


def evaluate(
    fact: recommend.Facts,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    recommenders: dict[str, recommend.Recommender],
    test_days: int = DEFAULT_TEST_DAYS,
    window_days: int = 365,
    k: int = K,
) -> pl.DataFrame:
    """One row per method (popularity first): customers evaluated, hit rate@k, recall@k."""
    holdout = time_holdout(fact, dim_customer, test_days, window_days)
    customers = holdout.relevant.select("customer_key").unique()
    owned = holdout.owned
    popular = recommend.popularity(holdout.train, dim_product)
    none = pl.DataFrame(schema={"customer_key": pl.String(), "product_key": pl.String(), "score": pl.Float64()})
    rows = []
    methods: dict[str, recommend.Recommender] = {recommend.POPULARITY: lambda *_: none, **recommenders}
    for method, recommender in methods.items():
        scores = recommender(holdout.train, customers) if customers.height else none
        lists = recommend.all_lists(recommend.list_blocks(customers, owned, scores, popular, method, k))
        hit_rate, recall = score_lists(lists, holdout.relevant, k)
        rows.append((method, customers.height, k, hit_rate, recall, holdout.cutoff, test_days))
    return pl.DataFrame(rows, schema=EVALUATION_SCHEMA, orient="row")


def choose_model(evaluation: pl.DataFrame) -> str:
    """ALS where it beats the cross-sell scores on held-out hit rate (then recall); else cross-sell."""
    by_method = {r["method"]: r for r in evaluation.iter_rows(named=True)}
    als, basket = by_method.get(recommend.ALS), by_method.get(recommend.CROSS_SELL)
    if not als or not basket or als["hit_rate_at_k"] is None or basket["hit_rate_at_k"] is None:
        return recommend.CROSS_SELL
    if (als["hit_rate_at_k"], als["recall_at_k"]) > (basket["hit_rate_at_k"], basket["recall_at_k"]):
        return recommend.ALS
    return recommend.CROSS_SELL
