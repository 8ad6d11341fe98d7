"""Frame helpers shared by the transforms."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import polars as pl

# Work done a span of months at a time (``months.month_spans``) takes up to this many rows a span:
# small histories stay one pass, ten million lines are cut into months.
ROWS_PER_BLOCK = 500_000


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the schema's columns, in its order, cast to its types: a table's published shape."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


@dataclass(frozen=True)
class FrameBlocks:
    """A whole table made a block at a time, for an asset whose output is too large to hold at once.

    ``make()`` yields the blocks (each with exactly ``schema``); the lake's IO manager writes them
    as one streamed commit and calls ``make`` again if that commit must be retried.
    """

    schema: pl.Schema
    make: Callable[[], Iterable[pl.DataFrame]]

    def collect(self) -> pl.DataFrame:
        """The whole table (tests and small lakes)."""
        return pl.concat([pl.DataFrame(schema=self.schema), *self.make()])
