"""The warehouse (BigQuery) tables the platform reads: e-commerce orders, customers, products and FX rates."""

from __future__ import annotations

import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME, SourceTable

WAREHOUSE_TABLES: dict[str, SourceTable] = {
    t.name: t
    for t in [
        SourceTable(
            system="warehouse",
            name="orders",
            columns={
                "order_id": pl.String,
                "customer_id": pl.String,
                "order_ts": UTC_DATETIME,
                "order_date": pl.Date,
                "region": pl.String,
                "currency": pl.String,
                "status": pl.String,  # completed | cancelled
                "_loaded_at": UTC_DATETIME,
            },
            primary_key=("order_id",),
            description="E-commerce order headers; partitioned on order_date, clustered by region.",
            date_column="order_date",
            region_column="region",
            modified_column="_loaded_at",
        ),
        SourceTable(
            system="warehouse",
            name="order_lines",
            columns={
                "order_id": pl.String,
                "line_number": pl.Int64,
                "sku": pl.String,
                "quantity": pl.Int64,
                "unit_price": pl.Float64,
                "discount_amount": pl.Float64,
                "order_date": pl.Date,
                "region": pl.String,
                "_loaded_at": UTC_DATETIME,
            },
            primary_key=("order_id", "line_number"),
            description="E-commerce order lines in the order's currency; partitioned on order_date.",
            date_column="order_date",
            region_column="region",
            modified_column="_loaded_at",
        ),
        SourceTable(
            system="warehouse",
            name="customers",
            columns={
                "customer_id": pl.String,
                "first_name": pl.String,
                "last_name": pl.String,
                "email": pl.String,
                "phone": pl.String,
                "country": pl.String,
                "city": pl.String,
                "segment": pl.String,  # Consumer | Small Business | Corporate
                "created_at": UTC_DATETIME,
                "updated_at": UTC_DATETIME,
            },
            primary_key=("customer_id",),
            description="E-commerce customer accounts with their customer segment.",
            required=("customer_id", "email", "segment"),
            modified_column="updated_at",
        ),
        SourceTable(
            system="warehouse",
            name="products",
            columns={
                "sku": pl.String,
                "product_name": pl.String,
                "category": pl.String,
                "subcategory": pl.String,
                "brand": pl.String,
                "list_price_usd": pl.Float64,
                "standard_cost_usd": pl.Float64,
                "updated_at": UTC_DATETIME,
                # Optional: cost history. One row per SKU and date its standard cost took effect;
                # absent or null, the row's cost holds for every sale (the catalogue as of today).
                "cost_valid_from": pl.Date,
            },
            primary_key=("sku", "cost_valid_from"),
            description="Master product catalogue: category -> subcategory -> product, price and cost (USD). "
            "Several rows per SKU with cost_valid_from are its cost history; the latest is the current product.",
            required=("sku", "product_name", "category", "subcategory", "standard_cost_usd"),
            modified_column="updated_at",
        ),
        SourceTable(
            system="warehouse",
            name="fx_rates",
            columns={
                "rate_date": pl.Date,
                "currency": pl.String,
                "usd_per_unit": pl.Float64,
            },
            primary_key=("rate_date", "currency"),
            description="Daily FX rates to USD, business days only (weekends use the last rate).",
        ),
    ]
}
