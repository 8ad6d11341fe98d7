"""The commission engine: credit, quota attainment, monthly statements. Pure Polars, no I/O.

1. **Credit** (``commissions/credit.py``, ``build_credit_lines``): every booked deal line is split
   between the account's team members valid on the booking date, by their credit split; the
   opportunity owner gets what a team does not cover (100 % when the account has no team), and a
   team over 100 % fails a blocking check instead of being scaled.
2. **Quota in USD** (``quotas_in_usd``): quotas are set in the rep's region currency and
   converted at the FX rate of the quota month — the latest rate published on or before its first
   day (at most ``FX_MAX_STALENESS_DAYS`` old), else the month's first published rate — so a
   month's target does not move with the currency while the month runs.
3. **Attainment** (``build_monthly_attainment``): credited bookings of the month / quota × 100.
   Cancellations do not reduce attainment; they are settled as clawbacks.
4. **Statements** (``build_statement_lines``, ``build_statements``): each credited booking line
   earns ``credited × base rate of its product family × the month's accelerator multiplier``;
   the month's total is capped (a ``cap_adjustment`` line); a deal cancelled within the clawback
   window of its booking gives back exactly what its lines earned — in the month of the
   cancellation, never by rewriting the month that paid it.
"""

from __future__ import annotations

from datetime import date, timedelta

import polars as pl

from sales360_assets.commissions.plan import CommissionPlan
from sales360_assets.core.scd import attribute_to_version
from sales360_assets.kpis import ratio
from sales360_assets.settings import FX_MAX_STALENESS_DAYS

BOOKING, CLAWBACK, NO_CLAWBACK, CAP = "booking", "clawback", "cancellation_outside_clawback_window", "cap_adjustment"

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

STATEMENT_LINE_SCHEMA: dict[str, pl.DataType] = {
    "statement_month": pl.Date(),
    "user_id": pl.String(),
    "line_type": pl.String(),
    "opportunity_id": pl.String(),
    "booking_line_id": pl.String(),
    "sales_line_id": pl.String(),
    "web_order_id": pl.String(),
    "account_id": pl.String(),
    "booking_date": pl.Date(),
    "cancelled_date": pl.Date(),
    "days_booked_to_cancelled": pl.Int64(),
    "product_family": pl.String(),
    "credit_split_pct": pl.Float64(),
    "booking_amount_usd": pl.Float64(),
    "credited_amount_usd": pl.Float64(),
    "base_rate_pct": pl.Float64(),
    "rate_month": pl.Date(),  # the month whose attainment set the multiplier (the booking month)
    "attainment_pct": pl.Float64(),
    "accelerator_multiplier": pl.Float64(),
    "commission_usd": pl.Float64(),
    "note": pl.String(),
}

STATEMENT_SCHEMA: dict[str, pl.DataType] = {
    "statement_month": pl.Date(),
    "user_id": pl.String(),
    "name": pl.String(),
    "title": pl.String(),
    "region": pl.String(),
    "manager_name": pl.String(),
    "plan_name": pl.String(),
    "bookings_usd": pl.Float64(),
    "credited_bookings_usd": pl.Float64(),
    "quota_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
    "accelerator_band": pl.String(),
    "accelerator_multiplier": pl.Float64(),
    "commission_usd": pl.Float64(),
    "effective_rate_pct": pl.Float64(),
    "cap_adjustment_usd": pl.Float64(),
    "clawback_usd": pl.Float64(),
    "payout_usd": pl.Float64(),
    "booking_lines": pl.Int64(),
    "clawback_lines": pl.Int64(),
}


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


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


# --- statements --------------------------------------------------------------------------------


