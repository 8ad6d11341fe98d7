"""Top-N product recommendations per customer: cross-sell scores, an implicit-feedback ALS model, popularity.

Three recommenders, each a function of the purchase history (fact rows of the window):

* ``popularity`` — products by how many customers bought them; the baseline and the fallback.
* ``cross_sell`` — the cross-sell score of the market basket rules (``cross_sell.py``).
* ``als`` — implicit-feedback alternating least squares (``implicit``) on customer × product
  purchase counts (confidence 1 + alpha · log(1 + lines)). Fixed ``random_state`` and one
  thread, so a run is reproducible.

A customer's list fuses the chosen model's ranking with popularity (reciprocal rank fusion, see
``list_blocks``) over the products they do not own yet; a customer with no purchases in the
window gets popularity alone.
Which model leads (ALS or cross-sell) is decided by the offline evaluation (``evaluation.py``):
ALS only where it beats the cross-sell scores on held-out purchases.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import polars as pl
import scipy.sparse as sparse
from threadpoolctl import threadpool_limits

from sales360_assets.frames import FrameBlocks, conform
from sales360_assets.recommendations import basket, codes, cross_sell
from sales360_assets.recommendations.codes import as_codes, by_block

DEFAULT_TOP_N = 10
# Reciprocal rank fusion of a model's ranking with popularity (see ``list_blocks``). Set once on the
# default sample's holdout (2026-11 sample, seed 42) and kept fixed: not tuned per run.
RRF_K = 5
MODEL_WEIGHT = 0.5
POPULARITY = "popularity"
# Purchase history: fact rows, or a scan of them (then only the columns a recommender needs are read,
# by the streaming engine: a year at 10 M order lines is 1.5 GiB of rows, most of it key text).
Facts = pl.DataFrame | pl.LazyFrame
CROSS_SELL = "cross_sell"
ALS = "als"

MART_RECOMMENDATIONS_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.String(),
    "segment": pl.String(),
    "region": pl.String(),
    "rank": pl.Int64(),
    "product_key": pl.String(),
    "sku": pl.String(),
    "product_name": pl.String(),
    "category": pl.String(),
    "score": pl.Float64(),
    "source": pl.String(),  # the recommender that placed this product: als | cross_sell | popularity
    "model": pl.String(),  # the customer's leading model (popularity for customers without history)
}


def all_lists(blocks: Iterator[tuple[pl.DataFrame, pl.DataFrame]]) -> pl.DataFrame:
    """Every block's lists of ``list_blocks`` in one frame (the evaluation's lists: one per customer held out)."""
    return pl.concat(lists for lists, _ in blocks)


# A recommender: (purchase history (fact rows, or a scan of them), the customers to score (customer_key)) ->
# (customer_key, product_key, score) of those customers' products not owned. Only those customers:
# the evaluation scores a few thousand held-out customers, not the whole base (1.4 M at 10 M lines).
Recommender = Callable[[Facts, pl.DataFrame], pl.DataFrame]


@dataclass(frozen=True)
class AlsParams:
    factors: int = 8
    regularization: float = 0.05
    alpha: float = 40.0
    iterations: int = 15
    random_state: int = 42
    candidates: int = 30  # per customer, before the top-N cut


def popularity(fact: Facts, dim_product: pl.DataFrame) -> pl.DataFrame:
    """(product_key, score): distinct buyers per catalogue product, most popular first."""
    known = dim_product.filter(~pl.col("is_unknown_member")).select("product_key")
    return (
        fact.lazy()
        .select("customer_key", "product_key")
        .join(known.lazy(), on="product_key", how="semi")
        .unique()
        .group_by("product_key")
        .agg(pl.len().cast(pl.Float64).alias("score"))
        .collect(engine="streaming")
        .sort(["score", "product_key"], descending=[True, False])
    )


def cross_sell_recommender(dim_customer: pl.DataFrame, dim_product: pl.DataFrame, min_support: float) -> Recommender:
    def recommend(fact: Facts, customers: pl.DataFrame) -> pl.DataFrame:
        affinity = basket.build_mart_product_affinity(
            fact, dim_product, window_days=_span_days(fact), min_support=min_support
        )
        owned = cross_sell.owned_products(fact, dim_customer).join(
            customers.select(pl.col("customer_key").cast(pl.String)), on="customer_key", how="semi"
        )
        return cross_sell.cross_sell_scores(owned, affinity).select(
            "customer_key", "product_key", pl.col("cross_sell_score").alias("score")
        )

    return recommend


def als_recommender(dim_customer: pl.DataFrame, dim_product: pl.DataFrame, params: AlsParams) -> Recommender:
    def recommend(fact: Facts, customers: pl.DataFrame) -> pl.DataFrame:
        return als_scores(fact, dim_customer, dim_product, params, for_customers=customers)

    return recommend


def _span_days(fact: Facts) -> int:
    first, last = (
        fact.lazy().select(pl.col("date").min().alias("first"), pl.col("date").max().alias("last")).collect().row(0)
    )
    return (last - first).days + 1 if first is not None else 1


def als_scores(
    fact: Facts,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    params: AlsParams,
    for_customers: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """ALS scores of each customer's best ``params.candidates`` products they do not own (keys as ``pl.Enum``).

    The model is fitted on every customer's purchases; only ``for_customers`` (default: all) are scored.
    """
    from implicit.als import AlternatingLeastSquares  # heavy import (numba-free, but BLAS set-up)

    known = dim_product.filter(~pl.col("is_unknown_member")).select("product_key")
    counts = (
        fact.lazy()
        .select("customer_key", "product_key")
        .join(cross_sell.known_customers(dim_customer).lazy(), on="customer_key", how="semi")
        .join(known.lazy(), on="product_key", how="semi")
        .group_by("customer_key", "product_key")
        .agg(pl.len().alias("lines"))
        .collect(engine="streaming")
    )
    empty = pl.DataFrame(schema={"customer_key": pl.String(), "product_key": pl.String(), "score": pl.Float64()})
    if counts.height == 0:
        return empty
    users = counts["customer_key"].unique().sort()
    items = counts["product_key"].unique().sort()
    u = counts.join(users.to_frame().with_row_index("u"), on="customer_key")
    ui = u.join(items.to_frame().with_row_index("i"), on="product_key")
    confidence = (1.0 + params.alpha * np.log1p(ui["lines"].to_numpy())).astype(np.float32)
    matrix = sparse.csr_matrix((confidence, (ui["u"].to_numpy(), ui["i"].to_numpy())), shape=(users.len(), items.len()))
    # One BLAS thread too: implicit warns (and slows down) when BLAS runs its own thread pool under
    # it, and it checks when the model is created, so both happen under the limit.
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(
            factors=params.factors,
            regularization=params.regularization,
            iterations=params.iterations,
            random_state=params.random_state,
            num_threads=1,  # one thread: the same factors on every run
            calculate_training_loss=False,
        )
        model.fit(matrix, show_progress=False)
    scored = np.arange(users.len(), dtype=np.uint32)
    if for_customers is not None:
        wanted = for_customers.select(pl.col("customer_key").cast(pl.String))
        scored = users.to_frame().with_row_index("u").join(wanted, on="customer_key", how="semi")["u"].to_numpy()
    n = min(params.candidates, items.len())
    ids, scores = _top_unowned(model.user_factors[scored], model.item_factors, matrix[scored], n)
    # Keys as Enum codes of the sorted customers and products, not text: 30 candidates a customer
    # are 42 M rows at 10 M order lines, and ``list_blocks`` works on these codes anyway.
    rows = pl.DataFrame(
        {
            "customer_key": pl.Series(np.repeat(scored, ids.shape[1])),
            "item": ids.ravel(),
            "score": scores.ravel().astype(np.float64),
        }
    ).filter(pl.col("item") >= 0, pl.col("score").is_finite())
    return rows.select(
        pl.col("customer_key").cat.to(pl.Enum(users)),
        pl.col("item").cast(pl.UInt32).cat.to(pl.Enum(items)).alias("product_key"),
        "score",
    )


def _top_unowned(
    user_factors: np.ndarray, item_factors: np.ndarray, owned: sparse.csr_matrix, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Each user's ``n`` best-scoring items (ids, scores; best first), owned items at −inf.

    What ``AlternatingLeastSquares.recommend(filter_already_liked_items=True)`` returns, a block
    of users at a time in NumPy: implicit's filtering took 25 s for 281 k customers × 220
    products where this takes 3 s (the scores agree; only the order of exact ties may differ).
    """
    users = user_factors.shape[0]
    ids, scores = np.empty((users, n), dtype=np.int64), np.empty((users, n), dtype=np.float32)
    for start in range(0, users, codes.CUSTOMERS_PER_BLOCK):
        end = min(start + codes.CUSTOMERS_PER_BLOCK, users)
        block = user_factors[start:end] @ item_factors.T
        block[owned[start:end].nonzero()] = -np.inf
        best = np.argpartition(-block, n - 1, axis=1)[:, :n]
        best_scores = np.take_along_axis(block, best, axis=1)
        order = np.argsort(-best_scores, axis=1, kind="stable")
        ids[start:end] = np.take_along_axis(best, order, axis=1)
        scores[start:end] = np.take_along_axis(best_scores, order, axis=1)
    return ids, scores


