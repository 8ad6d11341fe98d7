"""A buffer of rows inserted through the database driver's executemany (both event-log storages).

SQLAlchemy's ``conn.execute(table.insert(), rows)`` processes every row's parameters in Python
(``construct_params`` and each column's bind processor, per row): for a three-year region run's
~12,000 events and ~36,000 index tags that was a third of the time spent storing them, more than
the database's own work. Here the single-row statement is compiled once per table and dialect,
each column's bind processor is looked up once, and the driver gets plain tuples: SQLite's
``executemany``, or psycopg2's ``execute_values`` (one multi-row ``VALUES`` statement per page, as
SQLAlchemy's own insertmanyvalues sends; its ``execute_batch``, which a driver-level executemany
gets, runs a statement per row and tripled a region run's storage time). The stored values are
the ones SQLAlchemy's path stores: the same columns, bind processors and statement.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import sqlalchemy as db
from dagster import EventLogEntry
from dagster._core.storage.event_log.schema import AssetEventTagsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from sqlalchemy.engine import Connection

# Rows per psycopg2 statement: a buffer of events (DAGSTER_EVENT_BATCH_SIZE) or of their tags.
PAGE_ROWS = 1000

_Compiled = tuple[str, list[Callable[[Any], Any] | None]]
_compiled: dict[tuple[str, str, tuple[str, ...]], _Compiled] = {}


def _compile(table: db.Table, columns: tuple[str, ...], dialect: db.Dialect) -> _Compiled:
    """The insert statement for ``columns`` in that order, and each column's bind processor."""
    cache_key = (table.name, dialect.name, columns)
    if cache_key not in _compiled:
        quote = dialect.identifier_preparer
        names = ", ".join(quote.format_column(table.c[name]) for name in columns)
        if dialect.driver == "psycopg2":
            values = "%s"  # execute_values expands it into a page of row tuples
        elif dialect.paramstyle == "qmark":
            values = "(" + ", ".join("?" for _ in columns) + ")"
        else:
            raise NotImplementedError(f"driver inserts for {dialect.name}+{dialect.driver}")
        sql = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES {values}"
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
        _compiled[cache_key] = (sql, processors)
    return _compiled[cache_key]


def insert_rows(conn: Connection, table: db.Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys, as for ``conn.execute(table.insert(), rows)``)."""
    if not rows:
        return
    columns = tuple(rows[0])
    sql, processors = _compile(table, columns, conn.dialect)
    named = list(zip(columns, processors, strict=True))
    tuples = [tuple(row[name] if process is None else process(row[name]) for name, process in named) for row in rows]
    if conn.dialect.driver == "psycopg2":
        from psycopg2.extras import execute_values  # only where psycopg2 is the driver

        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            execute_values(cursor, sql, tuples, page_size=PAGE_ROWS)
        finally:
            cursor.close()
    else:
        conn.exec_driver_sql(sql, tuples)


def insert_asset_event_tags(
    storage: SqlEventLogStorage, conn: Connection, events: Sequence[EventLogEntry], event_ids: Sequence[int]
) -> None:
    """The index tags ``SqlEventLogStorage._store_asset_event_tags`` writes for these events (the
    data version and each partition dimension, per event), inserted with ``insert_rows``."""
    rows = []
    for event_id, event in zip(event_ids, events, strict=True):
        tags = storage._tags_for_asset_event(event)
        if not tags:
            continue
        asset_key = event.get_dagster_event().asset_key
        assert asset_key is not None, "an asset event without an asset key"
        key_string, timestamp = asset_key.to_string(), storage._event_insert_timestamp(event)
        rows.extend(
            {"event_id": event_id, "asset_key": key_string, "key": key, "value": value, "event_timestamp": timestamp}
            for key, value in tags.items()
        )
    # As Dagster: only where the tags table exists (an instance not migrated yet has none).
    if rows and storage.has_table(AssetEventTagsTable.name):
        insert_rows(conn, AssetEventTagsTable, rows)
