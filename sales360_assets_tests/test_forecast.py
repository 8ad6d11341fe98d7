"""Weekly series, forecast, backtest and team vs target on hand-made series; MAPE against seasonal naive."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest

from sales360_assets.forecast import backtest, model, selection, series, team
from sales360_assets.sample_sources.seasonality import seasonal_weight
from sales360_assets_tests.analytics_builders import customers

CUSTOMERS = customers([("c1", "Consumer", "na"), ("c2", "Corporate", "emea")])


def sales(rows: list[tuple[date, str, str, float]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["date", "region", "customer_key", "net_amount_usd"], orient="row")


def weekly(values: list[float], first_monday: date = date(2026, 1, 5)) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "level": ["total"] * len(values),
            "series": ["all"] * len(values),
            "week_start": [first_monday + timedelta(weeks=i) for i in range(len(values))],
            "revenue_usd": values,
        }
    )


def test_weekly_revenue_keeps_complete_weeks_and_fills_empty_ones_with_zero() -> None:
    fact = sales(
        [
            (date(2026, 3, 4), "na", "c1", 999.0),  # Wednesday: its week is incomplete
            (date(2026, 3, 10), "na", "c1", 100.0),
            (date(2026, 3, 15), "na", "c2", 50.0),  # Sunday: same week
            (date(2026, 3, 12), "emea", "anon", 20.0),
            (date(2026, 3, 22), "na", "c1", 5.0),  # Sunday: the last week is complete
        ]
    )
    got = {
        (r["level"], r["series"], r["week_start"]): r["revenue_usd"]
        for r in series.weekly_revenue(fact, CUSTOMERS).iter_rows(named=True)
    }
    w1, w2 = date(2026, 3, 9), date(2026, 3, 16)
    assert got == {
        ("region", "na", w1): 150.0,
        ("region", "na", w2): 5.0,
        ("region", "emea", w1): 20.0,
        ("region", "emea", w2): 0.0,
        ("segment", "Consumer", w1): 100.0,
        ("segment", "Consumer", w2): 5.0,
        ("segment", "Corporate", w1): 50.0,
        ("segment", "Corporate", w2): 0.0,
        ("segment", "Unknown", w1): 20.0,
        ("segment", "Unknown", w2): 0.0,
        ("total", "all", w1): 170.0,
        ("total", "all", w2): 5.0,
    }


def test_a_short_series_is_forecast_naively_for_thirteen_mondays() -> None:
    got = model.forecast(weekly([100.0, 120.0, 140.0]))
    assert got.height == model.HORIZON
    assert got["week_start"].to_list() == [date(2026, 1, 26) + timedelta(weeks=i) for i in range(13)]
    assert got["forecast_usd"].to_list() == pytest.approx([140.0] * 13)
    assert set(got["model"]) == {model.NAIVE}
    first = got.row(0, named=True)
    assert first["lo_95_usd"] <= first["lo_80_usd"] <= first["forecast_usd"] <= first["hi_80_usd"] <= first["hi_95_usd"]


def test_the_model_follows_the_history_available() -> None:
    assert model.model_for(3).alias == model.NAIVE
    assert model.model_for(model.MIN_ETS_WEEKS).alias == model.AUTO_ETS
    assert model.model_for(2 * model.SEASON).alias == model.MSTL_ETS
    assert model.baseline_for(model.SEASON).alias == model.SEASONAL_NAIVE


def test_backtest_variance_and_percentage_errors_of_a_hand_made_series() -> None:
    # Three weeks of history then two held out: naive forecasts 300 for both.
    compared = backtest.backtest(weekly([100.0, 200.0, 300.0, 240.0, 400.0]), weeks=2)
    assert compared["week_start"].to_list() == [date(2026, 1, 26), date(2026, 2, 2)]
    assert compared["forecast_usd"].to_list() == pytest.approx([300.0, 300.0])
    assert compared["variance_usd"].to_list() == pytest.approx([-60.0, 100.0])
    assert compared["variance_pct"].to_list() == pytest.approx([-20.0, 100 / 3])
    assert compared["ape_pct"].to_list() == pytest.approx([25.0, 25.0])
    assert set(compared["train_weeks"]) == {3}
    mape = backtest.mape_by_level(compared).filter(pl.col("level") == "all").row(0, named=True)
    assert mape["model_mape_pct"] == pytest.approx(25.0)


def test_backtest_needs_history_before_the_held_out_weeks() -> None:
    assert backtest.backtest(weekly([100.0, 200.0]), weeks=2).height == 0


def sample_shaped_sales(years: int = 3, seed: int = 7) -> pl.DataFrame:
    """Daily revenue with the generator's seasonality (weekday, month, Black Friday, Christmas), growth and noise."""
    rng = np.random.default_rng(seed)
    end = date(2026, 11, 22)  # a Sunday
    days = [end - timedelta(days=i) for i in range(years * 364)][::-1]
    rows = []
    for region, base in (("na", 20_000.0), ("uk", 8_000.0)):
        noise = rng.gamma(30.0, 1 / 30.0, len(days))
        for i, day in enumerate(days):
            growth = 1.0 + 0.1 * i / len(days)
            rows.append(
                (day, region, "c1" if i % 2 else "c2", base * seasonal_weight(day, region, "web") * growth * noise[i])
            )
    return sales(rows)


