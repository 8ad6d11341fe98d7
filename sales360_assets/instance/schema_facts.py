"""Tables and columns of the event-log schema, looked up once per storage instead of per call.

Dagster's SQL event logs ask the database whether a table or an ``asset_keys`` column exists each
time they use one: ``has_table`` before writing an asset event's tags or a check result,
``has_asset_key_col`` on every ``get_asset_records`` (twice: the status-cache column and the index
columns) and every asset-row write. Each is a schema inspection: on PostgreSQL several catalog
queries, ~1 s of a three-year region run with the reference and reporting jobs (the largest gap
to SQLite among its reads, ``benchmarks/storage_calls.py``). Migrations only add tables and
columns, so a found one is remembered; a missing one is asked again (``dagster instance migrate``
may add it while the process runs).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from dagster._core.storage.event_log.sql_event_log import SqlEventLogStorage
    from sqlalchemy.engine import Connection

    _Base = SqlEventLogStorage
else:
    _Base = object


class SchemaFactsMixin(_Base):
    """Mixed in before a Dagster SQL event log: its schema lookups, with found ones remembered."""

    _found_tables: set[str] | None = None
    _found_asset_key_columns: set[str] | None = None

    def _tables_found(self) -> set[str]:
        if self._found_tables is None:
            self._found_tables = set()
        return self._found_tables

    def _asset_key_columns_found(self) -> set[str]:
        if self._found_asset_key_columns is None:
            self._found_asset_key_columns = set()
        return self._found_asset_key_columns

    def has_table(self, table_name: str) -> bool:
        if table_name in self._tables_found():
            return True
        found = super().has_table(table_name)
        if found:
            self._tables_found().add(table_name)
        return found

    def has_asset_key_col(self, column_name: str) -> bool:
        # Dagster's opens an index connection to ask; a remembered column needs none.
        if column_name in self._asset_key_columns_found():
            return True
        return super().has_asset_key_col(column_name)

    def _has_asset_key_col_on_connection(self, conn: Connection, column_name: str) -> bool:
        if column_name in self._asset_key_columns_found():
            return True
        found = super()._has_asset_key_col_on_connection(conn, column_name)
        if found:
            self._asset_key_columns_found().add(column_name)
        return found

    def wipe(self) -> None:
        # Some storages drop and recreate their tables to wipe: ask again afterwards.
        self._found_tables = self._found_asset_key_columns = None
        super().wipe()
