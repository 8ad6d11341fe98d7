"""Sales credit: who is credited with how much of each booked deal line. Pure Polars, no I/O.

Every booked deal line (``fact_booking_line``) is split between the account's team members valid
on the booking date (``bridge_account_team``), by their credit split; an account without a team
credits the deal owner with 100 %.

Splits are meant to sum to 100 per account and period, so that the credited amounts of a line
add back to the line. When the CRM disagrees:

* **Under 100 % — the owner gets the remainder.** A team covering 80 % credits the other 20 % to
  the opportunity owner, as a line of its own (``credit_source`` = ``OWNER_REMAINDER``, role
  "Opportunity Owner"), so no part of a deal is credited to nobody. An owner who is also on the
  team gets the remainder as a second line (``credit_line_id`` ends in ``|remainder``).
* **Over 100 % — nothing is scaled.** A 70 % + 40 % team credits 110 %; scaling it down would
  silently decide whose credit is wrong. The lines are kept as the CRM says, and the blocking
  checks on ``bridge_account_team`` and ``commission_credit_lines``
  (``checks/commission_credit.py``) fail and list the offenders (``unbalanced_team_periods``,
  ``unreconciled_booking_lines``), so no statement is paid from them until the team is fixed in
  Salesforce.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import conform

ACCOUNT_TEAM, DEAL_OWNER = "account team", "deal owner (account has no team)"
OWNER_REMAINDER = "owner remainder"
OWNER_ROLE = "Opportunity Owner"
# Splits are percentages with at most a few decimals; anything closer to 100 than this is 100.
SPLIT_TOLERANCE_PCT = 1e-6
# Credited amounts are floats; a line reconciles when they add back within a hundredth of a cent.
AMOUNT_TOLERANCE_USD = 1e-4

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


def _owner_credit(lines: pl.DataFrame, split_pct: pl.Expr, source: str) -> pl.DataFrame:
    return lines.with_columns(
        pl.col("owner_id").alias("user_id"),
        pl.lit(OWNER_ROLE).alias("team_member_role"),
        split_pct.alias("credit_split_pct"),
        pl.lit(source).alias("credit_source"),
    ).drop("owner_id")


def build_credit_lines(booking_lines: pl.DataFrame, bridge: pl.DataFrame) -> pl.DataFrame:
    """One row per booked deal line and credited team member (see the module docstring)."""
    lines = booking_lines.with_columns(pl.col("net_amount_usd").alias("booking_amount_usd"))
    team = bridge.select("account_id", "valid_from", "valid_to", "user_id", "team_member_role", "credit_split_pct")
    by_team = (
        lines.drop("owner_id")
        .join(team, on="account_id", how="inner")
        .filter(pl.col("valid_from") <= pl.col("booking_date"), pl.col("booking_date") < pl.col("valid_to"))
        .with_columns(pl.lit(ACCOUNT_TEAM).alias("credit_source"))
    )
    covered = by_team.group_by("booking_line_id").agg(pl.col("credit_split_pct").sum().alias("_team_pct"))
    by_owner = _owner_credit(lines.join(covered, on="booking_line_id", how="anti"), pl.lit(100.0), DEAL_OWNER)
    remainder = _owner_credit(
        lines.join(covered.filter(pl.col("_team_pct") < 100.0 - SPLIT_TOLERANCE_PCT), on="booking_line_id"),
        100.0 - pl.col("_team_pct"),
        OWNER_REMAINDER,
    )
    columns = [c for c in by_team.columns if c not in ("valid_from", "valid_to")]
    user_key = pl.col("user_id").fill_null("<none>")
    credits = pl.concat([by_team.select(columns), by_owner.select(columns), remainder.select(columns)]).with_columns(
        pl.when(pl.col("credit_source") == OWNER_REMAINDER)
        .then(pl.concat_str([pl.col("booking_line_id"), user_key, pl.lit("remainder")], separator="|"))
        .otherwise(pl.concat_str([pl.col("booking_line_id"), user_key], separator="|"))
        .alias("credit_line_id"),
        pl.col("booking_date").dt.month_start().alias("booking_month"),
        pl.col("cancelled_date").dt.month_start().alias("cancellation_month"),
        (pl.col("booking_amount_usd") * pl.col("credit_split_pct") / 100.0).alias("credited_amount_usd"),
    )
    return conform(credits, CREDIT_LINE_SCHEMA).sort("booking_date", "booking_line_id", "credit_source", "user_id")


def unreconciled_booking_lines(credit_lines: pl.DataFrame) -> pl.DataFrame:
    """Booking lines whose credited amounts do not add back to the booking amount, with their split sum."""
    per_line = credit_lines.group_by("booking_line_id").agg(
        pl.col("booking_amount_usd").first(),
        pl.col("credited_amount_usd").sum(),
        pl.col("credit_split_pct").sum().alias("split_sum_pct"),
    )
    off = (pl.col("credited_amount_usd") - pl.col("booking_amount_usd")).abs() > AMOUNT_TOLERANCE_USD
    return per_line.filter(off).sort("booking_line_id")


def unbalanced_team_periods(bridge: pl.DataFrame) -> pl.DataFrame:
    """Account × validity period whose team splits do not sum to 100, with the members' splits."""
    return (
        bridge.sort("account_id", "valid_from", "user_id")
        .group_by("account_id", "valid_from", "valid_to", maintain_order=True)
        .agg(
            pl.col("credit_split_pct").sum().alias("split_sum_pct"),
            pl.format("{} {}", pl.col("user_id"), pl.col("credit_split_pct")).str.join(", ").alias("members"),
        )
        .filter((pl.col("split_sum_pct") - 100.0).abs() > SPLIT_TOLERANCE_PCT)
        .sort("account_id", "valid_from")
    )
