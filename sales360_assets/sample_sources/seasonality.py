"""When people buy: the weekly rhythm, the month level, holidays and the hours of the day.

``seasonal_weight`` scales the number of orders and store transactions of each day; the hour
profiles spread them over the day (local time).
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from sales360_assets.sample_sources.reference_data import split_list

_WEEKDAY_WEIGHT: dict[str, tuple[float, ...]] = {
    # Monday .. Sunday. Stores peak on Saturday; online peaks Sunday/Monday (evenings, see hours).
    "pos": (0.78, 0.74, 0.82, 0.92, 1.15, 1.65, 0.94),
    "web": (1.18, 1.00, 0.96, 0.95, 0.88, 0.86, 1.22),
}
# January .. December: the January slump, the run-up to the holidays.
_MONTH_WEIGHT = (0.72, 0.80, 0.92, 0.95, 1.00, 0.97, 0.95, 0.93, 0.97, 1.00, 1.10, 1.25)
# Relative volume per local hour 0..23. The web never sleeps but peaks in the evening; stores sell
# only while open (the store's own hours cut this further), Saturdays busier in the afternoon.
WEB_HOURS = np.array(
    split_list(
        "0.25 0.15 0.1 0.08 0.08 0.12 0.25 0.45 0.65 0.8 0.9 0.95 1 0.95 0.9 0.9 0.95 1.05 1.25 1.55 1.75 1.7 1.3 0.7",
        " ",
    ),
    dtype=float,
)
POS_HOURS = np.array(
    split_list("0 0 0 0 0 0 0 0 0 0.6 0.85 1.05 1.35 1.3 1 0.95 1.1 1.35 1.3 0.95 0.6 0.4 0 0", " "), dtype=float
)
POS_HOURS_SATURDAY = np.array(
    split_list("0 0 0 0 0 0 0 0 0 0.5 0.9 1.2 1.35 1.4 1.45 1.45 1.4 1.3 1.1 0.8 0.5 0.3 0 0", " "), dtype=float
)


def black_friday(year: int) -> date:
    """The day after the fourth Thursday of November."""
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def seasonal_weight(day: date, region: str, channel: str) -> float:
    """Relative sales volume of one day in a region and channel ("web" or "pos").

    Weekly rhythm × month level × holiday effects: Black Friday / Cyber Monday, the December
    run-up, Christmas closures, the January slump, Japanese New Year sales and Golden Week.
    """
    pos = channel == "pos"
    weight = _WEEKDAY_WEIGHT[channel][day.weekday()] * _MONTH_WEIGHT[day.month - 1]
    bf = black_friday(day.year)
    if day == bf:
        weight *= {"na": 3.2, "uk": 2.4, "emea": 2.0, "apac": 1.3}[region] * (1.0 if pos else 1.1)
    elif day == bf + timedelta(days=3):
        weight *= {"na": 2.8, "uk": 2.0, "emea": 1.8, "apac": 1.2}[region] if not pos else 1.1
    elif bf - timedelta(days=3) <= day <= bf + timedelta(days=7):
        weight *= 1.25
    if day.month == 12 and region != "apac":
        if day.day <= 23:
            weight *= 1.0 + 0.6 * day.day / 23
        elif day.day == 24:
            weight *= 1.2 if pos else 0.6
        elif day.day == 25:
            weight *= 0.05 if pos else 0.5
        elif day.day == 26:
            weight *= {"uk": 1.8, "na": 1.3, "emea": 0.6}[region]
        else:
            weight *= 1.1
    elif day.month == 12:
        weight *= 1.0 + 0.3 * min(day.day, 28) / 28
    if day.month == 1 and day.day == 1:
        weight *= 0.25
    elif day.month == 1 and day.day <= 3 and region == "apac":
        weight *= 1.6  # hatsuuri, Japanese New Year sales
    if region == "apac" and ((day.month == 4 and day.day >= 29) or (day.month == 5 and day.day <= 5)):
        weight *= 1.5  # Golden Week
    return weight


def promo_day(day: date) -> bool:
    """Black Friday week (three days before to four after) and from Boxing Day: web discounts are three times as common."""
    bf = black_friday(day.year)
    return bf - timedelta(days=3) <= day <= bf + timedelta(days=4) or (day.month == 12 and day.day >= 26)
