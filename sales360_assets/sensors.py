"""Sensors that keep the commission tables complete without anyone watching.

* ``failed_partition_retry_sensor`` relaunches date × region partitions whose latest run failed
  transiently, with a growing delay and an attempt cap, and leaves permanent failures alone.
* ``pos_landing_sensor`` starts a run for each date × region whose POS/ERP files are new or
  changed (by content hash): each new file is processed once, a re-dropped identical file never
  twice.
* ``dead_letter_replay_sensor`` reprocesses partitions whose dead letters have become fixable
  (the missing FX rate, order or opportunity now exists); the replayed rows leave the
  ``dead_letter`` table, rows that can never be fixed stay with their reason.
* ``sla_breach_alert_sensor`` evaluates the commission SLAs partition by partition and sends
  each breach once through the notifier.

Every run a sensor starts carries ``sales360/*`` tags saying why it exists (trigger, attempt,
files, replayed rows), which the Dagster UI shows on the run.

The planning logic is plain functions over a Dagster instance or the lake, so tests call them
with a fixed clock; the sensor bodies only add the cursor and the current time.
"""

import hashlib
import json
import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.freshness import (
    NotifierError,
    SlaAlert,
    SlaConfig,
    SlaState,
    evaluate_slas,
    notifier_from_env,
)
from sales360_assets.jobs import daily_sales_job, partitioned_assets, reference_data_job
from sales360_assets.lake.delta import DeltaLake, PartitionSelection
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.partitions import date_region_partitions
from sales360_assets.retries import FailureKind, classify_error_info, failure_kind_of_step
from sales360_assets.settings import partitions_start_date
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.resources import LandingZoneResource
from sales360_assets.staging.dead_letters import read_dead_letters

# What define_asset_job returns (its class is not exported by dagster) or a built job.
AssetJob = Any

TRIGGER_TAG = "sales360/trigger"
RETRY_ATTEMPT_TAG = "sales360/retry_attempt"
RETRY_MAX_TAG = "sales360/retry_max_attempts"
RETRY_OF_TAG = "sales360/retry_of_run"
RETRY_REASON_TAG = "sales360/retry_reason"
POS_FILES_TAG = "sales360/pos_files"
REPLAY_ROWS_TAG = "sales360/replay_rows"
REPLAY_REASONS_TAG = "sales360/replay_reasons"

PARTITION_TAG = "dagster/partition"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"
WILL_RETRY_TAG = "dagster/will_retry"

TAG_VALUE_LIMIT = 200

# Only the POS path: a new drop needs no warehouse or CRM extraction.
pos_landing_job = dg.define_asset_job(
    "pos_landing_job",
    selection=dg.AssetSelection.assets("raw_pos_transactions").downstream()
    & dg.AssetSelection.assets(*partitioned_assets),
    partitions_def=date_region_partitions,
    description="One POS/ERP drop's partition: raw_pos_transactions → stg_pos_transactions → fact_sales → marts.",
)

# Staging and everything after it for a partition; raw is already in the lake.
PARTITIONED_STAGING = ("stg_warehouse_orders", "stg_warehouse_order_lines", "stg_pos_transactions")
dead_letter_replay_job = dg.define_asset_job(
    "dead_letter_replay_job",
    selection=dg.AssetSelection.assets(*PARTITIONED_STAGING).downstream()
    & dg.AssetSelection.assets(*partitioned_assets),
    partitions_def=date_region_partitions,
    description="Re-stage a partition whose dead letters became fixable (FX rate or order arrived), then rebuild "
    "fact_sales and the marts.",
)
# Unpartitioned CRM rows that became fixable re-stage inside the reference job.
CRM_REPLAY_ASSETS = ("stg_salesforce_opportunities", "stg_salesforce_opportunity_line_items", "fact_opportunity")

sensor_jobs = [pos_landing_job, dead_letter_replay_job]


def _tag(value: object) -> str:
    text = str(value)
    return text if len(text) <= TAG_VALUE_LIMIT else text[: TAG_VALUE_LIMIT - 1] + "…"


def _digest(parts: Iterable[object]) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:16]


