"""Date × region partitioning shared by every transactional asset.

The date dimension starts at ``SALES360_PARTITIONS_START``; the region dimension is the static
set in ``settings.REGIONS``. Dagster orders multi-partition dimensions by name, so a key reads
``2026-11-01|emea``.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from typing import Any

import dagster as dg
from dagster._core.definitions.partitions.context import partition_loading_context

from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.settings import REGION_CODES, partitions_start_date

PARTITION_TAG = "dagster/partition"
DIMENSION_TAG_PREFIX = "dagster/partition/"
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"


class PartitionTagConflictError(ValueError):
    """A run's tags name a single partition and a range that disagree: refuse to guess."""


class DateRegionPartitionsDefinition(dg.MultiPartitionsDefinition):
    """date × region, tagging a single-partition run with ``dagster/partition`` only.

    Why not the stock class: its per-dimension run tags (``dagster/partition/date``, ``…/region``)
    leak into ranged runs. A job-page backfill with a single-run policy copies the *first*
    partition's tags onto every range run (Dagster 1.13 ``job_backfill.py`` strips only
    ``dagster/partition``; upstream dagster-io/dagster#28861), and Dagster then resolves the run to
    that one partition: a 7-day × 4-region backfill wrote one partition and reported 28. Without
    the dimension tags a range run is resolved from its range tags, as asset backfills are.
    Materialization events still carry the dimension tags (Dagster adds them per event), so the
    UI's partition grid and dimension filters on assets are unchanged.
    """

    def get_tags_for_partition_key(self, partition_key: str) -> Mapping[str, str]:
        return {PARTITION_TAG: str(self.get_partition_key_from_str(partition_key))}

    def get_partition_keys(
        self, current_time: datetime | None = None, dynamic_partitions_store: Any = None
    ) -> Sequence[dg.MultiPartitionKey]:
        """Every key, computed once per day that opens rather than once per exact time.

        Dagster lists every key at the start of each step of an asset that reads all partitions
        (its data-version bookkeeping counts them), and caches the list for one exact time only:
        after three years, ~4,400 keys rebuilt by every history-wide step of a reporting run. The
        keys change only when the date dimension's last partition does, so they are kept by it.
        """
        with partition_loading_context(current_time, dynamic_partitions_store) as context:
            now = context.effective_dt
            last_day = self.get_partitions_def_for_dimension("date").get_last_partition_key()
            kept: dict[str | None, Sequence[dg.MultiPartitionKey]] = self.__dict__.setdefault("_keys_through", {})
            keys = kept.get(last_day)
            if keys is None:
                keys = super().get_partition_keys(now, dynamic_partitions_store)
                kept.clear()  # only the current day's list is asked for again
                kept[last_day] = keys
            return keys

    def get_partition_keys_in_range(  # type: ignore[override]
        self, partition_key_range: dg.PartitionKeyRange, dynamic_partitions_store: Any = None
    ) -> Sequence[str]:
        """A range's keys, built once per range rather than at every ask.

        Within one step of a range run Dagster lists the run's keys again and again (the input's
        partitions, their data versions, each ``add_asset_metadata`` call, the output's events):
        ~1,100 ``MultiPartitionKey``s each time for a three-year region run, ~15 % of a mart
        step. Date and region are fixed lists between two given keys (the dates have no end, the
        regions are static), so a range's keys never change; the last few ranges asked for are
        kept. A dynamic dimension, whose keys can change, is listed every time.
        """
        if any(isinstance(dim.partitions_def, dg.DynamicPartitionsDefinition) for dim in self.partitions_defs):
            return super().get_partition_keys_in_range(partition_key_range, dynamic_partitions_store)
        range_key = (str(partition_key_range.start), str(partition_key_range.end))
        kept: dict[tuple[str, str], Sequence[str]] = self.__dict__.setdefault("_keys_in_range", {})
        with _KEPT_RANGES_LOCK:  # the webserver and daemon ask from several threads
            keys = kept.pop(range_key, None)
        if keys is None:
            keys = super().get_partition_keys_in_range(partition_key_range, dynamic_partitions_store)
        with _KEPT_RANGES_LOCK:
            kept[range_key] = keys  # now the most recently asked for
            while len(kept) > KEPT_RANGES:
                kept.pop(next(iter(kept)))  # the least recently asked for
        return list(keys)  # a copy: a caller may change the list it gets


# Ranges whose keys are kept: a run's own, and those of the few runs a process may be in at once.
KEPT_RANGES = 8
_KEPT_RANGES_LOCK = threading.Lock()

daily_partitions = dg.DailyPartitionsDefinition(start_date=partitions_start_date().isoformat())
region_partitions = dg.StaticPartitionsDefinition(REGION_CODES)
date_region_partitions = DateRegionPartitionsDefinition({"date": daily_partitions, "region": region_partitions})

# Transforms take many partitions at once, so a backfill becomes one run per region covering the
# whole date range (Dagster holds the smaller dimension constant) instead of one run per day.
single_run_backfill = dg.BackfillPolicy.single_run()

# The ``dg.asset`` arguments of every date × region asset: partitioned, and backfilled as above.
DATE_REGION_PARTITIONED: dict[str, Any] = {
    "partitions_def": date_region_partitions,
    "backfill_policy": single_run_backfill,
}


def partition_key(day: date, region: str) -> str:
    """The key of one date × region partition, as Dagster spells it: ``2026-11-01|emea``."""
    # Dagster orders multi-partition dimensions by name, so the date comes first.
    return f"{day.isoformat()}|{region}"


def split_key(key: str | dg.MultiPartitionKey) -> tuple[date, str]:
    """The (date, region) of a partition key: the inverse of ``partition_key``."""
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


