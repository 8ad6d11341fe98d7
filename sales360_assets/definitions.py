"""The Sales 360 code location: every asset, resource, job, schedule, check and sensor comes together here.

Each domain folder (raw, staging, core, marts, identity, commissions, recommendations, forecast,
reports) exposes its assets and their blocking checks in its ``definitions.py``; the commission
SLAs have theirs in ``freshness/definitions.py``; what spans domains (jobs, schedules, sensors,
lake maintenance) is ``orchestration.py``. They are merged here, with the resources and the
reporting assets' automation applied once.
"""

import dagster as dg

from sales360_assets import orchestration
from sales360_assets.commissions import definitions as commissions
from sales360_assets.core import definitions as core
from sales360_assets.forecast import definitions as forecast
from sales360_assets.freshness import load_sla_config
from sales360_assets.freshness.definitions import build_freshness_definitions
from sales360_assets.identity import definitions as identity
from sales360_assets.jobs import partitioned_assets, unpartitioned_assets
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource
from sales360_assets.marts import definitions as marts
from sales360_assets.raw import definitions as raw
from sales360_assets.recommendations import definitions as recommendations
from sales360_assets.reports import definitions as reports
from sales360_assets.schedules import with_reporting_automation
from sales360_assets.settings import default_lake_uri, default_sources_dir
from sales360_assets.sources.resources import (
    LandingZoneResource,
    salesforce_resource_from_env,
    warehouse_resource_from_env,
)
from sales360_assets.staging import definitions as staging

# Each domain folder's definitions.py exposes its assets and their blocking checks, in data-flow order.
DOMAINS = (raw, staging, core, marts, identity, commissions, recommendations, forecast, reports)


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
    domains = dg.Definitions.merge(*(domain.defs for domain in DOMAINS))
    return dg.Definitions.merge(
        # Policy applied once, across domains: the reporting assets' automation condition.
        # No Dagster FreshnessPolicy on SLA assets: it is not partition-aware and would contradict the
        # sla_<name> checks (see freshness/checks.py).
        dg.Definitions(assets=with_reporting_automation(list(domains.assets)), asset_checks=domains.asset_checks),
        build_freshness_definitions(sla_config),
        orchestration.defs,
        dg.Definitions(resources=build_resources(sources_dir, lake_uri)),
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
