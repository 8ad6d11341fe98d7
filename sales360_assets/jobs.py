"""Jobs and schedules.

Two cadences, because the data has two shapes:

* ``reference_data_job`` (unpartitioned): incremental Salesforce extracts, warehouse reference
  snapshots, their staging, the dimensions and ``fact_opportunity``. Hourly, so CRM data stays
  well inside its 4-hour freshness SLA even when a run fails.
* ``daily_sales_job`` (date × region): raw → staging → ``fact_sales`` → marts. The schedule
  launches yesterday for every region at 03:00 UTC, after the nightly warehouse load.
"""

import dagster as dg

from sales360_assets.core.assets import core_assets
from sales360_assets.marts.assets import mart_assets
from sales360_assets.raw.assets import raw_assets
from sales360_assets.staging.assets import staging_assets

all_assets: list[dg.AssetsDefinition] = [*raw_assets, *staging_assets, *core_assets, *mart_assets]
partitioned_assets = [a for a in all_assets if a.partitions_def is not None]
unpartitioned_assets = [a for a in all_assets if a.partitions_def is None]

reference_data_job = dg.define_asset_job(
    "reference_data_job",
    selection=dg.AssetSelection.assets(*unpartitioned_assets),
    description="Salesforce incremental extracts, warehouse reference snapshots, dimensions and fact_opportunity.",
)

daily_sales_job = dg.define_asset_job(
    "daily_sales_job",
    selection=dg.AssetSelection.assets(*partitioned_assets),
    description="Web orders and POS logs for date × region partitions through to fact_sales and the marts.",
)

reference_data_schedule = dg.ScheduleDefinition(
    name="reference_data_hourly",
    job=reference_data_job,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
)

daily_sales_schedule = dg.build_schedule_from_partitioned_job(
    daily_sales_job, name="daily_sales_nightly", hour_of_day=3, minute_of_hour=0
)
