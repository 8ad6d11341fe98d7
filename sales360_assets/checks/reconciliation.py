"""Reconciliation: no row lost or invented between layers.

* staging against raw: raw rows = staged + dead-lettered + collapsed duplicates, key by key
  (``RECONCILIATIONS``);
* the date × region marts against ``fact_sales``: per date and region, the totals match
  (``MART_TOTALS``).

Pure Polars.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from sales360_assets.checks.findings import Finding


@dataclass(frozen=True)
class Reconciliation:
    """raw rows = staged + dead-lettered + collapsed duplicates, per natural key."""

    raw_table: str
    dead_key: tuple[str, ...]  # raw columns the dead letter's source_key is built from
    raw_key: tuple[str, ...]  # natural key in raw
    staged_key: tuple[str, ...]  # the same key in staging


_SALESFORCE_IDS = {
    "users": "user_id",
    "accounts": "account_id",
    "contacts": "contact_id",
    "products": "product_id",
    "campaigns": "campaign_id",
    "opportunities": "opportunity_id",
    "opportunity_line_items": "line_item_id",
    "quotas": "quota_id",
}

RECONCILIATIONS: dict[str, Reconciliation] = {
    "stg_warehouse_orders": Reconciliation("raw_warehouse_orders", ("order_id",), ("order_id",), ("order_id",)),
    "stg_warehouse_order_lines": Reconciliation(
        "raw_warehouse_order_lines",
        ("order_id", "line_number"),
        ("order_id", "line_number"),
        ("order_id", "line_number"),
    ),
    "stg_pos_transactions": Reconciliation(
        "raw_pos_transactions",
        ("_source_file", "transaction_id", "line_no"),
        ("transaction_id", "line_no"),
        ("transaction_id", "line_no"),
    ),
    "stg_warehouse_customers": Reconciliation(
        "raw_warehouse_customers", ("customer_id",), ("customer_id",), ("customer_id",)
    ),
    "stg_warehouse_products": Reconciliation("raw_warehouse_products", ("sku",), ("sku",), ("sku",)),
    "stg_warehouse_fx_rates": Reconciliation(
        "raw_warehouse_fx_rates", ("rate_date", "currency"), ("rate_date", "currency"), ("rate_date", "currency")
    ),
    "stg_pos_stores": Reconciliation("raw_pos_stores", ("store_id",), ("store_id",), ("store_id",)),
    **{
        f"stg_salesforce_{name}": Reconciliation(f"raw_salesforce_{name}", ("Id", "SystemModstamp"), ("Id",), (key,))
        for name, key in _SALESFORCE_IDS.items()
    },
}

# mart -> [(mart column, fact_sales column)] whose per-partition totals must match
MART_TOTALS: dict[str, tuple[tuple[str, str], ...]] = {
    "mart_daily_sales": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
    "mart_customer_segment_performance": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
    "mart_product_performance": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
}
TOTALS_TOLERANCE = 1e-6


def _key_expr(columns: Sequence[str]) -> pl.Expr:
    # Same shape as staging.quality.dead_letters builds source_key.
    return pl.concat_str([pl.col(c).cast(pl.String).fill_null("<null>") for c in columns], separator="|")


def reconcile(raw: pl.DataFrame, staged: pl.DataFrame, rejected: pl.DataFrame, spec: Reconciliation) -> Finding:
    """Every raw row is staged, dead-lettered, or a collapsed duplicate of a staged key — exactly once."""
    per_delivery = (
        raw.group_by(_key_expr(spec.dead_key).alias("dead_key"), _key_expr(spec.raw_key).alias("natural_key"))
        .len("raw_rows")
        .join(
            rejected.group_by(pl.col("source_key").alias("dead_key")).len("rejected_rows"),
            on="dead_key",
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col("raw_rows", "rejected_rows").fill_null(0))
        .with_columns((pl.col("raw_rows") - pl.col("rejected_rows")).alias("accepted_rows"))
    )
    accepted = (
        per_delivery.group_by("natural_key").agg(pl.col("accepted_rows").sum()).filter(pl.col("accepted_rows") > 0)
    )
    staged_keys = staged.select(_key_expr(spec.staged_key).alias("natural_key"))
    duplicates = int(accepted["accepted_rows"].sum()) - accepted.height if accepted.height else 0
    counts = {
        "raw_rows": raw.height,
        "staged_rows": staged.height,
        "rejected_rows": rejected.height,
        "duplicate_rows": duplicates,
    }
    problems = [
        per_delivery.filter(pl.col("accepted_rows") < 0).select(
            "dead_key", pl.lit("dead letter without its raw row").alias("_broken_rule")
        ),
        accepted.join(staged_keys, on="natural_key", how="anti").select(
            pl.col("natural_key").alias("dead_key"),
            pl.lit("accepted raw row missing from staging").alias("_broken_rule"),
        ),
        staged_keys.join(accepted, on="natural_key", how="anti").select(
            pl.col("natural_key").alias("dead_key"), pl.lit("staged row without a raw row").alias("_broken_rule")
        ),
    ]
    failing = pl.concat(problems).rename({"dead_key": "key"})
    balanced = raw.height == staged.height + rejected.height + duplicates
    if not balanced and failing.height == 0:
        failing = pl.DataFrame({"key": ["<totals>"], "_broken_rule": [f"counts do not add up: {counts}"]})
    return Finding(
        "reconciles_with_raw",
        f"{spec.raw_table} rows = staged + dead-lettered + collapsed duplicates",
        failing,
        counts,
    )


def mart_totals(mart: pl.DataFrame, fact: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> Finding:
    pairs = [(m, f) for m, f in columns if m in mart.columns and f in fact.columns]
    keys = ["date", "region"]
    fact_totals = fact.group_by(keys).agg(pl.col(f).sum().alias(f"fact_{m}") for m, f in pairs)
    mart_sums = mart.group_by(keys).agg(pl.col(m).sum().alias(f"mart_{m}") for m, _ in pairs)
    joined = fact_totals.join(mart_sums, on=keys, how="full", coalesce=True).fill_null(0.0)
    off = pl.any_horizontal(
        [
            (pl.col(f"fact_{m}") - pl.col(f"mart_{m}")).abs()
            > TOTALS_TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col(f"fact_{m}").abs())
            for m, _ in pairs
        ]
    )
    failing = joined.filter(off).sort(keys) if pairs else joined.clear()
    counts = {f"fact_{m}": float(fact[f].sum()) for m, f in pairs} | {
        f"mart_{m}": float(mart[m].sum()) for m, _ in pairs
    }
    return Finding(
        "totals_match_fact_sales",
        "per date × region: " + ", ".join(f"sum({m}) = fact_sales sum({f})" for m, f in pairs),
        failing,
        counts,
    )
