"""Quota in USD, monthly attainment and the attainment mart (rep and manager, month and quarter). Pure Polars.

1. **Quota in USD** (``quotas_in_usd``): quotas are set in the rep's region currency, one per rep
   and month — ``Month__c`` is normalised to the first day of its month (an org that enters
   2026-03-15 means March), and when two records land on one month the latest wins. Each converts
   at the FX rate of the quota month — the latest rate published on or before its first day (at
   most ``FX_MAX_STALENESS_DAYS`` old), else the month's first published rate — so a month's
   target does not move with the currency while the month runs.
2. **Attainment** (``build_monthly_attainment``): credited bookings of the month / quota × 100.
   Cancellations do not reduce attainment; they are settled as clawbacks.
3. **The mart** (``build_mart_rep_quota_attainment``): a quarter's quota is known only when each
   of its three months has one; otherwise the quarter is incomplete (``is_complete`` false) and
   its ``quota_usd`` and ``attainment_pct`` are null — a partial quota would overstate attainment.
   A manager (any roll-up) is measured only over the reps with a quota for the period:
   ``quota_usd`` and ``credited_bookings_usd`` sum those reps, ``reps_with_quota`` counts them,
   ``team_credited_bookings_usd`` is what the whole team was credited, and ``is_complete`` says
   whether every rep had a quota. Without that, one rep at 100 % and one without a quota made a
   manager 200 %.
"""

from __future__ import annotations

from datetime import timedelta

import polars as pl

from sales360_assets.core.scd import attribute_to_version
from sales360_assets.frames import conform
from sales360_assets.kpis import ratio
from sales360_assets.settings import FX_MAX_STALENESS_DAYS
from sales360_assets.staging.quality import reporting_currency_at_par

MONTHS_PER_QUARTER = 3

QUOTA_USD_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "month": pl.Date(),
    "quota_amount": pl.Float64(),
    "currency": pl.String(),
    "fx_rate": pl.Float64(),
    "fx_rate_date": pl.Date(),
    "quota_usd": pl.Float64(),
}

ATTAINMENT_SCHEMA: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "month": pl.Date(),
    "quota_usd": pl.Float64(),
    "bookings_usd": pl.Float64(),
    "credited_bookings_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
}

MART_REP_ATTAINMENT_SCHEMA: dict[str, pl.DataType] = {
    "period_type": pl.String(),  # "month" | "quarter"
    "period_start": pl.Date(),
    "period_end": pl.Date(),  # inclusive
    "level": pl.String(),  # "rep" | "manager"
    "user_id": pl.String(),
    "name": pl.String(),
    "title": pl.String(),
    "region": pl.String(),
    "territory": pl.String(),
    "manager_id": pl.String(),
    "manager_name": pl.String(),
    "reps": pl.Int64(),
    # Reps with a complete quota for the period (a rep row: 1 or 0): the reps attainment measures.
    "reps_with_quota": pl.Int64(),
    # Every rep of the row has a quota for every month of the period.
    "is_complete": pl.Boolean(),
    "quota_usd": pl.Float64(),
    # The credited bookings measured against quota_usd: a manager row sums only reps with a quota.
    "credited_bookings_usd": pl.Float64(),
    # Everything credited to the row's reps, with a quota or not (a rep row: its credited bookings).
    "team_credited_bookings_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
}

# The mart's non-KPI columns for the catalogue (quota_usd, credited_bookings_usd and attainment_pct
# are described by the KPI glossary). Personal data: the rep's and the manager's name.
MART_REP_ATTAINMENT_COLUMNS: dict[str, str] = {
    "period_type": "month or quarter.",
    "period_start": "First day of the period.",
    "period_end": "Last day of the period (inclusive).",
    "level": "rep (one rep) or manager (the roll-up of the reps assigned to the manager for the period).",
    "user_id": "Salesforce User Id of the rep, or of the manager on manager rows.",
    "name": "The rep's (or manager's) name on the period's last day (dim_sales_rep).",
    "title": "Job title on the period's last day (dim_sales_rep).",
    "region": "Sales region code on the period's last day (dim_sales_rep).",
    "territory": "Sales territory on the period's last day (dim_sales_rep).",
    "manager_id": "User Id of the rep's (or manager's) own manager on the period's last day.",
    "manager_name": "Name of that manager.",
    "reps": "Reps the row covers: 1 on rep rows; the reps assigned to the manager on manager rows.",
    "reps_with_quota": "Of those reps, how many have a quota for every month of the period.",
    "is_complete": "True when every rep of the row has a quota for every month of the period.",
    "team_credited_bookings_usd": "Everything credited to the row's reps, with a quota or not.",
}
MART_REP_ATTAINMENT_PII: dict[str, str] = {"name": "pii", "manager_name": "pii"}


