"""Warehouse (BigQuery-shaped) source: the client protocol and the embedded Parquet backend.

A warehouse client answers two reads, each the shape of one parameterized query: a
date-range × region slice of a date-partitioned table (``WHERE order_date BETWEEN @start AND
@end AND region IN UNNEST(@regions)``) and a whole reference table.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import UTC, date, datetime, timedelta
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


class WarehouseLayoutError(ValueError):
    """A warehouse export laid out in a way the reader does not know: it names the file and the layouts."""


def derive_missing_columns(table: SourceTable, frame: pl.LazyFrame, loaded_at: datetime) -> pl.LazyFrame:
    """Add the derivable columns an export without timestamps lacks (documented in the contract).

    An export with dates only would otherwise have to invent them: ``order_ts`` becomes the
    order date at 00:00 UTC and ``_loaded_at`` (used to collapse retried loads and to notice late
    arrivals) the time the file was written. Delivered values are never replaced.
    """
    delivered = frame.collect_schema().names()
    derived = []
    if "_loaded_at" in table.columns and "_loaded_at" not in delivered:
        derived.append(pl.lit(loaded_at, dtype=table.columns["_loaded_at"]).alias("_loaded_at"))
    if "order_ts" in table.columns and "order_ts" not in delivered and "order_date" in delivered:
        derived.append(pl.col("order_date").cast(pl.Date).cast(table.columns["order_ts"]).alias("order_ts"))
    return frame.with_columns(derived) if derived else frame


def _modified_at(path: Path) -> datetime:
    return datetime.fromtimestamp(path.stat().st_mtime, tz=UTC)


class LocalWarehouseClient:
    """The embedded default: Parquet files laid out like a date-partitioned BigQuery table.

    A date-partitioned table is either one folder per day (``<date_column>=YYYY-MM-DD/*.parquet``)
    or flat Parquet files in the table folder, whose rows are selected by the date column (the
    file's rows carry their date; folder names are never trusted for it). Anything else, or a
    folder without data, is an error naming what was found: a wrong layout must not read as 0 rows.
    """

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

    def _layout_error(self, table: SourceTable, found: Path, problem: str) -> WarehouseLayoutError:
        base = self.root / table.name
        return WarehouseLayoutError(
            f"warehouse table {table.name!r}: {problem} ({found}); expected "
            f"{base}/{table.date_column}=YYYY-MM-DD/*.parquet (one folder per day) or "
            f"{base}/*.parquet (flat files, rows selected by {table.date_column}), not both"
        )

    def _partitioned_files(
        self, table: SourceTable, days: set[date] | None = None
    ) -> tuple[list[Path], dict[date, list[Path]]]:
        """(flat files, files per day folder) of a date-partitioned table; refuses any other layout.

        With ``days``, only those days' folders are opened (their files listed and checked): after
        three years a table holds ~1,100 folders, and a daily run listing all of them paid ~0.1 s per
        table for one day's files. The table folder's own entries are always checked.
        """
        base = self._table_dir(table)
        prefix = f"{table.date_column}="
        flat: list[Path] = []
        by_day: dict[date, list[Path]] = {}
        for entry in sorted(base.iterdir()):
            if entry.name.startswith((".", "_")):
                continue  # hidden files and writer markers (_SUCCESS) carry no rows
            if entry.is_file() and entry.suffix == ".parquet":
                flat.append(entry)
                continue
            if not (entry.is_dir() and entry.name.startswith(prefix)):
                raise self._layout_error(table, entry, "unexpected entry in the table folder")
            try:
                day = date.fromisoformat(entry.name.removeprefix(prefix))
            except ValueError:
                raise self._layout_error(table, entry, "folder name is not a date as YYYY-MM-DD") from None
            if days is not None and day not in days:
                by_day[day] = []  # not opened: its files are not needed
                continue
            others = [f for f in entry.iterdir() if f.suffix != ".parquet" and not f.name.startswith((".", "_"))]
            if others:
                raise self._layout_error(table, others[0], "not a Parquet file")
            by_day[day] = sorted(entry.glob("*.parquet"))
        if flat and by_day:
            raise self._layout_error(table, flat[0], "both flat files and day folders")
        if (
            not flat
            and not any(by_day.values())
            and not self._any_parquet(base, prefix, by_day.keys() - (days or set()))
        ):
            # Empty folders read as 0 rows would hide a failed export: only the days asked for were
            # opened, so look into the others until one holds a file (at once in a healthy export).
            raise self._layout_error(table, base, "no Parquet files")
        return flat, by_day

    @staticmethod
    def _any_parquet(base: Path, prefix: str, days: Iterable[date]) -> bool:
        return any(next((base / f"{prefix}{day.isoformat()}").glob("*.parquet"), None) for day in days)

    def _scan(self, table: SourceTable, path: Path) -> pl.LazyFrame:
        return derive_missing_columns(table, pl.scan_parquet(path), _modified_at(path))

    def read_partitioned(self, table: SourceTable, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame:
        if table.date_column is None or table.region_column is None:
            raise ValueError(f"warehouse table {table.name!r} is not partitioned by date and region")
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        flat, by_day = self._partitioned_files(table, set(days))
        files = flat or [f for d in days for f in by_day.get(d, [])]
        if not files:
            return pl.DataFrame(schema=table.columns)
        # Regions are matched after normalising them (routing), never filtered here: a row
        # spelled "UK" or with an unknown region must reach a run, not vanish.
        # One file at a time: a day delivered with another type (quantity as a float) must not
        # fail the whole range; the relaxed concat widens, exact_cast judges.
        in_window = pl.col(table.date_column).is_between(start, end)
        frame = pl.concat([self._scan(table, f).filter(in_window).collect() for f in files], how="diagonal_relaxed")
        return route_regions(conform(table, frame), table.region_column, regions)

    def read_full(self, table: SourceTable) -> pl.DataFrame:
        base = self._table_dir(table)
        files = sorted(base.glob("*.parquet"))
        if not files:
            raise WarehouseLayoutError(f"warehouse table {table.name!r} has no data files: expected {base}/*.parquet")
        return conform(table, pl.concat([self._scan(table, f).collect() for f in files], how="diagonal_relaxed"))

    def read_loaded_between(self, table: SourceTable, since: datetime, until: datetime) -> pl.DataFrame:
        date_column, region_column, loaded = _arrival_columns(table)
        flat, by_day = self._partitioned_files(table)
        files = flat or [f for day_files in by_day.values() for f in day_files]
        # Parquet statistics on _loaded_at let each scan skip row groups loaded before `since`.
        frames = [
            self._scan(table, f)
            .select(date_column, region_column, loaded)
            .filter(pl.col(loaded).is_between(since, until))
            .collect()
            for f in files
        ]
        if not frames:
            return pl.DataFrame(schema={date_column: pl.Date, region_column: pl.String, loaded: table.columns[loaded]})
        return pl.concat(frames, how="vertical_relaxed")

    def usage_metadata(self) -> dict[str, Any]:
        return {"warehouse_backend": "local files"}


def _arrival_columns(table: SourceTable) -> tuple[str, str, str]:
    if table.date_column is None or table.region_column is None or table.modified_column is None:
        raise ValueError(f"warehouse table {table.name!r} has no date, region and load-time columns")
    return table.date_column, table.region_column, table.modified_column
