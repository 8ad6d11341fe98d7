"""Date × region partitioning shared by every transactional asset.

The date dimension starts at ``SALES360_PARTITIONS_START``; the region dimension is the static
set in ``settings.REGIONS``. Dagster orders multi-partition dimensions by name, so a key reads
``2026-11-01|emea``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

import dagster as dg

from sales360_assets.lake.delta import PartitionSelection
from sales360_assets.settings import REGION_CODES, partitions_start_date

daily_partitions = dg.DailyPartitionsDefinition(start_date=partitions_start_date().isoformat())
region_partitions = dg.StaticPartitionsDefinition(REGION_CODES)
date_region_partitions = dg.MultiPartitionsDefinition({"date": daily_partitions, "region": region_partitions})

# Transforms take many partitions at once, so a backfill becomes one run per region covering the
# whole date range (Dagster holds the smaller dimension constant) instead of one run per day.
single_run_backfill = dg.BackfillPolicy.single_run()


def split_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    if isinstance(key, dg.MultiPartitionKey):
        dims = key.keys_by_dimension
        return date.fromisoformat(dims["date"]), dims["region"]
    day, region = key.split("|")
    return date.fromisoformat(day), region


def selection_from_keys(keys: Sequence[str]) -> PartitionSelection:
    """The date × region rectangle a run covers; refuse anything that is not a rectangle.

    A Dagster range run over date × region is always a rectangle (a date range for a set of
    regions), which lets a write replace it with one predicate in one atomic commit.
    """
    if not keys:
        raise ValueError("no partition keys given")
    pairs = {split_key(k) for k in keys}
    days = {d for d, _ in pairs}
    regions = tuple(sorted({r for _, r in pairs}))
    selection = PartitionSelection(min(days), max(days), regions)
    if len(pairs) != len(selection.dates) * len(regions):
        raise ValueError(
            f"partitions {sorted(keys)[:3]}… do not form a date range × region set; "
            "launch one run per region or a contiguous date range"
        )
    return selection


def keys_for(start: date, end: date, regions: Sequence[str]) -> list[str]:
    sel = PartitionSelection(start, end, tuple(regions))
    return [dg.MultiPartitionKey({"date": d.isoformat(), "region": r}) for d in sel.dates for r in sel.regions]
