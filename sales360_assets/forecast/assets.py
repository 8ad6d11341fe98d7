"""Weekly revenue, its 13-week forecast, the backtest against actuals and team vs target. Thin wrappers.

Unpartitioned, in ``sales_reporting_job``. The weekly series reads only the last
``history_weeks`` of ``fact_sales`` (three years by default: enough for two yearly seasons and a
backtest), so the cost does not grow with history.
"""

from collections.abc import Callable
from datetime import timedelta
from functools import partial
from importlib.metadata import version
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets import frames, money, months
from sales360_assets.catalogue import kpi_asset, kpi_metadata
from sales360_assets.core.assets import last_sale_date
from sales360_assets.forecast import backtest, model, selection, series, team
from sales360_assets.forecast.columns import COLUMN_DOCS
from sales360_assets.lake import reuse
from sales360_assets.lake.io_manager import LakeResource

GROUP = "forecast"
OWNERS = ["team:sales-analytics"]
KINDS = {"polars", "delta", "statsforecast"}
DEFAULT_HISTORY_WEEKS = 3 * model.SEASON
# The weekly series changes once a week (or when a late sale lands in a past week); the reporting job
# runs daily. The two fitted marts reuse their last table while the series, their settings and this
# code are unchanged (``lake.reuse``): a mid-week day costs no fit (~1 s each on three years of weeks).
# The fits and every project module they import.
FIT_MODULES = (model, selection, backtest, series, frames, months, money)
FIT_CODE = reuse.code_fingerprint(
    list(FIT_MODULES),
    *(version(library) for library in ("statsforecast", "coreforecast", "utilsforecast", "numpy", "scipy", "polars")),
)


class ForecastConfig(dg.Config):
    horizon_weeks: int = model.HORIZON
    backtest_weeks: int = backtest.BACKTEST_WEEKS
    history_weeks: int = DEFAULT_HISTORY_WEEKS


def _last_fit_or(
    fit: partial[pl.DataFrame], context: dg.AssetExecutionContext, lake: LakeResource
) -> tuple[pl.DataFrame, dict[str, object]]:
    """The table of the last fit while what ``fit`` is called with and this code are unchanged; else ``fit()``."""
    inputs = (fit.func.__qualname__, *fit.args, repr(sorted(fit.keywords.items())), FIT_CODE)
    return reuse.reused_or_computed(context, lake.get_lake(), inputs, fit)


def _asset(
    name: str, schema: dict[str, pl.DataType], summary: str, **asset_args: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``kpi_asset`` for this package: its column docs, owner and kinds unless the asset says otherwise."""
    asset_args.setdefault("owners", OWNERS)
    asset_args.setdefault("kinds", KINDS)
    return kpi_asset(name, schema, summary, group=GROUP, docs=COLUMN_DOCS, **asset_args)


@dg.asset(
    metadata=kpi_metadata(series.WEEKLY_SERIES_SCHEMA, COLUMN_DOCS),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"polars", "delta"},
    description="Revenue per complete week (Monday–Sunday) by region, by customer segment and in total, over the "
    "last history_weeks (default 156); weeks without sales are 0. The series the forecast is fitted on.",
)
def mart_weekly_revenue(
    config: ForecastConfig, lake: LakeResource, fact_sales: pl.LazyFrame, dim_customer: pl.DataFrame
) -> pl.DataFrame:
    end = last_sale_date(lake)
    scan = (
        fact_sales
        if end is None
        else fact_sales.filter(pl.col("date") > end - timedelta(weeks=config.history_weeks + 1))
    )
    fact = scan.select("date", "region", "customer_key", "net_amount_usd").collect()
    return series.weekly_revenue(fact, dim_customer)


FORECAST_SCHEMA = model.FORECAST_SCHEMA


@_asset(
    "mart_revenue_forecast",
    FORECAST_SCHEMA,
    "Weekly revenue for the next 13 weeks (run config) by region, by customer segment and in total, with 80 % "
    "and 95 % prediction intervals, from statsforecast: per series the best of MSTL + AutoETS (or AutoETS), "
    "seasonal naive and their average on the last 8-week validation windows.",
)
def mart_revenue_forecast(
    context: dg.AssetExecutionContext, config: ForecastConfig, lake: LakeResource, mart_weekly_revenue: pl.DataFrame
) -> dg.Output:
    fit = partial(model.forecast, mart_weekly_revenue, horizon=config.horizon_weeks)
    table, metadata = _last_fit_or(fit, context, lake)
    return dg.Output(table, metadata=metadata)


@_asset(
    "mart_forecast_vs_actual",
    backtest.MART_FORECAST_VS_ACTUAL_SCHEMA,
    "Backtest: model selection and fit without the last 8 complete weeks, the chosen forecast of those weeks against what "
    "was sold (variance, absolute % error, inside the 80 % interval) next to the seasonal-naive baseline. "
    "MAPE per level in the materialization metadata. Empty until there are two complete weeks.",
)
def mart_forecast_vs_actual(
    context: dg.AssetExecutionContext, config: ForecastConfig, lake: LakeResource, mart_weekly_revenue: pl.DataFrame
) -> dg.Output:
    fit = partial(backtest.backtest, mart_weekly_revenue, config.backtest_weeks)
    compared, metadata = _last_fit_or(fit, context, lake)
    overall = backtest.mape_by_level(compared).filter(pl.col("level") == "all")
    metadata["backtest_weeks"] = config.backtest_weeks
    if overall.height:
        row = overall.row(0, named=True)
        metadata |= {"model_mape_pct": row["model_mape_pct"], "baseline_mape_pct": row["baseline_mape_pct"]}
    return dg.Output(compared, metadata=metadata)


@_asset(
    "mart_team_vs_target",
    team.MART_TEAM_VS_TARGET_SCHEMA,
    "Credited bookings against quota by region and by team (manager) per month, with the run-rate "
    "projection of month-end attainment for the month in progress.",
    owners=["team:sales-ops"],
    kinds={"polars", "delta"},
    tags={"sensitivity": "confidential"},
    # Its "as of" day is fact_sales' latest, read from the Delta log rather than loaded as an input:
    # the dependency stays on the graph, so a new day still re-runs it.
    deps=["fact_sales"],
)
def mart_team_vs_target(mart_rep_quota_attainment: pl.DataFrame, lake: LakeResource) -> pl.DataFrame:
    return team.build_mart_team_vs_target(mart_rep_quota_attainment, last_sale_date(lake))


forecast_assets: list[dg.AssetsDefinition] = [
    mart_weekly_revenue,
    mart_revenue_forecast,
    mart_forecast_vs_actual,
    mart_team_vs_target,
]
