"""SQLite storage that stores a buffer of asset events in one transaction per database.

The embedded default instance (``dagster.yaml``) uses ``BatchedSqliteStorage`` in place of
Dagster's ``storage: sqlite``: the same files in the same places under the instance home (runs,
event logs, schedules), so an existing instance keeps its history. Not the other way round: runs
made through it are planned with one event per asset (``range_plans``), which Dagster's own
storage reads without their partitions, so that storage opened on these files later shows no
failed or in-progress partition for those runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import dagster._check as check
import sqlalchemy as db
from dagster import EventLogEntry
from dagster._core.events import ASSET_EVENTS
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
from dagster._core.storage.sqlite_storage import DagsterSqliteStorage, _event_logs_directory
from dagster._serdes import ConfigurableClassData
from sqlalchemy.engine import Connection

from sales360_assets.instance.asset_rows import last_of_each_kind
from sales360_assets.instance.driver_inserts import insert_asset_event_tags, insert_rows
from sales360_assets.instance.range_plans import RangePlansMixin
from sales360_assets.instance.schema_facts import SchemaFactsMixin
from sales360_assets.instance.sqlite_connections import KeptSqliteConnectionsMixin

if TYPE_CHECKING:
    from dagster import DagsterInstance


def is_batchable_asset_event(event: EventLogEntry) -> bool:
    """Materializations, observations and planned events of an asset: the per-partition bulk."""
    dagster_event = event.dagster_event
    return bool(dagster_event and dagster_event.event_type in ASSET_EVENTS and dagster_event.asset_key)


class MisplacedInstanceStorageError(ValueError):
    """The storage's base_dir is not the home of the instance that loaded it."""


class BatchedSqliteEventLogStorage(
    RangePlansMixin, SchemaFactsMixin, KeptSqliteConnectionsMixin, SqliteEventLogStorage
):
    """``SqliteEventLogStorage`` whose ``store_event_batch`` commits once per database.

    Dagster's SQLite storage inherits the base loop (``store_event`` per event), which opens two
    engines and commits twice per event: ~9 ms each, minutes for a three-year backfill. Here a
    buffer of asset events of one run goes into the run's file in one transaction and into the
    asset index in another, through the same statements and index updates ``store_event`` uses.
    Anything else (check evaluations, run status events, mixed runs) takes Dagster's own path.
    """

    def register_instance(self, instance: DagsterInstance) -> None:
        # A dagster.yaml copied into another home while DAGSTER_HOME still names the first would
        # write this instance's history into the other one: refuse, and say how to fix it.
        home = os.path.realpath(instance.root_directory)
        if os.path.realpath(self._base_dir) != os.path.realpath(_event_logs_directory(home)):
            raise MisplacedInstanceStorageError(
                f"the dagster.yaml of {home} keeps its event log in {self._base_dir} "
                f"(storage base_dir, from DAGSTER_HOME): set DAGSTER_HOME={home} before loading it"
            )
        super().register_instance(instance)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        check.sequence_param(events, "events", of_type=EventLogEntry)
        # A run's planned batch mixes asset events with check-planned events: the asset events
        # (the per-partition bulk) go together, anything else through Dagster's own path.
        bulk = [e for e in events if is_batchable_asset_event(e)]
        rest = [e for e in events if not is_batchable_asset_event(e)]
        if len(bulk) < 2 or len({e.run_id for e in bulk}) != 1:
            super().store_event_batch(events)
            return
        self._store_asset_events_of_one_run(bulk)
        if rest:
            super().store_event_batch(rest)

    def _store_asset_events_of_one_run(self, events: Sequence[EventLogEntry]) -> None:
        # The rows store_event writes (prepare_insert_event's values), inserted as one executemany
        # per database: an INSERT statement built, cache-keyed and compiled per event was about
        # half of a three-year region run's event-writing time (~12,000 events).
        rows = [self._event_to_row(event) for event in events]
        with self.run_connection(events[0].run_id) as conn:
            insert_rows(conn, SqlEventLogStorageTable, rows)
        # Mirror into the cross-run asset index, as store_event does, in one transaction; the
        # index's ids, in the rows' order, key the tags and asset rows.
        with self.index_transaction() as conn:
            event_ids = self._insert_returning_ids(conn, rows)
            insert_asset_event_tags(self, conn, events, event_ids)
            for i in last_of_each_kind(events):
                self._store_asset_event(conn, events[i], event_ids[i])

    @staticmethod
    def _insert_returning_ids(conn: Connection, rows: Sequence[Mapping[str, Any]]) -> list[int]:
        """Insert the rows with one executemany; their ids, in the rows' order.

        Not ``INSERT … RETURNING`` with ``sort_by_parameter_order``: on SQLite, SQLAlchemy keeps
        that order by running the statement once per row (~12,000 statements in a three-year
        region run). Read back instead: from its first insert this transaction holds the
        database's only write lock until it commits, and a new row's id is above every id in the
        table, so the buffer's rows are the table's last ``len(rows)``, in the order inserted.
        """
        table = SqlEventLogStorageTable
        insert_rows(conn, table, rows)
        newest = conn.execute(db.select(table.c.id).order_by(table.c.id.desc()).limit(len(rows))).scalars().all()
        event_ids = [int(event_id) for event_id in reversed(newest)]
        # Ids one apart, one per row: anything else means the lock did not hold (another writer's
        # rows among these), so the tags and asset rows would point at the wrong events.
        if event_ids != list(range(event_ids[0], event_ids[0] + len(rows))):
            raise RuntimeError(f"event ids of a batch are not consecutive: {event_ids[:3]}…{event_ids[-3:]}")
        return event_ids


class BatchedSqliteStorage(DagsterSqliteStorage):
    """Dagster's SQLite storage with ``BatchedSqliteEventLogStorage`` as its event log.

    Configured as ``storage: custom`` with ``base_dir: {env: DAGSTER_HOME}`` (a custom storage
    cannot learn the instance's folder the way ``storage: sqlite`` does by default).
    """

    def __init__(self, base_dir: str, inst_data: ConfigurableClassData | None = None) -> None:
        super().__init__(base_dir, inst_data=inst_data)
        self._event_log_storage = BatchedSqliteEventLogStorage(_event_logs_directory(base_dir))

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchedSqliteStorage:
        # As DagsterSqliteStorage.from_config_value (same base_dir config), which hard-codes its class.
        return cls.from_local(inst_data=inst_data, **config_value)