def test_forecast_mape_beats_seasonal_naive_over_the_last_eight_weeks() -> None:
    weekly_series = series.weekly_revenue(sample_shaped_sales(), CUSTOMERS)
    compared = backtest.backtest(weekly_series, backtest.BACKTEST_WEEKS)
    # The model is the selection procedure: every series chose among the candidates on its own earlier weeks.
    assert set(compared["model"]) <= {model.MSTL_ETS, model.SEASONAL_NAIVE, model.ENSEMBLE}
    assert compared["validation_mape_pct"].null_count() == 0
    assert set(compared["baseline_model"]) == {model.SEASONAL_NAIVE}
    assert compared["week_start"].n_unique() == backtest.BACKTEST_WEEKS
    mape = {r["level"]: r for r in backtest.mape_by_level(compared).iter_rows(named=True)}
    assert mape["all"]["model_mape_pct"] < mape["all"]["baseline_mape_pct"]
    assert mape["total"]["model_mape_pct"] < mape["total"]["baseline_mape_pct"]


def seasonal_values(weeks: int) -> list[float]:
    """A year-long weekly pattern (a Christmas peak, a summer dip, week-to-week wiggle) repeated exactly."""
    pattern = [1000.0 + 400.0 * np.sin(2 * np.pi * w / model.SEASON) + 150.0 * (w % 3) for w in range(model.SEASON)]
    pattern[50] *= 2.5
    return [pattern[i % model.SEASON] for i in range(weeks)]


def test_selection_picks_seasonal_naive_for_a_purely_seasonal_series() -> None:
    got = model.forecast(weekly(seasonal_values(3 * model.SEASON)))
    assert set(got["model"]) == {model.SEASONAL_NAIVE}
    assert got["validation_mape_pct"].to_list() == pytest.approx([0.0] * model.HORIZON)
    # Seasonal naive repeats the same weeks a year earlier: the pattern goes on.
    assert got["forecast_usd"].to_list() == pytest.approx(seasonal_values(3 * model.SEASON + model.HORIZON)[-13:])


def test_selection_picks_the_trend_model_for_a_trending_series() -> None:
    weeks = 100  # validation fits start at 68 weeks: AutoETS, not yet MSTL
    got = model.forecast(weekly([1000.0 + 25.0 * t for t in range(weeks)]))
    assert set(got["model"]) == {model.AUTO_ETS}
    assert selection.shortest_training(weeks) == weeks - selection.SELECTION_WINDOWS * selection.SELECTION_WEEKS
    assert got["forecast_usd"][0] == pytest.approx(1000.0 + 25.0 * weeks, rel=0.01)


def test_backtest_selection_never_sees_the_held_out_weeks(monkeypatch: pytest.MonkeyPatch) -> None:
    original = seasonal_values(3 * model.SEASON)
    changed = original[: -backtest.BACKTEST_WEEKS] + [5000.0 + 300.0 * i for i in range(backtest.BACKTEST_WEEKS)]
    seen: list[date] = []
    validation_errors = selection.validation_errors

    def spy(long: pl.DataFrame, models: list[object]) -> pl.DataFrame:
        seen.append(long["ds"].max())
        return validation_errors(long, models)

    monkeypatch.setattr(selection, "validation_errors", spy)
    chosen = [
        backtest.backtest(weekly(values)).select("model", "validation_mape_pct").unique()
        for values in (original, changed)
    ]
    first_held_out = date(2026, 1, 5) + timedelta(weeks=len(original) - backtest.BACKTEST_WEEKS)
    assert seen and max(seen) < first_held_out
    assert chosen[0].equals(chosen[1]) and chosen[0]["model"].to_list() == [model.SEASONAL_NAIVE]
    # Where they are part of the data (the mart's forecast), the same change does move the validation error.
    full = [model.forecast(weekly(values))["validation_mape_pct"][0] for values in (original, changed)]
    assert full[0] != pytest.approx(full[1])


