"""Frame helpers shared by the transforms."""

from __future__ import annotations

import polars as pl


def conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the schema's columns, in its order, cast to its types: a table's published shape."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])
