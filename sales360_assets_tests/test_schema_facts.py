"""The event logs look their schema up once, not on every read and write.

Dagster's SQL event logs inspect the database's schema each time they use a table or an
``asset_keys`` column (``get_asset_records``, an asset event's tags, a check result): on PostgreSQL
each is several catalog queries. ``SchemaFactsMixin`` remembers what it found. The PostgreSQL
profile runs the same check in ``test_postgres_instance.py``.
"""

from __future__ import annotations

from collections.abc import Callable

import dagster as dg
import pytest
import sqlalchemy
from dagster._core.storage.event_log.schema import AssetCheckExecutionsTable, AssetEventTagsTable
from sqlalchemy.dialects.postgresql.base import PGDialect
from sqlalchemy.dialects.sqlite.base import SQLiteDialect

CALLS = 20


def schema_lookups(instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch) -> int:
    """Schema inspections while the event log answers ``CALLS`` asset-record reads and table checks."""
    storage = instance.event_log_storage
    count = 0

    def counted(original: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object, **kwargs: object) -> object:
            nonlocal count
            count += 1
            return original(*args, **kwargs)

        return call

    # Dagster asks through sqlalchemy.inspect (columns) and the dialect's has_table (tables).
    monkeypatch.setattr(sqlalchemy, "inspect", counted(sqlalchemy.inspect))
    for dialect in (PGDialect, SQLiteDialect):
        monkeypatch.setattr(dialect, "has_table", counted(dialect.has_table))
    for _ in range(CALLS):
        storage.get_asset_records([dg.AssetKey("fact_sales")])
        assert storage.has_table(AssetEventTagsTable.name)
        assert storage.supports_asset_checks  # type: ignore[truthy-function]
        assert storage.has_table(AssetCheckExecutionsTable.name)
    return count


def test_the_local_event_log_looks_its_schema_up_once(
    local_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Dagster's: three or more lookups per round (two columns, two tables), over 60 here.
    assert schema_lookups(local_instance, monkeypatch) <= 6
