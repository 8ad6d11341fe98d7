"""The weekly revenue forecast and its seasonal-naive baseline, with statsforecast.

Which model a series gets depends on how much history it has (``weeks``, complete weeks):

* ≥ 2 years (``2 × SEASON``): ``MSTL`` — the yearly season (52 weeks) taken out by STL, the rest
  forecast by ``AutoETS`` (error/trend chosen by AICc), the season added back. Two full seasons are
  what STL needs to tell a season from noise.
* ≥ ``MIN_ETS_WEEKS``: ``AutoETS`` without a season (not enough history to estimate one).
* fewer: ``Naive`` (last week carried forward).

Prediction intervals (80 % and 95 %) are the models' own; forecasts and lower bounds are floored
at 0 (revenue is never negative). The baseline is ``SeasonalNaive`` (the same week a year ago)
when there is a year of history, else ``Naive``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from sales360_assets.forecast.series import as_statsforecast

SEASON = 52
HORIZON = 13
LEVELS = (80, 95)
MIN_ETS_WEEKS = 8
MSTL_ETS = "mstl_autoets"
AUTO_ETS = "autoets"
NAIVE = "naive"
SEASONAL_NAIVE = "seasonal_naive"

FORECAST_COLUMNS: dict[str, pl.DataType] = {
    "forecast_usd": pl.Float64(),
    "lo_80_usd": pl.Float64(),
    "hi_80_usd": pl.Float64(),
    "lo_95_usd": pl.Float64(),
    "hi_95_usd": pl.Float64(),
}


def model_for(weeks: int) -> Any:
    """The forecasting model for a series with ``weeks`` of history (see the module docstring)."""
    from statsforecast.models import MSTL, AutoETS, Naive  # numba-compiled: imported when used

    if weeks >= 2 * SEASON:
        return MSTL(season_length=SEASON, trend_forecaster=AutoETS(model="ZZN"), alias=MSTL_ETS)
    if weeks >= MIN_ETS_WEEKS:
        return AutoETS(season_length=1, alias=AUTO_ETS)
    return Naive(alias=NAIVE)


def baseline_for(weeks: int) -> Any:
    from statsforecast.models import Naive, SeasonalNaive

    return SeasonalNaive(season_length=SEASON, alias=SEASONAL_NAIVE) if weeks >= SEASON else Naive(alias=NAIVE)


def _predict(long: pl.DataFrame, model: Any, horizon: int, levels: tuple[int, ...]) -> pl.DataFrame:
    from statsforecast import StatsForecast

    alias = str(model.alias)
    engine = StatsForecast(models=[model], freq="1w", n_jobs=1)
    # Intervals need at least two observations (a residual to measure).
    level = list(levels) if long.group_by("unique_id").len()["len"].min() >= 2 else None
    out = pl.DataFrame(engine.forecast(df=long, h=horizon, level=level))
    renamed = {alias: "forecast_usd"}
    for value in levels:
        renamed |= {f"{alias}-lo-{value}": f"lo_{value}_usd", f"{alias}-hi-{value}": f"hi_{value}_usd"}
    out = out.rename({k: v for k, v in renamed.items() if k in out.columns})
    for name in FORECAST_COLUMNS:
        if name not in out.columns:
            out = out.with_columns(pl.lit(None, pl.Float64).alias(name))
    floored = [pl.col(c).clip(lower_bound=0.0) for c in ("forecast_usd", *(f"lo_{v}_usd" for v in levels))]
    return out.with_columns(floored).with_columns(pl.lit(alias).alias("model"))


def forecast(
    series: pl.DataFrame, horizon: int = HORIZON, levels: tuple[int, ...] = LEVELS, baseline: bool = False
) -> pl.DataFrame:
    """(level, series, week_start, forecast_usd, lo/hi bounds, model) for the ``horizon`` weeks after the data.

    ``series``: WEEKLY_SERIES_SCHEMA rows (a regular grid). ``baseline`` forecasts with the baseline.
    """
    if series.height == 0:
        return pl.DataFrame(
            schema={"level": pl.String(), "series": pl.String(), "week_start": pl.Date(), **FORECAST_COLUMNS}
        ).with_columns(pl.lit(None, pl.String).alias("model"))
    weeks = series["week_start"].n_unique()
    model = baseline_for(weeks) if baseline else model_for(weeks)
    predicted = _predict(as_statsforecast(series), model, horizon, levels)
    parts = pl.col("unique_id").str.splitn(":", 2)
    return predicted.select(
        parts.struct.field("field_0").alias("level"),
        parts.struct.field("field_1").alias("series"),
        pl.col("ds").cast(pl.Date).alias("week_start"),
        *FORECAST_COLUMNS,
        "model",
    )


def split_last_weeks(series: pl.DataFrame, weeks: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, test): every series' last ``weeks`` weeks held out."""
    last = series["week_start"].max()
    if last is None:
        return series, series
    first_test = last - timedelta(weeks=weeks - 1)
    return series.filter(pl.col("week_start") < first_test), series.filter(pl.col("week_start") >= first_test)
