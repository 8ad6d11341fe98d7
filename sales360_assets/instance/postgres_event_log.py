"""PostgreSQL event log that loads a buffer of asset events with one COPY, over pooled connections
(two kept per instance).

The production profile (``deploy/postgres/dagster.yaml``) uses it in place of dagster-postgres's
``PostgresEventLogStorage`` (same tables, same configuration).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster._check as check
import sqlalchemy as db
from dagster import DagsterEventType, EventLogEntry
from dagster._core.events import ASSET_CHECK_EVENTS, ASSET_EVENTS
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster_postgres.event_log.event_log import PostgresEventLogStorage

from sales360_assets.instance.asset_rows import last_of_each_kind
from sales360_assets.instance.driver_inserts import insert_asset_event_tags, insert_rows
from sales360_assets.instance.postgres_pool import PooledEngineMixin
from sales360_assets.instance.range_plans import RangePlansMixin
from sales360_assets.instance.schema_facts import SchemaFactsMixin

# The per-partition bulk of a range run. Failed-to-materialize events keep dagster-postgres's own
# path (it leaves them out of a batch), and so do check events.
BULK_EVENT_TYPES = {
    DagsterEventType.ASSET_MATERIALIZATION_PLANNED,
    DagsterEventType.ASSET_MATERIALIZATION,
    DagsterEventType.ASSET_OBSERVATION,
}


class BatchedPostgresEventLogStorage(RangePlansMixin, SchemaFactsMixin, PooledEngineMixin, PostgresEventLogStorage):
    """dagster-postgres 0.29 with a buffer's planned events, materializations and observations
    loaded with one COPY (ids taken from the table's sequence first) and one index transaction.

    dagster-postgres stores planned events one insert each (~16 ms: a one-year region run waited
    over a minute to start) and a buffer of materializations as one multi-row ``VALUES`` statement,
    which SQLAlchemy builds and compiles anew for every buffer (a parameter per column per row).
    Here the rows go in with ``COPY … FROM STDIN`` (``driver_inserts``), ``store_event`` makes
    fewer round trips for the events that come one at a time, and connections are pooled
    (``postgres_pool``).
    """

    def store_event(self, event: EventLogEntry) -> None:
        """dagster-postgres's ``store_event`` in fewer round trips: ~860 events of a region run's
        steps and checks come one at a time.

        dagster-postgres checks a connection out (a pre-ping) for the insert, then sends a
        ``NOTIFY`` that nothing reads (Dagster 1.13 watches a PostgreSQL event log by polling; its
        comment keeps it "to support version skew", and every process of this deployment runs the
        same Dagster), then checks out a second connection (another pre-ping) for an asset event's
        index rows. Here one checkout serves both, and no ``NOTIFY``. The event's insert still
        commits on its own before its index rows, as there: a poller reading the run's events by
        id must not find a later id committed before an earlier one held open by index writes.
        """
        check.inst_param(event, "event", EventLogEntry)
        insert = self.prepare_insert_event(event).returning(SqlEventLogStorageTable.c.id)
        dagster_event = event.dagster_event
        with self._connect() as conn:
            event_id = int(conn.execute(insert).scalar_one())
            conn.commit()  # ends SQLAlchemy's implicit transaction; the server committed already (autocommit)
            if dagster_event is not None and dagster_event.event_type in ASSET_EVENTS and dagster_event.asset_key:
                in_transaction = conn.execution_options(isolation_level="READ COMMITTED")
                with in_transaction.begin():
                    insert_asset_event_tags(self, in_transaction, [event], [event_id])
                    self._store_asset_event(in_transaction, event, event_id)
        if dagster_event is not None and dagster_event.event_type in ASSET_CHECK_EVENTS:
            self.store_asset_check_event(event, event_id)

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        bulk = [e for e in events if e.get_dagster_event().event_type in BULK_EVENT_TYPES]
        rest = [e for e in events if e.get_dagster_event().event_type not in BULK_EVENT_TYPES]
        if len(bulk) > 1:
            self._store_bulk(bulk)
        elif bulk:
            rest = bulk + rest
        if rest:
            super().store_event_batch(rest)

    def _store_bulk(self, events: Sequence[EventLogEntry]) -> None:
        # The buffer's ids are taken from the table's sequence, just before its rows go in with
        # them: the index tags and asset rows need each event's id, and ``INSERT … RETURNING`` in
        # the rows' order cost SQLAlchemy a sentinel column and a sort per buffer on top of its
        # per-row parameter processing. Ids ascend in buffer order, as one insert's would.
        rows = [self._event_to_row(event) for event in events]
        event_ids: list[int] = []

        def take_ids(count: int) -> list[int]:
            event_ids.extend(sorted(in_transaction.execute(NEXT_EVENT_IDS, {"count": count}).scalars()))
            return event_ids

        # dagster-postgres's engine autocommits: the buffer is one transaction here, all or nothing.
        with self._connect() as conn:
            in_transaction = conn.execution_options(isolation_level="READ COMMITTED")
            with in_transaction.begin():
                insert_rows(in_transaction, SqlEventLogStorageTable, rows, new_ids=take_ids)
        with self.index_transaction() as conn:
            insert_asset_event_tags(self, conn, events, event_ids)
            for i in last_of_each_kind(events):
                self._store_asset_event(conn, events[i], event_ids[i])


# ``count`` new ids of the event log's own sequence (a serial column's, whatever its name).
NEXT_EVENT_IDS = db.text("SELECT nextval(pg_get_serial_sequence('event_logs', 'id')) FROM generate_series(1, :count)")
