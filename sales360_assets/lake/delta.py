"""Delta Lake table access with exact partition replacement. Knows nothing of Dagster.

Why our own layer instead of ``dagster-deltalake-polars``: its 0.29 IO manager overwrites the
whole table when a run spans several regions and fails on date ranges (see the Dagster notes in
the repository docs). Here every partitioned write is an ``overwrite`` with an explicit
predicate covering exactly the run's dates and regions, after checking that no row falls
outside them, with ``schema_mode="merge"`` so additive source changes flow through.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable, write_deltalake
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from sales360_assets.lake.commits import (
    OutOfPartitionError,
    arrow_for_delta,
    check_in_partitions,
    with_commit_retry,
)
from sales360_assets.lake.selection import DATE_COLUMN, REGION_COLUMN, PartitionSelection
from sales360_assets.lake.streams import BlockStream

# How date × region tables are stored: one Delta partition per region, the days inside its files, and
# per-file statistics on the date only. Dagster's partitions stay date × region: a write replaces
# exactly its dates and regions by predicate, whatever the files hold.
#
# Why not a Delta partition per date × region (the layout until 2026-12): that is a file per day and
# region, ~4,400 after three years, and every load of the log and every read of history paid for
# each of them (a key column across three years: 3-5 s; a load with statistics on every column
# 0.1-0.2 s). Now a range write is one file per region (up to the writer's target size), a new day
# one more, and the weekly maintenance compacts a region's small files into one (up to 100 MiB); a
# read of one day skips the files whose date range misses it. The price: re-running a past day
# rewrites the file holding it (after a compaction, the region's history in that file); two runs
# re-running different past days of one region now conflict and retry (``with_commit_retry``); and
# a filter on another column (an analyst's query by order_id) cannot skip files by statistics.
STORAGE_PARTITION_COLUMNS = [REGION_COLUMN]
DATE_STATISTICS = {"delta.dataSkippingStatsColumns": DATE_COLUMN}


class LakeReadError(RuntimeError):
    """A Delta table's log or one of its data files cannot be read; the message names them."""


def _unreadable_files(table: DeltaTable) -> list[tuple[str, str]]:
    """(file, error) for each data file of the table whose Parquet footer cannot be read."""
    broken = []
    for uri in table.file_uris():
        try:
            pq.ParquetFile(uri.removeprefix("file://")).metadata  # noqa: B018 - reading the footer is the check
        except (OSError, ValueError, pa.ArrowException) as exc:
            broken.append((uri, str(exc)))
    return broken


@dataclass(frozen=True)
class WriteResult:
    table_uri: str
    version: int
    rows_written: int
    total_rows: int  # rows in the table after the write, from the Delta log's statistics


def _logged_row_count(table: DeltaTable) -> int | None:
    """Rows in the table from its add actions' statistics; None when a writer kept none."""
    counts = pl.DataFrame(table.get_add_actions(flatten=True)).get_column("num_records")
    return None if counts.null_count() else int(counts.sum())


