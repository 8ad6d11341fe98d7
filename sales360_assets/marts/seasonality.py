"""Seasonality mart: which weekdays and months sell above or below the average day. Pure Polars.

``mart_seasonality`` holds weekly (day of week) and yearly (month of year) seasonal indices per
region and over all regions (``region`` = "all"), ranked so the peak is rank 1. History-wide.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.kpis import measure
from sales360_assets.money import exact_sum

ALL_REGIONS = "all"

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


def build_mart_seasonality(fact_sales: pl.DataFrame | pl.LazyFrame) -> pl.DataFrame:
    """Weekly (day-of-week) and yearly (month-of-year) seasonal indices per region and overall.

    Daily revenue is taken over every day from the first to the last sales day (a day without
    sales counts as 0). The index of a weekday or month is its mean daily revenue over the mean
    daily revenue of all days; the highest index is the peak (rank 1). A yearly index is only as
    good as its history: ``days_observed`` says how many days stand behind each month.
    """
    # Given a scan, only the columns the daily totals need are read, by the streaming engine: the
    # history is never held whole (10 M order lines).
    daily = fact_sales.lazy().group_by("date", "region").agg(measure("revenue_usd")).collect(engine="streaming")
    if daily.is_empty():
        return pl.DataFrame(schema=MART_SEASONALITY_SCHEMA)
    days = pl.DataFrame({"date": pl.date_range(daily["date"].min(), daily["date"].max(), "1d", eager=True)})
    regions = pl.DataFrame({"region": sorted(daily["region"].unique().to_list())})
    per_region = days.join(regions, how="cross").join(daily, on=["date", "region"], how="left")
    overall = days.join(
        daily.group_by("date").agg(exact_sum("revenue_usd").alias("revenue_usd")), on="date", how="left"
    ).with_columns(pl.lit(ALL_REGIONS).alias("region"))
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
                exact_sum("revenue_usd").alias("revenue_usd"),
                (exact_sum("revenue_usd") / pl.len()).alias("average_daily_revenue_usd"),
            )
            .with_columns(
                pl.lit(index_type).alias("index_type"),
                pl.col("period")
                .replace_strict({i + 1: name for i, name in enumerate(names)}, return_dtype=pl.String)
                .alias("period_name"),
            )
        )
    overall_mean = series.group_by("region").agg((exact_sum("revenue_usd") / pl.len()).alias("_mean"))
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
    return conform(mart, MART_SEASONALITY_SCHEMA).sort("region", "index_type", "period")