def quotas_in_usd(quotas: pl.DataFrame, fx_rates: pl.DataFrame) -> pl.DataFrame:
    """Each live quota converted at its month's rate (module docstring, step 1); null when no rate."""
    live = quotas.filter(~pl.col("is_deleted").fill_null(False)).select(
        # Month__c is a date field: a quota entered on the 15th is that month's quota, and credit is
        # bucketed by month start, so any other day would match no bookings at all.
        "user_id",
        pl.col("month").dt.month_start(),
        "quota_amount",
        "currency",
        "system_modstamp",
    )
    # One quota per rep and month: the latest record wins when an org holds two.
    live = live.sort("system_modstamp", nulls_last=False).unique(["user_id", "month"], keep="last")
    rates = fx_rates.select(
        pl.col("currency"), pl.col("rate_date").alias("fx_rate_date"), pl.col("usd_per_unit").alias("fx_rate")
    ).sort("fx_rate_date")
    before = live.sort("month").join_asof(
        rates,
        left_on="month",
        right_on="fx_rate_date",
        by="currency",
        strategy="backward",
        tolerance=timedelta(days=FX_MAX_STALENESS_DAYS),
        check_sortedness=False,
    )
    within = (
        live.sort("month")
        .join_asof(
            rates, left_on="month", right_on="fx_rate_date", by="currency", strategy="forward", check_sortedness=False
        )
        .filter(pl.col("fx_rate_date") < pl.col("month").dt.offset_by("1mo"))
        .select("user_id", "month", pl.col("fx_rate").alias("_rate_in"), pl.col("fx_rate_date").alias("_date_in"))
    )
    converted = before.join(within, on=["user_id", "month"], how="left").with_columns(
        pl.coalesce("fx_rate", "_rate_in").alias("fx_rate"),
        pl.coalesce("fx_rate_date", "_date_in").alias("fx_rate_date"),
    )
    converted = reporting_currency_at_par(converted, "month", "currency").with_columns(
        (pl.col("quota_amount") * pl.col("fx_rate")).alias("quota_usd")
    )
    return conform(converted, QUOTA_USD_SCHEMA).sort("user_id", "month")


def build_monthly_attainment(credit_lines: pl.DataFrame, quotas_usd: pl.DataFrame) -> pl.DataFrame:
    """Per user and month: quota (USD), bookings on their accounts, credited bookings, attainment %."""
    booked = credit_lines.group_by(pl.col("user_id"), pl.col("booking_month").alias("month")).agg(
        pl.col("booking_amount_usd").sum().alias("bookings_usd"),
        pl.col("credited_amount_usd").sum().alias("credited_bookings_usd"),
    )
    joined = (
        quotas_usd.select("user_id", "month", "quota_usd")
        .join(booked, on=["user_id", "month"], how="full", coalesce=True)
        .with_columns(pl.col("bookings_usd", "credited_bookings_usd").fill_null(0.0))
        .with_columns(ratio("attainment_pct"))
    )
    return conform(joined, ATTAINMENT_SCHEMA).sort("user_id", "month")


def _period_rows(attainment: pl.DataFrame, period_type: str) -> pl.DataFrame:
    """One row per rep and period: quota (null unless every month has one), credited bookings, is_complete."""
    if period_type == "month":
        start, months = pl.col("month"), 1
    else:
        months = MONTHS_PER_QUARTER
        start = pl.date(pl.col("month").dt.year(), (pl.col("month").dt.quarter() - 1) * months + 1, 1)
    # Counting months with a quota, not checking the rows present: a month with neither quota nor
    # bookings has no attainment row, and a quarter of two rows is not a complete quarter.
    complete = pl.col("quota_usd").is_not_null().sum() == months
    return (
        attainment.with_columns(start.alias("period_start"))
        .group_by("user_id", "period_start")
        .agg(
            pl.when(complete).then(pl.col("quota_usd").sum()).alias("quota_usd"),
            pl.col("credited_bookings_usd").sum(),
            complete.alias("is_complete"),
        )
        .with_columns(
            pl.lit(period_type).alias("period_type"),
            (pl.col("period_start").dt.offset_by(f"{months}mo") - pl.duration(days=1)).alias("period_end"),
            pl.col("credited_bookings_usd").alias("team_credited_bookings_usd"),
            pl.col("is_complete").cast(pl.Int64).alias("reps_with_quota"),
        )
    )


def build_mart_rep_quota_attainment(attainment: pl.DataFrame, dim_sales_rep: pl.DataFrame) -> pl.DataFrame:
    """Attainment per rep by month and by quarter, and the roll-up to each manager.

    A rep belongs, for a period, to the assignment valid on the period's last day (their region,
    territory and manager then); a manager's row sums the quota and credited bookings of the reps
    assigned to them for that period that have a quota for it (module docstring, step 3).
    """
    periods = pl.concat([_period_rows(attainment, "month"), _period_rows(attainment, "quarter")])
    assignment = ["name", "title", "region", "territory", "manager_id", "manager_name"]
    reps = attribute_to_version(periods, dim_sales_rep, "user_id", pl.col("period_end"), assignment).with_columns(
        pl.lit("rep").alias("level"), pl.lit(1, dtype=pl.Int64).alias("reps")
    )
    # Attainment sums quotas and bookings of the same reps: a rep without a quota would add
    # bookings against no target.
    measured = pl.col("quota_usd").is_not_null()
    managers = (
        reps.filter(pl.col("manager_id").is_not_null())
        .group_by("period_type", "period_start", "period_end", pl.col("manager_id").alias("user_id"))
        .agg(
            pl.len().cast(pl.Int64).alias("reps"),
            pl.col("reps_with_quota").sum(),
            pl.col("is_complete").all(),
            pl.when(measured.any()).then(pl.col("quota_usd").filter(measured).sum()).alias("quota_usd"),
            pl.col("credited_bookings_usd").filter(measured).sum(),
            pl.col("team_credited_bookings_usd").sum(),
        )
    )
    managers = attribute_to_version(managers, dim_sales_rep, "user_id", pl.col("period_end"), assignment).with_columns(
        pl.lit("manager").alias("level")
    )
    columns = [c for c in MART_REP_ATTAINMENT_SCHEMA if c != "attainment_pct"]
    mart = pl.concat([reps.select(columns), managers.select(columns)]).with_columns(ratio("attainment_pct"))
    return conform(mart, MART_REP_ATTAINMENT_SCHEMA).sort(
        "period_type", "period_start", "level", "region", "user_id", descending=[False, False, True, False, False]
    )
