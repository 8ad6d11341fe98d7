"""failed_partition_retry_sensor: relaunch partitions whose latest run failed transiently."""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg

from sales360_assets.jobs import daily_sales_job
from sales360_assets.partitions import run_partition_keys, split_key
from sales360_assets.retries import FailureKind, classify_error_info, failure_kind_of_step
from sales360_assets.sensors.dead_letter_replay import dead_letter_replay_job
from sales360_assets.sensors.pos_landing import pos_landing_job
from sales360_assets.sensors.run_requests import (
    RETRY_ATTEMPT_TAG,
    RETRY_MAX_TAG,
    RETRY_OF_TAG,
    RETRY_REASON_TAG,
    TRIGGER_TAG,
    WILL_RETRY_TAG,
    AssetJob,
    contiguous_ranges,
    partition_run_request,
    stopped_sensor,
    truncate_tag,
)

# --- failed partitions ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RetrySettings:
    max_attempts: int = 3
    # Attempt n waits base_delay × 2^(n-1) after the failed run ended: 15, 30, 60 minutes.
    base_delay: timedelta = timedelta(minutes=15)
    lookback: timedelta = timedelta(days=3)
    max_requests_per_tick: int = 20


@dataclass
class RetryPlan:
    requests: list[dg.RunRequest] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)


def run_failure_kind(instance: dg.DagsterInstance, run_id: str) -> tuple[FailureKind, str]:
    """Permanent if any step failed permanently; transient if all step failures were transient,
    or if the run died without a step failure (a crashed worker: infrastructure)."""
    verdicts = [
        failure_kind_of_step(entry.dagster_event.step_failure_data)
        for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_FAILURE)
        if entry.dagster_event is not None
    ]
    if verdicts:
        permanent = [v for v in verdicts if v.kind is FailureKind.PERMANENT]
        chosen = permanent[0] if permanent else verdicts[0]
        return chosen.kind, chosen.reason
    for entry in instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE):
        error = getattr(entry.dagster_event.event_specific_data, "error", None) if entry.dagster_event else None
        if error is not None:
            verdict = classify_error_info(error)
            return verdict.kind, verdict.reason
    return FailureKind.TRANSIENT, "run failed without a step failure (worker crash or infrastructure)"


def plan_partition_retries(
    instance: dg.DagsterInstance,
    monitored_jobs: Sequence[str],
    now: datetime,
    settings: RetrySettings = RetrySettings(),
) -> RetryPlan:
    """Run requests for partitions whose *latest* run of a job failed transiently, once the delay is over.

    Each failed partition is relaunched with the job that failed on it (the same assets), one
    request per region and contiguous date range, so a failed backfill range stays one write.
    """
    records = [
        record
        for job in monitored_jobs
        for record in instance.get_run_records(
            dg.RunsFilter(job_name=job, created_after=now - settings.lookback), limit=2000
        )
    ]
    # Latest run per (job, partition): a later success of the same job resolves a failure.
    latest: dict[tuple[str, str], Any] = {}
    for record in sorted(records, key=lambda r: r.create_timestamp):
        for key in run_partition_keys(record.dagster_run.tags):
            latest[(record.dagster_run.job_name, key)] = record
    failed: dict[str, list[str]] = defaultdict(list)
    by_id = {}
    for (_, key), record in latest.items():
        if record.dagster_run.status == dg.DagsterRunStatus.FAILURE:
            failed[record.dagster_run.run_id].append(key)
            by_id[record.dagster_run.run_id] = record

    plan = RetryPlan()
    for run_id, keys in sorted(failed.items(), key=lambda item: by_id[item[0]].create_timestamp):
        record = by_id[run_id]
        run = record.dagster_run
        label = f"run {run_id[:8]} ({len(keys)} partition(s))"
        if run.tags.get(WILL_RETRY_TAG) == "true":
            plan.skipped.append(f"{label}: Dagster's run retries will re-execute it")
            continue
        attempts = int(run.tags.get(RETRY_ATTEMPT_TAG, "0"))
        if attempts >= settings.max_attempts:
            plan.skipped.append(f"{label}: gave up after {attempts} attempts")
            continue
        kind, reason = run_failure_kind(instance, run_id)
        if kind is FailureKind.PERMANENT:
            plan.skipped.append(f"{label}: permanent failure, needs a fix ({reason})")
            continue
        ended = record.end_time or record.update_timestamp.timestamp()
        ready_at = datetime.fromtimestamp(ended, UTC) + settings.base_delay * (2**attempts)
        if now < ready_at:
            plan.skipped.append(f"{label}: attempt {attempts + 1} waits until {ready_at:%H:%M:%S} UTC")
            continue
        regions: dict[str, list[date]] = defaultdict(list)
        for key in keys:
            day, region = split_key(key)
            regions[region].append(day)
        for region, days in sorted(regions.items()):
            for start, end in contiguous_ranges(days):
                if len(plan.requests) >= settings.max_requests_per_tick:
                    plan.skipped.append(f"{label}: request limit per tick reached; next tick")
                    break
                plan.requests.append(
                    partition_run_request(
                        run.job_name,
                        region,
                        start,
                        end,
                        run_key=f"partition-retry:{run_id}:{region}:{start}:{end}",
                        tags={
                            TRIGGER_TAG: "failed_partition_retry",
                            RETRY_ATTEMPT_TAG: str(attempts + 1),
                            RETRY_MAX_TAG: str(settings.max_attempts),
                            RETRY_OF_TAG: run_id,
                            RETRY_REASON_TAG: truncate_tag(f"{kind.value}: {reason}"),
                        },
                    )
                )
    return plan


def build_failed_partition_retry_sensor(
    monitored_jobs: Sequence[AssetJob] = (),
    settings: RetrySettings = RetrySettings(),
    name: str = "failed_partition_retry_sensor",
) -> dg.SensorDefinition:
    monitored_jobs = monitored_jobs or (daily_sales_job, pos_landing_job, dead_letter_replay_job)
    job_names = [job.name for job in monitored_jobs]

    @stopped_sensor(
        name,
        f"Relaunches failed date × region partitions of {', '.join(job_names)} after transient "
        f"failures: up to {settings.max_attempts} attempts, {settings.base_delay} doubling each time; permanent "
        "failures are skipped. Tags each run with its attempt.",
        minimum_interval_seconds=60,
        jobs=list(monitored_jobs),
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        plan = plan_partition_retries(context.instance, job_names, datetime.now(UTC), settings)
        for line in plan.skipped:
            context.log.info(line)
        if not plan.requests:
            return dg.SensorResult(skip_reason="; ".join(plan.skipped[:5]) or "no failed partitions")
        return dg.SensorResult(run_requests=plan.requests)

    return _sensor