def _popularity_ranks(
    customers: pl.DataFrame, owned: pl.DataFrame, model_scores: pl.DataFrame, popular: pl.DataFrame, top_n: int
) -> pl.DataFrame:
    """(customer_key, product_key, popularity_rank): rank among the popular products the customer does not own.

    Only the pairs a list can use, not every customer × product (a cross join of 281k customers
    with 220 products took 19 GiB at 2 M order lines): a product the model did not rank scores its
    popularity term alone, so past the customer's first ``top_n`` unowned products it never makes
    the list; those lie within the first ``top_n`` + (popular products owned) positions. The model's
    products keep their exact rank wherever they sit: position − owned products ranked before it.
    """
    positions = popular.select(pl.col("product_key"), pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("_pos"))
    owned_at = owned.select("customer_key", "product_key").unique().join(positions, on="product_key")
    owned_count = owned_at.group_by("customer_key").agg(pl.len().cast(pl.Int64).alias("_owned"))
    head = (
        customers.select("customer_key")
        .join(owned_count, on="customer_key", how="left")
        .select("customer_key", pl.int_ranges(1, top_n + pl.col("_owned").fill_null(0) + 1).alias("_pos"))
        .explode("_pos")
        .join(positions, on="_pos")
    )
    scored = (
        model_scores.select("customer_key", "product_key")
        .join(customers.select("customer_key"), on="customer_key", how="semi")
        .join(positions, on="product_key")
    )
    candidates = (
        pl.concat([head.select("customer_key", "product_key", "_pos"), scored])
        .unique()
        .join(owned, on=["customer_key", "product_key"], how="anti")
        .with_columns(pl.lit(False).alias("_owned"))
    )
    # Owned products ranked before each candidate: a running count over the customer's positions,
    # owned and candidate interleaved. (Joining each candidate with each owned product to count
    # them held candidates × owned rows: 7 of the 8.7 GiB peak for 281 k customers.)
    owned_marks = owned_at.select(
        "customer_key", pl.lit(None, dtype=owned_at.schema["product_key"]).alias("product_key"), "_pos"
    ).with_columns(pl.lit(True).alias("_owned"))
    return (
        pl.concat([candidates, owned_marks])
        .sort("customer_key", "_pos")
        .with_columns(pl.col("_owned").cast(pl.Int64).cum_sum().over("customer_key").alias("_before"))
        .filter(~pl.col("_owned"))
        .select("customer_key", "product_key", (pl.col("_pos") - pl.col("_before")).alias("popularity_rank"))
    )


