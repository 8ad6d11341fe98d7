"""Team vs target: credited bookings against quota by region and team (manager) per month, with a
projection of month-end attainment for the month in progress. Pure Polars.

Reads ``mart_rep_quota_attainment`` (month rows), so revenue here is what the commission path
measures against quota: credited bookings of the reps with a quota. Regions sum their reps; a team
is a manager's roll-up row.

Month-end projection (run rate): for the month that contains ``as_of`` (the latest sale) and has
not ended,

    projected_bookings_usd   = credited_bookings_usd × days_in_month / days_elapsed
    projected_attainment_pct = projected_bookings_usd / quota_usd × 100

A closed month's projection is its actual. Bookings land unevenly (deals close late in a month),
so the run rate is a floor early in the month; it is stated as a projection, never as attainment.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.kpis import ratio

REGION = "region"
TEAM = "team"

MART_TEAM_VS_TARGET_SCHEMA: dict[str, pl.DataType] = {
    "month": pl.Date(),
    "level": pl.String(),  # region | team
    "key": pl.String(),  # region code or the manager's user id
    "name": pl.String(),  # region code or the manager's name
    "region": pl.String(),
    "reps_with_quota": pl.Int64(),
    "quota_usd": pl.Float64(),
    "credited_bookings_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
    "days_in_month": pl.Int64(),
    "days_elapsed": pl.Int64(),
    "is_month_complete": pl.Boolean(),
    "projected_bookings_usd": pl.Float64(),
    "projected_attainment_pct": pl.Float64(),
}


def build_mart_team_vs_target(attainment: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """One row per month × region and month × team; ``as_of``: the latest day with sales."""
    months = attainment.filter(pl.col("period_type") == "month")
    regions = (
        months.filter(pl.col("level") == "rep")
        .group_by("period_start", "period_end", "region")
        .agg(
            pl.col("reps_with_quota").sum(),
            pl.col("quota_usd").sum(),
            # A rep without a quota has no credited bookings measured against one.
            pl.col("credited_bookings_usd").filter(pl.col("quota_usd").is_not_null()).sum(),
        )
        .with_columns(pl.lit(REGION).alias("level"), pl.col("region").alias("key"), pl.col("region").alias("name"))
    )
    teams = months.filter(pl.col("level") == "manager").select(
        "period_start",
        "period_end",
        "region",
        "reps_with_quota",
        "quota_usd",
        "credited_bookings_usd",
        pl.lit(TEAM).alias("level"),
        pl.col("user_id").alias("key"),
        pl.col("name"),
    )
    both = pl.concat([regions, teams.select(regions.columns)]).with_columns(
        pl.when(pl.col("quota_usd") > 0).then(pl.col("quota_usd")).alias("quota_usd")
    )
    days_in_month = (pl.col("period_end") - pl.col("period_start")).dt.total_days() + 1
    elapsed = (pl.lit(as_of) - pl.col("period_start")).dt.total_days() + 1
    projected = (
        both.filter(pl.col("period_start") <= as_of)
        .with_columns(
            days_in_month.cast(pl.Int64).alias("days_in_month"),
            elapsed.clip(upper_bound=days_in_month).cast(pl.Int64).alias("days_elapsed"),
            ratio("attainment_pct"),
        )
        .with_columns((pl.col("days_elapsed") == pl.col("days_in_month")).alias("is_month_complete"))
        .with_columns(
            (pl.col("credited_bookings_usd") * pl.col("days_in_month") / pl.col("days_elapsed")).alias(
                "projected_bookings_usd"
            )
        )
        .with_columns(
            (pl.col("projected_bookings_usd") / pl.col("quota_usd") * 100.0).alias("projected_attainment_pct"),
            pl.col("period_start").alias("month"),
        )
    )
    return conform(projected, MART_TEAM_VS_TARGET_SCHEMA).sort("month", "level", "key")
