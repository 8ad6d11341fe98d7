"""One planned event per asset for a partition-range run, and the partition statuses read back from it.

Before a run starts, Dagster records what it will materialize as ``ASSET_MATERIALIZATION_PLANNED``
events: by default one per partition per asset, half of a history backfill's events (12,045 in a
three-year region run). An event log storage may declare that it takes one event per asset
holding the run's partition subset instead
(``supports_partition_subset_in_asset_materialization_planned_events``). Dagster's SQL storages
do not: their queries for a partition's failed or in-progress attempt and for its latest run
match planned events by their partition column, which a subset event leaves empty, so with the
switch alone (``DAGSTER_EMIT_PARTITION_SUBSET_IN_PLANNED_EVENTS``) a failed range run's
partitions would show as neither failed nor in progress. ``RangePlansMixin`` turns the switch on
and answers those queries from both kinds of planned event. Figures: benchmarks/README.md.

Dagster writes a subset plan for every partitioned run once the switch is on (a one-partition
run's subset holds one key); one-partition plans are what an instance recorded before it. The
plans are written in Dagster's format and read by Dagster's code everywhere else; only storages
with this mixin read their partitions back.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import sqlalchemy as db
from dagster import AssetKey, DagsterEventType, EventLogEntry
from dagster._core.storage.event_log.base import PlannedMaterializationInfo
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import deserialize_value

if TYPE_CHECKING:
    from collections.abc import Iterator, Mapping

    from dagster._core.definitions.partitions.subset import PartitionsSubset
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage

PLANNED = DagsterEventType.ASSET_MATERIALIZATION_PLANNED
MATERIALIZED = DagsterEventType.ASSET_MATERIALIZATION
# Range plans read per query. A partition run lately is found in the newest page; one not run
# for a long time costs a read of every plan since (~1,500 per asset after a year of nightly
# runs, ~0.1 ms each to decode), when the UI asks for its latest run.
PLANS_PER_PAGE = 50


@dataclass(frozen=True)
class RangePlan:
    """A planned event that names a run's partitions as a subset (its partition column is empty)."""

    storage_id: int
    run_id: str
    partitions: PartitionsSubset


class RangePlansMixin:
    """For a ``SqlEventLogStorage`` subclass (listed before it): range runs planned once per asset."""

    @property
    def supports_partition_subset_in_asset_materialization_planned_events(self) -> bool:
        return True

    def range_plans(
        self, asset_key: AssetKey, after_storage_id: int | None = None, newest_first: bool = False
    ) -> Iterator[RangePlan]:
        """The asset's subset planned events since ``after_storage_id`` (not wiped), read a page at
        a time (each holds its run's partition list: a three-year region run's is ~20 KB)."""
        storage: SqlEventLogStorage = self  # type: ignore[assignment]
        table = SqlEventLogStorageTable
        query = db.select(table.c.id, table.c.run_id, table.c.event).where(
            table.c.asset_key == asset_key.to_string(),
            table.c.dagster_event_type == PLANNED.value,
            table.c.partition.is_(None),
        )
        if after_storage_id is not None:
            query = query.where(table.c.id > after_storage_id)
        query = storage._add_assets_wipe_filter_to_query(query, storage._get_assets_details([asset_key]), [asset_key])
        order = table.c.id.desc() if newest_first else table.c.id.asc()
        seen: int | None = None
        while True:
            page = query if seen is None else query.where(table.c.id < seen if newest_first else table.c.id > seen)
            with storage.index_connection() as conn:
                rows = conn.execute(page.order_by(order).limit(PLANS_PER_PAGE)).fetchall()
            for storage_id, run_id, serialized in rows:
                entry = deserialize_value(serialized, EventLogEntry)
                planned = entry.get_dagster_event().asset_materialization_planned_data
                if planned.partitions_subset is not None:  # else an unpartitioned asset's plan
                    yield RangePlan(storage_id, run_id, planned.partitions_subset)
            if len(rows) < PLANS_PER_PAGE:
                return
            seen = rows[-1][0]

    def _latest_ids_by_partition(self, asset_key: AssetKey, after_storage_id: int | None) -> dict[tuple[str, str], int]:
        """(event type, partition) → the latest such event's id, for events with a partition."""
        storage: SqlEventLogStorage = self  # type: ignore[assignment]
        latest = storage._latest_event_ids_by_partition_subquery(
            asset_key, [PLANNED, MATERIALIZED], after_cursor=after_storage_id
        )
        with storage.index_connection() as conn:
            rows = conn.execute(db.select(latest.c.dagster_event_type, latest.c.partition, latest.c.id)).fetchall()
        return {(kind, partition): storage_id for kind, partition, storage_id in rows}

    def get_latest_asset_partition_materialization_attempts_without_materializations(
        self, asset_key: AssetKey, after_storage_id: int | None = None
    ) -> Mapping[str, tuple[str, int]]:
        """Dagster's answer (partition → run id and planned event id, for partitions whose latest
        plan has no later materialization; the caller reads each run's status to tell failed from
        in progress), with range plans counted as a plan of each of their partitions."""
        attempts = dict(
            super().get_latest_asset_partition_materialization_attempts_without_materializations(  # type: ignore[misc]
                asset_key, after_storage_id
            )
        )
        latest_plan: dict[str, tuple[str, int]] = {}
        for plan in self.range_plans(asset_key, after_storage_id):  # oldest first: a later plan replaces an earlier one
            for partition in plan.partitions.get_partition_keys():
                latest_plan[partition] = (plan.run_id, plan.storage_id)
        if not latest_plan:
            return attempts
        latest = self._latest_ids_by_partition(asset_key, after_storage_id)
        for partition, (run_id, plan_id) in latest_plan.items():
            if latest.get((PLANNED.value, partition), 0) > plan_id:
                continue  # a later one-partition plan decides, and Dagster's answer holds it
            if latest.get((MATERIALIZED.value, partition), 0) > plan_id:
                attempts.pop(partition, None)  # materialized since
            else:
                attempts[partition] = (run_id, plan_id)
        return attempts

    def get_latest_planned_materialization_info(
        self, asset_key: AssetKey, partition: str | None = None
    ) -> PlannedMaterializationInfo | None:
        """The latest plan of the asset (any kind), or of one partition: the later of its latest
        one-partition plan and the latest range plan holding it."""
        latest = super().get_latest_planned_materialization_info(asset_key, partition)  # type: ignore[misc]
        if partition is None:
            return latest
        for plan in self.range_plans(asset_key, latest.storage_id if latest else None, newest_first=True):
            if partition in plan.partitions:
                return PlannedMaterializationInfo(storage_id=plan.storage_id, run_id=plan.run_id)
        return latest
