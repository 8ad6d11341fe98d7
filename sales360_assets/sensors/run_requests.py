"""What every sensor shares: run tags that say why a run exists, and date × region run requests."""

import hashlib
from collections.abc import Callable, Iterable
from datetime import date, timedelta
from typing import Any

import dagster as dg

from sales360_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key


def stopped_sensor(
    name: str, description: str, *, minimum_interval_seconds: int, **target: Any
) -> Callable[[Callable[..., Any]], dg.SensorDefinition]:
    """``dg.sensor`` as every sensor here is declared: stopped until a deployment turns it on, so a
    code location never starts runs by itself; ``target`` is the ``job=`` or ``jobs=`` it may launch."""
    return dg.sensor(
        name=name,
        minimum_interval_seconds=minimum_interval_seconds,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description=description,
        **target,
    )


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

WILL_RETRY_TAG = "dagster/will_retry"

TAG_VALUE_LIMIT = 200


def truncate_tag(value: object) -> str:
    text = str(value)
    return text if len(text) <= TAG_VALUE_LIMIT else text[: TAG_VALUE_LIMIT - 1] + "…"


def short_digest(parts: Iterable[object], chars: int = 16) -> str:
    """A short SHA-256 of the parts, one a line: enough to tell two run keys or cursor states apart."""
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:chars]


def contiguous_ranges(days: Iterable[date]) -> list[tuple[date, date]]:
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
        return dg.RunRequest(run_key=run_key, job_name=job_name, partition_key=partition_key(start, region), tags=tags)
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name,
        tags={
            **tags,
            RANGE_START_TAG: partition_key(start, region),
            RANGE_END_TAG: partition_key(end, region),
        },
    )