class DeltaLake:
    """A root URI (local path or object store) under which each table is a Delta table."""

    def __init__(self, root_uri: str, storage_options: Mapping[str, str] | None = None) -> None:
        self.root_uri = root_uri.rstrip("/")
        self.storage_options = dict(storage_options or {})

    @property
    def is_local(self) -> bool:
        return "://" not in self.root_uri or self.root_uri.startswith("file://")

    def table_uri(self, name: str) -> str:
        return f"{self.root_uri}/{name}"

    def _opts(self) -> dict[str, str] | None:
        return self.storage_options or None

    def ensure_writable(self) -> None:
        """Fail before any work when a local lake root cannot be written."""
        if not self.is_local:
            return
        root = Path(self.root_uri.removeprefix("file://"))
        try:
            root.mkdir(parents=True, exist_ok=True)
            probe = root / ".write_probe"
            probe.write_text("ok")
            probe.unlink()
        except OSError as exc:
            raise PermissionError(
                f"the lake root {root} is not writable ({exc.strerror}); set SALES360_LAKE_URI to a writable location"
            ) from exc

    def table(self, name: str) -> DeltaTable | None:
        try:
            return DeltaTable(self.table_uri(name), storage_options=self._opts())
        except TableNotFoundError:
            return None
        except DeltaError as exc:
            raise LakeReadError(
                f"Delta table {name} ({self.table_uri(name)}): its transaction log (_delta_log) cannot be read: "
                f"{str(exc).strip()}. Restore _delta_log from a backup, or delete the table and re-materialize it"
            ) from exc

    def exists(self, name: str) -> bool:
        return self.table(name) is not None

    def version(self, name: str) -> int | None:
        table = self.table(name)
        return None if table is None else table.version()

    def row_count(self, name: str) -> int:
        """Rows in a table from the Delta log's per-file statistics, without opening any data file.

        Counting by scanning would read every file's footer, a cost that grows with history.
        """
        table = self.table(name)
        if table is None:
            return 0
        return self._row_count(name, table)

    def last_date(self, name: str) -> date | None:
        """The latest ``date`` with rows in a date × region table, from its Delta log.

        ``scan(name).select(pl.col("date").max())`` opens every data file (1-2 s at three years in
        the older layout's ~4,400 files); the log already holds each file's latest date (or, in the
        older layout, its partition's).
        None for a missing or empty table.
        """
        table = self.table(name)
        if table is None:
            return None
        files = pl.DataFrame(table.get_add_actions(flatten=True))
        if "num_records" in files.columns and not files["num_records"].null_count():
            files = files.filter(pl.col("num_records") > 0)
            for logged in (f"max.{DATE_COLUMN}", f"partition.{DATE_COLUMN}"):
                if logged in files.columns and not files[logged].null_count():
                    return files.get_column(logged).cast(pl.Date).max()
        # Not a date × region table, or a writer that logged no statistics: read the dates.
        return self.scan(name, table=table).select(pl.col(DATE_COLUMN).max()).collect().item()

    def _row_count(self, name: str, table: DeltaTable) -> int:
        counted = _logged_row_count(table)
        if counted is None:  # a writer that kept no statistics: count the slow way
            return self.scan(name, table=table).select(pl.len()).collect().item()
        return counted

    # --- reads -------------------------------------------------------------------------------
    # Loading a table's state costs time in proportion to its files (a date × region table holds
    # one per partition: ~4,400 after three years, ~0.1-0.2 s a load), so a read or a write loads
    # it once and hands the loaded table on, rather than once to check it exists and again to use it.
    def scan(
        self, name: str, selection: PartitionSelection | None = None, table: DeltaTable | None = None
    ) -> pl.LazyFrame:
        """Lazy scan; with a selection only the needed partitions' files are read.

        ``table``, when the caller already loaded it, is scanned as loaded (``name`` is then unused).
        """
        if table is not None:
            lazy = pl.scan_delta(table)
        else:
            lazy = pl.scan_delta(self.table_uri(name), storage_options=self._opts())
        if selection is not None:
            lazy = lazy.filter(selection.filter_expr())
        return lazy

    def read(
        self,
        name: str,
        selection: PartitionSelection | None = None,
        table: DeltaTable | None = None,
        columns: Sequence[str] | None = None,
    ) -> pl.DataFrame:
        """Collect a scan (only ``columns`` when given); a failure names the table and, for a damaged data file, the file."""
        scan = self.scan(name, selection, table)
        try:
            return (scan if columns is None else scan.select(columns)).collect()
        except (KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # a corrupt Parquet file makes Polars panic (not an Exception)
            raise self._read_error(name, exc) from exc

    def _read_error(self, name: str, exc: BaseException) -> LakeReadError:
        table = self.table(name)  # raises LakeReadError itself when the log is the problem
        broken = _unreadable_files(table) if table is not None and self.is_local else []
        if broken:
            files = "; ".join(f"{uri} ({error})" for uri, error in broken[:3])
            return LakeReadError(
                f"Delta table {name}: {len(broken)} data file(s) cannot be read: {files}. Restore them from a "
                "backup, or re-materialize the partitions that wrote them"
            )
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return LakeReadError(f"Delta table {name} ({self.table_uri(name)}) cannot be read: {first}")

    def read_if_exists(
        self, name: str, selection: PartitionSelection | None = None, columns: Sequence[str] | None = None
    ) -> pl.DataFrame | None:
        """``read``, or None when the table does not exist yet (one load, not one to check and one to read)."""
        table = self.table(name)
        return None if table is None else self.read(name, selection, table, columns)

    def read_version(self, name: str, version: int) -> pl.DataFrame:
        """The table as it was at ``version`` (Delta time travel): what an append-only check compares to."""
        return pl.read_delta(self.table_uri(name), version=version, storage_options=self._opts())

    # --- writes ------------------------------------------------------------------------------
    def write_partitions(self, name: str, df: pl.DataFrame, selection: PartitionSelection) -> WriteResult:
        """Replace exactly the selected partitions with ``df`` (which may be empty)."""
        check_in_partitions(name, df, selection)
        data = arrow_for_delta(df)
        return self._overwrite_where(
            name, lambda: data, df.height, selection.predicate(), STORAGE_PARTITION_COLUMNS, DATE_STATISTICS
        )

    def write_partitions_blocks(
        self,
        name: str,
        schema: pl.Schema,
        blocks: Callable[[], Iterable[pl.DataFrame]],
        selection: PartitionSelection,
    ) -> WriteResult:
        """``write_partitions`` from frames made a block at a time (``lake.streams``): one commit."""
        stream = BlockStream(name, schema, blocks, check=lambda block: check_in_partitions(name, block, selection))
        with stream.original_errors():
            table = self._replace(
                name, stream.reader, selection.predicate(), STORAGE_PARTITION_COLUMNS, DATE_STATISTICS
            )
        return self._result(name, table, stream.rows_written)

    def replace_where(self, name: str, df: pl.DataFrame, predicate: str, row_filter: pl.Expr) -> WriteResult:
        """Replace the rows matching ``predicate`` (used by tables shared by many writers)."""
        outside = df.filter(~row_filter)
        if outside.height:
            raise OutOfPartitionError(f"{name}: {outside.height} row(s) do not match {predicate}; nothing was written")
        data = arrow_for_delta(df)
        return self._overwrite_where(name, lambda: data, df.height, predicate)

    def _overwrite_where(
        self,
        name: str,
        data: Callable[[], pa.Table | pa.RecordBatchReader],
        rows_written: int,
        predicate: str,
        partition_by: list[str] | None = None,
        configuration: Mapping[str, str] | None = None,
    ) -> WriteResult:
        table = self._replace(name, data, predicate, partition_by, configuration)
        return self._result(name, table, rows_written)

    def _replace(
        self,
        name: str,
        data: Callable[[], pa.Table | pa.RecordBatchReader],
        predicate: str,
        partition_by: list[str] | None = None,
        configuration: Mapping[str, str] | None = None,
    ) -> DeltaTable:
        """Replace exactly the rows matching ``predicate`` in one commit (creating the table race-free)."""
        return self._write(
            name,
            data,
            # An existing table keeps its own partitioning (one stored per date × region stays so
            # until the maintenance job moves it; delta-rs refuses a write naming other columns).
            lambda table: write_deltalake(table, data(), mode="overwrite", predicate=predicate, schema_mode="merge"),
            partition_by=partition_by,
            configuration=configuration,
        )

    def _result(self, name: str, table: DeltaTable, rows_written: int) -> WriteResult:
        return WriteResult(self.table_uri(name), table.version(), rows_written, self._row_count(name, table))

    def _write(
        self,
        name: str,
        data: Callable[[], pa.Table | pa.RecordBatchReader],
        write_existing: Callable[[DeltaTable], object],
        partition_by: list[str] | None = None,
        configuration: Mapping[str, str] | None = None,
    ) -> DeltaTable:
        """Create the table holding ``data()`` if it is absent, else ``write_existing`` into it; the table after.

        "Absent, so append" raced: two first writers both appended and the rows doubled. Creating
        commits version 0 conditionally (put-if-absent on the log, no automatic rebase), so one
        creator wins and the other, refused, falls back to the normal replacing write.
        """
        table = self.table(name)
        if table is None:
            try:
                write_deltalake(
                    self.table_uri(name),
                    data(),
                    mode="error",
                    partition_by=partition_by,
                    configuration=dict(configuration) if configuration else None,
                    storage_options=self._opts(),
                    # delta-rs would otherwise rebase a refused version 0 onto the winner's as a
                    # blind append: exactly the double rows this guards against.
                    commit_properties=CommitProperties(max_commit_retries=0),
                )
                created = self.table(name)
                if created is None:
                    raise LakeReadError(f"Delta table {name} was created but cannot be loaded")
                return created
            except (CommitFailedError, DeltaError):
                table = self.table(name)
                if table is None:
                    raise
                # Another writer created it first: write our slice into it the normal way.
        loaded = table
        with_commit_retry(lambda: write_existing(loaded), refresh=loaded.update_incremental)
        return loaded

    def overwrite(self, name: str, df: pl.DataFrame) -> WriteResult:
        """Replace a whole (unpartitioned) table atomically; the schema follows the new data."""
        data = arrow_for_delta(df)
        table = self._write(
            name, lambda: data, lambda table: write_deltalake(table, data, mode="overwrite", schema_mode="overwrite")
        )
        return self._result(name, table, df.height)

    def overwrite_blocks(
        self, name: str, schema: pl.Schema, blocks: Callable[[], Iterable[pl.DataFrame]]
    ) -> WriteResult:
        """``overwrite`` from frames made a block at a time: one commit, the table never whole in memory.

        ``blocks()`` is called once per attempt (``lake.streams``). Every block must have ``schema``.
        """
        stream = BlockStream(name, schema, blocks)
        with stream.original_errors():
            table = self._write(
                name,
                stream.reader,
                lambda table: write_deltalake(table, stream.reader(), mode="overwrite", schema_mode="overwrite"),
            )
        return self._result(name, table, stream.rows_written)

    def merge(self, name: str, df: pl.DataFrame, keys: Iterable[str]) -> WriteResult:
        """Upsert by key with delta-rs MERGE (new keys inserted, existing ones updated)."""
        _, table = self._merge_by_key(name, df, list(keys), update_matched=True)
        return self._result(name, table, df.height)

    def insert_new(self, name: str, df: pl.DataFrame, keys: Iterable[str]) -> int:
        """Append the rows whose key the table does not hold yet; rows already there stay as first written.

        For append-only tables (every version a source ever showed us, the commission ledger): a
        re-delivered key is neither duplicated nor overwritten, and nothing is ever deleted.
        Returns the rows inserted.
        """
        inserted, _ = self._merge_by_key(name, df, list(keys), update_matched=False)
        return inserted

    def _merge_by_key(
        self, name: str, df: pl.DataFrame, keys: list[str], update_matched: bool
    ) -> tuple[int, DeltaTable]:
        """delta-rs MERGE on ``keys`` (creating the table race-free when absent); rows inserted, the table after."""
        if df.select(pl.struct(keys).is_duplicated().any()).item():
            raise ValueError(f"{name}: rows to merge have duplicate keys {keys}; collapse them first")
        data = arrow_for_delta(df)
        inserted = df.height

        def _merge(table: DeltaTable) -> None:
            nonlocal inserted
            merger = table.merge(
                source=data,
                predicate=" AND ".join(f"t.{k} = s.{k}" for k in keys),
                source_alias="s",
                target_alias="t",
                merge_schema=True,
            )
            if update_matched:
                merger = merger.when_matched_update_all()
            metrics = merger.when_not_matched_insert_all().execute()
            inserted = int(metrics.get("num_target_rows_inserted", 0))

        table = self._write(name, lambda: data, _merge)
        return inserted, table
