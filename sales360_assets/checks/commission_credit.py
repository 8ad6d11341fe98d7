"""Commission credit rules: team splits sum to 100 %, and credited amounts add back to each booking.

Evaluated on one table each (``TABLE_RULES``): ``bridge_account_team`` and
``commission_credit_lines``. The arithmetic is in ``commissions/credit.py``; this says what a
failure means and names the first offenders. Pure Polars.
"""

from collections.abc import Callable

import polars as pl

from sales360_assets.checks.findings import Finding
from sales360_assets.commissions.credit import unbalanced_team_periods, unreconciled_booking_lines

OFFENDERS_IN_DESCRIPTION = 5


def _first_offenders(failing: pl.DataFrame, key: pl.Expr) -> str:
    shown = failing.head(OFFENDERS_IN_DESCRIPTION).select(key).to_series().to_list()
    more = f" and {failing.height - len(shown)} more" if failing.height > len(shown) else ""
    return ", ".join(shown) + more


def team_splits_sum_to_100(bridge: pl.DataFrame) -> Finding:
    """Per account and validity period, the team's credit splits sum to 100.

    Over 100 is an error (its deals would be credited more than they are worth, and credit is
    never scaled); under 100 only warns: the opportunity owner is credited the remainder
    (commissions/credit.py), so commissions stay right while Sales Ops fixes the team.
    """
    failing = unbalanced_team_periods(bridge)
    over = failing.filter(pl.col("split_sum_pct") > 100.0)
    finding = Finding(
        "splits_sum_to_100",
        "credit splits sum to 100 % per account and validity period",
        failing,
        {"periods_over_100": over.height, "periods_under_100": failing.height - over.height},
        warn_only=over.height == 0,
    )
    if not failing.height:
        return finding
    label = pl.format("{} from {}: {} %", pl.col("account_id"), pl.col("valid_from"), pl.col("split_sum_pct"))
    return finding.with_note(f"offending periods: {_first_offenders(failing, label)}")


def credits_add_back(credit_lines: pl.DataFrame) -> Finding:
    """Per booking line, the credited amounts add back to the booking amount (nothing credited twice or lost)."""
    failing = unreconciled_booking_lines(credit_lines)
    finding = Finding(
        "credits_add_back_to_booking",
        "per booking line, sum(credited_amount_usd) = booking_amount_usd",
        failing,
        {
            "booking_lines": credit_lines["booking_line_id"].n_unique() if credit_lines.height else 0,
            "unreconciled_lines": failing.height,
            "over_credited_usd": float((failing["credited_amount_usd"] - failing["booking_amount_usd"]).sum()),
        },
    )
    if not failing.height:
        return finding
    label = pl.format("{} (splits {} %)", pl.col("booking_line_id"), pl.col("split_sum_pct"))
    return finding.with_note(f"offending lines: {_first_offenders(failing, label)}")


# asset -> checks computed from the asset's table alone (name, evaluation)
TABLE_RULES: dict[str, tuple[tuple[str, Callable[[pl.DataFrame], Finding]], ...]] = {
    "bridge_account_team": (("splits_sum_to_100", team_splits_sum_to_100),),
    "commission_credit_lines": (("credits_add_back_to_booking", credits_add_back),),
}
