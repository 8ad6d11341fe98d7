"""Market basket, recommendations, forecast and team vs target through the real Dagster machinery.

Ten weeks of generated sources (fixed seed) are materialized into a temporary lake exactly as
``sales360 materialize`` does (reference data, the daily job per region, then
``sales_reporting_job``); the new marts must come out of ``sales_reporting_job`` with rows, the
recommender must beat popularity on the 30-day time holdout, and the report must carry both
new sections.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets import frames
from sales360_assets.cli import main
from sales360_assets.forecast.assets import forecast_assets
from sales360_assets.forecast.model import HORIZON
from sales360_assets.frames import ROWS_PER_BLOCK
from sales360_assets.marts import assets as marts_assets
from sales360_assets.marts import campaigns as marts_campaigns
from sales360_assets.marts import customers as marts_customers
from sales360_assets.marts import products as marts_products
from sales360_assets.marts import sales as marts_sales
from sales360_assets.marts import seasonality as marts_seasonality
from sales360_assets.recommendations import evaluation, recommend
from sales360_assets.recommendations.assets import recommendation_assets, recommenders_for
from sales360_assets.reports.cross_sell_section import CROSS_SELL_PNG
from sales360_assets.reports.forecast_section import FORECAST_PNG
from sales360_assets.sample_sources.generator import generate_sources
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.conftest import MaterializedLake, SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("analytics_integration")]

START, END = date(2026, 1, 5), date(2026, 3, 15)  # Monday to Sunday: ten complete weeks
NEW_MARTS = [a.key.to_user_string() for a in [*recommendation_assets, *forecast_assets]]


@pytest.fixture(scope="module")
def lake_ten_weeks(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MaterializedLake]:
    root = tmp_path_factory.mktemp("analytics_sources")
    manifest = generate_sources(root, START, END, order_lines=8_000, seed=11)
    with project_instance() as instance:
        yield materialize_into(
            tmp_path_factory.mktemp("analytics"), SampleSources(root, manifest), instance, START, END
        )


def test_every_new_mart_comes_out_of_sales_reporting_job_with_rows(lake_ten_weeks: MaterializedLake) -> None:
    for name in NEW_MARTS:
        assert lake_ten_weeks.lake.read(name).height > 0, name
        event = lake_ten_weeks.instance.get_latest_materialization_event(dg.AssetKey(name))
        assert event is not None, name
        run = lake_ten_weeks.instance.get_run_by_id(event.run_id)
        assert run is not None and run.job_name == "sales_reporting_job", name


def test_the_recommender_beats_popularity_on_the_time_holdout(lake_ten_weeks: MaterializedLake) -> None:
    lake = lake_ten_weeks.lake
    fact, customers, products = lake.read("fact_sales"), lake.read("dim_customer"), lake.read("dim_product")
    scores = evaluation.evaluate(fact, customers, products, recommenders_for(customers, products, 0.001))
    by_method = {r["method"]: r for r in scores.iter_rows(named=True)}
    chosen = by_method[evaluation.choose_model(scores)]
    assert chosen["customers"] >= 100  # enough customers for the comparison to mean something
    assert chosen["hit_rate_at_k"] > by_method[recommend.POPULARITY]["hit_rate_at_k"]
    assert chosen["recall_at_k"] > by_method[recommend.POPULARITY]["recall_at_k"]
    # The asset used the same evaluation to pick its model.
    mart = lake.read("mart_customer_recommendations")
    assert set(mart.filter(pl.col("source") != recommend.POPULARITY)["source"]) == {chosen["method"]}
    assert mart.group_by("customer_key").len()["len"].max() == recommend.DEFAULT_TOP_N


def test_forecast_marts_cover_every_region_and_the_backtest_weeks(lake_ten_weeks: MaterializedLake) -> None:
    lake = lake_ten_weeks.lake
    forecast = lake.read("mart_revenue_forecast").filter(pl.col("level") == "region")
    assert sorted(forecast["series"].unique()) == sorted(REGION_CODES)
    assert forecast.group_by("series").len()["len"].to_list() == [HORIZON] * len(REGION_CODES)
    compared = lake.read("mart_forecast_vs_actual")
    weekly = lake.read("mart_weekly_revenue")
    assert weekly["week_start"].n_unique() == 10
    actual = weekly.join(
        compared.select("level", "series", "week_start"), on=["level", "series", "week_start"], how="semi"
    )
    assert compared.sort("level", "series", "week_start")["actual_usd"].to_list() == pytest.approx(
        actual.sort("level", "series", "week_start")["revenue_usd"].to_list()
    )
    team = lake.read("mart_team_vs_target")
    assert {"region", "team"} <= set(team["level"])


def test_the_report_has_the_cross_sell_and_forecast_sections(lake_ten_weeks: MaterializedLake) -> None:
    folder = Path(lake_ten_weeks.lake_uri).parent / "reports"
    report = (folder / "sales_team_report.md").read_text(encoding="utf-8")
    assert "## Cross-sell opportunities" in report and "## Forecast" in report
    for png in (CROSS_SELL_PNG, FORECAST_PNG):
        assert (folder / png).read_bytes().startswith(b"\x89PNG\r\n\x1a\n"), png


def test_the_evaluate_commands_print_model_and_baseline(
    lake_ten_weeks: MaterializedLake, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["recommend", "evaluate", "--lake", lake_ten_weeks.lake_uri]) == 0
    printed = capsys.readouterr().out
    for method in (recommend.POPULARITY, recommend.CROSS_SELL, recommend.ALS):
        assert method in printed, method
    assert "chosen model:" in printed
    # Ten weeks, two of them before the eight held out: a backtest of naive models.
    assert main(["forecast", "evaluate", "--lake", lake_ten_weeks.lake_uri]) == 0
    printed = capsys.readouterr().out
    assert "model_mape_pct" in printed and "baseline_mape_pct" in printed


@pytest.mark.parametrize("rows_per_block", [ROWS_PER_BLOCK, 1], ids=["as configured", "a month at a time"])
def test_month_grain_marts_built_in_spans_of_months_equal_their_whole_history_build(
    lake_ten_weeks: MaterializedLake, rows_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The assets build these a span of months of sales at a time (the ten-week lake: one span as
    configured, three a month at a time); the result must be what the same transforms give over the
    whole history at once. As configured, the tables Dagster wrote are checked; a month at a time,
    the assets' own output."""
    monkeypatch.setattr(frames, "ROWS_PER_BLOCK", rows_per_block)
    lake = lake_ten_weeks.lake
    fact, dim_customer, dim_product = lake.read("fact_sales"), lake.read("dim_customer"), lake.read("dim_product")
    assert fact["date"].dt.month_start().n_unique() == 3
    scan = lake.scan("fact_sales")
    cases = {
        "mart_promotion_effectiveness": (
            marts_sales.build_mart_promotion_effectiveness(fact),
            lambda: marts_assets.mart_promotion_effectiveness(fact_sales=scan),
        ),
        "mart_customer_segment_monthly": (
            marts_customers.build_mart_customer_segment_monthly(fact, dim_customer),
            lambda: marts_assets.mart_customer_segment_monthly(fact_sales=scan, dim_customer=dim_customer),
        ),
        "mart_product_profitability": (
            marts_products.build_mart_product_profitability(fact, dim_product),
            lambda: marts_assets.mart_product_profitability(fact_sales=scan, dim_product=dim_product),
        ),
    }
    for name, (whole_history, asset_output) in cases.items():
        if rows_per_block == ROWS_PER_BLOCK:  # Delta promises no row order: compare as sets
            assert_frame_equal(lake.read(name), whole_history, check_row_order=False)
            continue
        blocks = list(asset_output().make())
        assert len(blocks) == 3, name  # one per month
        assert whole_history.height > 0
        assert_frame_equal(pl.concat(blocks), whole_history)  # the months in order are the sorted mart
    # These two read the scan with the streaming engine: the same as over the history in memory.
    seasonality = marts_seasonality.build_mart_seasonality(fact)
    assert_frame_equal(lake.read("mart_seasonality"), seasonality, check_row_order=False)
    deals, campaigns = lake.read("fact_opportunity"), lake.read("stg_salesforce_campaigns")
    campaign_effectiveness = marts_campaigns.build_mart_campaign_effectiveness(fact, deals, campaigns)
    assert campaign_effectiveness["influenced_revenue_usd"].sum() > 0
    assert_frame_equal(lake.read("mart_campaign_effectiveness"), campaign_effectiveness, check_row_order=False)
