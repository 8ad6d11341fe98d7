"""The sales team report: Markdown and two PNG dashboards, generated from the marts. No Dagster here.

Every number in the report is computed from mart tables and recorded in a figures table
(section, metric, dimension, value) that is written next to the report, so each figure can be
checked against the marts it came from. Recommended actions, success metrics and risks are rules
over those figures, not fixed text.

By default the report covers the *latest complete period* of the data: the latest calendar month
the data covers in full, else the latest complete ISO week (Monday–Sunday), else the whole
window; a week, quarter, year, named period or the whole history can be asked for instead
(``reports/periods.py``). It is compared with the period of the same kind just before, when the
data covers it.

Charts use matplotlib's object-oriented API (``Figure``, Agg canvas): no global pyplot state and
no display needed, so the asset runs the same on a laptop, in CI and on a server.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import polars as pl
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from sales360_assets.kpis import KPIS, ratio
from sales360_assets.reports import cross_sell_section, forecast_section
from sales360_assets.reports.periods import ReportPeriod, resolve_period
from sales360_assets.settings import REGIONS, REPORTING_CURRENCY

REPORT_FILE = "sales_team_report.md"
KPI_TREND_PNG = "executive_kpi_trend.png"
DASHBOARD_PNG = "business_performance_dashboard.png"
TOP_N = 5

FIGURES_SCHEMA: dict[str, pl.DataType] = {
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "section": pl.String(),
    "metric": pl.String(),
    "dimension": pl.String(),
    "value": pl.Float64(),
}


@dataclass
class ReportInputs:
    """The marts the report reads (whole history; the report selects its period)."""

    daily_sales: pl.DataFrame  # mart_daily_sales
    segments: pl.DataFrame  # mart_customer_segment_performance
    products: pl.DataFrame  # mart_product_performance
    sales_performance: pl.DataFrame  # mart_sales_performance
    seasonality: pl.DataFrame  # mart_seasonality
    attainment: pl.DataFrame  # mart_rep_quota_attainment
    pipeline: pl.DataFrame  # mart_pipeline
    campaigns: pl.DataFrame  # mart_campaign_effectiveness
    # The cross-sell and forecast sections (reports/cross_sell_section.py, reports/forecast_section.py);
    # a section is left out when its marts are not given.
    affinity: pl.DataFrame | None = None  # mart_product_affinity
    cross_sell: pl.DataFrame | None = None  # mart_cross_sell_opportunities
    weekly_revenue: pl.DataFrame | None = None  # mart_weekly_revenue
    forecast: pl.DataFrame | None = None  # mart_revenue_forecast
    forecast_vs_actual: pl.DataFrame | None = None  # mart_forecast_vs_actual
    team_vs_target: pl.DataFrame | None = None  # mart_team_vs_target


@dataclass
class SalesTeamReport:
    period: ReportPeriod
    markdown: str  # images referenced by file name (next to the report file)
    figures: pl.DataFrame  # FIGURES_SCHEMA
    report_path: Path
    kpi_trend_png: Path
    dashboard_png: Path
    section_pngs: list[Path] = field(default_factory=list)  # the cross-sell and forecast charts


@dataclass
class _Figures:
    """Collects every number the report shows, in order, with where it came from."""

    period: ReportPeriod
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, section: str, metric: str, value: float | None, dimension: str = "") -> float | None:
        self.rows.append(
            {
                "period_start": self.period.start,
                "period_end": self.period.end,
                "section": section,
                "metric": metric,
                "dimension": dimension,
                "value": None if value is None else float(value),
            }
        )
        return value

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=FIGURES_SCHEMA)


# --- formatting -------------------------------------------------------------------------------


def _usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}${value / 1_000_000:,.2f}M"
    if value >= 10_000:
        return f"{sign}${value / 1_000:,.1f}k"
    return f"{sign}${value:,.2f}"


def _pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} %"


def _count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def _change(current: float | None, previous: float | None) -> float | None:
    if current is None or previous in (None, 0):
        return None
    return (current - previous) / abs(previous) * 100.0


def _signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} %"


def _signed_points(current: float | None, previous: float | None) -> str:
    return "—" if current is None or previous is None else f"{current - previous:+.1f} pt"


def _table(header: list[str], rows: list[list[str]], text_columns: tuple[int, ...] = (0,)) -> list[str]:
    # Text columns align left, figures right (so digits line up).
    aligns = ["---" if i in text_columns else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(aligns) + " |",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]


def _in(frame: pl.DataFrame, start: date, end: date, column: str = "date") -> pl.DataFrame:
    return frame.filter(pl.col(column).is_between(start, end))


# --- sections ---------------------------------------------------------------------------------


def _headline(daily: pl.DataFrame) -> dict[str, float | None]:
    totals = daily.select(
        pl.col("revenue_usd").sum(),
        pl.col("units").sum(),
        pl.col("orders").sum(),
        pl.col("gross_margin_usd").sum(),
    ).with_columns(ratio("average_order_value_usd"), ratio("average_selling_price_usd"), ratio("gross_margin_pct"))
    return totals.row(0, named=True) if totals.height else {}


def _segment_table(segments: pl.DataFrame) -> pl.DataFrame:
    total = segments["revenue_usd"].sum()
    return (
        segments.group_by("segment")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("orders").sum())
        .with_columns(
            ratio("average_order_value_usd"),
            ratio("average_selling_price_usd"),
            (pl.col("revenue_usd") / total * 100.0 if total else pl.lit(None, pl.Float64)).alias("share_pct"),
        )
        .sort("revenue_usd", descending=True)
    )


def _product_table(products: pl.DataFrame) -> pl.DataFrame:
    return (
        products.group_by("product_key", "sku", "product_name", "category")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("gross_margin_usd").sum())
        .with_columns(ratio("gross_margin_pct"))
        .sort("gross_margin_usd", "sku", descending=[True, False], nulls_last=True)
    )


def _category_table(performance: pl.DataFrame) -> pl.DataFrame:
    total = performance["revenue_usd"].sum()
    return (
        performance.group_by("category")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("gross_margin_usd").sum())
        .with_columns(
            ratio("gross_margin_pct"),
            (pl.col("revenue_usd") / total * 100.0 if total else pl.lit(None, pl.Float64)).alias("share_pct"),
        )
        .sort("revenue_usd", descending=True)
    )


# --- charts -----------------------------------------------------------------------------------


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
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


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
    ax_seg.barh(seg["segment"].to_list(), seg["revenue_usd"].to_list(), color="#1f6f8b")
    ax_seg.set_title("Revenue by customer segment", loc="left")
    ax_seg.xaxis.set_major_formatter(_MONEY_TICKS)
    ax_seg.xaxis.set_major_locator(MaxNLocator(5))

    by_region = daily.group_by("region", "channel").agg(pl.col("revenue_usd").sum())
    regions = sorted(by_region["region"].unique().to_list())
    bottom = [0.0] * len(regions)
    palette = {"web": "#1f6f8b", "pos": "#3a9d5d", "crm": "#b5523b"}
    for channel in sorted(by_region["channel"].unique().to_list()):
        values = [
            by_region.filter((pl.col("region") == r) & (pl.col("channel") == channel))["revenue_usd"].sum()
            for r in regions
        ]
        ax_reg.bar(regions, values, bottom=bottom, label=channel, color=palette.get(channel, "#888888"))
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax_reg.set_title("Revenue by region and channel", loc="left")
    ax_reg.legend(fontsize=8, frameon=False)
    _money_axis(ax_reg)

    cat = categories.sort("revenue_usd", descending=True)
    ax_cat.bar(cat["category"].to_list(), cat["revenue_usd"].to_list(), color="#6c5b7b")
    ax_cat.set_title("Revenue (bars) and gross margin % (dots) by category", loc="left")
    _money_axis(ax_cat)
    ax_cat.tick_params(axis="x", rotation=20)
    margin_axis = ax_cat.twinx()
    margin_axis.plot(cat["category"].to_list(), cat["gross_margin_pct"].to_list(), "o", color="#f08a24")
    margin_axis.set_ylabel("gross margin %")

    top = products.sort("revenue_usd", descending=True).head(10).sort("revenue_usd")
    labels = [f"{n[:34]}" for n in top["product_name"].fill_null("?").to_list()]
    ax_top.barh(labels, top["revenue_usd"].to_list(), color="#3a9d5d")
    ax_top.set_title("Top 10 products by revenue", loc="left")
    ax_top.xaxis.set_major_formatter(_MONEY_TICKS)
    ax_top.xaxis.set_major_locator(MaxNLocator(5))
    ax_top.tick_params(axis="y", labelsize=8)

    fig.suptitle(f"Sales 360 — business performance, {period.label}", fontsize=13, x=0.01, ha="left")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


# --- the report -------------------------------------------------------------------------------


def build_report(inputs: ReportInputs, output_dir: Path, period_request: str = "latest") -> SalesTeamReport:
    """Write the report and both dashboards under ``output_dir``; return them with the figures.

    ``period_request``: which dates the report covers (``reports/periods.py``; default the latest
    complete month).
    """
    dates = inputs.daily_sales["date"]
    if dates.is_empty():
        raise ValueError("mart_daily_sales is empty: there is nothing to report on yet")
    period = resolve_period(period_request, dates.min(), dates.max())
    fig = _Figures(period)
    out: list[str] = []

    # Scope ------------------------------------------------------------------------------------
    daily = _in(inputs.daily_sales, period.start, period.end)
    head = _headline(daily)
    previous = _headline(_in(inputs.daily_sales, *period.previous)) if period.previous else {}
    regions = sorted(daily["region"].unique().to_list())
    channels = sorted(daily["channel"].unique().to_list())
    out += [
        f"# Sales team report — {period.label}",
        "",
        "## Scope",
        "",
        f"- **Period:** {period.start:%a %d %b %Y} to {period.end:%a %d %b %Y} ({period.days} days, {period.scope})"
        + (f"; compared with {period.previous[0]:%d %b} – {period.previous[1]:%d %b %Y}." if period.previous else "."),
        f"- **Data available:** {dates.min():%d %b %Y} to {dates.max():%d %b %Y}.",
        f"- **Regions:** {', '.join(regions)}. **Channels:** {', '.join(channels)} (web shop, stores, sales-led deals).",
        "- **Money:** US dollars, converted from local currencies at each day's FX rate. Definitions: "
        "`docs/kpi_glossary.md`.",
        "- **Sources:** the Sales 360 marts (`mart_daily_sales`, `mart_customer_segment_performance`, "
        "`mart_product_performance`, `mart_sales_performance`, `mart_seasonality`, `mart_rep_quota_attainment`, "
        "`mart_pipeline`, `mart_campaign_effectiveness`).",
        "",
        "## Headline",
        "",
    ]
    headline_rows = []
    for metric, fmt in (
        ("revenue_usd", _usd),
        ("orders", _count),
        ("average_order_value_usd", _usd),
        ("units", _count),
        ("average_selling_price_usd", _usd),
        ("gross_margin_pct", _pct),
    ):
        value = fig.add("headline", metric, head.get(metric))
        before = previous.get(metric)
        if period.previous:
            fig.add("headline_previous", metric, before)
        headline_rows.append(
            [
                KPIS[metric].label,
                fmt(value),
                fmt(before) if period.previous else "—",
                # A percentage moves in points; an amount or a count by a percentage of itself.
                _signed_points(value, before) if metric.endswith("_pct") else _signed_pct(_change(value, before)),
            ]
        )
    out += _table(["KPI", "This period", "Previous period", "Change"], headline_rows)
    out += [
        "",
        f"![Executive KPI trend]({KPI_TREND_PNG})",
        "",
    ]

    # Customer segments ------------------------------------------------------------------------
    seg = _segment_table(_in(inputs.segments, period.start, period.end))
    out += ["## Key insights by customer segment", ""]
    rows = []
    for r in seg.iter_rows(named=True):
        for metric in (
            "revenue_usd",
            "units",
            "orders",
            "average_selling_price_usd",
            "average_order_value_usd",
            "share_pct",
        ):
            fig.add("segments", metric, r[metric], r["segment"])
        rows.append(
            [
                r["segment"],
                _usd(r["revenue_usd"]),
                _pct(r["share_pct"]),
                _count(r["units"]),
                _count(r["orders"]),
                _usd(r["average_selling_price_usd"]),
                _usd(r["average_order_value_usd"]),
            ]
        )
    out += _table(["Segment", "Revenue", "Share", "Units", "Orders", "Average price", "AOV"], rows)
    insights = []
    if seg.height:
        top_seg = seg.row(0, named=True)
        insights.append(
            f"**{top_seg['segment']}** is the largest segment: {_usd(top_seg['revenue_usd'])} "
            f"({_pct(top_seg['share_pct'])} of revenue) from {_count(top_seg['orders'])} orders."
        )
        best_aov = seg.sort("average_order_value_usd", descending=True, nulls_last=True).row(0, named=True)
        insights.append(
            f"**{best_aov['segment']}** orders are the largest, {_usd(best_aov['average_order_value_usd'])} on "
            f"average at {_usd(best_aov['average_selling_price_usd'])} an item."
        )
        busiest = seg.sort("orders", descending=True).row(0, named=True)
        insights.append(f"**{busiest['segment']}** places the most orders ({_count(busiest['orders'])}).")
    out += ["", *(f"- {i}" for i in insights), ""]

    # Product portfolio --------------------------------------------------------------------------
    categories = _category_table(_in(inputs.sales_performance, period.start, period.end))
    products = _product_table(_in(inputs.products, period.start, period.end))
    out += ["## Product portfolio", ""]
    rows = []
    for r in categories.iter_rows(named=True):
        for metric in ("revenue_usd", "share_pct", "units", "gross_margin_pct"):
            fig.add("categories", metric, r[metric], r["category"])
        rows.append(
            [
                r["category"],
                _usd(r["revenue_usd"]),
                _pct(r["share_pct"]),
                _count(r["units"]),
                _pct(r["gross_margin_pct"]),
            ]
        )
    out += _table(["Category", "Revenue", "Share", "Units", "Gross margin"], rows)
    # An unmapped product has no known cost, so its margin says nothing about profitability.
    costed = products.filter(pl.col("category") != "Unmapped")
    most = costed.head(TOP_N)
    least = costed.sort("gross_margin_usd", "sku", nulls_last=True).head(TOP_N)
    for title, frame, section in (
        ("Most profitable products", most, "most_profitable"),
        ("Least profitable products", least, "least_profitable"),
    ):
        rows = []
        for r in frame.iter_rows(named=True):
            fig.add(section, "gross_margin_usd", r["gross_margin_usd"], r["sku"] or "")
            fig.add(section, "revenue_usd", r["revenue_usd"], r["sku"] or "")
            rows.append(
                [
                    f"{r['product_name']} (`{r['sku']}`)",
                    r["category"] or "",
                    _usd(r["revenue_usd"]),
                    _usd(r["gross_margin_usd"]),
                    _pct(r["gross_margin_pct"]),
                ]
            )
        out += ["", f"**{title}** (by gross margin)", ""]
        out += _table(["Product", "Category", "Revenue", "Gross margin", "Margin %"], rows, (0, 1))
    revenue_total = head.get("revenue_usd") or 0.0
    top5_share = fig.add(
        "portfolio",
        "top_5_products_revenue_share_pct",
        products.sort("revenue_usd", descending=True).head(TOP_N)["revenue_usd"].sum() / revenue_total * 100.0
        if revenue_total
        else None,
    )
    losers = products.filter(pl.col("gross_margin_usd") < 0)
    fig.add("portfolio", "loss_making_products", float(losers.height))
    fig.add("portfolio", "loss_making_margin_usd", losers["gross_margin_usd"].sum())
    unmapped = categories.filter(pl.col("category") == "Unmapped")
    unmapped_revenue = fig.add("portfolio", "unmapped_revenue_usd", unmapped["revenue_usd"].sum())
    out += [
        "",
        f"The five best-selling products bring {_pct(top5_share)} of revenue; {losers.height} products sold at a "
        f"loss ({_usd(losers['gross_margin_usd'].sum())} margin).",
        "",
        f"![Business performance dashboard]({DASHBOARD_PNG})",
        "",
    ]

    # Regions and channels -----------------------------------------------------------------------
    by_region = daily.group_by("region").agg(pl.col("revenue_usd").sum(), pl.col("orders").sum()).sort("region")
    by_channel = daily.group_by("channel").agg(pl.col("revenue_usd").sum(), pl.col("orders").sum()).sort("channel")
    out += ["## Regions and channels", ""]
    rows = []
    for r in by_region.iter_rows(named=True):
        fig.add("regions", "revenue_usd", r["revenue_usd"], r["region"])
        rows.append([r["region"], _usd(r["revenue_usd"]), _count(r["orders"])])
    for r in by_channel.iter_rows(named=True):
        fig.add("channels", "revenue_usd", r["revenue_usd"], r["channel"])
        rows.append([f"channel: {r['channel']}", _usd(r["revenue_usd"]), _count(r["orders"])])
    out += _table(["Region / channel", "Revenue", "Orders"], rows)

    # Seasonality --------------------------------------------------------------------------------
    season = inputs.seasonality
    weekly = season.filter(pl.col("index_type") == "weekly", pl.col("is_peak"))
    troughs = season.filter(pl.col("index_type") == "weekly", pl.col("is_trough"))
    yearly = season.filter(pl.col("index_type") == "yearly", pl.col("region") == "all")
    out += ["", "## Seasonality", ""]
    rows = []
    for r in weekly.sort("region").iter_rows(named=True):
        trough = troughs.filter(pl.col("region") == r["region"]).sort("period").row(0, named=True)
        fig.add("seasonality", "peak_weekday_index", r["seasonal_index"], f"{r['region']}:{r['period_name']}")
        fig.add(
            "seasonality", "trough_weekday_index", trough["seasonal_index"], f"{r['region']}:{trough['period_name']}"
        )
        rows.append(
            [
                r["region"],
                f"{r['period_name']} ({r['seasonal_index']:.2f}×)",
                f"{trough['period_name']} ({trough['seasonal_index']:.2f}×)",
            ]
        )
    out += _table(["Region", "Peak weekday (index)", "Quietest weekday (index)"], rows, (0, 1, 2))
    months_observed = yearly.height
    fig.add("seasonality", "months_observed", float(months_observed))
    if months_observed >= 2:
        peak_month = yearly.sort("seasonal_index", descending=True).row(0, named=True)
        fig.add("seasonality", "peak_month_index", peak_month["seasonal_index"], peak_month["period_name"])
        out += [
            "",
            f"Across the months observed, {peak_month['period_name']} is the peak ({peak_month['seasonal_index']:.2f}× an average day).",
        ]
    else:
        out += [
            "",
            f"The yearly index needs more history: {months_observed} month(s) observed so far, so monthly peaks "
            "are not yet meaningful.",
        ]

    # Sales team ---------------------------------------------------------------------------------
    att = inputs.attainment.filter(pl.col("period_type") == "month", pl.col("period_start") <= period.end)
    out += ["", "## Sales team", ""]
    if att.height:
        month = att["period_start"].max()
        reps = att.filter(pl.col("period_start") == month, pl.col("level") == "rep", pl.col("quota_usd").is_not_null())
        managers = att.filter(pl.col("period_start") == month, pl.col("level") == "manager").sort("region")
        # A month still running is judged against its pace: the share of its days already gone.
        month_end = (month + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        elapsed = (min(dates.max(), month_end) - month).days + 1
        pace = fig.add("sales_team", "month_elapsed_pct", elapsed / month_end.day * 100.0)
        on_pace = reps.filter(pl.col("attainment_pct") >= pace).height
        low = reps.filter(pl.col("attainment_pct") < pace / 2).height
        fig.add("sales_team", "reps_with_quota", float(reps.height))
        fig.add("sales_team", "reps_on_pace", float(on_pace))
        fig.add("sales_team", "reps_below_half_pace", float(low))
        month_label = month.strftime("%B %Y")
        month_note = f" (month to date: {elapsed} of {month_end.day} days)" if elapsed < month_end.day else ""
        out += [f"Quota attainment for {month_label}{month_note}, credited bookings against quota:", ""]
        rows = []
        for r in managers.iter_rows(named=True):
            fig.add("sales_team", "manager_attainment_pct", r["attainment_pct"], r["name"] or r["user_id"])
            rows.append(
                [
                    f"{r['name']} ({r['region']})",
                    _count(r["reps"]),
                    _usd(r["quota_usd"]),
                    _usd(r["credited_bookings_usd"]),
                    _pct(r["attainment_pct"]),
                ]
            )
        out += _table(["Manager (team)", "Reps", "Quota", "Credited bookings", "Attainment"], rows)
        out += [
            "",
            f"{on_pace} of {reps.height} reps are on pace (at least {_pct(pace, 0)} of quota"
            + (" — the share of the month gone" if elapsed < month_end.day else "")
            + f"); {low} are below half of that pace.",
            "",
        ]
    pipe = inputs.pipeline.filter(pl.col("month") <= period.end)
    alerts = pl.DataFrame()
    lowest_win_rate: float | None = None
    if pipe.height:
        month = pipe["month"].max()
        latest = (
            pipe.filter(pl.col("month") == month)
            .group_by("region")
            .agg(pl.col("deals_won").sum(), pl.col("deals_lost").sum(), pl.col("open_pipeline_usd").sum())
            .with_columns(
                pl.when((pl.col("deals_won") + pl.col("deals_lost")) > 0)
                .then(pl.col("deals_won") / (pl.col("deals_won") + pl.col("deals_lost")) * 100.0)
                .alias("win_rate_pct")
            )
            .sort("region")
        )
        alerts = pipe.filter(pl.col("month") == month, pl.col("low_win_rate_alert"))
        decided = latest["deals_won"].sum() + latest["deals_lost"].sum()
        fig.add("pipeline", "win_rate_pct", latest["deals_won"].sum() / decided * 100.0 if decided else None, "all")
        lowest_win_rate = latest["win_rate_pct"].min()
        rows = []
        for r in latest.iter_rows(named=True):
            fig.add("pipeline", "win_rate_pct", r["win_rate_pct"], r["region"])
            fig.add("pipeline", "open_pipeline_usd", r["open_pipeline_usd"], r["region"])
            rows.append(
                [
                    r["region"],
                    _count(r["deals_won"]),
                    _count(r["deals_lost"]),
                    _pct(r["win_rate_pct"]),
                    _usd(r["open_pipeline_usd"]),
                ]
            )
        fig.add("pipeline", "segments_alerting", float(alerts.height))
        out += [f"Pipeline in {month:%B %Y}:", ""]
        out += _table(["Region", "Won", "Lost", "Win rate", "Open pipeline"], rows)
        threshold = pipe["win_rate_threshold_pct"].max()
        out += [
            "",
            (
                f"Low win-rate alerts (below {threshold:g} % for the configured months running): "
                + ", ".join(f"{r['region']} {r['opportunity_type']}" for r in alerts.iter_rows(named=True))
                if alerts.height
                else f"No segment has stayed below the {threshold:g} % win-rate threshold long enough to alert."
            ),
        ]
    camp = inputs.campaigns.filter(pl.col("campaign_id") != "(no campaign)")
    if camp.height:
        best = camp.sort("influenced_revenue_usd", descending=True).head(3)
        out += ["", "Campaigns with the most influenced revenue (all time):", ""]
        rows = []
        for r in best.iter_rows(named=True):
            fig.add("campaigns", "influenced_revenue_usd", r["influenced_revenue_usd"], r["campaign_name"])
            fig.add("campaigns", "campaign_roi_pct", r["campaign_roi_pct"], r["campaign_name"])
            rows.append(
                [
                    r["campaign_name"],
                    _count(r["influenced_deals"]),
                    _usd(r["influenced_revenue_usd"]),
                    _usd(r["campaign_cost_usd"]),
                    _pct(r["campaign_roi_pct"], 0),
                ]
            )
        out += _table(["Campaign", "Deals", "Influenced revenue", "Cost", "ROI"], rows)

    section_pngs = _sections(inputs, fig, out, output_dir)

    # Recommended actions, success metrics, risks: rules over the figures above ---------------
    actions: list[str] = []
    if seg.height:
        top_seg = seg.row(0, named=True)
        actions.append(
            f"Protect the **{top_seg['segment']}** segment ({_pct(top_seg['share_pct'])} of revenue): retention offers "
            "and replenishment reminders for its repeat buyers."
        )
    if losers.height:
        names = ", ".join(f"`{s}`" for s in losers.sort("gross_margin_usd").head(3)["sku"].to_list())
        actions.append(
            f"Review price or cost of the {losers.height} loss-making products (worst: {names}); they cost "
            f"{_usd(-losers['gross_margin_usd'].sum())} of margin this period."
        )
    if unmapped_revenue:
        actions.append(
            f"Map the unmapped SKUs to the catalogue: {_usd(unmapped_revenue)} of revenue has no cost, so its margin "
            "is overstated."
        )
    overall_peak = weekly.filter(pl.col("region") == "all")
    if overall_peak.height:
        p = overall_peak.row(0, named=True)
        actions.append(
            f"Plan staffing, stock and campaign sends around **{p['period_name']}**, the busiest day "
            f"({p['seasonal_index']:.2f}× an average day)."
        )
    if att.height and low:
        actions.append(
            f"Coach the {low} reps below half of their quota pace; review their pipeline coverage with their managers."
        )
    if alerts.height:
        actions.append(
            "Run a win/loss review for "
            + ", ".join(f"{r['region']} {r['opportunity_type']}" for r in alerts.iter_rows(named=True))
            + " (win rate below threshold for months running)."
        )
    if camp.height:
        roi = camp.filter(pl.col("campaign_roi_pct").is_not_null()).sort("campaign_roi_pct", descending=True)
        if roi.height:
            r = roi.row(0, named=True)
            if r["campaign_roi_pct"] > 0:
                actions.append(
                    f"Scale what worked: **{r['campaign_name']}** returned {_pct(r['campaign_roi_pct'], 0)} on its cost."
                )
            else:
                actions.append(
                    "Review campaign spend: no campaign with a known cost has paid back in influenced revenue yet "
                    f"(best: **{r['campaign_name']}**, ROI {_pct(r['campaign_roi_pct'], 0)})."
                )
    out += ["", "## Recommended actions", "", *(f"{i}. {a}" for i, a in enumerate(actions, 1))]

    targets: list[list[str]] = []

    def target(
        name: str,
        current: float | None,
        goal: float | None,
        fmt: Callable[[float | None], str],
        rule: str,
        label: str | None = None,
    ) -> None:
        fig.add("success_metrics", f"{name}_target", goal)
        targets.append([label or KPIS[name].label, fmt(current), fmt(goal), rule])

    target("revenue_usd", head.get("revenue_usd"), (head.get("revenue_usd") or 0) * 1.05, _usd, "+5 % on this period")
    target("gross_margin_pct", head.get("gross_margin_pct"), head.get("gross_margin_pct"), _pct, "hold or improve")
    target(
        "average_order_value_usd",
        head.get("average_order_value_usd"),
        (head.get("average_order_value_usd") or 0) * 1.02,
        _usd,
        "+2 %",
    )
    if att.height:
        team = (
            reps["credited_bookings_usd"].sum() / reps["quota_usd"].sum() * 100.0 if reps["quota_usd"].sum() else None
        )
        target("attainment_pct", team, 100.0, _pct, "every team at quota")
    if pipe.height:
        target(
            "win_rate_pct",
            lowest_win_rate,
            float(pipe["win_rate_threshold_pct"].max()),
            _pct,
            "no region below the alert threshold",
            "Win rate (lowest region)",
        )
    out += ["", "## Success metrics for the next period", ""]
    out += _table(["KPI", "Now", "Target", "Rule"], targets, (0, 3))

    risks: list[str] = []
    if top5_share is not None and top5_share > 25:
        risks.append(
            f"Concentration: five products make {_pct(top5_share)} of revenue; a stock-out on any of them shows at once."
        )
    if losers.height:
        risks.append(f"Margin drain: {losers.height} products sell below cost.")
    # Regions come from the deployment configuration: which ones earn in another currency varies.
    foreign = {r.code: r.currency for r in REGIONS.values() if r.currency != REPORTING_CURRENCY}
    non_usd = by_region.filter(pl.col("region").is_in(list(foreign)))["revenue_usd"].sum()
    fx_share = fig.add("risks", "non_usd_revenue_share_pct", non_usd / revenue_total * 100.0 if revenue_total else None)
    if fx_share:
        names = list(dict.fromkeys(foreign.values()))
        earned_in = ", ".join(names[:-1]) + f" or {names[-1]}" if len(names) > 1 else names[0]
        risks.append(
            f"Currency: {_pct(fx_share)} of revenue is earned in {earned_in}; a stronger dollar lowers reported revenue."
        )
    if alerts.height:
        risks.append(f"Pipeline: {alerts.height} region × deal-type segment(s) kept a low win rate for months running.")
    if months_observed < 12:
        risks.append(
            "History: less than a year of data, so the yearly seasonality and year-on-year comparisons are not available yet."
        )
    if unmapped_revenue:
        risks.append("Data quality: unmapped products carry no cost, overstating margin until they are mapped.")
    out += ["", "## Risks", "", *(f"- {r}" for r in risks)]
    out += [
        "",
        "---",
        "",
        "_Generated by Sales 360 from the marts; every figure is in the `sales_team_report` table._",
        "",
    ]

    output_dir.mkdir(parents=True, exist_ok=True)
    trend = render_kpi_trend(inputs.daily_sales, period, output_dir / KPI_TREND_PNG, inputs.forecast)
    dashboard = render_business_dashboard(seg, daily, categories, products, period, output_dir / DASHBOARD_PNG)
    markdown = "\n".join(out)
    report_path = output_dir / REPORT_FILE
    report_path.write_text(markdown, encoding="utf-8")
    return SalesTeamReport(period, markdown, fig.frame(), report_path, trend, dashboard, section_pngs)


def _sections(inputs: ReportInputs, fig: _Figures, out: list[str], output_dir: Path) -> list[Path]:
    """The cross-sell and forecast sections (their own modules), appended to ``out``; their charts."""
    pngs: list[Path] = []
    if inputs.cross_sell is not None and inputs.affinity is not None:
        lines, png = cross_sell_section.build_section(inputs.cross_sell, inputs.affinity, fig.add, output_dir)
        out += lines
        pngs += [png] if png else []
    parts = (inputs.weekly_revenue, inputs.forecast, inputs.forecast_vs_actual, inputs.team_vs_target)
    if all(part is not None for part in parts):
        weekly, forecast, compared, team = parts
        lines, png = forecast_section.build_section(weekly, forecast, compared, team, fig.add, output_dir)
        out += lines
        pngs += [png] if png else []
    return pngs