def list_blocks(
    customers: pl.DataFrame,
    owned: pl.DataFrame,
    model_scores: pl.DataFrame,
    popular: pl.DataFrame,
    model: str,
    top_n: int = DEFAULT_TOP_N,
) -> Iterator[tuple[pl.DataFrame, pl.DataFrame]]:
    """Top-N lists, (customer_key, rank, product_key, score, source, model), a block of customers at a time.

    Yields (the block's lists by customer and rank, the block's ``customers`` rows), in key order.
    Reciprocal rank fusion of the model with popularity, over the products a customer does not own:

        score = 1 / (RRF_K + popularity rank) + MODEL_WEIGHT / (RRF_K + model rank)

    (a product the model did not rank gets only its popularity term). Popularity alone is a strong
    list when a few products sell most; the model moves up what this customer's history points to.
    ``source`` is the model for products it ranked, else popularity. ``customers`` are everyone to
    recommend to; those without a row in ``owned`` are new and get popularity (``model`` says so).

    A customer's list depends on their own rows and the popularity order alone, so customers are
    taken a block at a time: the working set stays one block's, however many customers there are
    (281 k customers: lists phase 3.1 → 2.3 GiB; the whole base at once grows with it). The blocks
    are consecutive ranges of keys and each comes out sorted, so the blocks one after another are
    all the lists sorted, and the mart is written block by block without ever being held whole.
    There is always at least one block (empty when there are no customers).
    """
    (customers, owned, model_scores, popular), decode = as_codes(customers, owned, model_scores, popular)
    # Lists are for ``customers`` only, whatever else the model scored (and so the same in any block).
    model_scores = model_scores.join(customers.select("customer_key"), on="customer_key", how="semi")
    owned_in, scores_in, customers_in = by_block(owned), by_block(model_scores), by_block(customers)
    for block, block_customers in sorted(customers_in.items()) or [(0, customers)]:
        lists = _fused_lists(
            block_customers,
            owned_in.get(block, owned.clear()),
            scores_in.get(block, model_scores.clear()),
            popular,
            model,
            top_n,
        )
        # Sorted while the keys are codes (the codes' order is the keys' order): cheaper than sorting keys.
        yield decode(lists.sort("customer_key", "rank")), decode(block_customers)


