"""The sales team report asset: Markdown and two PNG dashboards from the marts, shown in the Dagster UI.

Where the files go: ``ReportConfig.output_dir`` when set (run config), else
``$SALES360_REPORTS_DIR``, else ``reports/`` next to a local lake (``data/reports`` for the
default ``data/lake``; a test's temporary lake gets a temporary reports folder), else
``$SALES360_DATA_DIR/reports`` for a lake in object storage.

The asset's table is the report's figures (section, metric, dimension, value): every number in
the Markdown, so the report can be reconciled with the marts it came from.
"""

import base64
import os
from pathlib import Path

import dagster as dg
import polars as pl
from pydantic import Field

from sales360_assets import kpis
from sales360_assets.core.assets import column_metadata
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.reports import sales_team_report as report
from sales360_assets.reports.figures import FIGURES_SCHEMA
from sales360_assets.reports.periods import REQUEST_HELP, PeriodRequestError
from sales360_assets.settings import data_dir

REPORTS_DIR_ENV = "SALES360_REPORTS_DIR"
FIGURES_DESCRIPTIONS = {
    "period_start": "First day of the report period (the same on every row of one report).",
    "period_end": "Last day (inclusive) of the report period.",
    "section": "Report section the figure is printed in, e.g. regions, channels, pipeline, sales_team, campaigns.",
    "metric": "What the figure measures, named like the mart column or KPI it comes from (e.g. revenue_usd, "
    "win_rate_pct).",
    "dimension": "The member the figure is for (e.g. a region or channel); empty for a section-wide figure.",
    "value": "The number as printed in the report, in the metric's unit (USD for *_usd, percent for *_pct); null "
    "when not available.",
}


class ReportConfig(dg.Config):
    """Which dates the report covers, and where to write it and its PNGs."""

    output_dir: str = Field("", description="Folder for the report files (empty: see the module docstring).")
    period: str = Field(
        "latest",
        description=f"Report period: {REQUEST_HELP}. Default: the latest complete month (else week).",
    )


def reports_dir(config_dir: str, lake: DeltaLake) -> Path:
    if config_dir:
        return Path(config_dir)
    if os.environ.get(REPORTS_DIR_ENV):
        return Path(os.environ[REPORTS_DIR_ENV])
    if lake.is_local:
        return Path(lake.root_uri).resolve().parent / "reports"
    return data_dir() / "reports"


def _inline_png(path: Path, title: str) -> str:
    # Dagster 1.13 has no image metadata type; a data URI in Markdown renders inline in the UI.
    encoded = base64.b64encode(path.read_bytes()).decode("ascii")
    return f"![{title}](data:image/png;base64,{encoded})"


@dg.asset(
    metadata=column_metadata(FIGURES_SCHEMA, FIGURES_DESCRIPTIONS),
    group_name="reports",
    owners=["team:sales-analytics"],
    kinds={"polars", "delta", "markdown"},
    description=kpis.describe(
        "sales_team_report",
        "The sales team report for the latest complete period (month, else ISO week; run config `period` or "
        "`sales360 report --period` asks for a week, month, quarter, year or all history): scope, headline KPIs, "
        "customer-segment insights, product portfolio, regions and channels, seasonality, sales team and "
        "pipeline, cross-sell opportunities, the revenue forecast with team vs target, recommended actions, "
        "success metrics and risks — generated from the marts. Writes sales_team_report.md, "
        "executive_kpi_trend.png (with the forecast line), business_performance_dashboard.png, "
        "cross_sell_opportunities.png and revenue_forecast.png under data/reports/ and shows them on the "
        "materialization. The table holds every figure of the report.",
    ),
    tags={"sensitivity": "confidential"},
)
def sales_team_report(
    config: ReportConfig,
    lake: LakeResource,
    mart_daily_sales: pl.LazyFrame,
    mart_customer_segment_performance: pl.LazyFrame,
    mart_product_performance: pl.LazyFrame,
    mart_sales_performance: pl.LazyFrame,
    mart_seasonality: pl.DataFrame,
    mart_rep_quota_attainment: pl.DataFrame,
    mart_pipeline: pl.DataFrame,
    mart_campaign_effectiveness: pl.DataFrame,
    mart_product_affinity: pl.DataFrame,
    mart_cross_sell_opportunities: pl.DataFrame,
    mart_weekly_revenue: pl.DataFrame,
    mart_revenue_forecast: pl.DataFrame,
    mart_forecast_vs_actual: pl.DataFrame,
    mart_team_vs_target: pl.DataFrame,
) -> dg.Output:
    inputs = report.ReportInputs(
        daily_sales=mart_daily_sales.collect(),
        segments=mart_customer_segment_performance.collect(),
        products=mart_product_performance.collect(),
        sales_performance=mart_sales_performance.collect(),
        seasonality=mart_seasonality,
        attainment=mart_rep_quota_attainment,
        pipeline=mart_pipeline,
        campaigns=mart_campaign_effectiveness,
        affinity=mart_product_affinity,
        cross_sell=mart_cross_sell_opportunities,
        weekly_revenue=mart_weekly_revenue,
        forecast=mart_revenue_forecast,
        forecast_vs_actual=mart_forecast_vs_actual,
        team_vs_target=mart_team_vs_target,
    )
    try:
        built = report.build_report(inputs, reports_dir(config.output_dir, lake.get_lake()), config.period)
    except PeriodRequestError as exc:
        # The figures table keeps its last report; the run says what to ask for instead.
        raise dg.Failure(description=f"sales_team_report period: {exc}", allow_retries=False) from exc
    # Each image is embedded once, in its own entry; the report entry points at them (the event stays small).
    shown = built.markdown
    images: dict[str, object] = {}
    for png in (built.kpi_trend_png, built.dashboard_png, *built.section_pngs):
        entry = png.stem
        title = shown.split(f"]({png.name})")[0].rsplit("![", 1)[1]
        shown = shown.replace(f"![{title}]({png.name})", f"_{title}: see the `{entry}` metadata entry._")
        images[entry] = dg.MetadataValue.md(_inline_png(png, title))
        images[f"{entry}_path"] = dg.MetadataValue.path(str(png))
    return dg.Output(
        built.figures,
        metadata={
            "period": built.period.label,
            "report": dg.MetadataValue.md(shown),
            **images,
            "report_path": dg.MetadataValue.path(str(built.report_path)),
        },
    )


report_assets: list[dg.AssetsDefinition] = [sales_team_report]
