"""The weekly revenue forecast and its seasonal-naive baseline, with statsforecast.

The *model* a series could get depends on how much history it has (``weeks``, complete weeks):

* ≥ 2 years (``2 × SEASON``): ``MSTL`` — the yearly season (52 weeks) taken out by STL, the rest
  forecast by ``AutoETS`` (error/trend chosen by AICc), the season added back. Two full seasons are
  what STL needs to tell a season from noise.
* ≥ ``MIN_ETS_WEEKS``: ``AutoETS`` without a season (not enough history to estimate one).
* fewer: ``Naive`` (last week carried forward).

With more than a year and ``SELECTION_WEEKS`` of history, each series then gets whichever of that
model (sized to the shortest validation fit), ``SeasonalNaive`` and their average did best on its
own last validation windows (``selection``); the ``model`` column says which, and
``validation_mape_pct`` by how much.

Prediction intervals (80 % and 95 %) are the models' own; forecasts and lower bounds are floored
at 0 (revenue is never negative). The baseline is ``SeasonalNaive`` (the same week a year ago)
when there is a year of history, else ``Naive``.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import polars as pl

from sales360_assets.forecast import selection
from sales360_assets.forecast.series import as_statsforecast

SEASON = selection.SEASON
HORIZON = 13
LEVELS = (80, 95)
MIN_ETS_WEEKS = 8
MSTL_ETS = "mstl_autoets"
AUTO_ETS = "autoets"
NAIVE = "naive"
SEASONAL_NAIVE = selection.SEASONAL_NAIVE
ENSEMBLE = selection.ENSEMBLE

FORECAST_COLUMNS: dict[str, pl.DataType] = {
    "forecast_usd": pl.Float64(),
    "lo_80_usd": pl.Float64(),
    "hi_80_usd": pl.Float64(),
    "lo_95_usd": pl.Float64(),
    "hi_95_usd": pl.Float64(),
}

FORECAST_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),
    "series": pl.String(),
    "week_start": pl.Date(),
    **FORECAST_COLUMNS,
    "model": pl.String(),
    "validation_mape_pct": pl.Float64(),
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
    from statsforecast.models import Naive

    return selection.seasonal_naive() if weeks >= SEASON else Naive(alias=NAIVE)


def _predict(long: pl.DataFrame, models: list[Any], horizon: int, levels: tuple[int, ...]) -> pl.DataFrame:
    """Every candidate's forecast: (unique_id, ds, model, forecast and bounds), floored at 0."""
    from statsforecast import StatsForecast

    engine = StatsForecast(models=models, freq="1w", n_jobs=1)
    # Intervals need at least two observations (a residual to measure).
    level = list(levels) if long.group_by("unique_id").len()["len"].min() >= 2 else None
    wide = pl.DataFrame(engine.forecast(df=long, h=horizon, level=level))
    out = selection.by_candidate(wide, models, ["unique_id", "ds"], levels)
    floored = [pl.col(c).clip(lower_bound=0.0) for c in ("forecast_usd", *(f"lo_{v}_usd" for v in levels))]
    return out.with_columns(floored)


def _select(long: pl.DataFrame, weeks: int, baseline: bool) -> tuple[list[Any], pl.DataFrame]:
    """The models to fit and the chosen (unique_id, model, validation_mape_pct) per series.

    Selection runs on ``long`` only (see ``selection``); with too little history for a validation
    window, or for the baseline, there is one model and nothing to choose.
    """
    ids = long.select("unique_id").unique()
    if baseline or selection.validation_windows(weeks) == 0:
        only = baseline_for(weeks) if baseline else model_for(weeks)
        chosen = ids.with_columns(pl.lit(str(only.alias)).alias("model"), pl.lit(None, pl.Float64).alias("mape"))
        return [only], chosen.rename({"mape": "validation_mape_pct"})
    models = [model_for(selection.shortest_training(weeks)), selection.seasonal_naive()]
    errors = selection.validation_errors(long, models)
    chosen = selection.choose(errors, selection.candidate_order(models))
    # A series every candidate failed to score on keeps the model (the first candidate).
    missing = ids.join(chosen, on="unique_id", how="anti").with_columns(
        pl.lit(str(models[0].alias)).alias("model"), pl.lit(None, pl.Float64).alias("validation_mape_pct")
    )
    return models, pl.concat([chosen, missing])


def forecast(
    series: pl.DataFrame, horizon: int = HORIZON, levels: tuple[int, ...] = LEVELS, baseline: bool = False
) -> pl.DataFrame:
    """(level, series, week_start, forecast_usd, lo/hi bounds, model, validation_mape_pct) for ``horizon`` weeks.

    ``series``: WEEKLY_SERIES_SCHEMA rows (a regular grid). Each series gets the candidate chosen on
    its own validation windows (``selection``); ``baseline`` forecasts every series with the baseline.
    """
    if series.height == 0:
        return pl.DataFrame(schema=FORECAST_SCHEMA)
    weeks = series["week_start"].n_unique()
    long = as_statsforecast(series)
    models, chosen = _select(long, weeks, baseline)
    predicted = _predict(long, models, horizon, levels).join(chosen, on=["unique_id", "model"], how="inner")
    parts = pl.col("unique_id").str.splitn(":", 2)
    return predicted.select(
        parts.struct.field("field_0").alias("level"),
        parts.struct.field("field_1").alias("series"),
        pl.col("ds").cast(pl.Date).alias("week_start"),
        *FORECAST_COLUMNS,
        "model",
        "validation_mape_pct",
    ).sort("level", "series", "week_start")


def split_last_weeks(series: pl.DataFrame, weeks: int) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(train, test): every series' last ``weeks`` weeks held out."""
    last = series["week_start"].max()
    if last is None:
        return series, series
    first_test = last - timedelta(weeks=weeks - 1)
    return series.filter(pl.col("week_start") < first_test), series.filter(pl.col("week_start") >= first_test)
