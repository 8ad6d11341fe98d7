"""The cross-sell and forecast sections of the sales team report: present, charted, equal to their marts."""

from __future__ import annotations

import dataclasses
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.forecast import backtest, model, series, team
from sales360_assets.recommendations import basket, cross_sell
from sales360_assets.reports.charts import render_kpi_trend
from sales360_assets.reports.cross_sell_section import CROSS_SELL_PNG
from sales360_assets.reports.forecast_section import FORECAST_PNG
from sales360_assets.reports.periods import resolve_period
from sales360_assets.reports.sales_team_report import (
    ReportInputs,
    SalesTeamReport,
    build_report,
)
from sales360_assets_tests.analytics_builders import customers, lines, products
from sales360_assets_tests.test_forecast import attainment_rows
from sales360_assets_tests.test_sales_team_report import marts  # noqa: F401 - the shared fixture

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PRODUCTS = products([("A", "Elec", "Phones", 100.0), ("B", "Elec", "Cases", 20.0), ("C", "Home", "Kitchen", 50.0)])
CUSTOMERS = customers([("c1", "Consumer", "na"), ("c2", "Corporate", "uk"), ("c3", "Consumer", "na")])


def analytics_fact() -> pl.DataFrame:
    """Five weeks from Monday 2024-02-05: phones sell with cases; c3 owns only a phone."""
    first = date(2024, 2, 5)
    rows = []
    for i in range(35):
        day = first + timedelta(days=i)
        rows += [
            (f"o{i}", day, "c1" if i % 2 else "c2", "A", 100.0 + i),
            (f"o{i}", day, "c1" if i % 2 else "c2", "B", 20.0),
        ]
        if i % 5 == 0:
            rows.append((f"x{i}", day, "c2", "C", 50.0))
    rows.append(("solo", first, "c3", "A", 100.0))
    return lines(rows)


@pytest.fixture(scope="module")
def full_inputs(marts: ReportInputs) -> ReportInputs:  # noqa: F811 - the imported fixture
    fact = analytics_fact()
    affinity = basket.build_mart_product_affinity(fact, PRODUCTS, min_support=0.01)
    weekly = series.weekly_revenue(fact, CUSTOMERS)
    return dataclasses.replace(
        marts,
        affinity=affinity,
        cross_sell=cross_sell.build_mart_cross_sell_opportunities(fact, CUSTOMERS, PRODUCTS, affinity).collect(),
        weekly_revenue=weekly,
        forecast=model.forecast(weekly),
        forecast_vs_actual=backtest.backtest(weekly, weeks=2),
        team_vs_target=team.build_mart_team_vs_target(attainment_rows(), as_of=date(2026, 3, 10)),
    )


@pytest.fixture(scope="module")
def report(full_inputs: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> SalesTeamReport:
    return build_report(full_inputs, tmp_path_factory.mktemp("reports"))


def figures(report: SalesTeamReport, section: str, metric: str) -> dict[str, float]:
    rows = report.figures.filter((pl.col("section") == section) & (pl.col("metric") == metric))
    return dict(zip(rows["dimension"], rows["value"], strict=True))


def test_both_sections_and_their_charts_are_in_the_report(report: SalesTeamReport) -> None:
    markdown = report.markdown
    assert "## Cross-sell opportunities" in markdown and "## Forecast" in markdown
    assert markdown.index("## Forecast") < markdown.index("## Recommended actions")
    assert f"]({CROSS_SELL_PNG})" in markdown and f"]({FORECAST_PNG})" in markdown
    assert [p.name for p in report.section_pngs] == [CROSS_SELL_PNG, FORECAST_PNG]
    for png in report.section_pngs:
        assert Path(png).read_bytes().startswith(PNG_SIGNATURE), png


def test_cross_sell_figures_equal_the_marts(report: SalesTeamReport, full_inputs: ReportInputs) -> None:
    assert full_inputs.cross_sell is not None and full_inputs.affinity is not None
    best = full_inputs.cross_sell.filter(pl.col("rank") == 1)
    assert figures(report, "cross_sell", "customers_with_offer") == {"": best.height}
    # c3 owns a phone only: the case is its best offer, driven by the phone.
    c3 = best.filter(pl.col("customer_key") == "c3").row(0, named=True)
    assert (c3["product_key"], c3["driving_products"]) == ("B", ["name-A"])
    lifts = figures(report, "cross_sell", "pair_lift")
    rule = full_inputs.affinity.filter((pl.col("level") == "product") & (pl.col("antecedent") == "A"))
    assert lifts["name-A → name-B"] == pytest.approx(rule.filter(pl.col("consequent") == "B")["lift"].item())


def test_forecast_figures_equal_the_marts(report: SalesTeamReport, full_inputs: ReportInputs) -> None:
    assert full_inputs.forecast is not None and full_inputs.forecast_vs_actual is not None
    nxt = figures(report, "forecast", "next_week_forecast_usd")
    first_week = full_inputs.forecast.filter(pl.col("week_start") == pl.col("week_start").min())
    total = first_week.filter(pl.col("level") == "total")["forecast_usd"].item()
    na = first_week.filter((pl.col("level") == "region") & (pl.col("series") == "na"))["forecast_usd"].item()
    assert (nxt["all regions"], nxt["na"]) == pytest.approx((total, na))
    mape = backtest.mape_by_level(full_inputs.forecast_vs_actual).filter(pl.col("level") == "all")
    assert figures(report, "forecast", "model_mape_pct")["all"] == pytest.approx(mape["model_mape_pct"].item())
    projected = figures(report, "forecast", "projected_attainment_pct")
    assert projected["na"] == pytest.approx(300.0 * 31 / 10 / 1000.0 * 100)


def test_the_executive_trend_chart_draws_the_forecast_line(full_inputs: ReportInputs, tmp_path: Path) -> None:
    period = resolve_period("latest", full_inputs.daily_sales["date"].min(), full_inputs.daily_sales["date"].max())
    without = render_kpi_trend(full_inputs.daily_sales, period, tmp_path / "without.png")
    with_line = render_kpi_trend(full_inputs.daily_sales, period, tmp_path / "with.png", full_inputs.forecast)
    assert with_line.read_bytes() != without.read_bytes()


def test_without_the_new_marts_the_report_has_neither_section(marts: ReportInputs, tmp_path: Path) -> None:  # noqa: F811
    built = build_report(marts, tmp_path)
    assert "## Cross-sell opportunities" not in built.markdown and built.section_pngs == []
