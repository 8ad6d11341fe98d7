"""What the forecast tables' non-KPI columns mean: their series keys, intervals and model columns.

KPI columns are described by the glossary (``kpis/glossary.py``); the
forecast assets (``forecast/assets.py``) add these, so every column has a description in the catalogue.
"""

from __future__ import annotations

COLUMN_DOCS: dict[str, str] = {
    "level": "region | segment | total (forecast); region | team (team vs target).",
    "series": "The region code, the customer segment, or 'all' (total).",
    "week_start": "Monday of the week (weeks run Monday–Sunday; only complete weeks).",
    "lo_80_usd": "Lower bound of the 80 % prediction interval (floored at 0).",
    "hi_80_usd": "Upper bound of the 80 % prediction interval.",
    "lo_95_usd": "Lower bound of the 95 % prediction interval (floored at 0).",
    "hi_95_usd": "Upper bound of the 95 % prediction interval.",
    "model": "statsforecast model chosen for the series on validation windows before the data's end: "
    "mstl_autoets (≥ 2 years), autoets (≥ 8 weeks) or naive, seasonal_naive, or ensemble (their average).",
    "validation_mape_pct": "MAPE of the chosen model over the validation windows it was chosen on (null: no choice).",
    "baseline_usd": "Seasonal-naive forecast (the same week a year earlier; naive with less than a year).",
    "projected_bookings_usd": "Run-rate month-end bookings: credited × days_in_month / days_elapsed.",
}
