"""Backtest of the weekly forecast over the last weeks of history, against the seasonal-naive baseline.

Fit on every complete week but the last ``BACKTEST_WEEKS``, forecast those weeks with the model and
with the baseline, and compare both with what happened. The "model" is the whole procedure the mart
uses — per-series selection on validation windows, then the chosen candidate — run on the earlier
weeks only, so the held-out weeks grade the choice without having made it:

* ``variance_usd``  = actual − forecast (positive: we sold more than forecast)
* ``variance_pct``  = variance_usd / forecast × 100
* ``ape_pct``       = |actual − forecast| / actual × 100 (absolute percentage error; null when actual is 0)
* MAPE              = mean of ``ape_pct`` over the series and weeks compared.

The backtest needs at least ``MIN_TRAIN_WEEKS`` weeks before the held-out ones.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.forecast import model
from sales360_assets.frames import conform

BACKTEST_WEEKS = 8
MIN_TRAIN_WEEKS = 1

MART_FORECAST_VS_ACTUAL_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),
    "series": pl.String(),
    "week_start": pl.Date(),
    "actual_usd": pl.Float64(),
    "forecast_usd": pl.Float64(),
    "lo_80_usd": pl.Float64(),
    "hi_80_usd": pl.Float64(),
    "variance_usd": pl.Float64(),
    "variance_pct": pl.Float64(),
    "ape_pct": pl.Float64(),
    "within_80_pct_interval": pl.Boolean(),
    "baseline_usd": pl.Float64(),
    "baseline_ape_pct": pl.Float64(),
    "model": pl.String(),
    "validation_mape_pct": pl.Float64(),
    "baseline_model": pl.String(),
    "train_weeks": pl.Int64(),
}

MAPE_SCHEMA: dict[str, pl.DataType] = {
    "level": pl.String(),
    "model": pl.String(),
    "baseline_model": pl.String(),
    "weeks": pl.Int64(),
    "model_mape_pct": pl.Float64(),
    "baseline_mape_pct": pl.Float64(),
}


def _ape(actual: str, predicted: str) -> pl.Expr:
    return pl.when(pl.col(actual) != 0).then((pl.col(actual) - pl.col(predicted)).abs() / pl.col(actual) * 100.0)


def backtest(series: pl.DataFrame, weeks: int = BACKTEST_WEEKS) -> pl.DataFrame:
    """Forecast vs actual for the held-out last ``weeks`` (empty when the history is too short)."""
    train, test = model.split_last_weeks(series, weeks)
    train_weeks = train["week_start"].n_unique()
    if train_weeks < MIN_TRAIN_WEEKS or test.height == 0:
        return pl.DataFrame(schema=MART_FORECAST_VS_ACTUAL_SCHEMA)
    keys = ["level", "series", "week_start"]
    fitted = model.forecast(train, horizon=weeks, levels=(80,))
    base = model.forecast(train, horizon=weeks, levels=(80,), baseline=True).select(
        *keys, pl.col("forecast_usd").alias("baseline_usd"), pl.col("model").alias("baseline_model")
    )
    compared = (
        test.rename({"revenue_usd": "actual_usd"})
        .join(fitted, on=keys, how="inner")
        .join(base, on=keys, how="inner")
        .with_columns(
            (pl.col("actual_usd") - pl.col("forecast_usd")).alias("variance_usd"),
            _ape("actual_usd", "forecast_usd").alias("ape_pct"),
            _ape("actual_usd", "baseline_usd").alias("baseline_ape_pct"),
            pl.col("actual_usd").is_between(pl.col("lo_80_usd"), pl.col("hi_80_usd")).alias("within_80_pct_interval"),
            pl.lit(train_weeks, pl.Int64).alias("train_weeks"),
        )
        .with_columns(
            pl.when(pl.col("forecast_usd") != 0)
            .then(pl.col("variance_usd") / pl.col("forecast_usd") * 100.0)
            .alias("variance_pct")
        )
    )
    return conform(compared, MART_FORECAST_VS_ACTUAL_SCHEMA).sort(keys)


def mape_by_level(compared: pl.DataFrame) -> pl.DataFrame:
    """MAPE of the model and of the baseline per level, and over every series ("all")."""
    if compared.height == 0:
        return pl.DataFrame(schema=MAPE_SCHEMA)
    aggregates = [
        # Selection can give each series of a level a different model: list them all.
        pl.col("model").unique().sort().str.join(", "),
        pl.col("baseline_model").first(),
        pl.col("week_start").n_unique().cast(pl.Int64).alias("weeks"),
        pl.col("ape_pct").mean().alias("model_mape_pct"),
        pl.col("baseline_ape_pct").mean().alias("baseline_mape_pct"),
    ]
    per_level = compared.group_by("level").agg(aggregates).sort("level")
    overall = compared.select(pl.lit("all").alias("level"), *aggregates)
    return conform(pl.concat([per_level, overall]), MAPE_SCHEMA)


def mape_by_series(compared: pl.DataFrame) -> pl.DataFrame:
    """Per series: the model selection chose, its validation MAPE, and the backtest MAPE of it and of the baseline.

    Set next to each other so a choice that validated well but missed the held-out weeks shows.
    """
    return (
        compared.group_by("level", "series")
        .agg(
            pl.col("model").first(),
            pl.col("validation_mape_pct").first(),
            pl.col("ape_pct").mean().alias("model_mape_pct"),
            pl.col("baseline_ape_pct").mean().alias("baseline_mape_pct"),
        )
        .sort("level", "series")
    )
