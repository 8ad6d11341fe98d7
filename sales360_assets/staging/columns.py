"""What each staged column holds, and which ones hold personal data: the staging tables' catalogue docs.

A staged column is mostly its raw column validated, typed and renamed, so its description comes
from the raw one (``raw/columns.py``): Salesforce fields through the object's snake_case rename
(``staging/salesforce.py``), warehouse and POS columns by name. This module adds what staging
computes (USD amounts, FX rate, normalised email, late-arrival flag …) and says where a staged
column means something else than its raw namesake (typed POS values, for instance).
"""

from __future__ import annotations

from sales360_assets.raw.columns import (
    PII,
    POS_STORES,
    SALESFORCE_COMMON,
    SALESFORCE_FIELDS,
    SENSITIVITY,
    WAREHOUSE_COLUMNS,
)
from sales360_assets.staging.salesforce import SALESFORCE_STAGING

_FX = {
    "fx_rate": "USD per unit of `currency`: the latest published rate on or before the conversion date.",
    "fx_rate_date": "Date of the FX rate applied, for audit.",
}
_CONVERTED = {
    **_FX,
    "gross_amount": "quantity × unit_price in `currency`.",
    "discount_amount": "Discount on the line in `currency` (0 when none).",
    "net_amount": "gross_amount − discount_amount, in `currency`.",
}

# Per staged asset: the columns staging computes or changes the meaning of.
STAGED: dict[str, dict[str, str]] = {
    "stg_salesforce_opportunities": {
        **_FX,
        "amount_usd": "amount × fx_rate: the deal in USD at its close date's rate (open deals closing after the "
        "latest published rate use that rate).",
    },
    "stg_salesforce_opportunity_line_items": {
        **_FX,
        "total_price_usd": "total_price × fx_rate: the line in USD at its opportunity's rate.",
    },
    "stg_warehouse_customers": {
        "email_normalized": "email trimmed and lower-cased: what customers are matched on across channels.",
    },
    "stg_warehouse_orders": {
        "date": "The order's business date (order_date).",
        "loaded_at": "When the warehouse loaded the copy kept (UTC): retried loads collapse to the latest.",
        "is_late_arrival": "True when the order was loaded more than a day after its business date.",
    },
    "stg_warehouse_order_lines": {
        **_CONVERTED,
        "date": "The order's business date (order_date).",
        "order_ts": "When the order was placed (UTC), from stg_warehouse_orders.",
        "order_status": "The order's status (completed or cancelled), from stg_warehouse_orders.",
        "customer_id": "The ordering e-commerce customer, from stg_warehouse_orders.",
        "currency": "ISO currency code of the order, from stg_warehouse_orders.",
        "net_amount_usd": "net_amount × fx_rate: the line's revenue in USD at the order date's rate.",
        "loaded_at": "When the warehouse loaded the copy kept (UTC): retried loads collapse to the latest.",
    },
    "stg_pos_transactions": {
        **_CONVERTED,
        "transaction_id": "Till transaction id.",
        "line_no": "Line number within the transaction.",
        "store_id": "The store (stg_pos_stores).",
        "date": "Business day on the store's own clock: the landing folder's day (a line dated otherwise is "
        "dead-lettered).",
        "region": "Sales region code of the store.",
        "transaction_ts": "Transaction time in UTC (parsed from the till's local time and offset).",
        "sku": "The SKU sold, trimmed.",
        "quantity": "Units sold (whole, non-negative).",
        "unit_price": "Price per unit in `currency`.",
        "currency": "ISO currency code of the store's sales.",
        "net_amount_usd": "net_amount × fx_rate: the line's revenue in USD at the business day's rate.",
        "loyalty_id": "The shopper's loyalty card id; null for anonymous sales.",
        "customer_name": "The shopper's name; null when not given.",
        "customer_email": "The shopper's email address; null when not given.",
        "customer_phone": "The shopper's phone number; null when not given.",
        "source_file": "The landing-zone file the line was read from.",
    },
}

# Staged assets whose columns are their raw table's (same names) plus the entries above.
_RAW_BY_NAME: dict[str, dict[str, str]] = {
    **{f"stg_warehouse_{table}": columns for table, columns in WAREHOUSE_COLUMNS.items()},
    "stg_warehouse_product_cost_history": WAREHOUSE_COLUMNS["products"],
    "stg_pos_stores": POS_STORES,
}


def _salesforce(object_name: str) -> tuple[dict[str, str], dict[str, str]]:
    """Staged column -> description and -> sensitivity, through the object's rename."""
    spec = SALESFORCE_STAGING[object_name]
    rename = {**spec.rename, "SystemModstamp": "system_modstamp", "IsDeleted": "is_deleted"}
    fields = {**SALESFORCE_COMMON, **SALESFORCE_FIELDS[object_name]}
    tags = SENSITIVITY.get(spec.raw_table, {})
    return (
        {new: fields[old] for old, new in rename.items() if old in fields},
        {new: tags[old] for old, new in rename.items() if old in tags},
    )


def _object_of(asset_name: str) -> str | None:
    if asset_name == "stg_salesforce_user_history":
        return "User"
    raw = asset_name.replace("stg_", "raw_", 1)
    return next((o for o, spec in SALESFORCE_STAGING.items() if spec.raw_table == raw), None)


def staged_descriptions(asset_name: str) -> dict[str, str]:
    """Column -> description for a staging asset."""
    object_name = _object_of(asset_name)
    inherited = _salesforce(object_name)[0] if object_name else _RAW_BY_NAME.get(asset_name, {})
    return {**inherited, **STAGED.get(asset_name, {})}


def staged_sensitivity(asset_name: str) -> dict[str, str]:
    """Column -> "pii" / "confidential" for a staging asset: personal data and costs, as in raw."""
    object_name = _object_of(asset_name)
    if object_name:
        return _salesforce(object_name)[1]
    raw = (
        "raw_warehouse_products" if asset_name.endswith("product_cost_history") else asset_name.replace("stg_", "raw_")
    )
    tags = dict(SENSITIVITY.get(raw, {}))
    if "email" in tags:
        tags["email_normalized"] = PII
    tags.pop("_raw_line", None)  # staging keeps the parsed values, not the line
    return tags


def staged_asset_tags(asset_name: str) -> dict[str, str]:
    """The asset-level sensitivity tag: "pii" when the table holds personal data."""
    return {"sensitivity": PII} if PII in staged_sensitivity(asset_name).values() else {}
