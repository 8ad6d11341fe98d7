"""pos_landing_sensor: one run per date × region whose POS/ERP files are new or changed."""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg

from sales360_assets.jobs import partitioned_assets
from sales360_assets.partitions import date_region_partitions
from sales360_assets.sensors.run_requests import (
    POS_FILES_TAG,
    TRIGGER_TAG,
    AssetJob,
    partition_key_of,
    short_digest,
    truncate_tag,
)
from sales360_assets.settings import partitions_start_date
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.resources import LandingZoneResource

# Only the POS path: a new drop needs no warehouse or CRM extraction.
pos_landing_job = dg.define_asset_job(
    "pos_landing_job",
    selection=dg.AssetSelection.assets("raw_pos_transactions").downstream()
    & dg.AssetSelection.assets(*partitioned_assets),
    partitions_def=date_region_partitions,
    description="One POS/ERP drop's partition: raw_pos_transactions → stg_pos_transactions → fact_sales → marts.",
)


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
            changed[partition_key_of(day, region)].append((rel, previous.sha256 if previous else None, sha))
            updates[rel] = SeenFile(stat.st_size, stat.st_mtime_ns, sha)

    requests = []
    for partition, files in sorted(changed.items()):
        day, region = partition.split("|")
        # The key covers old → new content, so A → B → A still runs the third time.
        run_key = f"pos:{partition}:{short_digest(f'{rel}:{old}->{new}' for rel, old, new in sorted(files))}"
        requests.append(
            dg.RunRequest(
                run_key=run_key,
                job_name=job_name,
                partition_key=partition,
                tags={TRIGGER_TAG: "pos_landing", POS_FILES_TAG: truncate_tag(", ".join(rel for rel, _, _ in files))},
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
