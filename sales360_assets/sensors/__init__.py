"""Sensors that keep the commission tables complete without anyone watching; one module per sensor.

* ``failed_partitions``: relaunches date × region partitions whose latest run failed
  transiently, with a growing delay and an attempt cap, and leaves permanent failures alone.
* ``pos_landing``: a run for each date × region whose POS/ERP files are new or changed.
* ``dead_letter_replay``: reprocesses partitions whose dead letters have become fixable.
* ``sla_alerts``: evaluates the commission SLAs partition by partition and alerts breaches.

Every run a sensor starts carries ``sales360/*`` tags saying why it exists (``run_requests``).
The planning logic is plain functions over a Dagster instance or the lake, so tests call them
with a fixed clock; the sensor bodies only add the cursor and the current time.
"""

from sales360_assets.sensors.dead_letter_replay import (
    build_dead_letter_replay_sensor,
    classify_dead_letters,
    dead_letter_replay_job,
    plan_dead_letter_replays,
)
from sales360_assets.sensors.failed_partitions import (
    RetryPlan,
    RetrySettings,
    build_failed_partition_retry_sensor,
    plan_partition_retries,
    run_failure_kind,
)
from sales360_assets.sensors.pos_cursor import SeenFile, dump_landing_cursor, load_landing_cursor
from sales360_assets.sensors.pos_landing import LandingPlan, build_pos_landing_sensor, plan_pos_runs, pos_landing_job
from sales360_assets.sensors.run_requests import (
    RETRY_ATTEMPT_TAG,
    RETRY_OF_TAG,
    RETRY_REASON_TAG,
    TRIGGER_TAG,
    partition_run_request,
)
from sales360_assets.sensors.sla_alerts import alert_on_breaches, build_sla_alert_sensor

__all__ = [
    "RETRY_ATTEMPT_TAG",
    "RETRY_OF_TAG",
    "RETRY_REASON_TAG",
    "TRIGGER_TAG",
    "LandingPlan",
    "RetryPlan",
    "RetrySettings",
    "SeenFile",
    "alert_on_breaches",
    "build_dead_letter_replay_sensor",
    "build_failed_partition_retry_sensor",
    "build_pos_landing_sensor",
    "build_sla_alert_sensor",
    "classify_dead_letters",
    "dead_letter_replay_job",
    "dump_landing_cursor",
    "load_landing_cursor",
    "partition_run_request",
    "plan_dead_letter_replays",
    "plan_partition_retries",
    "plan_pos_runs",
    "pos_landing_job",
    "run_failure_kind",
]
