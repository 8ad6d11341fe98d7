"""The sales sections of the sales team report: scope, headline, customer segments, product portfolio,
regions and channels, seasonality. No Dagster here.

Each section reads its marts for the report's period, records every number it prints in the
figures table, and returns its Markdown lines with the facts the recommended actions, success
metrics and risks are ruled from (``reports/outlook.py``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import polars as pl

from sales360_assets.kpis import ratio
from sales360_assets.kpis.glossary import KPIS
from sales360_assets.reports.charts import DASHBOARD_PNG, KPI_TREND_PNG
from sales360_assets.reports.figures import Figures
from sales360_assets.reports.markdown import change, count, pct, signed_pct, signed_points, table, usd
from sales360_assets.reports.periods import ReportPeriod

TOP_N = 5
# The headline KPIs in the order they are shown, each with how it is written.
HEADLINE_FORMATS: dict[str, Callable[[float | None], str]] = {
    "revenue_usd": usd,
    "orders": count,
    "average_order_value_usd": usd,
    "units": count,
    "average_selling_price_usd": usd,
    "gross_margin_pct": pct,
}
# Every KPI column of the breakdown tables: the headline's and the share of revenue.
FORMATS = {**HEADLINE_FORMATS, "share_pct": pct}
# Breakdown tables: column header -> KPI column, after the segment or category itself.
SEGMENT_COLUMNS = {
    "Revenue": "revenue_usd",
    "Share": "share_pct",
    "Units": "units",
    "Orders": "orders",
    "Average price": "average_selling_price_usd",
    "AOV": "average_order_value_usd",
}
CATEGORY_COLUMNS = {
    "Revenue": "revenue_usd",
    "Share": "share_pct",
    "Units": "units",
    "Gross margin": "gross_margin_pct",
}
# The figures each segment records, in the figures table's order (not the table's).
SEGMENT_FIGURES = (
    "revenue_usd",
    "units",
    "orders",
    "average_selling_price_usd",
    "average_order_value_usd",
    "share_pct",
)


def in_period(frame: pl.DataFrame, start: date, end: date, column: str = "date") -> pl.DataFrame:
    return frame.filter(pl.col(column).is_between(start, end))


def headline_totals(daily: pl.DataFrame) -> dict[str, float | None]:
    """The headline KPIs over ``mart_daily_sales`` rows (empty when there are none)."""
    totals = daily.select(
        pl.col("revenue_usd").sum(),
        pl.col("units").sum(),
        pl.col("orders").sum(),
        pl.col("gross_margin_usd").sum(),
    ).with_columns(ratio("average_order_value_usd"), ratio("average_selling_price_usd"), ratio("gross_margin_pct"))
    return totals.row(0, named=True) if totals.height else {}


def _share_of_revenue(total: float) -> pl.Expr:
    return (pl.col("revenue_usd") / total * 100.0 if total else pl.lit(None, pl.Float64)).alias("share_pct")


def segment_table(segments: pl.DataFrame) -> pl.DataFrame:
    return (
        segments.group_by("segment")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("orders").sum())
        .with_columns(
            ratio("average_order_value_usd"),
            ratio("average_selling_price_usd"),
            _share_of_revenue(segments["revenue_usd"].sum()),
        )
        .sort("revenue_usd", descending=True)
    )


def product_table(products: pl.DataFrame) -> pl.DataFrame:
    return (
        products.group_by("product_key", "sku", "product_name", "category")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("gross_margin_usd").sum())
        .with_columns(ratio("gross_margin_pct"))
        .sort("gross_margin_usd", "sku", descending=[True, False], nulls_last=True)
    )


def category_table(performance: pl.DataFrame) -> pl.DataFrame:
    return (
        performance.group_by("category")
        .agg(pl.col("revenue_usd").sum(), pl.col("units").sum(), pl.col("gross_margin_usd").sum())
        .with_columns(ratio("gross_margin_pct"), _share_of_revenue(performance["revenue_usd"].sum()))
        .sort("revenue_usd", descending=True)
    )


def _breakdown(
    fig: Figures,
    section: str,
    frame: pl.DataFrame,
    by: tuple[str, str],
    recorded: tuple[str, ...],
    columns: dict[str, str],
) -> list[str]:
    """A table with a row per ``by`` (header, column) value; each row's ``recorded`` metrics go to the figures."""
    header, key = by
    rows = []
    for r in frame.iter_rows(named=True):
        for metric in recorded:
            fig.add(section, metric, r[metric], r[key])
        rows.append([r[key], *(FORMATS[column](r[column]) for column in columns.values())])
    return table([header, *columns], rows)


