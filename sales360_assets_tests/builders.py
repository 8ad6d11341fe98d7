"""Hand-made staged and core frames for the known-answer tests of the marts, commissions and report.

Each builder takes only the columns a test cares about; the rest default (mostly to null), so
a test reads as its scenario.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import polars as pl

from sales360_assets.core.schemas import (
    DIM_CUSTOMER_SCHEMA,
    DIM_PRODUCT_SCHEMA,
    FACT_BOOKING_LINE_SCHEMA,
    FACT_OPPORTUNITY_SCHEMA,
    FACT_SALES_SCHEMA,
)

UTC_TS = pl.Datetime("us", "UTC")


def ts(year: int, month: int, day: int, hour: int = 12) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def frame(rows: list[dict[str, Any]], schema: dict[str, Any], defaults: dict[str, Any] | None = None) -> pl.DataFrame:
    """Rows with every schema column; unspecified columns take the default (else null)."""
    base = dict.fromkeys(schema) | (defaults or {})
    return pl.DataFrame([base | row for row in rows], schema=schema)


USERS_SCHEMA = {
    "user_id": pl.String,
    "name": pl.String,
    "email": pl.String,
    "is_active": pl.Boolean,
    "title": pl.String,
    "manager_id": pl.String,
    "region": pl.String,
    "territory": pl.String,
    "created_at": UTC_TS,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}
OPPORTUNITIES_SCHEMA = {
    "opportunity_id": pl.String,
    "opportunity_name": pl.String,
    "account_id": pl.String,
    "owner_id": pl.String,
    "campaign_id": pl.String,
    "stage_name": pl.String,
    "amount": pl.Float64,
    "currency": pl.String,
    "probability": pl.Float64,
    "close_date": pl.Date,
    "is_closed": pl.Boolean,
    "is_won": pl.Boolean,
    "opportunity_type": pl.String,
    "lead_source": pl.String,
    "web_order_id": pl.String,
    "cancelled_date": pl.Date,
    "created_at": UTC_TS,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
    "fx_rate": pl.Float64,
    "fx_rate_date": pl.Date,
    "amount_usd": pl.Float64,
}
OPPORTUNITY_LINES_SCHEMA = {
    "line_item_id": pl.String,
    "opportunity_id": pl.String,
    "product_id": pl.String,
    "sku": pl.String,
    "quantity": pl.Float64,
    "unit_price": pl.Float64,
    "total_price": pl.Float64,
    "currency": pl.String,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
    "fx_rate": pl.Float64,
    "fx_rate_date": pl.Date,
    "total_price_usd": pl.Float64,
}
TEAM_SCHEMA = {
    "account_team_member_id": pl.String,
    "account_id": pl.String,
    "user_id": pl.String,
    "team_member_role": pl.String,
    "credit_split_pct": pl.Float64,
    "effective_from": pl.Date,
    "effective_to": pl.Date,
    "created_at": UTC_TS,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}
QUOTAS_SCHEMA = {
    "quota_id": pl.String,
    "user_id": pl.String,
    "month": pl.Date,
    "quota_amount": pl.Float64,
    "currency": pl.String,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}
FX_SCHEMA = {"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": pl.Float64}
CAMPAIGNS_SCHEMA = {
    "campaign_id": pl.String,
    "campaign_name": pl.String,
    "campaign_type": pl.String,
    "status": pl.String,
    "start_date": pl.Date,
    "end_date": pl.Date,
    "budgeted_cost": pl.Float64,
    "actual_cost": pl.Float64,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}


def users(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, USERS_SCHEMA, {"is_active": True, "is_deleted": False, "created_at": ts(2020, 1, 1)})


def sale(
    line_id: str,
    day: date,
    net_usd: float,
    *,
    region: str = "na",
    channel: str = "web",
    order_id: str | None = None,
    customer_key: str = "k-ann",
    customer_ref: str | None = "C1",
    product_key: str = "k-sku1",
    sku: str = "SKU-1",
    quantity: float = 1.0,
    cost_usd: float = 0.0,
    discount_local: float = 0.0,
    fx_rate: float = 1.0,
) -> dict[str, Any]:
    """One fact_sales row."""
    return {
        "sales_line_id": line_id,
        "channel": channel,
        "date": day,
        "region": region,
        "order_id": order_id or line_id.split(":")[1],
        "customer_key": customer_key,
        "customer_ref": customer_ref,
        "product_key": product_key,
        "sku": sku,
        "quantity": quantity,
        "currency": "USD",
        "fx_rate": fx_rate,
        "discount_amount_local": discount_local,
        "net_amount_local": net_usd / fx_rate,
        "net_amount_usd": net_usd,
        "cost_usd": cost_usd,
        "gross_margin_usd": net_usd - cost_usd,
        "is_unmapped_product": product_key == "k-unmapped",
    }


def fact_sales(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, FACT_SALES_SCHEMA)


def dim_customer(rows: list[dict[str, Any]] | None = None) -> pl.DataFrame:
    return frame(
        rows
        or [
            {"customer_key": "k-ann", "customer_source": "web", "segment": "Consumer"},
            {"customer_key": "k-bo", "customer_source": "web", "segment": "Small Business"},
            {"customer_key": "k-acme", "customer_source": "crm", "source_customer_id": "A1", "segment": "Enterprise"},
            {
                "customer_key": "k-unidentified",
                "customer_source": "unknown",
                "segment": "In-store (unidentified)",
                "is_unknown_member": True,
            },
        ],
        DIM_CUSTOMER_SCHEMA,
        {"is_unknown_member": False},
    )


def dim_product(rows: list[dict[str, Any]] | None = None) -> pl.DataFrame:
    return frame(
        rows
        or [
            {
                "product_key": "k-sku1",
                "sku": "SKU-1",
                "product_name": "Widget",
                "category": "Home",
                "subcategory": "Kitchen",
            },
            {
                "product_key": "k-sku2",
                "sku": "SKU-2",
                "product_name": "Phone",
                "category": "Electronics",
                "subcategory": "Phones",
            },
            {
                "product_key": "k-unmapped",
                "product_name": "Unmapped product",
                "category": "Unmapped",
                "is_unknown_member": True,
            },
        ],
        DIM_PRODUCT_SCHEMA,
        {"is_unknown_member": False},
    ).with_columns(pl.coalesce("product_family", "category").alias("product_family"))


def fact_opportunity(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, FACT_OPPORTUNITY_SCHEMA, {"region": "na", "opportunity_type": "New Business"})


def booking_lines(rows: list[dict[str, Any]]) -> pl.DataFrame:
    return frame(rows, FACT_BOOKING_LINE_SCHEMA, {"is_cancelled": False, "product_family": "Home", "currency": "USD"})
