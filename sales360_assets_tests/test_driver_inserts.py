"""Rows inserted through the driver (``instance/driver_inserts``) are the rows SQLAlchemy's insert
stores: same values, same text for timestamps, NULLs kept. The PostgreSQL side runs the same
comparison against a real server in ``test_postgres_instance.py``."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
import sqlalchemy as db
from dagster._core.storage.event_log.schema import (
    AssetEventTagsTable,
    SqlEventLogStorageMetadata,
    SqlEventLogStorageTable,
)

from sales360_assets.instance.driver_inserts import _copy_text, insert_rows

EVENT_ROWS = [
    {
        "run_id": "run-1",
        "event": '{"__class__": "EventLogEntry"}',
        "dagster_event_type": "ASSET_MATERIALIZATION",
        "timestamp": datetime(2026, 12, 7, 13, 2, 3, 456789),
        "step_key": "fact_sales",
        "asset_key": '["fact_sales"]',
        "partition": "2026-12-07|uk",
    },
    {
        "run_id": "run-1",
        # What a serialized event can hold: JSON escapes, a tab, line breaks, quotes, non-ASCII text.
        "event": '{"__class__": "EventLogEntry", "message": "a \\"b\\"\\\\c\td\ne\r\\n Zürich ✓", "n": 2}',
        "dagster_event_type": None,
        "timestamp": datetime(2026, 12, 7, 13, 2, 4),
        "step_key": "",  # empty text, not NULL
        "asset_key": None,
        "partition": None,
    },
]
TAG_ROWS = [
    {
        "event_id": n,
        "asset_key": '["fact_sales"]',
        "key": key,
        "value": value,
        "event_timestamp": datetime(2026, 12, 7, 13, 2, n),
    }
    for n, (key, value) in enumerate([("dagster/partition/date", "2026-12-07"), ("dagster/data_version", "ab" * 32)])
]


def stored_both_ways(engine: db.Engine, table: db.Table, rows: list[dict]) -> tuple[list[tuple], list[tuple]]:
    """``rows`` inserted by SQLAlchemy and by ``insert_rows``; each side's stored rows without ids."""
    with engine.begin() as conn:
        conn.execute(table.delete())
        conn.execute(table.insert(), rows)
        by_sqlalchemy = conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY id").fetchall()
        conn.execute(table.delete())
        insert_rows(conn, table, rows)
        by_driver = conn.exec_driver_sql(f"SELECT * FROM {table.name} ORDER BY id").fetchall()
    return [tuple(row[1:]) for row in by_sqlalchemy], [tuple(row[1:]) for row in by_driver]


def test_driver_inserts_store_what_sqlalchemy_stores_on_sqlite(tmp_path) -> None:
    engine = db.create_engine(f"sqlite:///{tmp_path / 'index.db'}")
    SqlEventLogStorageMetadata.create_all(engine)
    for table, rows in ((SqlEventLogStorageTable, EVENT_ROWS), (AssetEventTagsTable, TAG_ROWS)):
        by_sqlalchemy, by_driver = stored_both_ways(engine, table, rows)
        assert by_driver == by_sqlalchemy and len(by_driver) == len(rows)
    # SQLite keeps timestamps as text: the driver path must write SQLAlchemy's format, or reads
    # by time (Dagster's event queries) would compare different strings.
    assert by_driver[0][-1] == "2026-12-07 13:02:00.000000"


@pytest.mark.parametrize("value", [b"bytes", datetime(2026, 12, 7, tzinfo=UTC), True, object()])
def test_copy_refuses_a_value_it_would_store_as_something_else(value: object) -> None:
    """COPY sends text: a value of another type would land as its repr, an aware timestamp
    without its offset. The event log's rows hold text, integers and naive UTC timestamps only."""
    with pytest.raises(TypeError):
        _copy_text(value)
