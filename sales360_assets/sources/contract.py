"""The source contract: every table each source hands over, its columns and their types.

This module and ``contract_salesforce`` (the CRM objects, the largest part) are the one
definition the sample generator writes, the readers validate against (schema drift is detected
here), and ``docs/source_contract.md`` documents. To point the
platform at your own export, produce files in the layout below and set
``SALES360_SOURCES_DIR``; no code change is needed.

Layout under the sources directory::

    crm/<Object>/<YYYY-MM-DD>.json        Salesforce record versions as REST query pages, one file per
                                          SystemModstamp day: the org's change log. The embedded client
                                          answers a query as a real org does at that moment: one row per
                                          record, its latest version (see sources/salesforce.py)
    warehouse/<table>/<table>.parquet      unpartitioned warehouse tables
    warehouse/<table>/<date_col>=<YYYY-MM-DD>/part-0.parquet   date-partitioned warehouse tables
    warehouse/<table>/*.parquet            ... or flat files, rows selected by <date_col> (sources/warehouse.py)
    landing/pos/stores.csv                 store registry (store -> region, currency)
    landing/pos/<YYYY-MM-DD>/<store_id>.csv   one POS/ERP log drop per store and business day
    _ground_truth/                         generator-only answers (identity of customers); never read by assets

Types are the types *after* the source's own wire format is parsed (SOQL JSON, BigQuery rows,
CSV text). POS logs are CSV: every column arrives as text and staging casts it, because a
malformed line must survive ingestion to be dead-lettered with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class SourceTable:
    """One table as a source delivers it."""

    system: str  # "salesforce" | "warehouse" | "pos"
    name: str  # Salesforce object API name, warehouse table name, or landing feed name
    columns: dict[str, pl.DataType]
    primary_key: tuple[str, ...]
    description: str
    # Columns a source must deliver; losing one is breaking schema drift (a clear error).
    required: tuple[str, ...] = ()
    # For date-partitioned tables: the column the source partitions on (BigQuery partition column).
    date_column: str | None = None
    # Column carrying the region, for tables with both a date and a region.
    region_column: str | None = None
    # Column giving the latest modification (used to collapse retry duplicates).
    modified_column: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> tuple[str, ...]:
        return self.required or tuple(self.columns)


def by_name(*tables: SourceTable) -> dict[str, SourceTable]:
    """A system's tables, looked up by the name the source gives them."""
    return {table.name: table for table in tables}


def _warehouse(
    name: str, columns: dict[str, pl.DataType], primary_key: tuple[str, ...], description: str, **options: Any
) -> SourceTable:
    return SourceTable("warehouse", name, columns, primary_key, description, **options)


# Both order tables: BigQuery-partitioned on order_date, clustered by region, stamped at load.
_ORDER_PARTITIONING = {"date_column": "order_date", "region_column": "region", "modified_column": "_loaded_at"}

# --- Warehouse (BigQuery) ---------------------------------------------------------------------
WAREHOUSE_TABLES: dict[str, SourceTable] = by_name(
    _warehouse(
        "orders",
        {
            "order_id": pl.String,
            "customer_id": pl.String,
            "order_ts": UTC_DATETIME,
            "order_date": pl.Date,
            "region": pl.String,
            "currency": pl.String,
            "status": pl.String,  # completed | cancelled
            "_loaded_at": UTC_DATETIME,
        },
        ("order_id",),
        "E-commerce order headers; partitioned on order_date, clustered by region.",
        **_ORDER_PARTITIONING,
    ),
    _warehouse(
        "order_lines",
        {
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
        ("order_id", "line_number"),
        "E-commerce order lines in the order's currency; partitioned on order_date.",
        **_ORDER_PARTITIONING,
    ),
    _warehouse(
        "customers",
        {
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
        ("customer_id",),
        "E-commerce customer accounts with their customer segment.",
        required=("customer_id", "email", "segment"),
        modified_column="updated_at",
    ),
    _warehouse(
        "products",
        {
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
        ("sku", "cost_valid_from"),
        "Master product catalogue: category -> subcategory -> product, price and cost (USD). "
        "Several rows per SKU with cost_valid_from are its cost history; the latest is the current product.",
        required=("sku", "product_name", "category", "subcategory", "standard_cost_usd"),
        modified_column="updated_at",
    ),
    _warehouse(
        "fx_rates",
        {"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": pl.Float64},
        ("rate_date", "currency"),
        "Daily FX rates to USD, business days only (weekends use the last rate).",
    ),
)


def _csv_text(*names: str) -> dict[str, pl.DataType]:
    """A CSV feed's columns: all text as they arrive; staging casts them (see the module docstring)."""
    return dict.fromkeys(names, pl.String)


# --- Offline POS / ERP logs (CSV drops) -------------------------------------------------------
POS_STORES = SourceTable(
    system="pos",
    name="stores",
    # timezone is optional (IANA, e.g. Europe/Berlin). Empty or absent: derived from country
    # (landing.COUNTRY_TIMEZONES). It decides when a store's business day is closed.
    columns=_csv_text("store_id", "store_name", "region", "country", "city", "currency", "opened_on", "timezone"),
    primary_key=("store_id",),
    description="Store registry: which region, currency and time zone each store reports in.",
    required=("store_id", "store_name", "region", "country", "city", "currency", "opened_on"),
)

POS_TRANSACTIONS = SourceTable(
    system="pos",
    name="transactions",
    # transaction_ts is ISO-8601 with a UTC offset (2026-11-01T14:03:12+01:00); loyalty_id is empty
    # for anonymous sales.
    columns=_csv_text(
        "transaction_id",
        "line_no",
        "store_id",
        "transaction_ts",
        "sku",
        "quantity",
        "unit_price",
        "discount",
        "currency",
        "loyalty_id",
        "customer_name",
        "customer_email",
        "customer_phone",
    ),
    primary_key=("transaction_id", "line_no"),
    description="Point-of-sale transaction lines, one CSV per store and business day.",
    required=("transaction_id", "line_no", "store_id", "transaction_ts", "sku", "quantity", "unit_price", "currency"),
)


# Where each system's tables are defined, for messages that say what to update.
CONTRACT_MODULE = {"salesforce": "contract_salesforce.py", "warehouse": "contract.py", "pos": "contract.py"}


class SchemaDriftError(ValueError):
    """A source stopped delivering a column the platform requires."""


def check_schema_drift(table: SourceTable, delivered_columns: list[str] | tuple[str, ...]) -> list[str]:
    """Raise when a required column is missing; return the added (unknown) columns.

    Added columns are additive drift: they are kept and merged into the Delta schema.
    """
    delivered = set(delivered_columns)
    missing = [c for c in table.required_columns if c not in delivered]
    if missing:
        raise SchemaDriftError(
            f"{table.system} table {table.name!r} no longer delivers required column(s) "
            f"{', '.join(missing)}; refusing to ingest (nothing was written). "
            f"Fix the source or update sales360_assets/sources/{CONTRACT_MODULE[table.system]}."
        )
    return sorted(c for c in delivered if c not in table.columns and not c.startswith("_"))
