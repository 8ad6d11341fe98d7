"""What runs when, across domains: the three layer-spanning jobs (``jobs.py``), their schedules
(``schedules.py``), the sensors that retry, replay and pick up late data (``sensors/``), and the
weekly lake maintenance (``maintenance_job.py``).

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

defs = dg.Definitions(
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
