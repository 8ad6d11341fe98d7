"""Frame helpers shared by the transforms."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import TypeVar

import polars as pl

from sales360_assets.months import month_end, month_spans

# Work done a span of months at a time (``months.month_spans``) takes up to this many rows a span:
# small histories stay one pass, ten million lines are cut into months.
ROWS_PER_BLOCK = 500_000

# A transform written once for both: eager frames in tests and small lakes, scans where the asset
# lets the query read only the columns it uses.
Frame = TypeVar("Frame", pl.DataFrame, pl.LazyFrame)


def conform(frame: Frame, schema: dict[str, pl.DataType]) -> Frame:
    """Exactly the schema's columns, in its order, cast to its types: a table's published shape."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


@dataclass(frozen=True)
class FrameBlocks:
    """A whole table made a block at a time, for an asset whose output is too large to hold at once.

    ``make()`` yields the blocks (each with exactly ``schema``); the lake's IO manager writes them
    as one streamed commit and calls ``make`` again if that commit must be retried.

    Blocks made in key order are the sorted table (``collect()``), but delta-rs writes a stream's
    batches in the order its writer tasks finish them, so the stored rows may come back in another
    order (seen on the 10 M-line recommendation and cross-sell marts): a reader that needs an order sorts.
    """

    schema: pl.Schema
    make: Callable[[], Iterable[pl.DataFrame]]

    def collect(self) -> pl.DataFrame:
        """The whole table (tests and small lakes)."""
        return pl.concat([pl.DataFrame(schema=self.schema), *self.make()])


def spans_of_months(
    frames: Sequence[pl.LazyFrame], start: date | None = None, end: date | None = None
) -> list[tuple[date, date]]:
    """``months.month_spans`` by the rows the frames hold per month (their ``date``), ``ROWS_PER_BLOCK`` a span.

    Without ``start`` and ``end``: from the frames' first month to the end of their last.
    """
    months = pl.concat([frame.select(pl.col("date").dt.month_start()) for frame in frames])
    rows_by_month = dict(months.group_by("date").len().collect(engine="streaming").iter_rows())
    if not rows_by_month:
        return [] if start is None or end is None else [(start, end)]
    first = start if start is not None else min(rows_by_month)
    last = end if end is not None else month_end(max(rows_by_month))
    return month_spans(first, last, rows_by_month, ROWS_PER_BLOCK)
