"""When things run by themselves: the schedules and the reporting job's trigger.

* ``reference_data_hourly``: CRM extracts, reference snapshots and dimensions, every hour, so CRM
  data stays inside its 4-hour SLA even when a run fails.
* ``daily_sales_nightly``: at 03:00 UTC, the last ``SALES360_TRAILING_DAYS`` days (default 7)
  × every region, one range run per region. Re-running the trailing week picks up the
  warehouse's late rows (an order dated D loaded on D+3) without anyone finding the partition;
  a range run replaces exactly its partitions, so re-running delivered days is idempotent.
  Later changes are found by ``late_change_sensor``.
* The reporting assets (history-wide marts, commissions, the report) carry a declarative
  automation condition: they run when an upstream asset has been updated and nothing upstream is
  still running — after the nightly runs of every region, not at a clock time that assumes them
  finished. ``reporting_after_upstream`` is the sensor that evaluates it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from datetime import date, timedelta

import dagster as dg

from sales360_assets.jobs import daily_sales_job, reference_data_job, reporting_assets
from sales360_assets.sensors.run_requests import TRIGGER_TAG, partition_run_request
from sales360_assets.settings import REGION_CODES, partitions_start_date

TRAILING_DAYS_ENV = "SALES360_TRAILING_DAYS"
DEFAULT_TRAILING_DAYS = 7
TRAILING_DAYS_TAG = "sales360/trailing_days"


def trailing_days() -> int:
    raw = os.environ.get(TRAILING_DAYS_ENV, str(DEFAULT_TRAILING_DAYS))
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"{TRAILING_DAYS_ENV} must be a whole number of days >= 1, got {raw!r}")
    return int(raw)


def trailing_window(run_day: date, days: int, start: date) -> tuple[date, date] | None:
    """The business dates a run on ``run_day`` covers: the ``days`` complete days before it."""
    end = run_day - timedelta(days=1)
    first = max(end - timedelta(days=days - 1), start)
    return (first, end) if first <= end else None


def nightly_requests(
    run_day: date, days: int, start: date, regions: Sequence[str] = REGION_CODES
) -> Iterator[dg.RunRequest]:
    window = trailing_window(run_day, days, start)
    if window is None:
        return
    first, end = window
    for region in regions:
        yield partition_run_request(
            daily_sales_job.name,
            region,
            first,
            end,
            run_key=f"nightly:{end.isoformat()}:{region}",
            tags={TRIGGER_TAG: "nightly_trailing_window", TRAILING_DAYS_TAG: str(days)},
        )


reference_data_schedule = dg.ScheduleDefinition(
    name="reference_data_hourly",
    job=reference_data_job,
    cron_schedule="5 * * * *",
    execution_timezone="UTC",
)


@dg.schedule(
    name="daily_sales_nightly",
    job=daily_sales_job,
    cron_schedule="0 3 * * *",
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description=f"At 03:00 UTC: the last ${TRAILING_DAYS_ENV} (default {DEFAULT_TRAILING_DAYS}) complete days × "
    "every region, one range run per region, so late warehouse rows inside the window are picked up.",
)
def daily_sales_schedule(context: dg.ScheduleEvaluationContext) -> dg.SkipReason | list[dg.RunRequest]:
    run_day = context.scheduled_execution_time.date()
    requests = list(nightly_requests(run_day, trailing_days(), partitions_start_date()))
    if not requests:
        return dg.SkipReason(f"no complete business day since the partitions start ({partitions_start_date()})")
    return requests


# Not `eager()`: that also waits until no upstream partition is *missing*, and an unpartitioned
# report depends on every date × region partition of fact_sales, some of which are always missing
# (days before the data starts, today). Not `on_cron()`: that is the clock again.
REPORTING_AFTER_UPSTREAM = (
    dg.AutomationCondition.any_deps_updated().since_last_handled()
    & ~dg.AutomationCondition.any_deps_in_progress()
    & ~dg.AutomationCondition.in_progress()
).with_label("after upstream updates, once nothing upstream is running")

REPORTING_ASSET_KEYS = {a.key for a in reporting_assets}


def with_reporting_automation(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetsDefinition]:
    """The same assets, the reporting ones carrying ``REPORTING_AFTER_UPSTREAM``."""

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        if spec.key not in REPORTING_ASSET_KEYS:
            return spec
        return spec.replace_attributes(automation_condition=REPORTING_AFTER_UPSTREAM)

    return list(dg.map_asset_specs(attach, assets))  # type: ignore[arg-type]


reporting_automation_sensor = dg.AutomationConditionSensorDefinition(
    "reporting_after_upstream",
    target=dg.AssetSelection.assets(*REPORTING_ASSET_KEYS),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
    description="Runs the history-wide marts, commissions and the sales team report after their upstream "
    "assets were updated (nightly sales runs, CRM refreshes, late-data re-runs) and nothing upstream is running.",
)