def _partition_key(day: date, region: str) -> str:
    return str(dg.MultiPartitionKey({"date": day.isoformat(), "region": region}))


def _contiguous(days: Iterable[date]) -> list[tuple[date, date]]:
    ranges: list[tuple[date, date]] = []
    for day in sorted(set(days)):
        if ranges and day == ranges[-1][1] + timedelta(days=1):
            ranges[-1] = (ranges[-1][0], day)
        else:
            ranges.append((day, day))
    return ranges


def partition_run_request(
    job_name: str,
    region: str,
    start: date,
    end: date,
    run_key: str,
    tags: dict[str, str],
) -> dg.RunRequest:
    """One region over a date range: a single partition key, or a range run (one atomic write)."""
    if start == end:
        return dg.RunRequest(run_key=run_key, job_name=job_name, partition_key=_partition_key(start, region), tags=tags)
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name,
        tags={
            **tags,
            RANGE_START_TAG: _partition_key(start, region),
            RANGE_END_TAG: _partition_key(end, region),
        },
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


def run_partition_keys(run: dg.DagsterRun) -> list[str]:
    tags = run.tags
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return date_region_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
        )
    return []


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
        for key in run_partition_keys(record.dagster_run):
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
            day, region = key.split("|")
            regions[region].append(date.fromisoformat(day))
        for region, days in sorted(regions.items()):
            for start, end in _contiguous(days):
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
                            RETRY_REASON_TAG: _tag(f"{kind.value}: {reason}"),
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

    @dg.sensor(
        name=name,
        jobs=list(monitored_jobs),
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=f"Relaunches failed date × region partitions of {', '.join(job_names)} after transient "
        f"failures: up to {settings.max_attempts} attempts, {settings.base_delay} doubling each time; permanent "
        "failures are skipped. Tags each run with its attempt.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        plan = plan_partition_retries(context.instance, job_names, datetime.now(UTC), settings)
        for line in plan.skipped:
            context.log.info(line)
        if not plan.requests:
            return dg.SensorResult(skip_reason="; ".join(plan.skipped[:5]) or "no failed partitions")
        return dg.SensorResult(run_requests=plan.requests)

    return _sensor


# --- POS landing files ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SeenFile:
    size: int
    mtime_ns: int
    sha256: str


@dataclass
class LandingPlan:
    requests: list[dg.RunRequest]
    seen: dict[str, SeenFile]
    notes: list[str]


def load_landing_cursor(cursor: str | None) -> dict[str, SeenFile]:
    if not cursor:
        return {}
    data = json.loads(cursor)
    return {path: SeenFile(*values) for path, values in data.get("files", {}).items()}


def dump_landing_cursor(seen: dict[str, SeenFile]) -> str:
    return json.dumps(
        {"v": 1, "files": {path: [f.size, f.mtime_ns, f.sha256] for path, f in sorted(seen.items())}},
        separators=(",", ":"),
    )


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def plan_pos_runs(
    zone: LandingZone,
    seen: dict[str, SeenFile],
    now: datetime,
    job_name: str,
    settle: timedelta = timedelta(seconds=60),
    lookback_days: int = 14,
) -> LandingPlan:
    """One run request per partition with new or changed files (by content), and the new cursor.

    Files still being written (modified within ``settle``), dated today (the partition does not
    exist until the day is over), or from an unregistered store wait for a later tick; they
    are not recorded, so they are picked up once they qualify.
    """
    seen = dict(seen)
    notes: list[str] = []
    today = now.astimezone(UTC).date()
    oldest = max(today - timedelta(days=lookback_days), partitions_start_date())
    # Entries older than the lookback are never looked at again: keep the cursor small.
    seen = {p: f for p, f in seen.items() if _folder_date(p) is None or _folder_date(p) >= oldest}
    if not zone.pos_root.is_dir():
        return LandingPlan([], seen, [f"no landing folder at {zone.pos_root}"])
    region_of: dict[str, str] | None = None
    changed: dict[str, list[tuple[str, str | None, str]]] = defaultdict(list)
    updates: dict[str, SeenFile] = {}
    for folder in sorted(p for p in zone.pos_root.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day < oldest:
            continue
        if day >= today:
            notes.append(f"{folder.name}: waits until the day is over")
            continue
        for path in sorted(folder.glob("*.csv")):
            rel = str(path.relative_to(zone.root))
            stat = path.stat()
            if settle and now.timestamp() - stat.st_mtime < settle.total_seconds():
                notes.append(f"{rel}: still settling")
                continue
            previous = seen.get(rel)
            if previous is not None and (previous.size, previous.mtime_ns) == (stat.st_size, stat.st_mtime_ns):
                continue
            sha = _sha256(path)
            if previous is not None and previous.sha256 == sha:
                # Re-dropped identical file: remember the new mtime, process nothing.
                seen[rel] = SeenFile(stat.st_size, stat.st_mtime_ns, sha)
                notes.append(f"{rel}: identical content re-dropped, skipped")
                continue
            if region_of is None:
                stores = zone.read_pos_stores()
                region_of = dict(zip(stores["store_id"], stores["region"], strict=True))
            region = region_of.get(path.stem)
            if region is None:
                notes.append(f"{rel}: store {path.stem!r} is not in stores.csv; register it to process this file")
                continue
            changed[_partition_key(day, region)].append((rel, previous.sha256 if previous else None, sha))
            updates[rel] = SeenFile(stat.st_size, stat.st_mtime_ns, sha)

    requests = []
    for partition, files in sorted(changed.items()):
        day, region = partition.split("|")
        # The key covers old → new content, so A → B → A still runs the third time.
        run_key = f"pos:{partition}:{_digest(f'{rel}:{old}->{new}' for rel, old, new in sorted(files))}"
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                job_name=job_name,
                partition_key=partition,
                tags={TRIGGER_TAG: "pos_landing", POS_FILES_TAG: _tag(", ".join(rel for rel, _, _ in files))},
            )
        )
    seen.update(updates)
    return LandingPlan(requests, seen, notes)


