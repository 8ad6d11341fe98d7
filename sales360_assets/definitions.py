"""The Sales 360 code location: every asset, resource, job, schedule, check and sensor comes together here."""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.freshness import build_sla_checks, load_sla_config
from sales360_assets.jobs import (
    all_assets,
    daily_sales_job,
    partitioned_assets,
    reference_data_job,
    sales_reporting_job,
    unpartitioned_assets,
)
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource
from sales360_assets.maintenance_job import lake_maintenance_job, lake_maintenance_schedule
from sales360_assets.schedules import (
    daily_sales_schedule,
    reference_data_schedule,
    reporting_automation_sensor,
    with_reporting_automation,
)
from sales360_assets.sensors import (
    build_dead_letter_replay_sensor,
    build_failed_partition_retry_sensor,
    build_pos_landing_sensor,
    build_sla_alert_sensor,
    dead_letter_replay_job,
    pos_landing_job,
)
from sales360_assets.sensors.late_changes import build_late_change_sensor
from sales360_assets.settings import default_lake_uri, default_sources_dir
from sales360_assets.sources.resources import (
    LandingZoneResource,
    salesforce_resource_from_env,
    warehouse_resource_from_env,
)


class PreflightLakeResource(LakeResource):
    """The lake, checked writable when a run initializes its resources: before any extraction or write."""

    def setup_for_execution(self, context: dg.InitResourceContext) -> None:
        self.get_lake().ensure_writable()


def build_resources(sources_dir: str | None = None, lake_uri: str | None = None) -> dict[str, object]:
    """Resources for this deployment: the embedded sample sources and local lake unless configured.

    Salesforce and BigQuery switch to their live backends when their credentials are in the
    environment (``SALESFORCE_*``, ``BIGQUERY_*``; see README "Connecting real sources").
    ``SALES360_SOURCES_DIR`` / ``SALES360_LAKE_URI`` move the sources and the lake; tests pass
    temporary directories explicitly.
    """
    sources = sources_dir or str(default_sources_dir())
    lake = PreflightLakeResource(root_uri=lake_uri or default_lake_uri())
    return {
        "io_manager": DeltaPolarsIOManager(lake=lake),
        "lake": lake,
        "salesforce": salesforce_resource_from_env(sources),
        "warehouse": warehouse_resource_from_env(sources),
        "landing": LandingZoneResource(root=f"{sources}/landing"),
    }


def build_definitions(sources_dir: str | None = None, lake_uri: str | None = None) -> dg.Definitions:
    """Everything, with the commission SLAs (``sla.yaml`` + ``$SALES360_SLA_CONFIG``) as ``sla_<name>`` checks.

    A malformed SLA config or one naming an unknown asset fails here, when the code location
    loads, before anything runs.
    """
    sla_config = load_sla_config()
    sla_config.validate_assets(
        partitioned=[a.key.to_user_string() for a in partitioned_assets],
        unpartitioned=[a.key.to_user_string() for a in unpartitioned_assets],
    )
    return dg.Definitions(
        # No Dagster FreshnessPolicy on SLA assets: it is not partition-aware and would contradict the
        # sla_<name> checks (see freshness/checks.py).
        assets=with_reporting_automation(all_assets),
        asset_checks=[*build_all_checks(all_assets), build_sla_checks(sla_config)],
        resources=build_resources(sources_dir, lake_uri),
        jobs=[
            reference_data_job,
            daily_sales_job,
            sales_reporting_job,
            pos_landing_job,
            dead_letter_replay_job,
            lake_maintenance_job,
        ],
        schedules=[reference_data_schedule, daily_sales_schedule, lake_maintenance_schedule],
        sensors=[
            reporting_automation_sensor,
            build_late_change_sensor(),
            build_failed_partition_retry_sensor(),
            build_pos_landing_sensor(),
            build_dead_letter_replay_sensor(),
            build_sla_alert_sensor(sla_config),
        ],
    )


defs = build_definitions()


# Module-level job factories for executors that rebuild the job in each step's process
# (``dg.reconstructable`` needs importable, argument-free functions). They read the deployment
# from the ``SALES360_*`` environment, like ``defs`` above.
def reference_data_job_from_env() -> dg.JobDefinition:
    return build_definitions().resolve_job_def("reference_data_job")


def daily_sales_job_from_env() -> dg.JobDefinition:
    return build_definitions().resolve_job_def("daily_sales_job")


def sales_reporting_job_from_env() -> dg.JobDefinition:
    return build_definitions().resolve_job_def("sales_reporting_job")


JOB_FACTORIES = {
    "reference_data_job": reference_data_job_from_env,
    "daily_sales_job": daily_sales_job_from_env,
    "sales_reporting_job": sales_reporting_job_from_env,
}
