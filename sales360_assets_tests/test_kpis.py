"""The KPI glossary: defined once, used by the marts, quoted in the descriptions, exported as a document."""

from __future__ import annotations

import polars as pl
import pytest

from sales360_assets import kpis
from sales360_assets.commissions import attainment, statements
from sales360_assets.forecast import backtest, team
from sales360_assets.forecast.assets import FORECAST_SCHEMA
from sales360_assets.jobs import all_assets
from sales360_assets.kpis.document import GLOSSARY_PATH, render_glossary
from sales360_assets.kpis.glossary import KPIS, MART_KPIS
from sales360_assets.marts import campaigns, customers, pipeline, products, sales, seasonality
from sales360_assets.recommendations import basket, category_spend, cross_sell, recommend
from sales360_assets.reports.figures import FIGURES_SCHEMA

MART_SCHEMAS: dict[str, dict[str, pl.DataType]] = {
    "mart_daily_sales": sales.MART_DAILY_SALES_SCHEMA,
    "mart_customer_segment_performance": customers.MART_CUSTOMER_SEGMENT_SCHEMA,
    "mart_product_performance": products.MART_PRODUCT_PERFORMANCE_SCHEMA,
    "mart_sales_performance": sales.MART_SALES_PERFORMANCE_SCHEMA,
    "mart_product_profitability": products.MART_PRODUCT_PROFITABILITY_SCHEMA,
    "mart_customer_segment_monthly": customers.MART_SEGMENT_MONTHLY_SCHEMA,
    "mart_promotion_effectiveness": sales.MART_PROMOTION_SCHEMA,
    "mart_pipeline": pipeline.MART_PIPELINE_SCHEMA,
    "mart_funnel_conversion": pipeline.MART_FUNNEL_SCHEMA,
    "mart_campaign_effectiveness": campaigns.MART_CAMPAIGN_SCHEMA,
    "mart_seasonality": seasonality.MART_SEASONALITY_SCHEMA,
    "mart_rep_quota_attainment": attainment.MART_REP_ATTAINMENT_SCHEMA,
    "commission_statement_lines": statements.STATEMENT_LINE_SCHEMA,
    "commission_statements": statements.STATEMENT_SCHEMA,
    "mart_product_affinity": basket.MART_PRODUCT_AFFINITY_SCHEMA,
    "mart_cross_sell_opportunities": cross_sell.MART_CROSS_SELL_SCHEMA,
    "mart_upsell_candidates": cross_sell.MART_UPSELL_SCHEMA,
    "mart_customer_recommendations": recommend.MART_RECOMMENDATIONS_SCHEMA,
    "mart_customer_category_spend": category_spend.MART_CATEGORY_SPEND_SCHEMA,
    "mart_revenue_forecast": FORECAST_SCHEMA,
    "mart_forecast_vs_actual": backtest.MART_FORECAST_VS_ACTUAL_SCHEMA,
    "mart_team_vs_target": team.MART_TEAM_VS_TARGET_SCHEMA,
}


def test_the_committed_glossary_is_the_rendered_registry() -> None:
    committed = GLOSSARY_PATH.read_text(encoding="utf-8")
    assert committed == render_glossary(), "docs/kpi_glossary.md is stale: run `python -m sales360_assets.kpis`"


def test_every_kpi_has_its_five_fields_and_is_used() -> None:
    used = {name for names in MART_KPIS.values() for name in names}
    for spec in KPIS.values():
        assert spec.name and spec.definition and spec.formula and spec.grain and spec.owner, spec.name
        assert spec.name in used, f"{spec.name} is defined but no mart carries it"
    assert used <= set(KPIS)


@pytest.mark.parametrize("mart", sorted(MART_SCHEMAS))
def test_each_marts_kpis_are_its_columns(mart: str) -> None:
    columns = set(MART_SCHEMAS[mart])
    for name in MART_KPIS[mart]:
        # Ranks are published as rank_most_profitable / rank_least_profitable.
        assert name in columns or (name == "margin_rank" and "rank_most_profitable" in columns), (mart, name)


def test_asset_descriptions_quote_the_glossary() -> None:
    described = {spec.key.to_user_string(): spec.description or "" for a in all_assets for spec in a.specs}
    for mart, names in MART_KPIS.items():
        for name in names:
            assert KPIS[name].definition in described[mart], (mart, name)


def test_measures_and_ratios_compute_the_documented_formulas() -> None:
    lines = pl.DataFrame(
        {
            "channel": ["web", "web", "pos"],
            "order_id": ["1", "1", "1"],
            "net_amount_usd": [10.0, 30.0, 20.0],
            "quantity": [1.0, 2.0, 1.0],
            "cost_usd": [4.0, 6.0, 5.0],
            "gross_margin_usd": [6.0, 24.0, 15.0],
        }
    )
    totals = lines.select(
        kpis.measure("revenue_usd"), kpis.measure("units"), kpis.measure("orders"), kpis.measure("gross_margin_usd")
    ).with_columns(kpis.ratio("average_order_value_usd"), kpis.ratio("gross_margin_pct"))
    assert totals.row(0) == (60.0, 4.0, 2, 45.0, 30.0, 75.0)  # web:1 and pos:1 are two orders
    empty = pl.DataFrame({"revenue_usd": [5.0], "orders": [0]}).select(kpis.ratio("average_order_value_usd"))
    assert empty.item() is None
    with pytest.raises(KeyError, match="not in the glossary"):
        kpis.measure("happiness")


def test_confidential_kpis_are_tagged() -> None:
    tags = kpis.confidential_columns(list(products.MART_PRODUCT_PROFITABILITY_SCHEMA))
    assert {"cost_usd", "gross_margin_usd", "gross_margin_pct", "rank_most_profitable"} <= set(tags)
    assert "revenue_usd" not in tags
    assert FIGURES_SCHEMA  # the report's table is documented too


SENSITIVE_COLUMNS = {
    "cost_usd",
    "gross_margin_usd",
    "gross_margin_pct",
    "credited_amount_usd",
    "commission_usd",
    "clawback_usd",
    "payout_usd",
}


def test_commission_and_margin_columns_carry_the_sensitivity_tag() -> None:
    tagged_assets = 0
    for assets_def in all_assets:
        for spec in assets_def.specs:
            schema = spec.metadata.get("dagster/column_schema")
            columns = {c.name: c for c in schema.columns} if schema is not None else {}
            sensitive = SENSITIVE_COLUMNS & set(columns)
            if not sensitive:
                continue
            tagged_assets += 1
            name = spec.key.to_user_string()
            assert spec.tags.get("sensitivity") == "confidential", name
            for column in sensitive:
                assert columns[column].tags.get("sensitivity") == "confidential", (name, column)
    assert tagged_assets >= 8  # fact_sales, the margin marts and every commission table