# --- scope and headline ---------------------------------------------------------------------------


def scope(period: ReportPeriod, first: date, last: date, daily: pl.DataFrame) -> list[str]:
    """The report's title and what it covers: dates, regions, channels, money, sources."""
    regions = sorted(daily["region"].unique().to_list())
    channels = sorted(daily["channel"].unique().to_list())
    compared = (
        f"; compared with {period.previous[0]:%d %b} – {period.previous[1]:%d %b %Y}." if period.previous else "."
    )
    return [
        f"# Sales team report — {period.label}",
        "",
        "## Scope",
        "",
        f"- **Period:** {period.start:%a %d %b %Y} to {period.end:%a %d %b %Y} ({period.days} days, {period.scope})"
        + compared,
        f"- **Data available:** {first:%d %b %Y} to {last:%d %b %Y}.",
        f"- **Regions:** {', '.join(regions)}. **Channels:** {', '.join(channels)} (web shop, stores, sales-led deals).",
        "- **Money:** US dollars, converted from local currencies at each day's FX rate. Definitions: "
        "`docs/kpi_glossary.md`.",
        "- **Sources:** the Sales 360 marts (`mart_daily_sales`, `mart_customer_segment_performance`, "
        "`mart_product_performance`, `mart_sales_performance`, `mart_seasonality`, `mart_rep_quota_attainment`, "
        "`mart_pipeline`, `mart_campaign_effectiveness`).",
        "",
    ]


def headline(
    fig: Figures, period: ReportPeriod, head: dict[str, float | None], previous: dict[str, float | None]
) -> list[str]:
    """The headline KPIs against the previous period of the same kind, and the executive trend chart."""
    rows = []
    for metric, fmt in HEADLINE_FORMATS.items():
        value = fig.add("headline", metric, head.get(metric))
        before = previous.get(metric)
        if period.previous:
            fig.add("headline_previous", metric, before)
        rows.append(
            [
                KPIS[metric].label,
                fmt(value),
                fmt(before) if period.previous else "—",
                # A percentage moves in points; an amount or a count by a percentage of itself.
                signed_points(value, before) if metric.endswith("_pct") else signed_pct(change(value, before)),
            ]
        )
    return [
        "## Headline",
        "",
        *table(["KPI", "This period", "Previous period", "Change"], rows),
        "",
        f"![Executive KPI trend]({KPI_TREND_PNG})",
        "",
    ]


# --- customer segments ----------------------------------------------------------------------------


def _segment_insights(seg: pl.DataFrame) -> list[str]:
    if not seg.height:
        return []
    top_seg = seg.row(0, named=True)
    best_aov = seg.sort("average_order_value_usd", descending=True, nulls_last=True).row(0, named=True)
    busiest = seg.sort("orders", descending=True).row(0, named=True)
    return [
        f"**{top_seg['segment']}** is the largest segment: {usd(top_seg['revenue_usd'])} "
        f"({pct(top_seg['share_pct'])} of revenue) from {count(top_seg['orders'])} orders.",
        f"**{best_aov['segment']}** orders are the largest, {usd(best_aov['average_order_value_usd'])} on "
        f"average at {usd(best_aov['average_selling_price_usd'])} an item.",
        f"**{busiest['segment']}** places the most orders ({count(busiest['orders'])}).",
    ]


def customer_segments(fig: Figures, segments: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """Revenue, share, orders and prices per segment, with three insights; the segment table."""
    seg = segment_table(segments)
    out = ["## Key insights by customer segment", ""]
    out += _breakdown(fig, "segments", seg, ("Segment", "segment"), SEGMENT_FIGURES, SEGMENT_COLUMNS)
    return [*out, "", *(f"- {i}" for i in _segment_insights(seg)), ""], seg


# --- product portfolio ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Portfolio:
    """The period's product portfolio: what the dashboard draws and the outlook rules over."""

    categories: pl.DataFrame
    products: pl.DataFrame
    losers: pl.DataFrame  # products sold below cost
    unmapped_revenue: float | None  # revenue of products without a known cost
    top5_share: float | None  # share of revenue of the five best sellers, %
    revenue_total: float


def _profitability_lines(fig: Figures, products: pl.DataFrame) -> list[str]:
    # An unmapped product has no known cost, so its margin says nothing about profitability.
    costed = products.filter(pl.col("category") != "Unmapped")
    most = costed.head(TOP_N)
    least = costed.sort("gross_margin_usd", "sku", nulls_last=True).head(TOP_N)
    out: list[str] = []
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
                    usd(r["revenue_usd"]),
                    usd(r["gross_margin_usd"]),
                    pct(r["gross_margin_pct"]),
                ]
            )
        out += ["", f"**{title}** (by gross margin)", ""]
        out += table(["Product", "Category", "Revenue", "Gross margin", "Margin %"], rows, (0, 1))
    return out


