"""Customer and product keys as ``pl.Enum`` codes, and customers a block of codes at a time.

The recommendation marts join, sort and count tens of millions of (customer, product) rows at
10 M order lines; on 32-character text keys that was most of their memory (281 k customers: the
lists phase 4.4 → 3.1 GiB with codes, benchmarks/recommendations_memory.py). An Enum's categories
are the keys in sorted order, so sorting and tie-breaking by code is sorting by key: the results
are the same frames, made smaller.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import polars as pl

CUSTOMERS_PER_BLOCK = 50_000  # customer-level tables are built this many customers at a time
KEY_COLUMNS = ("customer_key", "product_key")

Decode = Callable[[pl.DataFrame], pl.DataFrame]


def as_codes(
    *frames: pl.DataFrame, also: Sequence[tuple[pl.DataFrame, str, str]] = ()
) -> tuple[list[pl.DataFrame], Decode]:
    """The frames with their ``KEY_COLUMNS`` as ``pl.Enum`` codes, and the function that turns codes back.

    Keys may come as text or already as an Enum (the ALS scores); all get the same categories: every
    key any frame holds. ``also`` adds the keys of other columns, ``(frame, column, as key column)``
    (a rule's consequent is a product key), so that those columns can be cast to the same Enum.
    """

    def keys(frame: pl.DataFrame, column: str) -> pl.Series:
        dtype = frame.schema[column]
        # Distinct keys of each frame first: the model's scores hold ~30 rows a customer.
        return pl.Series(dtype.categories) if isinstance(dtype, pl.Enum) else frame[column].unique()

    sources = [(f, c, c) for f in frames for c in KEY_COLUMNS if c in f.columns] + list(also)
    dtypes = {
        key: pl.Enum(pl.concat([keys(f, c) for f, c, k in sources if k == key]).drop_nulls().unique().sort())
        for key in KEY_COLUMNS
        if any(k == key for _, _, k in sources)
        and all(f.schema[c] == pl.String or isinstance(f.schema[c], pl.Enum) for f, c, k in sources if k == key)
    }

    def encode(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col(c).cast(dtype) for c, dtype in dtypes.items() if c in frame.columns)

    def decode(frame: pl.DataFrame) -> pl.DataFrame:
        return frame.with_columns(pl.col(c).cast(pl.String) for c in dtypes if c in frame.columns)

    return [encode(f) for f in frames], decode


def by_block(frame: pl.DataFrame) -> dict[int, pl.DataFrame]:
    """The frame's rows split by ranges of ``CUSTOMERS_PER_BLOCK`` customer codes (consecutive keys, in order)."""
    parts = frame.with_columns(
        (pl.col("customer_key").to_physical() // CUSTOMERS_PER_BLOCK).alias("_block")
    ).partition_by("_block", as_dict=True, include_key=False, maintain_order=True)
    return {int(key[0]): part for key, part in parts.items()}  # type: ignore[call-overload]