def _folder_date(rel: str) -> date | None:
    try:
        return date.fromisoformat(Path(rel).parent.name)
    except ValueError:
        return None


def build_pos_landing_sensor(
    job: AssetJob = pos_landing_job,
    settle: timedelta = timedelta(seconds=60),
    lookback_days: int = 14,
    name: str = "pos_landing_sensor",
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        job=job,
        minimum_interval_seconds=60,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Starts one run per POS/ERP partition when a file in the landing folder is new or its content "
        f"changed (SHA-256 in the cursor); identical re-drops are skipped. Looks back {lookback_days} days.",
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource) -> dg.SensorResult:
        plan = plan_pos_runs(
            landing.get_landing_zone(),
            load_landing_cursor(context.cursor),
            datetime.now(UTC),
            job.name,
            settle,
            lookback_days,
        )
        for note in plan.notes:
            context.log.info(note)
        return dg.SensorResult(
            run_requests=plan.requests,
            cursor=dump_landing_cursor(plan.seen),
            skip_reason=None if plan.requests else "no new or changed POS files",
        )

    return _sensor


# --- dead-letter replay --------------------------------------------------------------------------

FX_REASON = re.compile(
    r"^no (?P<currency>[A-Z]{3}) FX rate within (?P<days>\d+) days before (?P<day>\d{4}-\d{2}-\d{2})$"
)
ORDER_REASON = re.compile(r"^order (?P<order_id>.+) is not in stg_warehouse_orders")
OPPORTUNITY_REASON = re.compile(r"^opportunity (?P<opportunity_id>.+) is not in stg_salesforce_opportunities$")


@dataclass
class ReplayPlan:
    requests: list[dg.RunRequest]
    fixable_rows: int
    waiting_rows: int  # replayable, but the fix has not arrived
    permanent_rows: int  # can never be fixed by a replay (malformed, unknown currency, …)


