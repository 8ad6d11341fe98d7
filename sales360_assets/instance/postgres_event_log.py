"""PostgreSQL event log that also inserts a buffer of planned events in one statement.

The production profile (``deploy/postgres/dagster.yaml``) uses it in place of dagster-postgres's
``PostgresEventLogStorage`` (same tables, same configuration).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dagster import DagsterEventType, EventLogEntry
from dagster._core.storage.event_log.schema import SqlEventLogStorageTable
from dagster._serdes import ConfigurableClassData
from dagster_postgres.event_log.event_log import PostgresEventLogStorage
from dagster_postgres.utils import get_token_provider_from_config, pg_url_from_config

from sales360_assets.instance.asset_rows import last_of_each_kind


class BatchedPostgresEventLogStorage(PostgresEventLogStorage):
    """dagster-postgres 0.29 batches materializations and observations; this adds planned events.

    A range run writes one ``ASSET_MATERIALIZATION_PLANNED`` event per partition per asset before
    it starts; dagster-postgres stores those one insert each (~16 ms), so a one-year region run
    waited over a minute to start. Here they go in one multi-row insert and one index transaction,
    the way dagster-postgres already stores a batch of materializations.
    """

    @classmethod
    def from_config_value(  # type: ignore[override]
        cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]
    ) -> BatchedPostgresEventLogStorage:
        # As PostgresEventLogStorage.from_config_value, which hard-codes its own class.
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )

    def store_event_batch(self, events: Sequence[EventLogEntry]) -> None:
        planned = [
            e for e in events if e.get_dagster_event().event_type == DagsterEventType.ASSET_MATERIALIZATION_PLANNED
        ]
        rest = [e for e in events if e.get_dagster_event().event_type != DagsterEventType.ASSET_MATERIALIZATION_PLANNED]
        if len(planned) > 1:
            self._store_planned_batch(planned)
        elif planned:
            rest = planned + rest
        if rest:
            super().store_event_batch(rest)

    def _store_planned_batch(self, events: Sequence[EventLogEntry]) -> None:
        insert = self.prepare_insert_event_batch(events)
        with self._connect() as conn:
            result = conn.execute(insert.returning(SqlEventLogStorageTable.c.id))
            event_ids = [int(row[0]) for row in result.fetchall()]
        with self.index_transaction() as conn:
            self._store_asset_event_tags(conn, events, event_ids)
            for i in last_of_each_kind(events):
                self._store_asset_event(conn, events[i], event_ids[i])
