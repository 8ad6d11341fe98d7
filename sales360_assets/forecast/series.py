"""Weekly revenue series by region, by customer segment and in total. Pure Polars.

Weeks run Monday–Sunday (``week_start`` = the Monday). Only complete weeks of the data are kept
(a window that starts on a Wednesday or ends on a Friday would show a false dip), and a week in
between with no sales is 0, not missing, so every series is regular — what the models need.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.money import exact_sum

REGION = "region"
SEGMENT = "segment"
TOTAL = "total"
ALL = "all"

WEEKLY_SERIES_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),  # region | segment | total
    "series": pl.String(),  # the region code, the segment name, or "all"
    "week_start": pl.Date(),
    "revenue_usd": pl.Float64(),
}


def complete_weeks(first_day: date, last_day: date) -> tuple[date, date] | None:
    """The first and last Monday of the complete weeks between the two days (inclusive), if any."""
    first_monday = first_day + timedelta(days=(7 - first_day.weekday()) % 7)
    last_monday = last_day - timedelta(days=last_day.weekday())
    if last_day.weekday() != 6:
        last_monday -= timedelta(days=7)
    return (first_monday, last_monday) if first_monday <= last_monday else None


def weekly_revenue(fact: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Revenue per complete week for each region, each customer segment and the total."""
    if fact.height == 0:
        return pl.DataFrame(schema=WEEKLY_SERIES_SCHEMA)
    weeks = complete_weeks(fact["date"].min(), fact["date"].max())
    if weeks is None:
        return pl.DataFrame(schema=WEEKLY_SERIES_SCHEMA)
    lines = (
        fact.filter(pl.col("date").is_between(weeks[0], weeks[1] + timedelta(days=6)))
        .join(dim_customer.select("customer_key", "segment"), on="customer_key", how="left")
        .with_columns(pl.col("date").dt.truncate("1w").alias("week_start"), pl.col("segment").fill_null("Unknown"))
    )
    parts = [
        lines.group_by(pl.lit(REGION).alias("level"), pl.col("region").alias("series"), "week_start"),
        lines.group_by(pl.lit(SEGMENT).alias("level"), pl.col("segment").alias("series"), "week_start"),
        lines.group_by(pl.lit(TOTAL).alias("level"), pl.lit(ALL).alias("series"), "week_start"),
    ]
    observed = pl.concat([p.agg(exact_sum("net_amount_usd").alias("revenue_usd")) for p in parts])
    calendar = pl.DataFrame({"week_start": pl.date_range(weeks[0], weeks[1], "1w", eager=True)})
    grid = observed.select("level", "series").unique().join(calendar, how="cross")
    full = grid.join(observed, on=["level", "series", "week_start"], how="left").with_columns(
        pl.col("revenue_usd").fill_null(0.0)
    )
    return conform(full, WEEKLY_SERIES_SCHEMA).sort("level", "series", "week_start")


def as_statsforecast(series: pl.DataFrame) -> pl.DataFrame:
    """The long frame statsforecast reads: unique_id ("level:series"), ds, y."""
    return series.select(
        pl.concat_str([pl.col("level"), pl.col("series")], separator=":").alias("unique_id"),
        pl.col("week_start").alias("ds"),
        pl.col("revenue_usd").alias("y"),
    )