def _fused_lists(
    customers: pl.DataFrame,
    owned: pl.DataFrame,
    model_scores: pl.DataFrame,
    popular: pl.DataFrame,
    model: str,
    top_n: int,
) -> pl.DataFrame:
    unowned = _popularity_ranks(customers, owned, model_scores, popular, top_n)
    ranked_model = model_scores.sort(["customer_key", "score", "product_key"], descending=[False, True, False]).select(
        "customer_key",
        "product_key",
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("customer_key").alias("model_rank"),
    )
    fused = unowned.join(ranked_model, on=["customer_key", "product_key"], how="full", coalesce=True).with_columns(
        (
            (1.0 / (RRF_K + pl.col("popularity_rank"))).fill_null(0.0)
            + (MODEL_WEIGHT / (RRF_K + pl.col("model_rank"))).fill_null(0.0)
        ).alias("score"),
        pl.when(pl.col("model_rank").is_not_null()).then(pl.lit(model)).otherwise(pl.lit(POPULARITY)).alias("source"),
    )
    lists = (
        fused.sort(["customer_key", "score", "product_key"], descending=[False, True, False])
        .with_columns(pl.int_range(1, pl.len() + 1, dtype=pl.Int64).over("customer_key").alias("rank"))
        .filter(pl.col("rank") <= top_n)
        .select("customer_key", "rank", "product_key", "score", "source")
    )
    has_history = owned.select("customer_key").unique().with_columns(pl.lit(model).alias("model"))
    return lists.join(has_history, on="customer_key", how="left").with_columns(pl.col("model").fill_null(POPULARITY))


def build_mart_customer_recommendations(
    fact: Facts,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    model_scores: pl.DataFrame,
    model: str,
    top_n: int = DEFAULT_TOP_N,
) -> FrameBlocks:
    """Top-N per known customer (``fact``: the window's purchases; ``model_scores`` from the chosen model).

    Made a block of customers at a time, in customer and rank order, when the lake writes it: at
    10 M order lines the mart is 14 M rows of nine text columns, and held whole before its write it
    was most of the step's 10.7 GiB. ``.collect()`` gives the whole frame.
    """
    return FrameBlocks(
        pl.Schema(MART_RECOMMENDATIONS_SCHEMA),
        lambda: _mart_blocks(fact, dim_customer, dim_product, model_scores, model, top_n),
    )


def _mart_blocks(
    fact: Facts,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    model_scores: pl.DataFrame,
    model: str,
    top_n: int,
) -> Iterator[pl.DataFrame]:
    customers = cross_sell.known_customers(dim_customer)
    owned = cross_sell.owned_products(fact, dim_customer)
    products = dim_product.select("product_key", "sku", "product_name", "category")
    popular = popularity(fact, dim_product)
    for lists, block_customers in list_blocks(customers, owned, model_scores, popular, model, top_n):
        # The lists come sorted by customer and rank; the joins keep that order.
        mart = lists.join(block_customers, on="customer_key", maintain_order="left").join(
            products, on="product_key", how="left", maintain_order="left"
        )
        yield conform(mart, MART_RECOMMENDATIONS_SCHEMA)
