"""The "Forecast" section of the sales team report, its chart, and the forecast line on the executive
trend chart. No Dagster here.

From ``mart_weekly_revenue`` (history), ``mart_revenue_forecast`` (next weeks, with intervals),
``mart_forecast_vs_actual`` (the backtest) and ``mart_team_vs_target`` (month-end projection).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from sales360_assets.forecast.backtest import mape_by_level
from sales360_assets.forecast.series import ALL, REGION, TOTAL
from sales360_assets.reports.markdown import pct, table

FORECAST_PNG = "revenue_forecast.png"
SECTION = "forecast"
DAYS_PER_WEEK = 7

AddFigure = Callable[[str, str, float | None, str], object]


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:,.0f}"


def _money(value: float, _position: int) -> str:
    return f"${value / 1_000_000:g}M" if abs(value) >= 1_000_000 else f"${value / 1_000:g}k"


def _total(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter((pl.col("level") == TOTAL) & (pl.col("series") == ALL)).sort("week_start")


def add_forecast_line(ax: Axes, forecast: pl.DataFrame) -> None:
    """The total forecast on a per-day revenue axis: each week's forecast / 7 across its days, 80 % band."""
    total = _total(forecast)
    if total.height == 0:
        return
    days, mid, low, high = [], [], [], []
    for r in total.iter_rows(named=True):
        for start_or_end in (r["week_start"], r["week_start"] + timedelta(days=DAYS_PER_WEEK)):
            days.append(start_or_end)
            mid.append(r["forecast_usd"] / DAYS_PER_WEEK)
            low.append((r["lo_80_usd"] if r["lo_80_usd"] is not None else r["forecast_usd"]) / DAYS_PER_WEEK)
            high.append((r["hi_80_usd"] if r["hi_80_usd"] is not None else r["forecast_usd"]) / DAYS_PER_WEEK)
    ax.plot(days, mid, color="#7b3294", lw=1.6, label="forecast (daily average of the week)")
    ax.fill_between(days, low, high, color="#7b3294", alpha=0.15, lw=0, label="80 % interval")
    ax.legend(loc="upper left", fontsize=8, frameon=False)


def render_chart(weekly: pl.DataFrame, forecast: pl.DataFrame, path: Path) -> Path:
    """Weekly revenue (all regions) with the forecast and its 80 % / 95 % intervals."""
    fig = Figure(figsize=(11, 4.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    history, ahead = _total(weekly), _total(forecast)
    ax.plot(history["week_start"].to_list(), history["revenue_usd"].to_list(), color="#1f6f8b", lw=1.4, label="actual")
    if ahead.height:
        weeks = ahead["week_start"].to_list()
        for level, alpha in (("95", 0.12), ("80", 0.22)):
            low, high = ahead[f"lo_{level}_usd"], ahead[f"hi_{level}_usd"]
            if low.null_count() == 0:
                ax.fill_between(
                    weeks, low.to_list(), high.to_list(), color="#7b3294", alpha=alpha, lw=0, label=f"{level} %"
                )
        ax.plot(weeks, ahead["forecast_usd"].to_list(), color="#7b3294", lw=1.6, ls="--", label="forecast")
    ax.yaxis.set_major_formatter(FuncFormatter(_money))
    ax.set_title("Weekly revenue, all regions: actual and forecast", loc="left")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="upper left", fontsize=8, frameon=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def _forecast_table(forecast: pl.DataFrame, add: AddFigure) -> list[str]:
    ahead = forecast.filter(pl.col("level").is_in([REGION, TOTAL])).sort("level", "series", "week_start")
    rows = []
    for (level, name), part in ahead.group_by(["level", "series"], maintain_order=True):
        first = part.row(0, named=True)
        horizon = part["forecast_usd"].sum()
        label = "all regions" if level == TOTAL else str(name)
        add(SECTION, "next_week_forecast_usd", first["forecast_usd"], label)
        add(SECTION, "horizon_forecast_usd", horizon, label)
        interval = (
            f"{_usd(first['lo_80_usd'])} – {_usd(first['hi_80_usd'])}" if first["lo_80_usd"] is not None else "n/a"
        )
        rows.append([label, _usd(first["forecast_usd"]), interval, _usd(horizon), str(first["model"])])
    return table(["Region", "Next week", "80 % interval", "Next 13 weeks", "Model"], rows, (0, 2, 4))


def _backtest_lines(compared: pl.DataFrame, add: AddFigure) -> list[str]:
    mape = mape_by_level(compared)
    if mape.height == 0:
        return ["", "Backtest: not enough complete weeks yet to hold the last ones out."]
    rows = []
    for r in mape.iter_rows(named=True):
        add(SECTION, "model_mape_pct", r["model_mape_pct"], r["level"])
        add(SECTION, "baseline_mape_pct", r["baseline_mape_pct"], r["level"])
        rows.append([str(r["level"]), pct(r["model_mape_pct"]), pct(r["baseline_mape_pct"])])
    return [
        "",
        f"Backtest over the last {compared['week_start'].n_unique()} complete weeks "
        "(models chosen and fitted without them):",
        "",
        *table(["Series", "Model MAPE", "Seasonal-naive MAPE"], rows),
    ]


def _team_lines(team: pl.DataFrame, add: AddFigure) -> list[str]:
    latest = team.filter(pl.col("level") == REGION)
    if latest.height == 0:
        return []
    month = latest["month"].max()
    regions = latest.filter(pl.col("month") == month).sort("key")
    state = "in progress" if not regions["is_month_complete"].all() else "closed"
    rows = []
    for r in regions.iter_rows(named=True):
        add(SECTION, "projected_attainment_pct", r["projected_attainment_pct"], r["key"])
        quota, credited = _usd(r["quota_usd"]), _usd(r["credited_bookings_usd"])
        rows.append([str(r["key"]), quota, credited, pct(r["attainment_pct"]), pct(r["projected_attainment_pct"])])
    return [
        "",
        f"Team vs target, {month:%B %Y} ({state}; projection = bookings at the month's pace so far):",
        "",
        *table(["Region", "Quota", "Credited bookings", "Attainment", "Projected month-end"], rows),
    ]


def build_section(
    weekly: pl.DataFrame,
    forecast: pl.DataFrame,
    compared: pl.DataFrame,
    team: pl.DataFrame,
    add: AddFigure,
    output_dir: Path,
) -> tuple[list[str], Path | None]:
    """The section's Markdown lines and its chart (None without a forecast)."""
    out = ["", "## Forecast", ""]
    if forecast.height == 0:
        return [*out, "No complete week of sales yet: nothing to forecast.", *_team_lines(team, add)], None
    out += [
        "Weekly revenue ahead, in US dollars (statsforecast, model chosen per series; intervals are the "
        "model's own, an ensemble's the mean of its two models'):",
        "",
    ]
    out += _forecast_table(forecast, add)
    out += _backtest_lines(compared, add)
    out += _team_lines(team, add)
    png = render_chart(weekly, forecast, output_dir / FORECAST_PNG)
    return [*out, "", f"![Revenue forecast]({FORECAST_PNG})"], png
