"""The ``dead_letter`` Delta table: every rejected record, its source, key, raw text and reason.

One table shared by all staging assets. Each staging run replaces exactly its own slice
(source table × the run's partitions, or the whole source for unpartitioned ones), so
re-running a partition never duplicates dead letters and a fixed record leaves the table.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from sales360_assets.lake.delta import DeltaLake, WriteResult
from sales360_assets.lake.selection import PartitionSelection

DEAD_LETTER_TABLE = "dead_letter"


def _source_literal(source_table: str) -> str:
    if not source_table.replace("_", "").isalnum():
        raise ValueError(f"invalid source table name {source_table!r}")
    return f"'{source_table}'"


def write_dead_letters(
    lake: DeltaLake,
    source_table: str,
    rejected: pl.DataFrame,
    run_id: str,
    selection: PartitionSelection | None = None,
) -> WriteResult:
    rows = rejected.with_columns(
        pl.lit(run_id).alias("run_id"), pl.lit(datetime.now(UTC), dtype=pl.Datetime("us", "UTC")).alias("rejected_at")
    )
    predicate = f"source_table = {_source_literal(source_table)}"
    row_filter = pl.col("source_table") == source_table
    if selection is not None:
        predicate = f"{predicate} AND {selection.predicate()}"
        row_filter = row_filter & selection.filter_expr()
    return lake.replace_where(DEAD_LETTER_TABLE, rows, predicate, row_filter)


def read_dead_letters(
    lake: DeltaLake, source_table: str | None = None, selection: PartitionSelection | None = None
) -> pl.DataFrame:
    """Dead letters, filtered in the scan to one source table and, optionally, its partitions."""
    table = lake.table(DEAD_LETTER_TABLE)
    if table is None:
        return pl.DataFrame()
    scan = lake.scan(DEAD_LETTER_TABLE, table=table)
    if source_table is not None:
        scan = scan.filter(pl.col("source_table") == source_table)
    if selection is not None:
        scan = scan.filter(selection.filter_expr())
    return scan.collect()
