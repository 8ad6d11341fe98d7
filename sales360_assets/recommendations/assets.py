"""Market basket, cross-sell, upsell, category spend and recommendation assets. Thin wrappers.

They span history, so they are unpartitioned and run in ``sales_reporting_job``; each reads only
the rolling window of ``fact_sales`` it needs (the scan is filtered on ``date`` before it is
collected), so their cost stays flat as history grows.
"""

from collections.abc import Callable
from datetime import date
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.catalogue import kpi_asset
from sales360_assets.core.assets import last_sale_date
from sales360_assets.frames import FrameBlocks
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.recommendations import basket, category_spend, cross_sell, evaluation, recommend
from sales360_assets.recommendations.columns import COLUMN_DOCS

GROUP = "recommendations"
OWNERS = ["team:sales-analytics"]
KINDS = {"polars", "delta"}
PII = {"sensitivity": "pii"}  # customer-level: who bought what
FACT_COLUMNS = ("date", "channel", "order_id", "customer_key", "product_key", "quantity", "net_amount_usd")


class BasketConfig(dg.Config):
    """The rolling window and the minimum support of the market basket (set per run in the launchpad)."""

    window_days: int = basket.DEFAULT_WINDOW_DAYS
    min_support: float = basket.DEFAULT_MIN_SUPPORT


class RecommendationConfig(BasketConfig):
    """The basket's window and support for the cross-sell model, with the list length and the holdout."""

    top_n: int = recommend.DEFAULT_TOP_N
    holdout_days: int = evaluation.DEFAULT_TEST_DAYS


