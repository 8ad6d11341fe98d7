"""Which dates the sales team report covers, from a period request.

Requests (run config ``period`` of ``sales_team_report``, or ``sales360 report --period``):

* ``latest`` (default): the latest complete calendar month in the data, else the latest
  complete ISO week, else the whole window;
* ``week`` / ``month`` / ``quarter`` / ``year``: the latest complete period of that kind;
* ``all``: the whole history the marts hold;
* a named period: ``2025`` (a year), ``2025-Q3`` (a quarter), ``2025-10`` (a month).

Each period is compared with the period of the same kind just before it, when the data covers
that one in full. A request the data cannot answer is a ``PeriodRequestError`` that says which
periods the data does cover.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from sales360_assets.months import month_start

KINDS = ("week", "month", "quarter", "year")
REQUEST_HELP = "latest, week, month, quarter, year, all, YYYY, YYYY-Qn or YYYY-MM"


class PeriodRequestError(ValueError):
    """A report period that is malformed or that the data does not cover in full."""


@dataclass(frozen=True)
class ReportPeriod:
    kind: str  # "week" | "month" | "quarter" | "year" | "all" | "window"
    start: date
    end: date  # inclusive
    previous: tuple[date, date] | None  # the period before, when the data covers it
    requested: str = "latest"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return self.start.strftime("%B %Y")
        if self.kind == "week":
            year, week, _ = self.start.isocalendar()
            return f"week {week} of {year} ({self.start:%d %b} – {self.end:%d %b %Y})"
        if self.kind == "quarter":
            return f"Q{(self.start.month - 1) // 3 + 1} {self.start.year}"
        if self.kind == "year":
            return str(self.start.year)
        if self.kind == "all":
            return f"all history ({self.start:%d %b %Y} – {self.end:%d %b %Y})"
        return f"{self.start:%d %b %Y} – {self.end:%d %b %Y}"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def scope(self) -> str:
        """How the period was chosen, for the report's scope line."""
        if self.kind == "window":
            return "the whole window: the data covers no complete week yet"
        if self.requested in ("latest", *KINDS):
            return f"the latest complete {self.kind} in the data"
        if self.kind == "all":
            return "the whole history in the data"
        return f"{self.kind} requested"


def _bounds(kind: str, day: date) -> tuple[date, date]:
    """The period of ``kind`` that contains ``day``."""
    if kind == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    if kind == "month":
        start = month_start(day)
    elif kind == "quarter":
        start = date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    else:
        start = date(day.year, 1, 1)
    months = {"month": 1, "quarter": 3, "year": 12}[kind]
    year, month = divmod(start.month - 1 + months, 12)
    return start, date(start.year + year, month + 1, 1) - timedelta(days=1)


def _with_previous(kind: str, start: date, end: date, first_day: date, requested: str) -> ReportPeriod:
    previous = _bounds(kind, start - timedelta(days=1))
    return ReportPeriod(kind, start, end, previous if previous[0] >= first_day else None, requested)


def _latest_complete(kind: str, first_day: date, last_day: date) -> tuple[date, date] | None:
    start, end = _bounds(kind, last_day)
    if end != last_day:  # the period holding the last day is not over: take the one before
        start, end = _bounds(kind, start - timedelta(days=1))
    return (start, end) if start >= first_day else None


def _named(request: str) -> tuple[str, date] | None:
    """``2025`` → (year, 1 Jan 2025); ``2025-Q3`` → (quarter, 1 Jul); ``2025-10`` → (month, 1 Oct).

    Years 1–9998 only: a period must end on a real date (9999-12 would end in year 10000).
    """
    if re.match(r"\d{4}", request) and not 1 <= int(request[:4]) <= 9998:
        return None
    if re.fullmatch(r"\d{4}", request):
        return "year", date(int(request), 1, 1)
    if match := re.fullmatch(r"(\d{4})-Q([1-4])", request, flags=re.IGNORECASE):
        return "quarter", date(int(match[1]), 3 * (int(match[2]) - 1) + 1, 1)
    if (match := re.fullmatch(r"(\d{4})-(\d{2})", request)) and 1 <= int(match[2]) <= 12:
        return "month", date(int(match[1]), int(match[2]), 1)
    return None


def check_request(request: str) -> str:
    """The request, stripped, if it is well formed (whether the data covers it is known only later)."""
    text = (request or "latest").strip()
    if text.lower() not in ("latest", "all", *KINDS) and _named(text.lower()) is None:
        raise PeriodRequestError(f"report period {text!r} is not one of: {REQUEST_HELP}")
    return text


def resolve_period(request: str, first_day: date, last_day: date) -> ReportPeriod:
    """The report period for ``request`` over data covering ``first_day``..``last_day``."""
    text = (request or "latest").strip()
    request = text.lower()
    covered = f"the data covers {first_day} to {last_day}"
    if request == "latest":
        for kind in ("month", "week"):
            if found := _latest_complete(kind, first_day, last_day):
                return _with_previous(kind, *found, first_day, request)
        return ReportPeriod("window", first_day, last_day, None, request)
    if request == "all":
        return ReportPeriod("all", first_day, last_day, None, request)
    if request in KINDS:
        if found := _latest_complete(request, first_day, last_day):
            return _with_previous(request, *found, first_day, request)
        raise PeriodRequestError(f"no complete {request} in the data ({covered}); try a shorter period or 'all'")
    named = _named(request)
    if named is None:
        raise PeriodRequestError(f"report period {text!r} is not one of: {REQUEST_HELP}")
    kind, start = named
    start, end = _bounds(kind, start)
    if start < first_day or end > last_day:
        raise PeriodRequestError(f"{text} is not complete in the data ({covered}); pick a period inside it")
    return _with_previous(kind, start, end, first_day, request)
