"""Pipeline marts for sales ops: deal flow, win rates and the funnel. Pure Polars, no I/O.

* ``mart_pipeline`` — month × region × opportunity type: deals created, won and lost, win rate,
  deal size, cycle length, velocity, open pipeline and the low win-rate alert.
* ``mart_funnel_conversion`` — region × creation month × standard funnel stage.

Both read fact_opportunity (deal grain) over all history. A month is identified by its first day.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.core.funnel import FUNNEL, LOST_STAGE, WON_STAGE
from sales360_assets.frames import conform
from sales360_assets.kpis import ratio
from sales360_assets.money import exact_sum

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

# The segment a pipeline row is for: a deal without a region or type still counts, under these.
_SEGMENT = ["region", "opportunity_type"]


def _month(column: str) -> pl.Expr:
    return pl.col(column).dt.month_start()


def _month_grid(frame: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """Every month from the first to the last in ``frame`` for each key combination seen."""
    if frame.is_empty():
        return frame.select(*keys, "month")
    months = pl.DataFrame({"month": pl.date_range(frame["month"].min(), frame["month"].max(), "1mo", eager=True)})
    return frame.select(keys).unique().join(months, how="cross")


def _monthly_events(deals: pl.DataFrame) -> list[pl.DataFrame]:
    """Per month × segment: deals created, won (by booking date), lost (by close date) and still open
    (by expected close month) — each placed in the month of its own event."""
    created = deals.group_by(_month("created_date").alias("month"), *_SEGMENT).agg(
        pl.len().alias("deals_created"), pl.col("amount_usd").sum().alias("pipeline_created_usd")
    )
    won = (
        deals.filter(pl.col("booking_date").is_not_null())
        .group_by(_month("booking_date").alias("month"), *_SEGMENT)
        .agg(
            pl.len().alias("deals_won"),
            exact_sum("amount_usd").alias("won_amount_usd"),
            pl.col("days_to_close").mean().alias("sales_cycle_days"),
        )
    )
    lost = (
        deals.filter(pl.col("funnel_stage") == LOST_STAGE)
        .group_by(_month("close_date").alias("month"), *_SEGMENT)
        .agg(pl.len().alias("deals_lost"))
    )
    open_pipeline = (
        deals.filter(~pl.col("is_closed").fill_null(False))
        .group_by(_month("close_date").alias("month"), *_SEGMENT)
        .agg(exact_sum("amount_usd").alias("open_pipeline_usd"))
    )
    return [created, won, lost, open_pipeline]


def _with_rates(events: list[pl.DataFrame], win_rate_threshold_pct: float) -> pl.DataFrame:
    """The events on a gapless month grid, with win rate, deal size, velocity and the threshold flag."""
    months = pl.concat([f.select("month", *_SEGMENT) for f in events], how="vertical").drop_nulls("month")
    mart = _month_grid(months, _SEGMENT)
    for frame in events:
        mart = mart.join(frame, on=["month", *_SEGMENT], how="left")
    return (
        mart.with_columns(
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
        .sort(*_SEGMENT, "month")
    )


def _with_alert(mart: pl.DataFrame, months_running: int) -> pl.DataFrame:
    """The length of each month's current run below the threshold, and the alert once it is long enough.

    A month at or above the threshold (or without a win rate) starts a new group, and the below
    months inside a group count up from it. Needs the rows sorted by segment, then month.
    """
    below = pl.col("below_threshold").fill_null(False)
    return (
        mart.with_columns((~below).cast(pl.Int64).cum_sum().over(_SEGMENT).alias("_run"))
        .with_columns(below.cast(pl.Int64).cum_sum().over([*_SEGMENT, "_run"]).alias("months_below_threshold_running"))
        .with_columns((pl.col("months_below_threshold_running") >= months_running).alias("low_win_rate_alert"))
    )


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
    mart = _with_rates(_monthly_events(deals), win_rate_threshold_pct)
    return conform(_with_alert(mart, months_running), MART_PIPELINE_SCHEMA).sort("month", "region", "opportunity_type")


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
    return conform(mart, MART_FUNNEL_SCHEMA).sort("created_month", "region", "stage_order")