def test_choose_takes_the_lowest_validation_mape_and_breaks_ties_in_candidate_order() -> None:
    errors = pl.DataFrame(
        {
            "unique_id": ["a", "a", "a", "b", "b", "b", "c", "c"],
            "model": ["autoets", "seasonal_naive", "ensemble", "autoets", "seasonal_naive", "ensemble", "autoets", "x"],
            "validation_mape_pct": [30.0, 10.0, 20.0, 15.0, 15.0, None, None, 1.0],
        }
    )
    got = selection.choose(errors, ["autoets", "seasonal_naive", "ensemble"])
    assert dict(zip(got["unique_id"], got["model"], strict=True)) == {
        "a": "seasonal_naive",
        "b": "autoets",
        "c": "autoets",
    }


def attainment_rows() -> pl.DataFrame:
    rows = [
        # period_start, period_end, level, user_id, name, region, reps_with_quota, quota, credited
        (date(2026, 2, 1), date(2026, 2, 28), "rep", "r1", "Rep 1", "na", 1, 1000.0, 800.0),
        (date(2026, 2, 1), date(2026, 2, 28), "rep", "r2", "Rep 2", "na", 1, 1000.0, 1400.0),
        (date(2026, 2, 1), date(2026, 2, 28), "rep", "r3", "Rep 3", "na", 0, None, 500.0),
        (date(2026, 2, 1), date(2026, 2, 28), "manager", "m1", "Boss", "na", 2, 2000.0, 2200.0),
        (date(2026, 3, 1), date(2026, 3, 31), "rep", "r1", "Rep 1", "na", 1, 1000.0, 300.0),
        (date(2026, 3, 1), date(2026, 3, 31), "manager", "m1", "Boss", "na", 1, 1000.0, 300.0),
        (date(2026, 4, 1), date(2026, 4, 30), "rep", "r1", "Rep 1", "na", 1, 1000.0, 0.0),
    ]
    frame = pl.DataFrame(
        rows,
        schema=[
            "period_start",
            "period_end",
            "level",
            "user_id",
            "name",
            "region",
            "reps_with_quota",
            "quota_usd",
            "credited_bookings_usd",
        ],
        orient="row",
    )
    quarter = frame.head(1).with_columns(pl.lit("quarter").alias("period_type"), pl.lit(99999.0).alias("quota_usd"))
    return pl.concat([frame.with_columns(pl.lit("month").alias("period_type")), quarter])


def test_team_vs_target_by_region_and_team_with_the_run_rate_projection() -> None:
    mart = team.build_mart_team_vs_target(attainment_rows(), as_of=date(2026, 3, 10))
    got = {(r["month"], r["level"], r["key"]): r for r in mart.iter_rows(named=True)}
    feb_na = got[(date(2026, 2, 1), "region", "na")]
    # r3 has no quota: not measured against one.
    assert (feb_na["quota_usd"], feb_na["credited_bookings_usd"], feb_na["attainment_pct"]) == pytest.approx(
        (2000.0, 2200.0, 110.0)
    )
    assert feb_na["is_month_complete"] and feb_na["projected_attainment_pct"] == pytest.approx(110.0)
    march_team = got[(date(2026, 3, 1), "team", "m1")]
    assert (march_team["days_elapsed"], march_team["days_in_month"]) == (10, 31)
    assert march_team["projected_bookings_usd"] == pytest.approx(300.0 * 31 / 10)
    assert march_team["projected_attainment_pct"] == pytest.approx(300.0 * 31 / 10 / 1000.0 * 100)
    assert not march_team["is_month_complete"] and march_team["name"] == "Boss"
    # April has not started; quarters are not months.
    assert all(k[0] < date(2026, 4, 1) for k in got) and len(got) == 4
