"""Product cost as a type 2 dimension: the standard cost valid on each sale's date.

The catalogue export may carry cost history (several rows per SKU with ``cost_valid_from``,
see ``docs/source_contract.md``). Margin must use the cost in force when the sale was made: a
sale from last year carries last year's cost, not today's. Without history a SKU has one
version, valid for every date (what a catalogue snapshot can say).

Versions are half-open, ``[valid_from, valid_to)``, like ``dim_sales_rep``. The first known
version also covers earlier sales (``valid_from`` = ``BEGINNING_OF_TIME``; its own date stays in
``cost_valid_from``): no earlier cost is known, and the nearest known cost is the honest guess.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from sales360_assets.core.keys import surrogate_key
from sales360_assets.core.scd import BEGINNING_OF_TIME, END_OF_TIME
from sales360_assets.frames import conform

DIM_PRODUCT_COST_SCHEMA: dict[str, pl.DataType] = {
    "product_cost_key": pl.String(),
    "product_key": pl.String(),
    "sku": pl.String(),
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),
    "cost_valid_from": pl.Date(),
    "standard_cost_usd": pl.Float64(),
    "is_current": pl.Boolean(),
}


def build_dim_product_cost(cost_history: pl.DataFrame, as_of: date | None = None) -> pl.DataFrame:
    """One row per SKU and cost version (``stg_warehouse_product_cost_history``), half-open validity.

    ``is_current``: the version in force on ``as_of`` (default today, UTC); a version announced for
    a future date is not current yet.
    """
    today = as_of or datetime.now(UTC).date()
    ordered = cost_history.sort("sku", "cost_valid_from", nulls_last=False)
    is_first = pl.int_range(pl.len()).over("sku") == 0
    versions = ordered.with_columns(
        pl.when(is_first).then(pl.lit(BEGINNING_OF_TIME)).otherwise(pl.col("cost_valid_from")).alias("valid_from"),
        pl.col("cost_valid_from").shift(-1).over("sku").fill_null(END_OF_TIME).alias("valid_to"),
        surrogate_key(pl.lit("product"), pl.col("sku")).alias("product_key"),
    ).with_columns(
        ((pl.col("valid_from") <= today) & (pl.lit(today) < pl.col("valid_to"))).alias("is_current"),
        surrogate_key(pl.col("product_key"), pl.col("valid_from").cast(pl.String)).alias("product_cost_key"),
    )
    return conform(versions, DIM_PRODUCT_COST_SCHEMA)


def cost_on_sale_date(lines: pl.DataFrame, product_costs: pl.DataFrame, on_date: str = "date") -> pl.DataFrame:
    """Add ``_unit_cost``: the standard cost of the line's SKU valid on its date (null if the SKU has none)."""
    right = (
        product_costs.select(pl.col("sku").alias("_cost_sku"), pl.col("valid_from").alias("_cost_from"),
                             pl.col("standard_cost_usd").alias("_unit_cost"))
        .sort("_cost_from")
    )  # fmt: skip
    left = lines.with_row_index("_row").with_columns(pl.col("sku").alias("_cost_sku")).sort(on_date)
    joined = left.join_asof(
        right, left_on=on_date, right_on="_cost_from", by="_cost_sku", strategy="backward", check_sortedness=False
    )
    return joined.sort("_row").drop("_row", "_cost_sku", "_cost_from")
