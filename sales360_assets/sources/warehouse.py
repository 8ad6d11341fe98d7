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
from sales360_assets.sources.routing import exact_cast, route_regions


class WarehouseClient(Protocol):
    def read_partitioned(self, table: SourceTable, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame: ...

    def read_full(self, table: SourceTable) -> pl.DataFrame: ...

    def read_loaded_between(self, table: SourceTable, since: datetime, until: datetime) -> pl.DataFrame:
        """Business date, region and ``_loaded_at`` of the rows loaded in [since, until]: what arrived."""
        ...

    def usage_metadata(self) -> dict[str, Any]: ...


def conform(table: SourceTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Check drift, cast contract columns to their types exactly, keep added columns after them.

    A value that does not survive the cast (a quantity of 2.5 delivered as a float) is not
    truncated: it becomes null with the delivered text in ``_cast_error``, for staging to reject.
    """
    check_schema_drift(table, frame.columns)
    cast = exact_cast(frame, table.columns)
    return cast.select(
        *[pl.col(c) if c in frame.columns else pl.lit(None, dtype=t).alias(c) for c, t in table.columns.items()],
        *[c for c in cast.columns if c not in table.columns],
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
        # Regions are matched after normalising them (routing), never filtered here: a row
        # spelled "UK" or with an unknown region must reach a run, not vanish.
        # One file per day, read separately: a day delivered with another type (quantity as a
        # float) must not fail the whole range; the relaxed concat widens, exact_cast judges.
        frame = pl.concat(
            [pl.read_parquet(f).filter(pl.col(table.date_column).is_between(start, end)) for f in files],
            how="diagonal_relaxed",
        )
        return route_regions(conform(table, frame), table.region_column, regions)

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
