"""What a write into the lake may commit, and how a refused commit is retried. Knows nothing of Dagster."""

from __future__ import annotations

import time
from collections.abc import Callable

import polars as pl
import pyarrow as pa
from deltalake.exceptions import CommitFailedError

from sales360_assets.lake.selection import PARTITION_COLUMNS, PartitionSelection


class OutOfPartitionError(ValueError):
    """Rows were handed to a write that does not own their partitions."""


def arrow_for_delta(df: pl.DataFrame) -> pa.Table:
    """The frame as Arrow for delta-rs, without copying its text.

    Arrow's classic string layout would copy every string into one buffer (a 0.8 GiB frame of
    text grew 1.05 GiB in the write); Polars' own string views pass as they are, and delta-rs
    stores them as Delta ``string`` columns like any other. Delta has no untyped NULL column: an
    all-null column from an empty source becomes text.
    """
    null_cols = [name for name, dtype in df.schema.items() if dtype == pl.Null]
    if null_cols:
        df = df.with_columns(pl.col(null_cols).cast(pl.String))
    return df.to_arrow(compat_level=pl.CompatLevel.newest())


def check_in_partitions(name: str, df: pl.DataFrame, selection: PartitionSelection) -> None:
    """Refuse rows a partition write does not own: outside the run's dates and regions, or without them."""
    missing = [c for c in PARTITION_COLUMNS if c not in df.columns]
    if missing:
        raise OutOfPartitionError(f"{name}: rows lack partition column(s) {missing}")
    outside = df.filter(~selection.filter_expr())
    if outside.height:
        sample = outside.select(PARTITION_COLUMNS).unique().head(5).rows()
        raise OutOfPartitionError(
            f"{name}: {outside.height} row(s) fall outside the run's partitions {selection} "
            f"(e.g. {sample}); nothing was written"
        )
    if df.select(pl.col(PARTITION_COLUMNS).is_null().any()).row(0) != (False, False):
        raise OutOfPartitionError(f"{name}: rows with a null date or region; nothing was written")


def with_commit_retry(
    write: Callable[[], object], attempts: int = 5, refresh: Callable[[], object] | None = None
) -> None:
    """Retry optimistic-concurrency conflicts between runs writing disjoint partitions.

    ``refresh`` brings a loaded table up to the winner's version before the next attempt.
    """
    for attempt in range(attempts):
        try:
            write()
            return
        except CommitFailedError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.2 * (2**attempt))
            if refresh is not None:
                refresh()