def classify_dead_letters(letters: pl.DataFrame) -> pl.DataFrame:
    """Adds ``replay`` (fx | order | opportunity | null = permanent) and the parsed fields."""
    reason = pl.col("reason")
    return letters.with_columns(
        reason.str.extract(FX_REASON.pattern, 1).alias("_fx_currency"),
        reason.str.extract(FX_REASON.pattern, 2).cast(pl.Int64).alias("_fx_days"),
        reason.str.extract(FX_REASON.pattern, 3).str.to_date().alias("_fx_day"),
        reason.str.extract(ORDER_REASON.pattern, 1).alias("_order_id"),
        reason.str.extract(OPPORTUNITY_REASON.pattern, 1).alias("_opportunity_id"),
    ).with_columns(
        pl.when(pl.col("_fx_currency").is_not_null())
        .then(pl.lit("fx"))
        .when(pl.col("_order_id").is_not_null())
        .then(pl.lit("order"))
        .when(pl.col("_opportunity_id").is_not_null())
        .then(pl.lit("opportunity"))
        .otherwise(None)
        .alias("replay")
    )


def _fix_evidence(lake: DeltaLake, letters: pl.DataFrame) -> pl.DataFrame:
    """Adds ``evidence``: what now exists that fixes the row (null while nothing does)."""
    evidence = pl.lit(None, dtype=pl.String)
    frame = letters.with_row_index("_row")
    found: list[pl.DataFrame] = []
    fx = frame.filter(pl.col("replay") == "fx")
    if fx.height and lake.exists("stg_warehouse_fx_rates"):
        rates = lake.read("stg_warehouse_fx_rates").select(pl.col("currency").alias("_fx_currency"), "rate_date")
        found.append(
            fx.join(rates, on="_fx_currency")
            # The staging join's window: the latest rate at most N days before the date.
            .filter(
                pl.col("rate_date").is_between(
                    pl.col("_fx_day") - pl.duration(days=pl.col("_fx_days")), pl.col("_fx_day")
                )
            )
            .group_by("_row")
            .agg(
                pl.format("{} rate of {}", pl.col("_fx_currency").first(), pl.col("rate_date").max()).alias("evidence")
            )
        )
    orders = frame.filter(pl.col("replay") == "order")
    if orders.height and lake.exists("stg_warehouse_orders"):
        present = lake.read(
            "stg_warehouse_orders",
            PartitionSelection(
                orders["date"].min(), orders["date"].max(), tuple(sorted(set(orders["region"].drop_nulls())))
            ),
        ).select(pl.col("order_id").alias("_order_id"), "date", "region")
        found.append(
            orders.join(present, on=["_order_id", "date", "region"])
            .group_by("_row")
            .agg(pl.format("order {} staged", pl.col("_order_id").first()).alias("evidence"))
        )
    opportunities = frame.filter(pl.col("replay") == "opportunity")
    if opportunities.height and lake.exists("stg_salesforce_opportunities"):
        present = lake.read("stg_salesforce_opportunities").select(pl.col("opportunity_id").alias("_opportunity_id"))
        found.append(
            opportunities.join(present, on="_opportunity_id")
            .group_by("_row")
            .agg(pl.format("opportunity {} staged", pl.col("_opportunity_id").first()).alias("evidence"))
        )
    if not found:
        return frame.with_columns(evidence.alias("evidence")).drop("_row")
    return frame.join(pl.concat(found), on="_row", how="left").drop("_row")


