"""A buffer of rows inserted through the database driver (both event-log storages).

SQLAlchemy's ``conn.execute(table.insert(), rows)`` processes every row's parameters in Python
(``construct_params`` and each column's bind processor, per row): for a three-year region run's
~12,000 events and ~36,000 index tags that was a third of the time spent storing them, more than
the database's own work. Here each column's bind processor is looked up once per table and
dialect and the driver gets plain values: SQLite's ``executemany`` of the compiled single-row
insert, PostgreSQL's ``COPY … FROM STDIN`` (psycopg2's ``copy_expert``), its bulk-load path,
which parses no statement per row. (A driver-level executemany would have been psycopg2's
``execute_batch``, a statement per row: it tripled a region run's storage time.) The stored
values are the ones SQLAlchemy's path stores (``test_driver_inserts.py`` on both databases).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as db
from dagster import EventLogEntry
from dagster._core.storage.event_log.schema import AssetEventTagsTable
from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
from sqlalchemy.engine import Connection

# The statement for the driver (None: a driver not handled here, which gets SQLAlchemy's insert)
# and each column's bind processor.
_Compiled = tuple[str | None, list[Callable[[Any], Any] | None]]
_compiled: dict[tuple[str, str, str, tuple[str, ...]], _Compiled] = {}


def _compile(table: db.Table, columns: tuple[str, ...], dialect: db.Dialect) -> _Compiled:
    """The insert statement for ``columns`` in that order, and each column's bind processor."""
    cache_key = (table.name, dialect.name, dialect.driver, columns)
    if cache_key not in _compiled:
        quote = dialect.identifier_preparer
        names = ", ".join(quote.format_column(table.c[name]) for name in columns)
        sql: str | None = None
        if dialect.driver == "psycopg2":
            sql = f"COPY {quote.format_table(table)} ({names}) FROM STDIN"  # text format: tab-separated
        elif dialect.name == "sqlite" and dialect.paramstyle == "qmark":
            values = "(" + ", ".join("?" for _ in columns) + ")"
            sql = f"INSERT INTO {quote.format_table(table)} ({names}) VALUES {values}"
        processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name in columns]
        _compiled[cache_key] = (sql, processors)
    return _compiled[cache_key]


def insert_rows(
    conn: Connection,
    table: db.Table,
    rows: Sequence[Mapping[str, Any]],
    new_ids: Callable[[int], Sequence[int]] | None = None,
) -> None:
    """Insert ``rows`` (dicts with the same keys, as for ``conn.execute(table.insert(), rows)``).

    With ``new_ids``, row i gets ``id`` = ``new_ids(len(rows))[i]``, asked for only once the rows
    are ready to send: ids taken from a PostgreSQL sequence are uncommitted until the rows are in,
    and a reader polling the table by id could step past them meanwhile (Dagster's own insert has
    the same window, for the length of its statement), so the window is kept to the COPY itself.
    """
    if not rows:
        return
    columns = tuple(rows[0])
    id_column = ("id",) if new_ids is not None else ()
    sql, processors = _compile(table, (*id_column, *columns), conn.dialect)
    if sql is None:  # SQLAlchemy's own insert, which applies the bind processors itself
        if new_ids is not None:
            rows = [{"id": row_id, **row} for row_id, row in zip(new_ids(len(rows)), rows, strict=True)]
        conn.execute(table.insert(), rows)
        return
    named = list(zip(columns, processors[len(id_column) :], strict=True))
    tuples = [tuple(row[name] if process is None else process(row[name]) for name, process in named) for row in rows]
    if conn.dialect.driver == "psycopg2":
        lines = ["\t".join(_copy_text(value) for value in values) for values in tuples]
        if new_ids is not None:
            lines = [f"{int(row_id)}\t{line}" for row_id, line in zip(new_ids(len(lines)), lines, strict=True)]
        cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.copy_expert(sql, io.StringIO("".join(line + "\n" for line in lines)))
        finally:
            cursor.close()
        return
    if new_ids is not None:
        tuples = [(row_id, *values) for row_id, values in zip(new_ids(len(tuples)), tuples, strict=True)]
    conn.exec_driver_sql(sql, tuples)


def _copy_text(value: Any) -> str:
    """One value in COPY's text format: ``\\N`` for NULL, backslash escapes for the characters
    that would end a field or a row (PostgreSQL parses timestamps and numbers from their text)."""
    if value is None:
        return "\\N"
    if isinstance(value, datetime) and value.tzinfo is None:  # the event log's UTC timestamps
        return value.isoformat(sep=" ")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        # Written as text, a value of another type would be stored as its repr (or an aware
        # datetime's offset silently dropped): fail instead of storing something else.
        raise TypeError(f"no COPY text for a {type(value).__name__} value")
    text = str(value)
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:
        text = text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


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
