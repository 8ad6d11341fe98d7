"""What every sensor shares: run tags that say why a run exists, and date × region run requests."""

import hashlib
from collections.abc import Iterable
from datetime import date, timedelta
from typing import Any

import dagster as dg

from sales360_assets.partitions import date_region_partitions

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


def truncate_tag(value: object) -> str:
    text = str(value)
    return text if len(text) <= TAG_VALUE_LIMIT else text[: TAG_VALUE_LIMIT - 1] + "…"


def short_digest(parts: Iterable[object]) -> str:
    return hashlib.sha256("\n".join(map(str, parts)).encode()).hexdigest()[:16]


def partition_key_of(day: date, region: str) -> str:
    return str(dg.MultiPartitionKey({"date": day.isoformat(), "region": region}))


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
        return dg.RunRequest(
            run_key=run_key, job_name=job_name, partition_key=partition_key_of(start, region), tags=tags
        )
    return dg.RunRequest(
        run_key=run_key,
        job_name=job_name,
        tags={
            **tags,
            RANGE_START_TAG: partition_key_of(start, region),
            RANGE_END_TAG: partition_key_of(end, region),
        },
    )


def run_partition_keys(run: dg.DagsterRun) -> list[str]:
    tags = run.tags
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return date_region_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
        )
    return []