def product_portfolio(
    fig: Figures, performance: pl.DataFrame, products: pl.DataFrame, revenue_total: float
) -> tuple[list[str], Portfolio]:
    """Categories, the most and least profitable products, concentration and loss-makers; the dashboard chart."""
    categories = category_table(performance)
    by_product = product_table(products)
    out = [
        "## Product portfolio",
        "",
        *_breakdown(
            fig, "categories", categories, ("Category", "category"), tuple(CATEGORY_COLUMNS.values()), CATEGORY_COLUMNS
        ),
        *_profitability_lines(fig, by_product),
    ]
    top5_share = fig.add(
        "portfolio",
        "top_5_products_revenue_share_pct",
        by_product.sort("revenue_usd", descending=True).head(TOP_N)["revenue_usd"].sum() / revenue_total * 100.0
        if revenue_total
        else None,
    )
    losers = by_product.filter(pl.col("gross_margin_usd") < 0)
    fig.add("portfolio", "loss_making_products", float(losers.height))
    fig.add("portfolio", "loss_making_margin_usd", losers["gross_margin_usd"].sum())
    unmapped = categories.filter(pl.col("category") == "Unmapped")
    unmapped_revenue = fig.add("portfolio", "unmapped_revenue_usd", unmapped["revenue_usd"].sum())
    out += [
        "",
        f"The five best-selling products bring {pct(top5_share)} of revenue; {losers.height} products sold at a "
        f"loss ({usd(losers['gross_margin_usd'].sum())} margin).",
        "",
        f"![Business performance dashboard]({DASHBOARD_PNG})",
        "",
    ]
    return out, Portfolio(categories, by_product, losers, unmapped_revenue, top5_share, revenue_total)


# --- regions, channels, seasonality ---------------------------------------------------------------


def regions_and_channels(fig: Figures, daily: pl.DataFrame) -> tuple[list[str], pl.DataFrame]:
    """Revenue and orders per region and per channel; the per-region totals."""
    by_region = daily.group_by("region").agg(pl.col("revenue_usd").sum(), pl.col("orders").sum()).sort("region")
    by_channel = daily.group_by("channel").agg(pl.col("revenue_usd").sum(), pl.col("orders").sum()).sort("channel")
    rows = []
    for r in by_region.iter_rows(named=True):
        fig.add("regions", "revenue_usd", r["revenue_usd"], r["region"])
        rows.append([r["region"], usd(r["revenue_usd"]), count(r["orders"])])
    for r in by_channel.iter_rows(named=True):
        fig.add("channels", "revenue_usd", r["revenue_usd"], r["channel"])
        rows.append([f"channel: {r['channel']}", usd(r["revenue_usd"]), count(r["orders"])])
    return ["## Regions and channels", "", *table(["Region / channel", "Revenue", "Orders"], rows)], by_region


@dataclass(frozen=True)
class Seasonality:
    peaks: pl.DataFrame  # the peak weekday per region (and "all")
    months_observed: int


def _weekday_lines(fig: Figures, peaks: pl.DataFrame, troughs: pl.DataFrame) -> list[str]:
    rows = []
    for r in peaks.sort("region").iter_rows(named=True):
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
    return table(["Region", "Peak weekday (index)", "Quietest weekday (index)"], rows, (0, 1, 2))


def seasonality(fig: Figures, season: pl.DataFrame) -> tuple[list[str], Seasonality]:
    """Peak and quietest weekday per region, and the peak month once there are months to compare."""
    weekly = season.filter(pl.col("index_type") == "weekly", pl.col("is_peak"))
    troughs = season.filter(pl.col("index_type") == "weekly", pl.col("is_trough"))
    yearly = season.filter(pl.col("index_type") == "yearly", pl.col("region") == "all")
    out = ["", "## Seasonality", "", *_weekday_lines(fig, weekly, troughs)]
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
    return out, Seasonality(weekly, months_observed)
