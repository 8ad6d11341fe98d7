"""Core star schema: the published shape of every dimension and fact, and the labels of their members.

Each ``*_SCHEMA`` is a table's contract: its columns, in order, with their types. The builders end
with ``frames.conform(frame, SCHEMA)`` so that even an empty input writes a typed table.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.core.scd import REP_VERSION_SCHEMA
from sales360_assets.money import LOCAL_AMOUNT
from sales360_assets.settings import REGIONS

UNMAPPED_CATEGORY = "Unmapped"
CRM_ONLY_SUBCATEGORY = "Unmapped (CRM only)"
IN_STORE_UNIDENTIFIED_SEGMENT = "In-store (unidentified)"
CRM_SEGMENT = "Enterprise"

COUNTRY_TO_REGION: dict[str, str] = {country: r.code for r in REGIONS.values() for country in r.countries}

UTC_DATETIME = pl.Datetime("us", "UTC")

DIM_DATE_SCHEMA: dict[str, pl.DataType] = {
    "date": pl.Date(),
    "year": pl.Int32(),
    "quarter": pl.Int8(),
    "month": pl.Int8(),
    "month_name": pl.String(),
    "iso_week": pl.Int8(),
    "day_of_week": pl.Int8(),
    "day_name": pl.String(),
    "is_weekend": pl.Boolean(),
    "is_holiday": pl.Boolean(),
    "holiday_name": pl.String(),
    "first_day_of_month": pl.Date(),
}

DIM_REGION_SCHEMA: dict[str, pl.DataType] = {
    "region": pl.String(),
    "region_name": pl.String(),
    "currency": pl.String(),
    "countries": pl.String(),
    "territories": pl.String(),
}

DIM_PRODUCT_SCHEMA: dict[str, pl.DataType] = {
    "product_key": pl.String(),
    "sku": pl.String(),
    "product_name": pl.String(),
    "category": pl.String(),
    "subcategory": pl.String(),
    "brand": pl.String(),
    "list_price_usd": pl.Float64(),
    "standard_cost_usd": pl.Float64(),
    "crm_family": pl.String(),
    # The family commission rates are set by: the CRM family, else the catalogue category.
    "product_family": pl.String(),
    "in_catalogue": pl.Boolean(),
    "in_crm": pl.Boolean(),
    "is_unknown_member": pl.Boolean(),
}

DIM_CUSTOMER_SCHEMA: dict[str, pl.DataType] = {
    "customer_key": pl.String(),
    "customer_source": pl.String(),
    "source_customer_id": pl.String(),
    # Every source id folded into this key (web customers sharing an email): facts need it to map
    # a web order's customer_id to the surviving key.
    "source_customer_ids": pl.List(pl.String()),
    "customer_name": pl.String(),
    "email_normalized": pl.String(),
    "segment": pl.String(),
    "country": pl.String(),
    "region": pl.String(),
    "first_seen_at": UTC_DATETIME,
    "is_unknown_member": pl.Boolean(),
}

# Type 2: one row per rep and assignment period (see core/scd.py).
DIM_SALES_REP_SCHEMA: dict[str, pl.DataType] = REP_VERSION_SCHEMA

FACT_SALES_SCHEMA: dict[str, pl.DataType] = {
    "sales_line_id": pl.String(),
    "channel": pl.String(),
    "date": pl.Date(),
    "region": pl.String(),
    "order_id": pl.String(),
    "line_number": pl.Int64(),
    "customer_key": pl.String(),
    "customer_ref": pl.String(),
    "product_key": pl.String(),
    "sku": pl.String(),
    "sales_rep_key": pl.String(),
    "store_id": pl.String(),
    "quantity": pl.Float64(),
    "unit_price_local": LOCAL_AMOUNT,
    "gross_amount_local": LOCAL_AMOUNT,
    "discount_amount_local": LOCAL_AMOUNT,
    "net_amount_local": LOCAL_AMOUNT,
    "currency": pl.String(),
    "fx_rate": pl.Float64(),
    "fx_rate_date": pl.Date(),
    "net_amount_usd": pl.Float64(),
    "unit_cost_usd": pl.Float64(),
    "cost_usd": pl.Float64(),
    "gross_margin_usd": pl.Float64(),
    "is_unmapped_product": pl.Boolean(),
}

FACT_OPPORTUNITY_SCHEMA: dict[str, pl.DataType] = {
    "opportunity_id": pl.String(),
    "account_id": pl.String(),
    "customer_key": pl.String(),
    "sales_rep_key": pl.String(),
    "region": pl.String(),
    "campaign_id": pl.String(),
    "stage_name": pl.String(),
    "is_closed": pl.Boolean(),
    "is_won": pl.Boolean(),
    "created_date": pl.Date(),
    "close_date": pl.Date(),
    "amount_local": LOCAL_AMOUNT,
    "currency": pl.String(),
    "fx_rate": pl.Float64(),
    "fx_rate_date": pl.Date(),
    "amount_usd": pl.Float64(),
    "probability": pl.Float64(),
    "expected_amount_usd": pl.Float64(),
    "days_to_close": pl.Int64(),
    "web_order_id": pl.String(),
    "owner_id": pl.String(),
    "opportunity_type": pl.String(),
    "lead_source": pl.String(),
    "funnel_stage": pl.String(),
    "funnel_stage_order": pl.Int8(),
    # Highest funnel rung the deal ever reached (from its stage history; won and cancelled: 6).
    "furthest_stage_order": pl.Int8(),
    "is_cancelled": pl.Boolean(),
    "cancelled_date": pl.Date(),
    # The day the deal was booked (close date of a won deal, also when cancelled later).
    "booking_date": pl.Date(),
}

FACT_BOOKING_LINE_SCHEMA: dict[str, pl.DataType] = {
    "booking_line_id": pl.String(),
    "opportunity_id": pl.String(),
    "account_id": pl.String(),
    "customer_key": pl.String(),
    "campaign_id": pl.String(),
    "owner_id": pl.String(),
    "sales_rep_key": pl.String(),
    "region": pl.String(),
    "booking_date": pl.Date(),
    "is_cancelled": pl.Boolean(),
    "cancelled_date": pl.Date(),
    "days_booked_to_cancelled": pl.Int64(),
    "sku": pl.String(),
    "product_key": pl.String(),
    "product_family": pl.String(),
    "quantity": pl.Float64(),
    "net_amount_local": LOCAL_AMOUNT,
    "currency": pl.String(),
    "fx_rate": pl.Float64(),
    "fx_rate_date": pl.Date(),
    "net_amount_usd": pl.Float64(),
    "web_order_id": pl.String(),
    # The fact_sales line that counts this booking as revenue while the deal stands (crm channel);
    # null for a web-fulfilled deal, whose web order lines count it (see web_order_id).
    "sales_line_id": pl.String(),
}

BRIDGE_ACCOUNT_TEAM_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.String(),
    "customer_key": pl.String(),
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),  # exclusive
    "user_id": pl.String(),
    "account_team_member_id": pl.String(),
    "team_member_role": pl.String(),
    "credit_split_pct": pl.Float64(),
    "period_split_total_pct": pl.Float64(),
    "is_balanced": pl.Boolean(),
}
