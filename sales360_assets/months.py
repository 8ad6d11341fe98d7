"""Calendar months as the platform counts them: a month is named by its first day.

The one definition of a month's first and last day, for commissions (booking and statement
months, closing), reports (periods, month-to-date pace) and the sample generator (monthly quotas).
Polars code uses the equivalent ``dt.month_start()`` / ``dt.month_end()`` expressions.
"""

from __future__ import annotations

from collections.abc import Mapping
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


def month_spans(start: date, end: date, rows_by_month: Mapping[date, int], max_rows: int) -> list[tuple[date, date]]:
    """[start, end] cut into spans of consecutive calendar months holding at most ``max_rows`` rows each.

    ``rows_by_month`` counts rows by the month's first day (a month not in it holds none). A month
    holding more than ``max_rows`` is the only month with rows in its span. The first span starts
    and the last ends where the range does. For work done a span at a time: a small history is
    one span (one pass, whatever its length), a large one as many as its size needs, and no span
    holds more than ``max_rows`` rows or one month's.
    """
    spans: list[tuple[date, date]] = []
    first, rows, month = start, 0, month_start(start)
    while month <= end:
        in_month = rows_by_month.get(month, 0)
        if rows and in_month and rows + in_month > max_rows:
            spans.append((first, month - timedelta(days=1)))
            first, rows = month, 0
        rows += in_month
        month = next_month(month)
    if start <= end:
        spans.append((first, end))
    return spans
