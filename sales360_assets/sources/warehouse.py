"""Warehouse (BigQuery-shaped) source: the client protocol and the embedded Parquet backend.

A warehouse client answers two reads, each the shape of one parameterized query: a
date-range × region slice of a date-partitioned table (``WHERE order_date BETWEEN @start AND
@end AND region IN UNNEST(@regions)``) and a whole reference table.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from sales360_assets.sources.contract import SourceTable, check_schema_drift


class WarehouseClient(Protocol):
    def read_partitioned(self, table: SourceTable, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame: ...

    def read_full(self, table: SourceTable) -> pl.DataFrame: ...

    def read_loaded_between(self, table: SourceTable, since: datetime, until: datetime) -> pl.DataFrame:
        """Business date, region and ``_loaded_at`` of the rows loaded in [since, until]: what arrived."""
        ...

    def usage_metadata(self) -> dict[str, Any]: ...


def conform(table: SourceTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Check drift, cast contract columns to their types, keep added columns after them."""
    check_schema_drift(table, frame.columns)
    return frame.select(
        *[
            pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c)
            for c, t in table.columns.items()
        ],
        *[c for c in frame.columns if c not in table.columns],
    )


class LocalWarehouseClient:
    """The embedded default: Parquet files laid out like a date-partitioned BigQuery table."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _table_dir(self, table: SourceTable) -> Path:
        path = self.root / table.name
        if not path.is_dir():
            raise FileNotFoundError(
                f"no warehouse export for table {table.name!r} at {path}; generate sample sources "
                "(`sales360 generate`) or point SALES360_SOURCES_DIR at your export"
            )
        return path

    def read_partitioned(self, table: SourceTable, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame:
        if table.date_column is None or table.region_column is None:
            raise ValueError(f"warehouse table {table.name!r} is not partitioned by date and region")
        base = self._table_dir(table)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        files = [f for d in days for f in sorted((base / f"{table.date_column}={d.isoformat()}").glob("*.parquet"))]
        if not files:
            return pl.DataFrame(schema=table.columns)
        frame = (
            pl.scan_parquet(files)
            .filter(pl.col(table.date_column).is_between(start, end) & pl.col(table.region_column).is_in(list(regions)))
            .collect()
        )
        return conform(table, frame)

    def read_full(self, table: SourceTable) -> pl.DataFrame:
        files = sorted(self._table_dir(table).glob("*.parquet"))
        if not files:
            raise FileNotFoundError(f"warehouse table {table.name!r} has no data files")
        return conform(table, pl.read_parquet(files))

    def read_loaded_between(self, table: SourceTable, since: datetime, until: datetime) -> pl.DataFrame:
        date_column, region_column, loaded = _arrival_columns(table)
        files = sorted(self._table_dir(table).glob("*/*.parquet"))
        if not files:
            return pl.DataFrame(schema={date_column: pl.Date, region_column: pl.String, loaded: table.columns[loaded]})
        # Parquet statistics on _loaded_at let the scan skip files loaded before `since`.
        return (
            pl.scan_parquet(files)
            .select(date_column, region_column, loaded)
            .filter(pl.col(loaded).is_between(since, until))
            .collect()
        )

    def usage_metadata(self) -> dict[str, Any]:
        return {"warehouse_backend": "local files"}


def _arrival_columns(table: SourceTable) -> tuple[str, str, str]:
    if table.date_column is None or table.region_column is None or table.modified_column is None:
        raise ValueError(f"warehouse table {table.name!r} has no date, region and load-time columns")
    return table.date_column, table.region_column, table.modified_column
