"""Jobs. When they run is in ``schedules.py``.

Three jobs, because the data has three shapes:

* ``reference_data_job`` (unpartitioned): incremental Salesforce extracts, warehouse reference
  snapshots, their staging, the dimensions and ``fact_opportunity``.
* ``daily_sales_job`` (date × region): raw → staging → ``fact_sales`` → marts.
* ``sales_reporting_job`` (unpartitioned, over all history): the month / quarter / campaign /
  seasonality marts, commissions, the market basket and recommendations, the revenue forecast and
  team vs target, and the sales team report. They read every fact partition, so
  they run after their upstream assets (declarative automation) and last in ``sales360 materialize``.
"""

import dagster as dg

from sales360_assets.commissions.assets import commission_assets
from sales360_assets.core.assets import core_assets
from sales360_assets.forecast.assets import forecast_assets
from sales360_assets.identity.assets import identity_assets
from sales360_assets.marts.assets import partitioned_mart_assets, reporting_mart_assets
from sales360_assets.raw.assets import raw_assets
from sales360_assets.recommendations.assets import recommendation_assets
from sales360_assets.reports.assets import report_assets
from sales360_assets.staging.assets import staging_assets
from sales360_assets.staging.dead_letter_asset import dead_letter

# dead_letter reads every staging slice, like the history-wide marts read every partition.
# Identity reads every staged POS partition and mart_customer_360 all of fact_sales: history-wide too.
reporting_assets: list[dg.AssetsDefinition] = [
    *reporting_mart_assets,
    *commission_assets,
    *recommendation_assets,
    *forecast_assets,
    *report_assets,
    dead_letter,
    *identity_assets,
]
all_assets: list[dg.AssetsDefinition] = [
    *raw_assets,
    *staging_assets,
    *core_assets,
    *partitioned_mart_assets,
    *reporting_assets,
]
partitioned_assets = [a for a in all_assets if a.partitions_def is not None]
unpartitioned_assets = [a for a in all_assets if a.partitions_def is None]
reference_assets = [a for a in unpartitioned_assets if a not in reporting_assets]

reference_data_job = dg.define_asset_job(
    "reference_data_job",
    selection=dg.AssetSelection.assets(*reference_assets),
    description="Salesforce incremental extracts, warehouse reference snapshots, dimensions and fact_opportunity.",
)

daily_sales_job = dg.define_asset_job(
    "daily_sales_job",
    selection=dg.AssetSelection.assets(*partitioned_assets),
    description="Web orders and POS logs for date × region partitions through to fact_sales and the marts.",
)

sales_reporting_job = dg.define_asset_job(
    "sales_reporting_job",
    selection=dg.AssetSelection.assets(*reporting_assets),
    description="History-wide marts (profitability, segments by month, pipeline, funnel, campaigns, promotions, "
    "seasonality, quota attainment), commissions, market basket and recommendations, the revenue forecast and "
    "team vs target, and the sales team report; after the daily job.",
)
