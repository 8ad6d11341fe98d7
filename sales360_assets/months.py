"""Calendar months as the platform counts them: a month is named by its first day.

The one definition of a month's first and last day, for commissions (booking and statement
months, closing), reports (periods, month-to-date pace) and the sample generator (monthly quotas).
Polars code uses the equivalent ``dt.month_start()`` / ``dt.month_end()`` expressions.
"""

from __future__ import annotations

from datetime import date, timedelta


def month_start(day: date) -> date:
    """The first day of ``day``'s month: the date that names the month."""
    return day.replace(day=1)


def next_month(day: date) -> date:
    """The first day of the month after ``day``'s."""
    return date(day.year + (day.month == 12), day.month % 12 + 1, 1)


def month_end(day: date) -> date:
    """The last day of ``day``'s month."""
    return next_month(day) - timedelta(days=1)
