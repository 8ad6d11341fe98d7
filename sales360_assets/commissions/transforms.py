"""The commission engine: credit, quota attainment, monthly statements. Pure Polars, no I/O.

1. **Credit** (``build_credit_lines``): every booked deal line (``fact_booking_line``) is split
   between the account's team members valid on the booking date (``bridge_account_team``), by
   their credit split; an account without a team credits the deal owner with 100 %. Splits sum to
   100, so the credited amounts of a line add back to the line.
2. **Quota in USD** (``quotas_in_usd``): quotas are set in the rep's region currency and
   converted at the FX rate of the quota month — the latest rate published on or before its first
   day (at most ``FX_MAX_STALENESS_DAYS`` old), else the month's first published rate — so a
   month's target does not move with the currency while the month runs.
3. **Attainment** (``build_monthly_attainment``): credited bookings of the month / quota × 100.
   Cancellations do not reduce attainment; they are settled as clawbacks.
4. **Ledger and statements** live in ``ledger.py`` and ``statements.py``: the credit lines are
   recorded as append-only ledger events, and statements are computed from the ledger in Decimal
   cents, with exact clawbacks and adjustments posted in the first open month.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from sales360_assets.core.scd import attribute_to_version
from sales360_assets.kpis import ratio
from sales360_assets.settings import FX_MAX_STALENESS_DAYS

ACCOUNT_TEAM, DEAL_OWNER = "account team", "deal owner (account has no team)"

CREDIT_LINE_SCHEMA: dict[str, pl.DataType] = {
    "credit_line_id": pl.String(),
    "booking_line_id": pl.String(),
    "opportunity_id": pl.String(),
    "sales_line_id": pl.String(),
    "web_order_id": pl.String(),
    "account_id": pl.String(),
    "user_id": pl.String(),
    "team_member_role": pl.String(),
    "credit_split_pct": pl.Float64(),
    "credit_source": pl.String(),
    "booking_date": pl.Date(),
    "booking_month": pl.Date(),
    "product_family": pl.String(),
    "booking_amount_usd": pl.Float64(),
    "credited_amount_usd": pl.Float64(),
    "is_cancelled": pl.Boolean(),
    "cancelled_date": pl.Date(),
    "cancellation_month": pl.Date(),
    "days_booked_to_cancelled": pl.Int64(),
}

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
    "quota_usd": pl.Float64(),
    "credited_bookings_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
}


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


# --- credit ------------------------------------------------------------------------------------


def build_credit_lines(booking_lines: pl.DataFrame, bridge: pl.DataFrame) -> pl.DataFrame:
    """One row per booked deal line and credited team member (see module docstring, step 1)."""
    lines = booking_lines.with_columns(pl.col("net_amount_usd").alias("booking_amount_usd"))
    team = bridge.select("account_id", "valid_from", "valid_to", "user_id", "team_member_role", "credit_split_pct")
    by_team = (
        lines.drop("owner_id")
        .join(team, on="account_id", how="inner")
        .filter(pl.col("valid_from") <= pl.col("booking_date"), pl.col("booking_date") < pl.col("valid_to"))
        .with_columns(pl.lit(ACCOUNT_TEAM).alias("credit_source"))
    )
    by_owner = (
        lines.join(by_team.select("booking_line_id").unique(), on="booking_line_id", how="anti")
        .with_columns(
            pl.col("owner_id").alias("user_id"),
            pl.lit("Opportunity Owner").alias("team_member_role"),
            pl.lit(100.0).alias("credit_split_pct"),
            pl.lit(DEAL_OWNER).alias("credit_source"),
        )
        .drop("owner_id")
    )
    columns = [c for c in by_team.columns if c not in ("valid_from", "valid_to")]
    credits = pl.concat([by_team.select(columns), by_owner.select(columns)]).with_columns(
        pl.concat_str([pl.col("booking_line_id"), pl.col("user_id").fill_null("<none>")], separator="|").alias(
            "credit_line_id"
        ),
        pl.col("booking_date").dt.month_start().alias("booking_month"),
        pl.col("cancelled_date").dt.month_start().alias("cancellation_month"),
        (pl.col("booking_amount_usd") * pl.col("credit_split_pct") / 100.0).alias("credited_amount_usd"),
    )
    return _conform(credits, CREDIT_LINE_SCHEMA).sort("booking_date", "booking_line_id", "user_id")


# --- quota and attainment ----------------------------------------------------------------------


def quotas_in_usd(quotas: pl.DataFrame, fx_rates: pl.DataFrame) -> pl.DataFrame:
    """Each live quota converted at its month's rate (module docstring, step 2); null when no rate."""
    live = quotas.filter(~pl.col("is_deleted").fill_null(False)).select(
        "user_id", "month", "quota_amount", "currency", "system_modstamp"
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
    converted = (
        before.join(within, on=["user_id", "month"], how="left")
        .with_columns(
            pl.coalesce("fx_rate", "_rate_in").alias("fx_rate"),
            pl.coalesce("fx_rate_date", "_date_in").alias("fx_rate_date"),
        )
        .with_columns((pl.col("quota_amount") * pl.col("fx_rate")).alias("quota_usd"))
    )
    return _conform(converted, QUOTA_USD_SCHEMA).sort("user_id", "month")


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
    return _conform(joined, ATTAINMENT_SCHEMA).sort("user_id", "month")


def _period_rows(attainment: pl.DataFrame, period_type: str) -> pl.DataFrame:
    if period_type == "month":
        start = pl.col("month")
    else:
        start = pl.date(pl.col("month").dt.year(), (pl.col("month").dt.quarter() - 1) * 3 + 1, 1)
    step = "1mo" if period_type == "month" else "3mo"
    return (
        attainment.with_columns(start.alias("period_start"))
        .group_by("user_id", "period_start")
        .agg(
            # A quarter's quota is known only when every month in it has one.
            pl.when(pl.col("quota_usd").is_not_null().all()).then(pl.col("quota_usd").sum()).alias("quota_usd"),
            pl.col("credited_bookings_usd").sum(),
        )
        .with_columns(
            pl.lit(period_type).alias("period_type"),
            (pl.col("period_start").dt.offset_by(step) - pl.duration(days=1)).alias("period_end"),
        )
    )


def build_mart_rep_quota_attainment(attainment: pl.DataFrame, dim_sales_rep: pl.DataFrame) -> pl.DataFrame:
    """Attainment per rep by month and by quarter, and the roll-up to each manager.

    A rep belongs, for a period, to the assignment valid on the period's last day (their region,
    territory and manager then); a manager's row sums the quota and credited bookings of the reps
    assigned to them for that period.
    """
    periods = pl.concat([_period_rows(attainment, "month"), _period_rows(attainment, "quarter")])
    assignment = ["name", "title", "region", "territory", "manager_id", "manager_name"]
    reps = attribute_to_version(periods, dim_sales_rep, "user_id", pl.col("period_end"), assignment).with_columns(
        pl.lit("rep").alias("level"), pl.lit(1, dtype=pl.Int64).alias("reps")
    )
    managers = (
        reps.filter(pl.col("manager_id").is_not_null())
        .group_by("period_type", "period_start", "period_end", pl.col("manager_id").alias("user_id"))
        .agg(
            pl.len().cast(pl.Int64).alias("reps"),
            pl.when(pl.col("quota_usd").is_not_null().any()).then(pl.col("quota_usd").sum()).alias("quota_usd"),
            pl.col("credited_bookings_usd").sum(),
        )
    )
    managers = attribute_to_version(managers, dim_sales_rep, "user_id", pl.col("period_end"), assignment).with_columns(
        pl.lit("manager").alias("level")
    )
    columns = [c for c in MART_REP_ATTAINMENT_SCHEMA if c != "attainment_pct"]
    mart = pl.concat([reps.select(columns), managers.select(columns)]).with_columns(ratio("attainment_pct"))
    return _conform(mart, MART_REP_ATTAINMENT_SCHEMA).sort(
        "period_type", "period_start", "level", "region", "user_id", descending=[False, False, True, False, False]
    )


def month_end(month: date) -> date:
    """Last day of the month starting on ``month``."""
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return following - timedelta(days=1)
