"""What runs when, across domains: the three layer-spanning jobs (``jobs.py``), their schedules
(``schedules.py``), the sensors that retry, replay and pick up late data (``sensors/``), the
weekly lake maintenance (``maintenance_job.py``), and how a run executes its steps.

A job here spans domains (the daily job runs raw → staging → core → marts), so these live in one
place rather than in a domain's definitions; the commission SLAs' sensor is in
``freshness/definitions.py`` with the checks it records.
"""

import dagster as dg

from sales360_assets.jobs import daily_sales_job, reference_data_job, sales_reporting_job
from sales360_assets.maintenance_job import lake_maintenance_job, lake_maintenance_schedule
from sales360_assets.schedules import daily_sales_schedule, reference_data_schedule, reporting_automation_sensor
from sales360_assets.sensors import (
    build_dead_letter_replay_sensor,
    build_failed_partition_retry_sensor,
    build_pos_landing_sensor,
    dead_letter_replay_job,
    pos_landing_job,
)
from sales360_assets.sensors.late_changes import build_late_change_sensor

# Every job's executor, the asset page's backfills (Dagster's implicit asset job) included: Dagster's
# own ``multi_or_in_process_executor``, the same two modes chosen the same way in run config
# (``execution: {config: {multiprocess: {}}}``), but in process unless a run asks otherwise. Dagster
# defaults to a process per step, and each rebuilds the definitions before its few seconds of
# work: 30 days × 4 regions took 446 s that way against 28.7 s in process (README, "Executor per
# job"); an asset-page backfill of two assets for one partition ran 20.6 s against 0.3 s
# (test_launch_paths). A run still gets its own process from the run launcher.
in_process_unless_configured = dg.ExecutorDefinition(
    name="in_process_unless_configured",
    config_schema=dg.Field(dg.multi_or_in_process_executor.config_schema.config_type, default_value={"in_process": {}}),
    requirements=dg.multi_or_in_process_executor.get_requirements,  # multiprocess: a persistent instance
    executor_creation_fn=dg.multi_or_in_process_executor.executor_creation_fn,
    description="In process unless the run's config picks multiprocess.",
)

defs = dg.Definitions(
    executor=in_process_unless_configured,
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
    ],
)
