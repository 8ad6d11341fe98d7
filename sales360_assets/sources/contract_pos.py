"""The offline POS / ERP logs: the store registry and the per-store daily CSV drops (all text, cast in staging)."""

from __future__ import annotations

import polars as pl

from sales360_assets.sources.contract import SourceTable

POS_STORES = SourceTable(
    system="pos",
    name="stores",
    columns={
        "store_id": pl.String,
        "store_name": pl.String,
        "region": pl.String,
        "country": pl.String,
        "city": pl.String,
        "currency": pl.String,
        "opened_on": pl.String,
        # Optional IANA zone (Europe/Berlin). Empty or absent: derived from country
        # (landing.COUNTRY_TIMEZONES). Decides when a store's business day is closed.
        "timezone": pl.String,
    },
    primary_key=("store_id",),
    description="Store registry: which region, currency and time zone each store reports in.",
    required=("store_id", "store_name", "region", "country", "city", "currency", "opened_on"),
)

POS_TRANSACTIONS = SourceTable(
    system="pos",
    name="transactions",
    columns={
        "transaction_id": pl.String,
        "line_no": pl.String,
        "store_id": pl.String,
        "transaction_ts": pl.String,  # ISO-8601 with UTC offset, e.g. 2026-11-01T14:03:12+01:00
        "sku": pl.String,
        "quantity": pl.String,
        "unit_price": pl.String,
        "discount": pl.String,
        "currency": pl.String,
        "loyalty_id": pl.String,  # empty for anonymous sales
        "customer_name": pl.String,
        "customer_email": pl.String,
        "customer_phone": pl.String,
    },
    primary_key=("transaction_id", "line_no"),
    description="Point-of-sale transaction lines, one CSV per store and business day.",
    required=(
        "transaction_id",
        "line_no",
        "store_id",
        "transaction_ts",
        "sku",
        "quantity",
        "unit_price",
        "currency",
    ),
)
