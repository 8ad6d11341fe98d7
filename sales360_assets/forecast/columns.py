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
    "actual_usd": "Net revenue in USD actually sold in the held-out week (mart_weekly_revenue.revenue_usd).",
    "variance_pct": "variance_usd / forecast_usd × 100 (positive: sold more than forecast); null when the forecast "
    "is 0.",
    "within_80_pct_interval": "true when actual_usd lies within [lo_80_usd, hi_80_usd], else false.",
    "baseline_ape_pct": "Absolute percentage error of the baseline: |actual_usd − baseline_usd| / actual_usd × 100; "
    "null when actual_usd is 0.",
    "baseline_model": "The baseline's model: seasonal_naive (≥ 52 training weeks) or naive.",
    "train_weeks": "Complete weeks the backtest was fitted on (every week before the held-out last 8).",
    "month": "First day of the calendar month (mart_rep_quota_attainment.period_start of month rows).",
    "key": "Row key: the region code (region rows) or the manager's user_id (team rows, dim_sales_rep.user_id).",
    "name": "Display name: the region code (region rows) or the manager's name (team rows).",
    "region": "Sales region code of the row (for a team, its manager's region).",
    "reps_with_quota": "Number of reps in the region or team with a quota for the month.",
    "days_in_month": "Calendar days in the month.",
    "days_elapsed": "Days of the month up to and including the latest sale date (capped at days_in_month).",
    "is_month_complete": "true when the latest sale date is on or after the month's last day (projection = "
    "actual); false for the month in progress.",
}