def build_statement_lines(credit_lines: pl.DataFrame, attainment: pl.DataFrame, plan: CommissionPlan) -> pl.DataFrame:
    """Every line of every monthly statement, traceable to the deal (module docstring, step 4)."""
    rate_of_month = attainment.select(
        "user_id",
        pl.col("month").alias("booking_month"),
        "attainment_pct",
        plan.multiplier_expr(pl.col("attainment_pct")).alias("accelerator_multiplier"),
    )
    earned = (
        credit_lines.join(rate_of_month, on=["user_id", "booking_month"], how="left")
        .with_columns(
            # A booking month nobody set a quota for earns the no-quota multiplier.
            pl.col("accelerator_multiplier").fill_null(plan.no_quota_multiplier),
            plan.base_rate_expr(pl.col("product_family")).alias("base_rate_pct"),
            pl.col("booking_month").alias("rate_month"),
        )
        .with_columns(
            (pl.col("credited_amount_usd") * pl.col("base_rate_pct") / 100.0 * pl.col("accelerator_multiplier")).alias(
                "_earned"
            )
        )
    )
    # The share of the month's commission actually paid after the cap: a clawback gives back what
    # was paid, not what would have been paid without the cap.
    month_total = earned.group_by("user_id", "booking_month").agg(pl.col("_earned").sum().alias("_month_earned"))
    cap = plan.monthly_cap_usd
    if cap is None:
        paid_share = pl.lit(1.0)
    else:
        paid_share = pl.when(pl.col("_month_earned") > cap).then(cap / pl.col("_month_earned")).otherwise(1.0)
    earned = earned.join(month_total, on=["user_id", "booking_month"], how="left").with_columns(
        paid_share.alias("_paid_share")
    )

    bookings = earned.with_columns(
        pl.col("booking_month").alias("statement_month"),
        pl.lit(BOOKING).alias("line_type"),
        pl.col("_earned").alias("commission_usd"),
        pl.lit(None, dtype=pl.String).alias("note"),
    )
    cancelled = earned.filter(pl.col("is_cancelled").fill_null(False) & pl.col("cancelled_date").is_not_null())
    inside = pl.col("days_booked_to_cancelled") <= plan.clawback_window_days
    clawbacks = cancelled.with_columns(
        pl.col("cancellation_month").alias("statement_month"),
        pl.when(inside).then(pl.lit(CLAWBACK)).otherwise(pl.lit(NO_CLAWBACK)).alias("line_type"),
        (-pl.col("credited_amount_usd")).alias("credited_amount_usd"),
        pl.when(inside).then(-pl.col("_earned") * pl.col("_paid_share")).otherwise(0.0).alias("commission_usd"),
        pl.format(
            "cancelled {} days after booking; clawback window {} days",
            pl.col("days_booked_to_cancelled"),
            pl.lit(plan.clawback_window_days),
        ).alias("note"),
    )
    caps = (month_total.filter(pl.col("_month_earned") > cap) if cap is not None else month_total.clear()).select(
        pl.col("booking_month").alias("statement_month"),
        "user_id",
        pl.lit(CAP).alias("line_type"),
        (pl.lit(cap if cap is not None else 0.0) - pl.col("_month_earned")).alias("commission_usd"),
        pl.format("monthly cap {} USD", pl.lit(cap)).alias("note"),
    )
    lines = pl.concat(
        [
            bookings.select([c for c in STATEMENT_LINE_SCHEMA if c in bookings.columns]),
            clawbacks.select([c for c in STATEMENT_LINE_SCHEMA if c in clawbacks.columns]),
            caps,
        ],
        how="diagonal_relaxed",
    )
    order = {BOOKING: 0, CLAWBACK: 1, NO_CLAWBACK: 2, CAP: 3}
    return (
        _conform(lines, STATEMENT_LINE_SCHEMA)
        .with_columns(pl.col("line_type").replace_strict(order, return_dtype=pl.Int8).alias("_order"))
        .sort("statement_month", "user_id", "_order", "booking_date", "booking_line_id", nulls_last=True)
        .drop("_order")
    )


def build_statements(
    statement_lines: pl.DataFrame, attainment: pl.DataFrame, dim_sales_rep: pl.DataFrame, plan: CommissionPlan
) -> pl.DataFrame:
    """One statement per rep and month: bookings, credited amount, attainment, rate applied,
    commission, adjustments (cap, clawbacks) and payout. Months with a quota but no lines appear
    too, paying 0."""
    kind = pl.col("line_type")
    money = pl.col("commission_usd")
    totals = statement_lines.group_by("user_id", "statement_month").agg(
        pl.col("booking_amount_usd").filter(kind == BOOKING).sum().alias("bookings_usd"),
        money.filter(kind == BOOKING).sum().alias("commission_usd"),
        money.filter(kind == CAP).sum().alias("cap_adjustment_usd"),
        money.filter(kind == CLAWBACK).sum().alias("clawback_usd"),
        (kind == BOOKING).sum().cast(pl.Int64).alias("booking_lines"),
        kind.is_in([CLAWBACK, NO_CLAWBACK]).sum().cast(pl.Int64).alias("clawback_lines"),
    )
    months = attainment.select(
        "user_id",
        pl.col("month").alias("statement_month"),
        "quota_usd",
        "attainment_pct",
        pl.col("credited_bookings_usd"),
    )
    statements = (
        months.join(totals, on=["user_id", "statement_month"], how="full", coalesce=True)
        .with_columns(
            pl.col(
                "bookings_usd", "credited_bookings_usd", "commission_usd", "cap_adjustment_usd", "clawback_usd"
            ).fill_null(0.0),
            pl.col("booking_lines", "clawback_lines").fill_null(0),
            plan.band_label_expr(pl.col("attainment_pct")).alias("accelerator_band"),
            plan.multiplier_expr(pl.col("attainment_pct")).alias("accelerator_multiplier"),
            pl.lit(plan.name).alias("plan_name"),
        )
        .with_columns(
            pl.when(pl.col("credited_bookings_usd") != 0)
            .then(pl.col("commission_usd") / pl.col("credited_bookings_usd") * 100.0)
            .alias("effective_rate_pct"),
            (pl.col("commission_usd") + pl.col("cap_adjustment_usd") + pl.col("clawback_usd")).alias("payout_usd"),
            (pl.col("statement_month").dt.offset_by("1mo") - pl.duration(days=1)).alias("_month_end"),
        )
    )
    statements = attribute_to_version(
        statements, dim_sales_rep, "user_id", pl.col("_month_end"), ["name", "title", "region", "manager_name"]
    )
    return _conform(statements, STATEMENT_SCHEMA).sort("statement_month", "region", "user_id", nulls_last=True)


def month_end(month: date) -> date:
    """Last day of the month starting on ``month``."""
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return following - timedelta(days=1)
