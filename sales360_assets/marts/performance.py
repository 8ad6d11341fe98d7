"""Sales performance marts for sales leaders, sales ops and marketing. Pure Polars, no I/O.

Every KPI column is computed from the glossary (``sales360_assets/kpis.py``: ``measure`` over
fact rows, ``ratio`` over aggregates). Revenue marts never filter fact rows and join dimensions
only on unique keys, so for any slice their ``revenue_usd`` sums to fact_sales' ``net_amount_usd``.

Grains:

* ``mart_sales_performance`` — date × region × channel × product category × customer segment
  (partitioned like fact_sales).
* month grain, over all history (unpartitioned): product profitability, customer segments,
  promotions, pipeline; quota attainment by month and quarter.
* ``mart_campaign_effectiveness`` — one row per campaign; ``mart_seasonality`` — region ×
  weekday and region × month of year; ``mart_funnel_conversion`` — region × creation month ×
  funnel stage.

A month is identified by its first day (``month``, a Date); a quarter by its first day too.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.core.funnel import FUNNEL, LOST_STAGE, WON_STAGE
from sales360_assets.kpis import measure, ratio
from sales360_assets.marts.transforms import (
    customer_identity,
    product_columns,
    product_lookup,
    with_segment,
)

ALL_REGIONS = "all"
NO_CAMPAIGN = "(no campaign)"

MART_SALES_PERFORMANCE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "region": pl.String(),
    "channel": pl.String(),
    "category": pl.String(),
    "segment": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "average_selling_price_usd": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "gross_margin_pct": pl.Float64(),
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

MART_SEGMENT_MONTHLY_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "segment": pl.String(),
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "customers": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "average_selling_price_usd": pl.Float64(),
    "order_frequency": pl.Float64(),
    "repeat_customers": pl.Int64(),
    "repeat_purchase_rate_pct": pl.Float64(),
}

MART_PROMOTION_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "region": pl.String(),
    "channel": pl.String(),
    "is_promoted": pl.Boolean(),  # the line carried a discount
    "revenue_usd": pl.Float64(),
    "units": pl.Float64(),
    "orders": pl.Int64(),
    "average_order_value_usd": pl.Float64(),
    "discount_usd": pl.Float64(),
    "discount_rate_pct": pl.Float64(),
}

MART_PIPELINE_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "region": pl.String(),
    "opportunity_type": pl.String(),
    "deals_created": pl.Int64(),
    "pipeline_created_usd": pl.Float64(),
    "deals_won": pl.Int64(),
    "deals_lost": pl.Int64(),
    "won_amount_usd": pl.Float64(),
    "win_rate_pct": pl.Float64(),
    "average_deal_size_usd": pl.Float64(),
    "sales_cycle_days": pl.Float64(),
    "pipeline_velocity_usd_per_day": pl.Float64(),
    "open_pipeline_usd": pl.Float64(),  # deals still open, by expected close month
    "win_rate_threshold_pct": pl.Float64(),
    "below_threshold": pl.Boolean(),
    "months_below_threshold_running": pl.Int64(),
    "low_win_rate_alert": pl.Boolean(),
}

MART_FUNNEL_SCHEMA: dict[str, pl.DataType] = {
    "created_month": pl.Date(),
    "region": pl.String(),
    "stage_order": pl.Int8(),
    "stage": pl.String(),
    "next_stage": pl.String(),
    "deals_reached": pl.Int64(),
    "deals_advanced": pl.Int64(),
    "stage_conversion_pct": pl.Float64(),
}

MART_CAMPAIGN_SCHEMA: dict[str, pl.DataType] = {
    "campaign_id": pl.String(),
    "campaign_name": pl.String(),
    "campaign_type": pl.String(),
    "status": pl.String(),
    "start_date": pl.Date(),
    "end_date": pl.Date(),
    "influenced_deals": pl.Int64(),
    "influenced_pipeline_usd": pl.Float64(),
    "deals_won": pl.Int64(),
    "influenced_revenue_usd": pl.Float64(),
    "budgeted_cost_usd": pl.Float64(),
    "campaign_cost_usd": pl.Float64(),
    "campaign_roi_pct": pl.Float64(),
}

MART_SEASONALITY_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),  # a region code, or "all"
    "index_type": pl.String(),  # "weekly" (day of week) | "yearly" (month of year)
    "period": pl.Int8(),  # ISO weekday 1 = Monday … 7, or month 1 … 12
    "period_name": pl.String(),
    "days_observed": pl.Int64(),
    "revenue_usd": pl.Float64(),
    "average_daily_revenue_usd": pl.Float64(),
    "seasonal_index": pl.Float64(),
    "rank": pl.Int64(),  # 1 = the peak
    "is_peak": pl.Boolean(),
    "is_trough": pl.Boolean(),
}

_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
_MONTHS = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _month(column: str = "date") -> pl.Expr:
    return pl.col(column).dt.month_start()


def _with_category(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    return fact_sales.join(product_lookup(dim_product), on="product_key", how="left", validate="m:1").with_columns(
        *product_columns()
    )


# --- sales performance ------------------------------------------------------------------------


def build_mart_sales_performance(
    fact_sales: pl.DataFrame, dim_customer: pl.DataFrame, dim_product: pl.DataFrame
) -> pl.DataFrame:
    """Revenue, units, orders, AOV, average price and gross margin per date × region × channel ×
    category × segment. Orders count the orders with a line in the slice, so an order spanning two
    categories counts in both: orders add up across dates, regions, channels and segments only."""
    mart = (
        with_segment(_with_category(fact_sales, dim_product), dim_customer)
        .group_by("date", "region", "channel", "category", "segment")
        .agg(
            measure("revenue_usd"),
            measure("units"),
            measure("orders"),
            measure("cost_usd"),
            measure("gross_margin_usd"),
        )
        .with_columns(ratio("average_order_value_usd"), ratio("average_selling_price_usd"), ratio("gross_margin_pct"))
    )
    return _conform(mart, MART_SALES_PERFORMANCE_SCHEMA).sort("date", "region", "channel", "category", "segment")


def build_mart_product_profitability(fact_sales: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    """Most and least profitable products and categories per month, across regions and channels.

    One row per month × product (``level`` "product"; unmapped SKUs one row each, named
    "Unmapped: <sku>") and per month × category (``level`` "category"). Ranks are competition ranks
    of gross margin within the month and level: rank 1 of ``rank_most_profitable`` is the biggest
    margin, rank 1 of ``rank_least_profitable`` the smallest (most negative).
    """
    lines = _with_category(fact_sales, dim_product).with_columns(_month().alias("month"))
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
        pl.col("gross_margin_usd").rank("min", descending=True).over("month", "level").alias("rank_most_profitable"),
        pl.col("gross_margin_usd").rank("min").over("month", "level").alias("rank_least_profitable"),
    )
    return _conform(mart, MART_PRODUCT_PROFITABILITY_SCHEMA).sort(
        "month", "level", "rank_most_profitable", "category", "sku", nulls_last=True
    )


# --- customers and promotions -----------------------------------------------------------------


def build_mart_customer_segment_monthly(fact_sales: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Revenue, units, orders, customers, AOV, average price, order frequency and repeat-purchase rate
    per month × customer segment (all regions and channels). A customer is counted as in
    mart_customer_segment_performance; a repeat customer placed two or more orders in the month."""
    lines = with_segment(fact_sales, dim_customer).with_columns(
        _month().alias("month"), customer_identity().alias("_customer")
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
    return _conform(mart, MART_SEGMENT_MONTHLY_SCHEMA).sort("month", "segment")


def build_mart_promotion_effectiveness(fact_sales: pl.DataFrame) -> pl.DataFrame:
    """Discounted ("promoted") against full-price lines per month × region × channel: revenue, units,
    orders, AOV, the discount given in USD and the discount rate."""
    mart = (
        fact_sales.with_columns(
            _month().alias("month"), (pl.col("discount_amount_local").fill_null(0.0) > 0).alias("is_promoted")
        )
        .group_by("month", "region", "channel", "is_promoted")
        .agg(measure("revenue_usd"), measure("units"), measure("orders"), measure("discount_usd"))
        .with_columns(ratio("average_order_value_usd"), ratio("discount_rate_pct"))
    )
    return _conform(mart, MART_PROMOTION_SCHEMA).sort("month", "region", "channel", "is_promoted")


# --- pipeline ---------------------------------------------------------------------------------


def _month_grid(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Every month from the first to the last in ``frame`` for each key combination seen."""
    if frame.is_empty():
        return frame.select(*keys, "month")
    months = pl.DataFrame({"month": pl.date_range(frame["month"].min(), frame["month"].max(), "1mo", eager=True)})
    return frame.select(keys).unique().join(months, how="cross")


def build_mart_pipeline(
    fact_opportunity: pl.DataFrame, win_rate_threshold_pct: float = 20.0, months_running: int = 3
) -> pl.DataFrame:
    """Pipeline health per month × region × opportunity type (the segment).

    Deals are placed in a month by the event: created (``deals_created``), booked (``deals_won``,
    booking date — a cancelled deal was won), lost (close date). ``open_pipeline_usd`` is the
    value of the deals still open by their expected close month. ``low_win_rate_alert`` is set when
    the win rate was below the threshold in this month and the ``months_running − 1`` months before
    it; a month without decided deals has no win rate and breaks the run.
    """
    deals = fact_opportunity.with_columns(
        pl.col("opportunity_type").fill_null("Unknown"),
        pl.col("region").fill_null("unknown"),
    )
    keys = ["region", "opportunity_type"]
    created = deals.group_by(_month("created_date").alias("month"), *keys).agg(
        pl.len().alias("deals_created"), pl.col("amount_usd").sum().alias("pipeline_created_usd")
    )
    won = (
        deals.filter(pl.col("booking_date").is_not_null())
        .group_by(_month("booking_date").alias("month"), *keys)
        .agg(
            pl.len().alias("deals_won"),
            pl.col("amount_usd").sum().alias("won_amount_usd"),
            pl.col("days_to_close").mean().alias("sales_cycle_days"),
        )
    )
    lost = (
        deals.filter(pl.col("funnel_stage") == LOST_STAGE)
        .group_by(_month("close_date").alias("month"), *keys)
        .agg(pl.len().alias("deals_lost"))
    )
    open_pipeline = (
        deals.filter(~pl.col("is_closed").fill_null(False))
        .group_by(_month("close_date").alias("month"), *keys)
        .agg(pl.col("amount_usd").sum().alias("open_pipeline_usd"))
    )
    events = pl.concat(
        [f.select("month", *keys) for f in (created, won, lost, open_pipeline)], how="vertical"
    ).drop_nulls("month")
    grid = _month_grid(events, keys)
    mart = (
        grid.join(created, on=["month", *keys], how="left")
        .join(won, on=["month", *keys], how="left")
        .join(lost, on=["month", *keys], how="left")
        .join(open_pipeline, on=["month", *keys], how="left")
        .with_columns(
            pl.col("deals_created", "deals_won", "deals_lost").fill_null(0),
            pl.col("pipeline_created_usd", "won_amount_usd", "open_pipeline_usd").fill_null(0.0),
        )
        .with_columns(
            pl.when((pl.col("deals_won") + pl.col("deals_lost")) > 0)
            .then(pl.col("deals_won") / (pl.col("deals_won") + pl.col("deals_lost")) * 100.0)
            .alias("win_rate_pct"),
            ratio("average_deal_size_usd"),
        )
        .with_columns(
            pl.when(pl.col("sales_cycle_days") > 0)
            .then(
                pl.col("deals_created")
                * pl.col("win_rate_pct")
                / 100.0
                * pl.col("average_deal_size_usd")
                / pl.col("sales_cycle_days")
            )
            .alias("pipeline_velocity_usd_per_day"),
            pl.lit(win_rate_threshold_pct).alias("win_rate_threshold_pct"),
            (pl.col("win_rate_pct") < win_rate_threshold_pct).alias("below_threshold"),
        )
        .sort(*keys, "month")
    )
    # Length of the current run of months below the threshold: a month at or above it (or without a
    # win rate) starts a new group, and the below months inside a group count up from it.
    below = pl.col("below_threshold").fill_null(False)
    mart = (
        mart.with_columns((~below).cast(pl.Int64).cum_sum().over(keys).alias("_run"))
        .with_columns(below.cast(pl.Int64).cum_sum().over([*keys, "_run"]).alias("months_below_threshold_running"))
        .with_columns((pl.col("months_below_threshold_running") >= months_running).alias("low_win_rate_alert"))
    )
    return _conform(mart, MART_PIPELINE_SCHEMA).sort("month", "region", "opportunity_type")


def build_mart_funnel_conversion(fact_opportunity: pl.DataFrame) -> pl.DataFrame:
    """Stage-to-stage conversion on the standard funnel per region × creation month.

    A deal "reached" a stage when its furthest stage (from its stage history) is at or beyond
    it; deals that skipped a stage count as having passed it. Open deals that have not advanced
    yet count as not converted, so recent cohorts convert less until they mature.
    """
    ladder = [s for s in FUNNEL if not s.is_closed or s.name == WON_STAGE]
    steps = pl.DataFrame(
        {
            "stage_order": [s.order for s in ladder[:-1]],
            "stage": [s.name for s in ladder[:-1]],
            "next_stage": [s.name for s in ladder[1:]],
            "next_order": [s.order for s in ladder[1:]],
        },
        schema={"stage_order": pl.Int8, "stage": pl.String, "next_stage": pl.String, "next_order": pl.Int8},
    )
    deals = fact_opportunity.select(
        _month("created_date").alias("created_month"),
        pl.col("region").fill_null("unknown"),
        "furthest_stage_order",
    ).drop_nulls("furthest_stage_order")
    mart = (
        deals.join(steps, how="cross")
        .group_by("created_month", "region", "stage_order", "stage", "next_stage")
        .agg(
            (pl.col("furthest_stage_order") >= pl.col("stage_order")).sum().cast(pl.Int64).alias("deals_reached"),
            (pl.col("furthest_stage_order") >= pl.col("next_order")).sum().cast(pl.Int64).alias("deals_advanced"),
        )
        .with_columns(ratio("stage_conversion_pct"))
    )
    return _conform(mart, MART_FUNNEL_SCHEMA).sort("created_month", "region", "stage_order")


# --- campaigns --------------------------------------------------------------------------------


def build_mart_campaign_effectiveness(
    fact_sales: pl.DataFrame, fact_opportunity: pl.DataFrame, campaigns: pl.DataFrame
) -> pl.DataFrame:
    """Deals and revenue influenced per campaign, with cost and ROI where the cost is known.

    Revenue is fact_sales revenue of the won deals' lines: CRM lines (order_id = opportunity id)
    and, for deals fulfilled online, their web order's lines — once, however many deals share it. Revenue of deals without a campaign is
    the ``(no campaign)`` row, so the rows add up to all deal revenue in fact_sales. Campaign
    costs are in the org's corporate currency (USD); ROI is null while the cost is unknown or 0.
    """
    deals = fact_opportunity.select(
        "opportunity_id", "web_order_id", pl.col("campaign_id").fill_null(NO_CAMPAIGN), "amount_usd", "booking_date"
    )
    # Only a booked (won) deal brings revenue: a lost or open deal's web order was not its sale.
    # A web order two deals point at is one sale: it goes to the first deal (booking date, then id).
    won = deals.filter(pl.col("booking_date").is_not_null()).sort("booking_date", "opportunity_id")
    by_crm = won.select(pl.lit("crm").alias("channel"), pl.col("opportunity_id").alias("order_id"), "campaign_id")
    by_web = (
        won.filter(pl.col("web_order_id").is_not_null())
        .select(pl.lit("web").alias("channel"), pl.col("web_order_id").alias("order_id"), "campaign_id")
        .unique(subset=["channel", "order_id"], keep="first", maintain_order=True)
    )
    revenue = (
        fact_sales.join(pl.concat([by_crm, by_web]), on=["channel", "order_id"], how="inner")
        .group_by("campaign_id")
        .agg(measure("revenue_usd").alias("influenced_revenue_usd"))
    )
    influence = deals.group_by("campaign_id").agg(
        pl.len().alias("influenced_deals"),
        pl.col("amount_usd").sum().alias("influenced_pipeline_usd"),
        pl.col("booking_date").is_not_null().sum().alias("deals_won"),
    )
    live = campaigns.filter(~pl.col("is_deleted").fill_null(False)).select(
        "campaign_id",
        "campaign_name",
        "campaign_type",
        "status",
        "start_date",
        "end_date",
        pl.col("budgeted_cost").alias("budgeted_cost_usd"),
        pl.col("actual_cost").alias("campaign_cost_usd"),
    )
    no_campaign = pl.DataFrame({"campaign_id": [NO_CAMPAIGN], "campaign_name": [NO_CAMPAIGN]})
    mart = (
        pl.concat([live, no_campaign], how="diagonal_relaxed")
        .join(influence, on="campaign_id", how="full", coalesce=True)
        .join(revenue, on="campaign_id", how="full", coalesce=True)
        .with_columns(
            pl.col("influenced_deals", "deals_won").fill_null(0),
            pl.col("influenced_pipeline_usd", "influenced_revenue_usd").fill_null(0.0),
        )
        .with_columns(
            pl.when(pl.col("campaign_cost_usd") > 0)
            .then((pl.col("influenced_revenue_usd") - pl.col("campaign_cost_usd")) / pl.col("campaign_cost_usd") * 100)
            .alias("campaign_roi_pct")
        )
    )
    return _conform(mart, MART_CAMPAIGN_SCHEMA).sort("influenced_revenue_usd", "campaign_id", descending=[True, False])


# --- seasonality ------------------------------------------------------------------------------


def build_mart_seasonality(fact_sales: pl.DataFrame) -> pl.DataFrame:
    """Weekly (day-of-week) and yearly (month-of-year) seasonal indices per region and overall.

    Daily revenue is taken over every day from the first to the last sales day (a day without
    sales counts as 0). The index of a weekday or month is its mean daily revenue over the mean
    daily revenue of all days; the highest index is the peak (rank 1). A yearly index is only as
    good as its history: ``days_observed`` says how many days stand behind each month.
    """
    daily = fact_sales.group_by("date", "region").agg(measure("revenue_usd"))
    if daily.is_empty():
        return pl.DataFrame(schema=MART_SEASONALITY_SCHEMA)
    days = pl.DataFrame({"date": pl.date_range(daily["date"].min(), daily["date"].max(), "1d", eager=True)})
    regions = pl.DataFrame({"region": sorted(daily["region"].unique().to_list())})
    per_region = days.join(regions, how="cross").join(daily, on=["date", "region"], how="left")
    overall = days.join(daily.group_by("date").agg(pl.col("revenue_usd").sum()), on="date", how="left").with_columns(
        pl.lit(ALL_REGIONS).alias("region")
    )
    series = pl.concat([per_region, overall.select(per_region.columns)]).with_columns(
        pl.col("revenue_usd").fill_null(0.0)
    )
    frames = []
    for index_type, period, names in (
        ("weekly", pl.col("date").dt.weekday(), _WEEKDAYS),
        ("yearly", pl.col("date").dt.month(), _MONTHS),
    ):
        frames.append(
            series.with_columns(period.cast(pl.Int8).alias("period"))
            .group_by("region", "period")
            .agg(
                pl.len().alias("days_observed"),
                pl.col("revenue_usd").sum(),
                pl.col("revenue_usd").mean().alias("average_daily_revenue_usd"),
            )
            .with_columns(
                pl.lit(index_type).alias("index_type"),
                pl.col("period")
                .replace_strict({i + 1: name for i, name in enumerate(names)}, return_dtype=pl.String)
                .alias("period_name"),
            )
        )
    overall_mean = series.group_by("region").agg(pl.col("revenue_usd").mean().alias("_mean"))
    mart = (
        pl.concat(frames)
        .join(overall_mean, on="region", how="left")
        .with_columns(
            pl.when(pl.col("_mean") != 0)
            .then(pl.col("average_daily_revenue_usd") / pl.col("_mean"))
            .alias("seasonal_index")
        )
        .with_columns(
            pl.col("seasonal_index").rank("min", descending=True).over("region", "index_type").alias("rank"),
        )
        .with_columns(
            (pl.col("rank") == 1).alias("is_peak"),
            (pl.col("rank") == pl.col("rank").max().over("region", "index_type")).alias("is_trough"),
        )
    )
    return _conform(mart, MART_SEASONALITY_SCHEMA).sort("region", "index_type", "period")
