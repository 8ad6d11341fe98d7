"""Referential integrity: every key of a fact or line has its parent row (a dimension or a header).

``FOREIGN_KEYS`` says which columns of which table point where. Pure Polars.
"""

from collections.abc import Mapping
from dataclasses import dataclass

import polars as pl

from sales360_assets.checks.findings import Finding


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    table_column: str
    # Same partitions as the checked rows (a partitioned parent read for the run's selection).
    same_partitions: bool = False


FOREIGN_KEYS: dict[str, tuple[ForeignKey, ...]] = {
    "fact_sales": (
        ForeignKey("customer_key", "dim_customer", "customer_key"),
        ForeignKey("product_key", "dim_product", "product_key"),
        ForeignKey("sales_rep_key", "dim_sales_rep", "sales_rep_key"),
        ForeignKey("region", "dim_region", "region"),
        ForeignKey("date", "dim_date", "date"),
    ),
    "fact_opportunity": (
        ForeignKey("customer_key", "dim_customer", "customer_key"),
        ForeignKey("sales_rep_key", "dim_sales_rep", "sales_rep_key"),
    ),
    "stg_warehouse_order_lines": (ForeignKey("order_id", "stg_warehouse_orders", "order_id", same_partitions=True),),
    "stg_pos_transactions": (ForeignKey("store_id", "stg_pos_stores", "store_id"),),
    "stg_salesforce_opportunity_line_items": (
        ForeignKey("opportunity_id", "stg_salesforce_opportunities", "opportunity_id"),
    ),
}


def orphans(frame: pl.DataFrame, fk: ForeignKey, parent: pl.DataFrame) -> pl.DataFrame:
    """Rows whose non-null ``fk.column`` has no row in the parent."""
    keys = parent.select(pl.col(fk.table_column).alias(fk.column)).unique()
    return frame.filter(pl.col(fk.column).is_not_null()).join(keys, on=fk.column, how="anti")


def referential_integrity(frame: pl.DataFrame, parents: Mapping[ForeignKey, pl.DataFrame]) -> Finding:
    failing_parts = []
    counts: dict[str, int] = {}
    for fk, parent in parents.items():
        rows = orphans(frame, fk, parent)
        counts[f"{fk.column}→{fk.table}"] = rows.height
        if rows.height:
            failing_parts.append(rows.with_columns(pl.lit(f"{fk.column} not in {fk.table}").alias("_broken_rule")))
    failing = pl.concat(failing_parts, how="diagonal_relaxed") if failing_parts else frame.clear()
    description = "every key has its parent row: " + ", ".join(f"{fk.column}→{fk.table}" for fk in parents)
    return Finding("referential_integrity", description, failing, counts)
