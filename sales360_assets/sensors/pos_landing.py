"""pos_landing_sensor: one run per date × region whose POS/ERP files are new or changed.

Three rules keep it quiet on a deployment that already holds data:

* **Never replay what the lake holds.** A partition the cursor has not seen yet is first checked
  against the Dagster instance: if the latest materialization of ``raw_pos_transactions`` for it
  came from a run that *started after* its files last changed, that run read exactly these files,
  so the partition is recorded as seen without a run. Turning the sensor on after ``./dev up``
  therefore starts no run at all.
* **A store's day closes at midnight in the store's own time zone** (``stores.csv`` ``timezone``,
  else from its country; ``sources/landing.py``). A partition waits until the day is over for
  every store whose file it holds; the tick's skip reason names the partitions and until when.
  The partition key's date stays the folder's business date (the contract's).
* **A compact cursor**: per partition, a digest of the files' names/sizes/mtimes (unchanged →
  nothing is read) and a digest of their content (a re-dropped identical file starts nothing;
  A → B → A runs again). Partitions older than the look-back are dropped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from sales360_assets.jobs import partitioned_assets
from sales360_assets.partitions import partition_key, split_key
from sales360_assets.sensors.pos_cursor import (
    LandingCursor,
    PartitionState,
    SeenFile,
    digest,
    dump_landing_cursor,
    file_sha256,
    load_landing_cursor,
)
from sales360_assets.sensors.run_requests import (
    POS_FILES_TAG,
    TRIGGER_TAG,
    AssetJob,
    short_digest,
    stopped_sensor,
    truncate_tag,
)
from sales360_assets.settings import partitions_start_date
from sales360_assets.sources.landing import LandingZone, business_day_closes_at
from sales360_assets.sources.resources import LandingZoneResource
from sales360_assets.sources.routing import route_region_value

# Only the POS path: a new drop needs no warehouse or CRM extraction.
pos_landing_job = dg.define_asset_job(
    "pos_landing_job",
    selection=dg.AssetSelection.assets("raw_pos_transactions").downstream()
    & dg.AssetSelection.assets(*partitioned_assets),
    description="One POS/ERP drop's partition: raw_pos_transactions → stg_pos_transactions → fact_sales → marts.",
)

RAW_POS_ASSET = dg.AssetKey("raw_pos_transactions")
# How many waiting partitions the skip reason names before it summarizes the rest.
SKIP_REASON_PARTITIONS = 8


# --- plan ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class LandingFile:
    rel: str  # relative to the landing root, e.g. pos/2026-03-03/emea-001.csv
    path: Path
    size: int
    mtime_ns: int
    closes_at: datetime  # when the store's business day is over (UTC)


@dataclass(frozen=True)
class WaitingPartition:
    partition: str
    until: datetime
    reason: str


@dataclass
class LandingPlan:
    requests: list[dg.RunRequest]
    seen: LandingCursor
    notes: list[str]
    waiting: list[WaitingPartition] = field(default_factory=list)
    # Partitions recorded as seen without a run because the lake already holds their files.
    already_loaded: list[str] = field(default_factory=list)

    @property
    def skip_reason(self) -> str | None:
        """What the UI shows on a tick without runs: what is waiting and until when, what was recorded."""
        if self.requests:
            return None
        parts = ["No new or changed POS files to load."]
        if self.already_loaded:
            parts.append(
                f"Recorded {len(self.already_loaded)} partition(s) as already loaded "
                f"(raw_pos_transactions was materialized after their files last changed): "
                f"{_summarize(self.already_loaded)}."
            )
        if self.waiting:
            shown = [
                f"{w.partition} until {w.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({w.reason})"
                for w in sorted(self.waiting, key=lambda w: (w.until, w.partition))
            ]
            parts.append(f"Waiting: {_summarize(shown, sep='; ')}.")
        unregistered = [n for n in self.notes if "stores.csv" in n]
        if unregistered:
            parts.append(f"Not processed: {_summarize(unregistered, sep='; ')}.")
        return " ".join(parts)


def _summarize(items: Sequence[str], sep: str = ", ") -> str:
    head = sep.join(items[:SKIP_REASON_PARTITIONS])
    return (
        head if len(items) <= SKIP_REASON_PARTITIONS else f"{head}{sep}… and {len(items) - SKIP_REASON_PARTITIONS} more"
    )


# partitions -> start time (epoch seconds) of the run behind each one's latest raw materialization
LoadedSince = Callable[[Sequence[str]], Mapping[str, float]]


def plan_pos_runs(
    zone: LandingZone,
    seen: LandingCursor | None,
    now: datetime,
    job_name: str,
    settle: timedelta = timedelta(seconds=60),
    lookback_days: int = 14,
    loaded_since: LoadedSince | None = None,
) -> LandingPlan:
    """One run request per partition with new or changed files (by content), and the new cursor.

    A partition waits (nothing recorded, so a later tick takes it) while the business day of
    one of its stores is not over in that store's time zone, or while a file is still being
    written (modified within ``settle``). A file from an unregistered store is not processed.
    ``loaded_since`` (the Dagster instance, in the sensor) says which candidate partitions the
    lake already holds; those are recorded without a run.
    """
    cursor = seen or LandingCursor()
    notes: list[str] = []
    today = now.astimezone(UTC).date()
    oldest = max(today - timedelta(days=lookback_days), partitions_start_date())
    # Partitions older than the look-back are never looked at again: keep the cursor small.
    states = {k: s for k, s in cursor.partitions.items() if split_key(k)[0] >= oldest}
    if not zone.pos_root.is_dir():
        return LandingPlan([], LandingCursor(states), [f"no landing folder at {zone.pos_root}"])

    by_partition = _landed_files(zone, oldest, notes)
    waiting: list[WaitingPartition] = []
    candidates: dict[str, _Candidate] = {}
    for partition, files in sorted(by_partition.items()):
        wait = _waiting(partition, files, now, settle)
        if wait is not None:
            waiting.append(wait)
            continue
        candidate = _changed(partition, files, states, cursor.legacy, notes)
        if candidate is not None:
            candidates[partition] = candidate

    loaded = dict(loaded_since(list(candidates))) if loaded_since and candidates else {}
    requests, already_loaded = _run_requests(candidates, states, loaded, job_name)
    for w in waiting:
        notes.append(f"{w.partition}: waits until {w.until.astimezone(UTC):%Y-%m-%d %H:%M} UTC ({w.reason})")
    if already_loaded:
        notes.append(f"recorded as already loaded, no run: {', '.join(already_loaded)}")
    return LandingPlan(requests, LandingCursor(states), notes, waiting, already_loaded)


def _landed_files(zone: LandingZone, oldest: date, notes: list[str]) -> dict[str, list[LandingFile]]:
    """The files of registered stores in day folders from ``oldest`` on, by the partition that reads them."""
    folders = []
    for folder in sorted(p for p in zone.pos_root.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(folder.name)
        except ValueError:
            continue
        if day >= oldest:
            folders.append((day, folder))
    by_partition: dict[str, list[LandingFile]] = defaultdict(list)
    if not folders:
        return by_partition
    region_of = zone.store_regions()
    zone_of = zone.read_pos_store_timezones()
    for day, folder in folders:
        for path in sorted(folder.glob("*.csv")):
            rel = str(path.relative_to(zone.root))
            if path.stem not in region_of:
                notes.append(f"{rel}: store {path.stem!r} is not in stores.csv; register it to process this file")
                continue
            region = route_region_value(region_of[path.stem])  # the partition its run reads it in
            stat = path.stat()
            closes = business_day_closes_at(day, zone_of[path.stem])
            by_partition[partition_key(day, region)].append(
                LandingFile(rel, path, stat.st_size, stat.st_mtime_ns, closes)
            )
    return by_partition


def _waiting(partition: str, files: list[LandingFile], now: datetime, settle: timedelta) -> WaitingPartition | None:
    """Why the partition is not ready yet (a store's day is not over, a file is still being written), or None."""
    closes = max(f.closes_at for f in files)
    if now < closes:
        late = max(files, key=lambda f: f.closes_at)
        return WaitingPartition(partition, closes, f"the business day of {Path(late.rel).stem} is not over yet")
    newest = max(f.mtime_ns for f in files)
    if settle and now.timestamp() - newest / 1e9 < settle.total_seconds():
        return WaitingPartition(
            partition, datetime.fromtimestamp(newest / 1e9, UTC) + settle, "a file is still being written"
        )
    return None


@dataclass(frozen=True)
class _Candidate:
    """A partition whose files changed since the cursor last saw it: it runs unless the lake holds them."""

    files: list[LandingFile]
    state: PartitionState
    previous: PartitionState | None


def _changed(
    partition: str,
    files: list[LandingFile],
    states: dict[str, PartitionState],
    legacy: Mapping[str, SeenFile],
    notes: list[str],
) -> _Candidate | None:
    """The partition as a candidate when its content changed; else None, recording new mtimes in ``states``."""
    stat_digest = digest((f.rel, f.size, f.mtime_ns) for f in files)
    previous = states.get(partition)
    if previous is not None and previous.stat == stat_digest:
        return None
    shas = [_legacy_sha(legacy, f) or file_sha256(f.path) for f in files]
    state = PartitionState(stat_digest, digest(f"{f.rel}:{sha}" for f, sha in zip(files, shas, strict=True)))
    if previous is not None and previous.content == state.content:
        # Re-dropped identical files: remember the new mtimes, process nothing.
        states[partition] = state
        notes.append(f"{partition}: identical content re-dropped, skipped")
        return None
    if previous is None and all(
        legacy.get(f.rel, SeenFile(0, 0, "")).sha256 == sha for f, sha in zip(files, shas, strict=True)
    ):
        # Migrating from the per-file cursor: every file was already processed as it is.
        states[partition] = state
        return None
    return _Candidate(files, state, previous)


def _run_requests(
    candidates: Mapping[str, _Candidate],
    states: dict[str, PartitionState],
    loaded: Mapping[str, float],
    job_name: str,
) -> tuple[list[dg.RunRequest], list[str]]:
    """A run per candidate the lake does not hold yet, and the candidates it already holds."""
    already_loaded: list[str] = []
    requests: list[dg.RunRequest] = []
    for partition, candidate in candidates.items():
        states[partition] = candidate.state
        run_started = loaded.get(partition)
        if run_started is not None and max(f.mtime_ns for f in candidate.files) / 1e9 < run_started:
            # The run that last wrote this partition started after every file's last change,
            # so it read exactly these files: nothing to load.
            already_loaded.append(partition)
            continue
        # The key covers old → new content, so A → B → A still runs the third time.
        old = candidate.previous.content if candidate.previous else "new"
        requests.append(
            dg.RunRequest(
                run_key=f"pos:{partition}:{short_digest([old, candidate.state.content])}",
                job_name=job_name,
                partition_key=partition,
                tags={
                    TRIGGER_TAG: "pos_landing",
                    POS_FILES_TAG: truncate_tag(", ".join(f.rel for f in candidate.files)),
                },
            )
        )
    return requests, already_loaded


def _legacy_sha(legacy: Mapping[str, SeenFile], f: LandingFile) -> str | None:
    old = legacy.get(f.rel)
    return old.sha256 if old is not None and (old.size, old.mtime_ns) == (f.size, f.mtime_ns) else None


def raw_pos_loaded_since(instance: dg.DagsterInstance, partitions: Sequence[str]) -> dict[str, float]:
    """Per partition: when the run behind the latest ``raw_pos_transactions`` materialization started.

    The run's start, not the materialization's time: a file changed while the run was reading
    must still count as new.
    """
    if not partitions:
        return {}
    storage_ids = instance.get_latest_storage_id_by_partition(
        RAW_POS_ASSET, dg.DagsterEventType.ASSET_MATERIALIZATION, set(partitions)
    )
    if not storage_ids:
        return {}
    records = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=RAW_POS_ASSET, storage_ids=list(storage_ids.values())),
        limit=len(storage_ids),
    ).records
    run_ids = sorted({r.run_id for r in records})
    started = {
        record.dagster_run.run_id: record.start_time
        for record in instance.get_run_records(dg.RunsFilter(run_ids=run_ids))
        if record.start_time is not None
    }
    return {r.partition_key: started[r.run_id] for r in records if r.partition_key and r.run_id in started}


def build_pos_landing_sensor(
    job: AssetJob = pos_landing_job,
    settle: timedelta = timedelta(seconds=60),
    lookback_days: int = 14,
    name: str = "pos_landing_sensor",
) -> dg.SensorDefinition:
    @stopped_sensor(
        name,
        "Starts one run per POS/ERP partition when a file in the landing folder is new or its content "
        "changed; identical re-drops and partitions the lake already holds start nothing. A partition waits until "
        f"the business day of its stores is over in their own time zone. Looks back {lookback_days} days.",
        minimum_interval_seconds=60,
        job=job,
    )
    def _sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource) -> dg.SensorResult:
        plan = plan_pos_runs(
            landing.get_landing_zone(),
            load_landing_cursor(context.cursor),
            datetime.now(UTC),
            job.name,
            settle,
            lookback_days,
            loaded_since=lambda partitions: raw_pos_loaded_since(context.instance, partitions),
        )
        for note in plan.notes:
            context.log.info(note)
        return dg.SensorResult(
            run_requests=plan.requests,
            cursor=dump_landing_cursor(plan.seen),
            skip_reason=plan.skip_reason,
        )

    return _sensor