def run_partition_keys(tags: Mapping[str, str]) -> list[str]:
    """The partition keys a run's tags name (one key or a range), without cross-checking them:
    for looking back at runs that already happened (``run_partition_selection`` guards new writes)."""
    if PARTITION_TAG in tags:
        return [tags[PARTITION_TAG]]
    if RANGE_START_TAG in tags and RANGE_END_TAG in tags:
        return date_region_partitions.get_partition_keys_in_range(
            dg.PartitionKeyRange(tags[RANGE_START_TAG], tags[RANGE_END_TAG])
        )
    return []


def run_partition_selection(tags: Mapping[str, str]) -> PartitionSelection:
    """The date × region rectangle a run's tags ask for; refuses tags that disagree.

    A run names its partitions either by one key (``dagster/partition``, or the per-dimension
    ``dagster/partition/<dim>`` tags) or by a range (``dagster/asset_partition_range_start`` /
    ``_end``). Dagster silently prefers the single key when both are present; a run whose
    single key is not exactly its range would write the wrong partitions, so it fails here with
    what to do instead.
    """
    single: str | None = None
    dimensions = {k[len(DIMENSION_TAG_PREFIX) :]: v for k, v in tags.items() if k.startswith(DIMENSION_TAG_PREFIX)}
    if dimensions:
        single = str(dg.MultiPartitionKey(dimensions))
    if PARTITION_TAG in tags:
        if single is not None and tags[PARTITION_TAG] != single:
            raise PartitionTagConflictError(
                f"run partition tags disagree: {PARTITION_TAG}={tags[PARTITION_TAG]} but the dimension tags say {single}"
            )
        single = tags[PARTITION_TAG]
    has_range = RANGE_START_TAG in tags or RANGE_END_TAG in tags
    if has_range:
        if RANGE_START_TAG not in tags or RANGE_END_TAG not in tags:
            raise PartitionTagConflictError(f"run has only one of {RANGE_START_TAG} / {RANGE_END_TAG}")
        start, end = tags[RANGE_START_TAG], tags[RANGE_END_TAG]
        if single is not None and not (start == end == single):
            raise PartitionTagConflictError(
                f"run partition tags disagree: range {start}..{end} but single partition {single}. "
                "Nothing was written. Relaunch the range without partition tags (asset backfill, "
                "`sales360 materialize`, or the job backfill of this code location, which tags ranges only)"
            )
        return range_selection(start, end)
    if single is None:
        raise PartitionTagConflictError("run has no partition tags; launch it for a date × region partition or range")
    return selection_from_keys([single])


def range_selection(start: str, end: str) -> PartitionSelection:
    """The rectangle Dagster's range ``start``..``end`` covers, without building its keys.

    Dagster reads a multi-partition range as each dimension's own range (the product of the dates
    from the start key's day to the end key's, and the regions between theirs in the definition's
    order), so the rectangle is those two ranges. Listing the range's keys instead built ~1,100
    ``MultiPartitionKey``s for every read, write and check of a three-year region run.
    """
    first = date_region_partitions.get_partition_key_from_str(start).keys_by_dimension
    last = date_region_partitions.get_partition_key_from_str(end).keys_by_dimension
    days = daily_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first["date"], last["date"]))
    regions = region_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(first["region"], last["region"]))
    if not days or not regions:
        raise ValueError("no partition keys given")
    return PartitionSelection(date.fromisoformat(days[0]), date.fromisoformat(days[-1]), tuple(sorted(regions)))


def input_selection(context: dg.InputContext) -> PartitionSelection:
    """The partitions of a partitioned input to read, as a date × region rectangle.

    A run without partition tags is an unpartitioned asset (a history-wide mart) reading every
    partition of its input (the code maps no partitions otherwise): the rectangle is the
    definition's first to last day × its regions, from its first and last keys rather than from
    a list of every key (Dagster builds ~4,400 for that after three years).
    """
    if not has_partition_tags(context.step_context.dagster_run.tags):
        return every_partition(context.asset_partitions_def)
    return partition_selection(context)


def every_partition(partitions_def: Any) -> PartitionSelection:
    """The rectangle holding every partition of a date × region definition."""
    days = partitions_def.get_partitions_def_for_dimension("date")
    first, last = days.get_first_partition_key(), days.get_last_partition_key()
    if first is None or last is None:
        raise ValueError("no partition keys given")
    regions = partitions_def.get_partitions_def_for_dimension("region").get_partition_keys()
    return PartitionSelection(date.fromisoformat(first), date.fromisoformat(last), tuple(sorted(regions)))


def has_partition_tags(tags: Mapping[str, str]) -> bool:
    return any(k in (PARTITION_TAG, RANGE_START_TAG, RANGE_END_TAG) or k.startswith(DIMENSION_TAG_PREFIX) for k in tags)


def partition_selection(context: Any) -> PartitionSelection:
    """The partitions an asset step, IO manager call or check runs for, cross-checked with the run's tags.

    Every partitioned read and write goes through here, so a run whose tags disagree fails before
    it touches a table, and what Dagster records as materialized is what was written.
    """
    if isinstance(context, dg.OutputContext | dg.InputContext):
        keys, tags = list(context.asset_partition_keys), context.step_context.dagster_run.tags
    else:
        keys, tags = list(context.partition_keys), context.run.tags
    from_dagster = selection_from_keys(keys)
    from_tags = run_partition_selection(tags)
    if from_dagster != from_tags:
        raise PartitionTagConflictError(
            f"Dagster resolved this run to {from_dagster} but its tags ask for {from_tags}; nothing was written"
        )
    return from_dagster
