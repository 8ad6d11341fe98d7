"""Frames made a block at a time, written by delta-rs as one Arrow stream and one commit.

For tables too large to hold whole (the recommendation mart, a year of ``fact_sales``): the writer
pulls the next block when it wants more rows, so memory holds one block, not the table. A stream is
spent once read, and a refused commit is retried, so each attempt asks for the blocks anew.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager

import polars as pl
import pyarrow as pa
from deltalake.exceptions import DeltaError

from sales360_assets.lake.commits import arrow_for_delta


class BlockStream:
    """``blocks()`` as Arrow record batches of ``schema``; every block is checked before the writer sees it."""

    def __init__(
        self,
        name: str,
        schema: pl.Schema,
        blocks: Callable[[], Iterable[pl.DataFrame]],
        check: Callable[[pl.DataFrame], None] | None = None,
    ) -> None:
        self.name = name
        self.schema = schema
        self._blocks = blocks
        self._check = check
        self._arrow_schema = arrow_for_delta(pl.DataFrame(schema=schema)).schema
        self.rows_written = 0  # of the latest attempt
        self._failure: BaseException | None = None

    def reader(self) -> pa.RecordBatchReader:
        """A fresh stream of every block (one per write attempt)."""
        return pa.RecordBatchReader.from_batches(self._arrow_schema, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        self.rows_written, self._failure = 0, None  # of this attempt only
        try:
            for block in self._blocks():  # making a block may fail too (a row rule, a read)
                if block.schema != self.schema:
                    raise ValueError(f"{self.name}: a block has columns {block.schema}, the table {self.schema}")
                if self._check is not None:
                    self._check(block)
                self.rows_written += block.height
                yield from arrow_for_delta(block).to_batches()
        except (Exception, pl.exceptions.PanicException) as exc:  # a damaged Parquet file panics in Polars
            self._failure = exc
            raise

    @contextmanager
    def original_errors(self) -> Iterator[None]:
        """delta-rs reports an error raised inside the stream as its own ``DeltaError``: raise the original."""
        try:
            yield
        except DeltaError as exc:
            if self._failure is not None:
                raise self._failure from exc
            raise
