"""``lake_maintenance_job``: compaction, checkpoints and vacuum of every asset's Delta table, weekly.

Why a job and not part of each write: compaction rewrites a partition's files, which would make
every daily run pay for the history it touches; once a week, off the nightly window (Sunday 05:00
UTC, after the 03:00 daily runs), it keeps file counts and log replay flat instead. The schedule
ships stopped like the others. What each step does and the retention: ``lake/maintenance.py``.
"""

import dagster as dg
from pydantic import Field

from sales360_assets.jobs import all_assets
from sales360_assets.lake.io_manager import LakeResource, table_name_for
from sales360_assets.lake.maintenance import DEFAULT_RETENTION_HOURS, maintain_table


class MaintenanceConfig(dg.Config):
    retention_hours: int = Field(
        default=DEFAULT_RETENTION_HOURS,
        # Below a day, a reader that listed a table's files before the vacuum could find them gone.
        ge=24,
        description="Files no version of the last N hours needs are deleted; time travel reaches back N hours.",
    )


def _recorded_version(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[int]:
    """The Delta version the asset's latest materialization recorded: time-travel checks read it."""
    event = instance.get_latest_materialization_event(key)
    recorded = (
        event.asset_materialization.metadata.get("delta_version") if event and event.asset_materialization else None
    )
    return [int(recorded.value)] if recorded is not None else []


@dg.op(description="Compact, checkpoint and vacuum every asset's Delta table that exists.")
def maintain_lake_tables(context: dg.OpExecutionContext, config: MaintenanceConfig, lake: LakeResource) -> dg.Output:
    delta = lake.get_lake()
    tables = files_before = files_after = vacuumed = 0
    for key in sorted({key for assets_def in all_assets for key in assets_def.keys}, key=str):
        name = table_name_for(key)
        if not delta.exists(name):
            continue
        result = maintain_table(delta, name, config.retention_hours, _recorded_version(context.instance, key))
        context.log.info(
            f"{name}: {result.files_before} → {result.files_after} files, {result.files_vacuumed} vacuumed, "
            f"version {result.version}"
        )
        tables += 1
        files_before += result.files_before
        files_after += result.files_after
        vacuumed += result.files_vacuumed
    return dg.Output(
        None,
        metadata={
            "tables": tables,
            "files_before": files_before,
            "files_after": files_after,
            "files_vacuumed": vacuumed,
            "retention_hours": config.retention_hours,
        },
    )


@dg.job(description="Weekly Delta maintenance: compaction, checkpoints, log clean-up and vacuum (lake/maintenance.py).")
def lake_maintenance_job() -> None:
    maintain_lake_tables()


lake_maintenance_schedule = dg.ScheduleDefinition(
    name="lake_maintenance_weekly",
    job=lake_maintenance_job,
    cron_schedule="0 5 * * 0",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
