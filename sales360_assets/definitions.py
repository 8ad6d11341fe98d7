"""The Sales 360 code location: every asset, resource, job and schedule comes together here."""

import dagster as dg

from sales360_assets.jobs import (
    all_assets,
    daily_sales_job,
    daily_sales_schedule,
    reference_data_job,
    reference_data_schedule,
)
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource
from sales360_assets.settings import default_lake_uri, default_sources_dir
from sales360_assets.sources.resources import (
    LandingZoneResource,
    salesforce_resource_from_env,
    warehouse_resource_from_env,
)


def build_resources(sources_dir: str | None = None, lake_uri: str | None = None) -> dict[str, object]:
    """Resources for this deployment: the embedded sample sources and local lake unless configured.

    Salesforce and BigQuery switch to their live backends when their credentials are in the
    environment (``SALESFORCE_*``, ``BIGQUERY_*``; see README "Connecting real sources").
    ``SALES360_SOURCES_DIR`` / ``SALES360_LAKE_URI`` move the sources and the lake; tests pass
    temporary directories explicitly.
    """
    sources = sources_dir or str(default_sources_dir())
    lake = LakeResource(root_uri=lake_uri or default_lake_uri())
    return {
        "io_manager": DeltaPolarsIOManager(lake=lake),
        "lake": lake,
        "salesforce": salesforce_resource_from_env(sources),
        "warehouse": warehouse_resource_from_env(sources),
        "landing": LandingZoneResource(root=f"{sources}/landing"),
    }


def build_definitions(sources_dir: str | None = None, lake_uri: str | None = None) -> dg.Definitions:
    return dg.Definitions(
        assets=all_assets,
        resources=build_resources(sources_dir, lake_uri),
        jobs=[reference_data_job, daily_sales_job],
        schedules=[reference_data_schedule, daily_sales_schedule],
    )


defs = build_definitions()
