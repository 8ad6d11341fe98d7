"""The sales team report's two dashboards: the executive KPI trend and the business performance dashboard.

Charts use matplotlib's object-oriented API (``Figure``, Agg canvas): no global pyplot state and
no display needed, so the asset runs the same on a laptop, in CI and on a server. PNGs are saved
without the ``Software`` stamp, so the same data gives the same bytes whatever matplotlib wrote them.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sales360_assets.kpis import ratio
from sales360_assets.reports import forecast_section
from sales360_assets.reports.periods import ReportPeriod

KPI_TREND_PNG = "executive_kpi_trend.png"
DASHBOARD_PNG = "business_performance_dashboard.png"


def _tick_usd(value: float, _position: int) -> str:
    # Axis ticks stay short ("$250k") so that they never run into each other.
    if abs(value) >= 1_000_000:
        return f"${value / 1_000_000:g}M"
    if abs(value) >= 1_000:
        return f"${value / 1_000:g}k"
    return f"${value:g}"


_MONEY_TICKS = FuncFormatter(_tick_usd)


def _money_axis(ax: Axes) -> None:
    ax.yaxis.set_major_formatter(_MONEY_TICKS)


def _shade(ax: Axes, period: ReportPeriod) -> None:
    ax.axvspan(period.start, period.end + timedelta(days=1), color="#f2c14e", alpha=0.18, lw=0)


def _save(fig: Figure, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def render_kpi_trend(
    daily: pl.DataFrame, period: ReportPeriod, path: Path, forecast: pl.DataFrame | None = None
) -> Path:
    """Executive KPI trend: daily revenue, orders and AOV over the whole history; the period shaded;
    the revenue forecast ahead when given."""
    series = (
        daily.group_by("date")
        .agg(pl.col("revenue_usd").sum(), pl.col("orders").sum())
        .with_columns(ratio("average_order_value_usd"))
        .sort("date")
    )
    rolling = series.with_columns(
        pl.col("revenue_usd").rolling_mean(7, min_samples=1).alias("revenue_7d"),
        pl.col("orders").cast(pl.Float64).rolling_mean(7, min_samples=1).alias("orders_7d"),
    )
    fig = Figure(figsize=(11, 8.5), dpi=100, layout="constrained")
    axes = fig.subplots(3, 1, sharex=True)
    days = rolling["date"].to_list()
    panels = [
        ("Revenue (USD) per day", "revenue_usd", "revenue_7d", "#1f6f8b", True),
        ("Orders per day", "orders", "orders_7d", "#3a9d5d", False),
        ("Average order value (USD)", "average_order_value_usd", None, "#b5523b", True),
    ]
    for ax, (title, column, smooth, colour, money) in zip(axes, panels, strict=True):
        ax.plot(days, rolling[column].to_list(), color=colour, lw=1.4, marker="o", ms=3, label="daily")
        if smooth:
            ax.plot(days, rolling[smooth].to_list(), color="#333333", lw=1, ls="--", label="7-day average")
            ax.legend(loc="upper left", fontsize=8, frameon=False)
        if column == "revenue_usd" and forecast is not None:
            forecast_section.add_forecast_line(ax, forecast)
        _shade(ax, period)
        ax.set_title(title, loc="left", fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        if money:
            _money_axis(ax)
    axes[-1].tick_params(axis="x", rotation=30)
    fig.suptitle(f"Sales 360 — executive KPI trend (shaded: {period.label})", fontsize=13, x=0.01, ha="left")
    return _save(fig, path)


def _horizontal_money_bars(ax: Axes, labels: list[str], values: list[float], colour: str, title: str) -> None:
    ax.barh(labels, values, color=colour)
    ax.set_title(title, loc="left")
    ax.xaxis.set_major_formatter(_MONEY_TICKS)
    ax.xaxis.set_major_locator(MaxNLocator(5))


def _regions_by_channel(ax: Axes, daily: pl.DataFrame) -> None:
    by_region = daily.group_by("region", "channel").agg(pl.col("revenue_usd").sum())
    regions = sorted(by_region["region"].unique().to_list())
    bottom = [0.0] * len(regions)
    palette = {"web": "#1f6f8b", "pos": "#3a9d5d", "crm": "#b5523b"}
    for channel in sorted(by_region["channel"].unique().to_list()):
        values = [
            by_region.filter((pl.col("region") == r) & (pl.col("channel") == channel))["revenue_usd"].sum()
            for r in regions
        ]
        ax.bar(regions, values, bottom=bottom, label=channel, color=palette.get(channel, "#888888"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_title("Revenue by region and channel", loc="left")
    ax.legend(fontsize=8, frameon=False)
    _money_axis(ax)


def _categories_with_margin(ax: Axes, categories: pl.DataFrame) -> None:
    cat = categories.sort("revenue_usd", descending=True)
    ax.bar(cat["category"].to_list(), cat["revenue_usd"].to_list(), color="#6c5b7b")
    ax.set_title("Revenue (bars) and gross margin % (dots) by category", loc="left")
    _money_axis(ax)
    ax.tick_params(axis="x", rotation=20)
    margin_axis = ax.twinx()
    margin_axis.plot(cat["category"].to_list(), cat["gross_margin_pct"].to_list(), "o", color="#f08a24")
    margin_axis.set_ylabel("gross margin %")


def render_business_dashboard(
    segments: pl.DataFrame,
    daily: pl.DataFrame,
    categories: pl.DataFrame,
    products: pl.DataFrame,
    period: ReportPeriod,
    path: Path,
) -> Path:
    """Business performance dashboard for the period: segments, regions × channel, categories, top products."""
    fig = Figure(figsize=(13, 9), dpi=100, layout="constrained")
    (ax_seg, ax_reg), (ax_cat, ax_top) = fig.subplots(2, 2)
    seg = segments.sort("revenue_usd")
    _horizontal_money_bars(
        ax_seg, seg["segment"].to_list(), seg["revenue_usd"].to_list(), "#1f6f8b", "Revenue by customer segment"
    )
    _regions_by_channel(ax_reg, daily)
    _categories_with_margin(ax_cat, categories)
    top = products.sort("revenue_usd", descending=True).head(10).sort("revenue_usd")
    labels = [f"{n[:34]}" for n in top["product_name"].fill_null("?").to_list()]
    _horizontal_money_bars(ax_top, labels, top["revenue_usd"].to_list(), "#3a9d5d", "Top 10 products by revenue")
    ax_top.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"Sales 360 — business performance, {period.label}", fontsize=13, x=0.01, ha="left")
    return _save(fig, path)