def plan_dead_letter_replays(
    lake: DeltaLake,
    partition_job: str = dead_letter_replay_job.name,
    crm_job: str = reference_data_job.name,
) -> ReplayPlan:
    letters = read_dead_letters(lake)
    if letters.is_empty():
        return ReplayPlan([], 0, 0, 0)
    judged = _fix_evidence(lake, classify_dead_letters(letters))
    fixable = judged.filter(pl.col("evidence").is_not_null())
    waiting = judged.filter(pl.col("replay").is_not_null() & pl.col("evidence").is_null())
    permanent = judged.filter(pl.col("replay").is_null())
    requests: list[dg.RunRequest] = []

    partitioned = fixable.filter(pl.col("date").is_not_null() & pl.col("region").is_not_null())
    for (day, region), rows in sorted(partitioned.group_by("date", "region"), key=lambda g: (g[0][0], g[0][1])):
        identity = sorted(rows.select("source_table", "source_key", "reason", "evidence").iter_rows())
        requests.append(
            partition_run_request(
                partition_job,
                region,
                day,
                day,
                run_key=f"replay:{day}|{region}:{_digest(identity)}",
                tags={
                    TRIGGER_TAG: "dead_letter_replay",
                    REPLAY_ROWS_TAG: str(rows.height),
                    REPLAY_REASONS_TAG: _tag(", ".join(sorted(set(rows["evidence"])))),
                },
            )
        )
    unpartitioned = fixable.filter(pl.col("date").is_null() | pl.col("region").is_null())
    if unpartitioned.height:
        identity = sorted(unpartitioned.select("source_table", "source_key", "reason", "evidence").iter_rows())
        requests.append(
            dg.RunRequest(
                run_key=f"replay:crm:{_digest(identity)}",
                job_name=crm_job,
                asset_selection=[dg.AssetKey(a) for a in CRM_REPLAY_ASSETS],
                tags={
                    TRIGGER_TAG: "dead_letter_replay",
                    REPLAY_ROWS_TAG: str(unpartitioned.height),
                    REPLAY_REASONS_TAG: _tag(", ".join(sorted(set(unpartitioned["evidence"])))),
                },
            )
        )
    return ReplayPlan(requests, fixable.height, waiting.height, permanent.height)


def build_dead_letter_replay_sensor(name: str = "dead_letter_replay_sensor") -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        jobs=[dead_letter_replay_job, reference_data_job],
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Reprocesses partitions whose dead letters became fixable (a missing FX rate, order or "
        "opportunity now exists); the run key changes only when the fix does, so each fix replays once.",
    )
    def _sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
        plan = plan_dead_letter_replays(lake.get_lake())
        summary = (
            f"{plan.fixable_rows} fixable, {plan.waiting_rows} waiting for their fix, "
            f"{plan.permanent_rows} permanent dead letter(s)"
        )
        context.log.info(summary)
        return dg.SensorResult(run_requests=plan.requests, skip_reason=None if plan.requests else summary)

    return _sensor


# --- SLA alerts ----------------------------------------------------------------------------------

ALERT_STATES = (SlaState.BREACHED, SlaState.LATE)
ALERT_MEMORY = timedelta(days=30)


def alert_on_breaches(
    instance: dg.DagsterInstance,
    config: SlaConfig,
    now: datetime,
    cursor: str | None,
    notifier: Any,
    log: Any,
) -> tuple[list[SlaAlert], str]:
    """Send each breach once (keyed by SLA and due date); returns the alerts sent and the new cursor."""
    alerted: dict[str, str] = json.loads(cursor).get("alerted", {}) if cursor else {}
    sent = []
    for status in evaluate_slas(instance, now, config):
        if status.state not in ALERT_STATES or status.alert_key in alerted:
            continue
        alert = SlaAlert.from_status(status)
        try:
            notifier.notify(alert)
        except NotifierError as exc:
            # Not remembered: the next tick tries again.
            log.error(f"could not deliver SLA alert {alert.key}: {exc}")
            continue
        alerted[alert.key] = now.isoformat()
        sent.append(alert)
    keep_after = now - ALERT_MEMORY
    alerted = {k: v for k, v in alerted.items() if datetime.fromisoformat(v) >= keep_after}
    return sent, json.dumps({"alerted": alerted}, sort_keys=True)


def build_sla_alert_sensor(
    config: SlaConfig,
    notifier_factory: Callable[[Any], Any] = notifier_from_env,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    name: str = "sla_breach_alert_sensor",
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Checks every commission SLA partition by partition (every region of the due date present and "
        "successful by the deadline) and alerts each breach once: the log, plus SALES360_ALERT_WEBHOOK_URL if set.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        now = clock()
        sent, cursor = alert_on_breaches(
            context.instance, config, now, context.cursor, notifier_factory(context.log), context.log
        )
        skip = f"{len(sent)} alert(s) sent" if sent else "no new SLA breaches"
        return dg.SensorResult(cursor=cursor, skip_reason=skip)

    return _sensor