def _asset(
    name: str, schema: dict[str, pl.DataType], summary: str, *, customer_level: bool = True, **asset_args: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``kpi_asset`` for this package: its column docs; customer_key is personal data on customer-level tables."""
    asset_args.setdefault("kinds", KINDS)
    sensitivity = {"customer_key": "pii"} if customer_level else None
    return kpi_asset(
        name, schema, summary, group=GROUP, owners=OWNERS, docs=COLUMN_DOCS, sensitivity=sensitivity, **asset_args
    )


def customers_of(dim_customer: pl.LazyFrame | pl.DataFrame) -> pl.DataFrame:
    """The columns of dim_customer this package reads (``cross_sell.CUSTOMER_COLUMNS``), not its ~30."""
    return dim_customer.lazy().select(cross_sell.CUSTOMER_COLUMNS).collect()


def window_of(fact_sales: pl.LazyFrame, window_days: int, end: date | None) -> pl.DataFrame:
    """The fact rows of the ``window_days`` days up to ``end``, the latest day with sales (``last_sale_date``):
    filtered in the scan, not after it."""
    return scan_window(fact_sales, window_days, end).select(FACT_COLUMNS).collect()


def scan_window(fact_sales: pl.LazyFrame, window_days: int, end: date | None) -> pl.LazyFrame:
    """``window_of`` still as a scan: a step that reads only some columns reads only those. The window
    is ``basket.lazy_window``'s; with no sale yet (``end`` None) the scan is left as it is (empty)."""
    return fact_sales if end is None else basket.lazy_window(fact_sales, end, window_days)[0]


@_asset(
    "mart_product_affinity",
    basket.MART_PRODUCT_AFFINITY_SCHEMA,
    "Market basket: product and category pairs A → B that sell in the same order, over a rolling window "
    "(default the last 365 days), with at least the minimum support (run config).",
    customer_level=False,
)
def mart_product_affinity(
    config: BasketConfig, lake: LakeResource, fact_sales: pl.LazyFrame, dim_product: pl.DataFrame
) -> dg.Output:
    # The scan itself: only the window's basket and product columns are read (as codes, see basket_items).
    mart = basket.build_mart_product_affinity(
        fact_sales, dim_product, last_sale_date(lake), config.window_days, config.min_support
    )
    return dg.Output(
        mart,
        metadata={
            "window_days": config.window_days,
            "min_support": config.min_support,
            "product_rules": mart.filter(pl.col("level") == basket.PRODUCT).height,
        },
    )


@_asset(
    "mart_cross_sell_opportunities",
    cross_sell.MART_CROSS_SELL_SCHEMA,
    "Per customer, the products they do not own with the highest cross-sell score from the product "
    "affinity of what they bought in the window, and the products that drove it (top 20 per customer).",
    tags=PII,
)
def mart_cross_sell_opportunities(
    lake: LakeResource,
    fact_sales: pl.LazyFrame,
    dim_customer: pl.LazyFrame,
    dim_product: pl.DataFrame,
    mart_product_affinity: pl.DataFrame,
) -> FrameBlocks:
    window_days = _affinity_window_days(mart_product_affinity)
    window = scan_window(fact_sales, window_days, last_sale_date(lake))  # its two key columns are read
    return cross_sell.build_mart_cross_sell_opportunities(
        window, customers_of(dim_customer), dim_product, mart_product_affinity
    )


def _affinity_window_days(affinity: pl.DataFrame) -> int:
    # The cross-sell scores use the purchases of the window the rules were mined over.
    if affinity.height == 0:
        return basket.DEFAULT_WINDOW_DAYS
    return (affinity["window_end"].max() - affinity["window_start"].min()).days + 1


def _last_year_customer_mart(
    name: str,
    schema: dict[str, pl.DataType],
    summary: str,
    build: Callable[[pl.DataFrame, pl.DataFrame, pl.DataFrame], pl.DataFrame],
) -> dg.AssetsDefinition:
    """A customer-level mart built from the sales of the default window (the last 365 days) and the dimensions."""

    @_asset(name, schema, summary, tags=PII)
    def _mart(
        lake: LakeResource, fact_sales: pl.LazyFrame, dim_customer: pl.LazyFrame, dim_product: pl.DataFrame
    ) -> pl.DataFrame:
        window = window_of(fact_sales, basket.DEFAULT_WINDOW_DAYS, last_sale_date(lake))
        return build(window, customers_of(dim_customer), dim_product)

    return _mart


mart_upsell_candidates = _last_year_customer_mart(
    "mart_upsell_candidates",
    cross_sell.MART_UPSELL_SCHEMA,
    "Per customer and category they bought in the last 365 days: the next dearer catalogue product "
    "(same subcategory first) above the dearest one they bought, with the price step.",
    cross_sell.build_mart_upsell_candidates,
)
mart_customer_category_spend = _last_year_customer_mart(
    "mart_customer_category_spend",
    category_spend.MART_CATEGORY_SPEND_SCHEMA,
    "Purchase frequency and spend by product category, per identified customer and per customer segment, "
    "over the last 365 days.",
    category_spend.build_mart_customer_category_spend,
)


@_asset(
    "mart_customer_recommendations",
    recommend.MART_RECOMMENDATIONS_SCHEMA,
    "Top-N products per customer (N = 10 by default, run config): the cross-sell scores or an implicit-feedback "
    "ALS model (implicit), whichever wins the time-holdout evaluation (train to 30 days before the latest sale, "
    "test on those 30 days; hit rate@10 and recall@10 in the materialization metadata), fused with "
    "popularity; popularity alone for customers without purchases in the window.",
    kinds={"polars", "delta", "implicit"},
    tags=PII,
)
def mart_customer_recommendations(
    config: RecommendationConfig,
    lake: LakeResource,
    fact_sales: pl.LazyFrame,
    dim_customer: pl.LazyFrame,
    dim_product: pl.DataFrame,
    mart_cross_sell_opportunities: pl.LazyFrame,
) -> dg.Output:
    last_sale = last_sale_date(lake)
    customers = customers_of(dim_customer)
    recommenders = recommenders_for(customers, dim_product, config.min_support)
    # Scans, not rows: each phase reads the columns it needs (10 M lines: a year of rows is ~1.5 GiB).
    scores = evaluation.evaluate(
        scan_window(fact_sales, config.window_days + config.holdout_days, last_sale),
        customers,
        dim_product,
        recommenders,
        config.holdout_days,
        config.window_days,
    )
    model = evaluation.choose_model(scores)
    window = scan_window(fact_sales, config.window_days, last_sale)
    if model == recommend.ALS:
        model_scores = recommend.als_scores(window, customers, dim_product, recommend.AlsParams())
    else:
        model_scores = mart_cross_sell_opportunities.select(
            "customer_key", "product_key", pl.col("cross_sell_score").alias("score")
        ).collect()
    # Blocks the lake writes as it makes them (one commit): the mart is never held whole.
    mart = recommend.build_mart_customer_recommendations(
        window, customers, dim_product, model_scores, model, config.top_n
    )
    return dg.Output(
        mart,
        metadata={
            "model": model,
            "top_n": config.top_n,
            "evaluation": dg.MetadataValue.md(_markdown(scores)),
            **{f"hit_rate_at_10_{r['method']}": r["hit_rate_at_k"] for r in scores.iter_rows(named=True)},
        },
    )


def recommenders_for(
    dim_customer: pl.DataFrame, dim_product: pl.DataFrame, min_support: float
) -> dict[str, recommend.Recommender]:
    return {
        recommend.CROSS_SELL: recommend.cross_sell_recommender(dim_customer, dim_product, min_support),
        recommend.ALS: recommend.als_recommender(dim_customer, dim_product, recommend.AlsParams()),
    }


def _markdown(frame: pl.DataFrame) -> str:
    header = "| " + " | ".join(frame.columns) + " |\n| " + " | ".join("---" for _ in frame.columns) + " |"
    rows = ["| " + " | ".join("" if v is None else str(v) for v in row) + " |" for row in frame.rows()]
    return "\n".join([header, *rows])


recommendation_assets: list[dg.AssetsDefinition] = [
    mart_product_affinity,
    mart_cross_sell_opportunities,
    mart_upsell_candidates,
    mart_customer_category_spend,
    mart_customer_recommendations,
]
