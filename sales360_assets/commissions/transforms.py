"""The commission engine: credit, quota attainment, monthly statements. Pure Polars, no I/O.

1. **Credit** (``commissions/credit.py``, ``build_credit_lines``): every booked deal line is split
   between the account's team members valid on the booking date, by their credit split; the
   opportunity owner gets what a team does not cover (100 % when the account has no team), and a
   team over 100 % fails a blocking check instead of being scaled.
2. **Quota in USD** and 3. **Attainment** (``commissions/attainment.py``): quotas converted at
   the FX rate of the quota month; credited bookings of the month / quota × 100 (cancellations
   do not reduce it; they are settled as clawbacks); the month × quarter, rep × manager mart.
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

BOOKING, CLAWBACK, NO_CLAWBACK, CAP = "booking", "clawback", "cancellation_outside_clawback_window", "cap_adjustment"

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
