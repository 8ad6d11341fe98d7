"""Row rules: every row of a table has a unique key, its required columns, and values in range.

``ROW_RULES`` says which table must satisfy which rules; the same rules run before writing
(``validate_before_write``) and, as the ``row_rules`` check, on what landed. Pure Polars.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import polars as pl

from sales360_assets.checks.findings import Finding


@dataclass(frozen=True, eq=False)
class RowRules:
    """Rules every row of one table must satisfy."""

    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    # (name, condition that must hold); a null value passes (``required`` is for nulls)
    ranges: tuple[tuple[str, pl.Expr], ...] = ()
    # rows these rules do not apply to (Salesforce tombstones carry only their Id)
    exempt: pl.Expr | None = None


POSITIVE_QUANTITY = ("quantity > 0", pl.col("quantity") > 0)
# Polars orders NaN above every number (NaN > 0 holds) and inf > 0 holds too: a rate must be finite.
POSITIVE_FX_RATE = ("fx_rate > 0", pl.col("fx_rate").is_finite() & (pl.col("fx_rate") > 0))
NON_NEGATIVE_PRICE = ("unit_price >= 0", pl.col("unit_price") >= 0)
# Staging dead-letters discounts outside [0, gross]; this re-checks what landed.
DISCOUNT_WITHIN_GROSS = (
    "0 <= discount_amount <= gross_amount",
    (pl.col("discount_amount") >= 0) & (pl.col("discount_amount") <= pl.col("gross_amount")),
)
TOMBSTONE = pl.col("is_deleted").fill_null(False)

ROW_RULES: dict[str, RowRules] = {
    # staging, partitioned
    "stg_warehouse_orders": RowRules(
        ("order_id",), ("order_id", "customer_id", "order_ts", "date", "region", "currency", "status")
    ),
    "stg_warehouse_order_lines": RowRules(
        ("order_id", "line_number"),
        ("order_id", "line_number", "date", "region", "sku", "quantity", "unit_price", "currency", "fx_rate"),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE, NON_NEGATIVE_PRICE, DISCOUNT_WITHIN_GROSS),
    ),
    "stg_pos_transactions": RowRules(
        ("transaction_id", "line_no"),
        ("transaction_id", "line_no", "store_id", "date", "region", "sku", "quantity", "unit_price", "currency"),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE, NON_NEGATIVE_PRICE, DISCOUNT_WITHIN_GROSS),
    ),
    # staging, reference data
    "stg_warehouse_fx_rates": RowRules(
        ("rate_date", "currency"),
        ("rate_date", "currency", "usd_per_unit"),
        (("usd_per_unit > 0", pl.col("usd_per_unit").is_finite() & (pl.col("usd_per_unit") > 0)),),
    ),
    "stg_warehouse_customers": RowRules(("customer_id",), ("customer_id",)),
    "stg_warehouse_products": RowRules(
        ("sku",),
        ("sku", "category"),
        (
            ("standard_cost_usd >= 0", pl.col("standard_cost_usd") >= 0),
            ("list_price_usd >= 0", pl.col("list_price_usd") >= 0),
        ),
    ),
    "stg_pos_stores": RowRules(("store_id",), ("store_id", "region", "currency")),
    "stg_salesforce_users": RowRules(("user_id",), ("user_id",)),
    "stg_salesforce_accounts": RowRules(("account_id",), ("account_id",)),
    "stg_salesforce_contacts": RowRules(("contact_id",), ("contact_id",)),
    "stg_salesforce_products": RowRules(("product_id",), ("product_id",)),
    "stg_salesforce_campaigns": RowRules(("campaign_id",), ("campaign_id",)),
    "stg_salesforce_opportunities": RowRules(("opportunity_id",), ("opportunity_id",), (POSITIVE_FX_RATE,), TOMBSTONE),
    "stg_salesforce_opportunity_line_items": RowRules(
        ("line_item_id",), ("line_item_id", "opportunity_id"), (POSITIVE_QUANTITY, POSITIVE_FX_RATE), TOMBSTONE
    ),
    "stg_salesforce_quotas": RowRules(("quota_id",), ("quota_id",)),
    # core
    "dim_date": RowRules(("date",), ("date",)),
    "dim_region": RowRules(("region",), ("region", "currency")),
    "dim_customer": RowRules(("customer_key",), ("customer_key",)),
    "stg_warehouse_product_cost_history": RowRules(
        ("sku", "cost_valid_from"),
        ("sku",),
        (("standard_cost_usd >= 0", pl.col("standard_cost_usd") >= 0),),
    ),
    "dim_product": RowRules(("product_key",), ("product_key",)),
    # Identity: one row per source id ever seen, one golden record and one 360 row per person.
    "customer_identity_records": RowRules(("record_id",), ("record_id", "system", "source_key")),
    "customer_identity_crosswalk": RowRules(
        ("system", "source_key"), ("system", "source_key", "customer_id", "first_seen_run", "last_changed_run")
    ),
    "customer_golden_record": RowRules(("customer_id",), ("customer_id",)),
    "mart_customer_360": RowRules(("customer_id",), ("customer_id",)),
    "dim_product_cost": RowRules(
        ("sku", "valid_from"),
        ("product_cost_key", "product_key", "sku", "valid_from", "valid_to"),
        (("valid_from < valid_to", pl.col("valid_from") < pl.col("valid_to")),),
    ),
    "dim_sales_rep": RowRules(("sales_rep_key",), ("sales_rep_key",)),
    "fact_sales": RowRules(
        ("sales_line_id",),
        (
            "sales_line_id",
            "channel",
            "date",
            "region",
            "customer_key",
            "product_key",
            "sales_rep_key",
            "quantity",
            "currency",
            "fx_rate",
            "net_amount_usd",
        ),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE),
    ),
    "fact_opportunity": RowRules(
        ("opportunity_id",), ("opportunity_id", "customer_key", "sales_rep_key"), (POSITIVE_FX_RATE,)
    ),
}


def _applicable(frame: pl.DataFrame, rules: RowRules) -> pl.DataFrame:
    if rules.exempt is None or not set(rules.exempt.meta.root_names()) <= set(frame.columns):
        return frame
    return frame.filter(~rules.exempt)


def unique_key(frame: pl.DataFrame, key: Sequence[str]) -> Finding:
    failing = frame.filter(pl.struct(list(key)).is_duplicated()).sort(list(key))
    return Finding(
        "unique_key", f"primary key ({', '.join(key)}) is unique", failing, {"duplicate_rows": failing.height}
    )


def required_present(frame: pl.DataFrame, columns: Sequence[str]) -> Finding:
    absent = [c for c in columns if c not in frame.columns]
    present = [c for c in columns if c in frame.columns]
    failing = frame.filter(pl.any_horizontal(pl.col(present).is_null())) if present and frame.height else frame.clear()
    by_column = {
        c: int(n) for c, n in zip(present, frame.select(pl.col(present).null_count()).row(0), strict=True) if n
    }
    description = f"required columns are not null: {', '.join(columns)}"
    if absent:
        return Finding(
            "not_null", description, failing, {"missing_columns": len(absent)}, passed_override=False
        ).with_note(f"column(s) missing from the table: {', '.join(absent)}")
    return Finding("not_null", description, failing, by_column)


def value_ranges(frame: pl.DataFrame, ranges: Sequence[tuple[str, pl.Expr]]) -> Finding:
    conditions = [(name, expr) for name, expr in ranges if set(expr.meta.root_names()) <= set(frame.columns)]
    if not conditions or not frame.height:
        return Finding("value_ranges", "values in range", frame.clear())
    broken = frame.with_columns(
        pl.concat_str(
            [pl.when(~expr.fill_null(True)).then(pl.lit(name)) for name, expr in conditions],
            separator="; ",
            ignore_nulls=True,
        ).alias("_broken_rule")
    ).filter(pl.col("_broken_rule") != "")
    counts = {name: int(frame.select((~expr.fill_null(True)).sum()).item()) for name, expr in conditions}
    return Finding("value_ranges", "values in range: " + ", ".join(n for n, _ in conditions), broken, counts)


def row_findings(frame: pl.DataFrame, rules: RowRules) -> list[Finding]:
    applicable = _applicable(frame, rules)
    return [
        unique_key(frame, rules.key),
        required_present(applicable, rules.required),
        value_ranges(applicable, rules.ranges),
    ]


def row_rules(frame: pl.DataFrame, rules: RowRules) -> Finding:
    """Key uniqueness, required columns and value ranges as one check, broken down in its counts.

    One check rather than three: each check costs the run a few event-log writes, and the
    failing rows say which rule they broke anyway.
    """
    parts = row_findings(frame, rules)
    labels = {"unique_key": "duplicate primary key", "not_null": "null in a required column"}
    failing = [
        f.failing.with_columns(pl.lit(labels[f.check]).alias("_broken_rule")) if f.check in labels else f.failing
        for f in parts
        if f.failing.height
    ]
    counts: dict[str, int | float] = {}
    for finding in parts:
        prefix = {"unique_key": "duplicate_rows", "not_null": "nulls", "value_ranges": "out_of_range"}[finding.check]
        counts.update({prefix if k == prefix else f"{prefix}: {k}": v for k, v in finding.counts.items()})
    return Finding(
        "row_rules",
        "; ".join(f.description for f in parts),
        pl.concat(failing, how="diagonal_relaxed") if failing else frame.clear(),
        counts,
        passed_override=False if any(not f.passed for f in parts) else None,
    )
