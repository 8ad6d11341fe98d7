"""Known-answer tests for the core star schema transforms on tiny hand-made staged frames."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from sales360_assets.core.deals import build_fact_opportunity
from sales360_assets.core.dimensions import (
    build_dim_customer,
    build_dim_date,
    build_dim_product,
    build_dim_region,
    build_dim_sales_rep,
)
from sales360_assets.core.keys import (
    NO_SALES_REP_KEY,
    UNIDENTIFIED_IN_STORE_CUSTOMER_KEY,
    UNKNOWN_CUSTOMER_KEY,
    UNMAPPED_PRODUCT_KEY,
    surrogate_key,
    surrogate_key_value,
)
from sales360_assets.core.sales import build_fact_sales

START, END = date(2024, 3, 1), date(2024, 3, 31)
REGIONS = ["emea", "na", "uk"]
DAY = date(2024, 3, 5)
TS = datetime(2024, 3, 5, 12, tzinfo=UTC)
UTC_TS = pl.Datetime("us", "UTC")


def ts(year: int, month: int, day: int) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


def frame(rows: list[dict[str, Any]], schema: dict[str, Any], defaults: dict[str, Any] | None = None) -> pl.DataFrame:
    """Rows with every schema column; unspecified columns take the default (else null)."""
    base = {name: None for name in schema} | (defaults or {})
    return pl.DataFrame([base | row for row in rows], schema=schema)


CUSTOMERS_SCHEMA = {
    "customer_id": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "email": pl.String,
    "email_normalized": pl.String,
    "phone": pl.String,
    "country": pl.String,
    "city": pl.String,
    "segment": pl.String,
    "created_at": UTC_TS,
    "updated_at": UTC_TS,
}
PRODUCTS_SCHEMA = {
    "sku": pl.String,
    "product_name": pl.String,
    "category": pl.String,
    "subcategory": pl.String,
    "brand": pl.String,
    "list_price_usd": pl.Float64,
    "standard_cost_usd": pl.Float64,
    "updated_at": UTC_TS,
}
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
ACCOUNTS_SCHEMA = {
    "account_id": pl.String,
    "account_name": pl.String,
    "account_type": pl.String,
    "industry": pl.String,
    "billing_country": pl.String,
    "billing_city": pl.String,
    "phone": pl.String,
    "owner_id": pl.String,
    "region": pl.String,
    "created_at": UTC_TS,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}
CONTACTS_SCHEMA = {
    "contact_id": pl.String,
    "account_id": pl.String,
    "first_name": pl.String,
    "last_name": pl.String,
    "email": pl.String,
    "phone": pl.String,
    "mailing_country": pl.String,
    "owner_id": pl.String,
    "created_at": UTC_TS,
    "system_modstamp": UTC_TS,
    "is_deleted": pl.Boolean,
}
CRM_PRODUCTS_SCHEMA = {
    "product_id": pl.String,
    "product_name": pl.String,
    "sku": pl.String,
    "family": pl.String,
    "is_active": pl.Boolean,
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
WEB_LINES_SCHEMA = {
    "order_id": pl.String,
    "line_number": pl.Int64,
    "date": pl.Date,
    "region": pl.String,
    "order_ts": UTC_TS,
    "order_status": pl.String,
    "customer_id": pl.String,
    "sku": pl.String,
    "quantity": pl.Int64,
    "unit_price": pl.Float64,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "currency": pl.String,
    "fx_rate": pl.Float64,
    "fx_rate_date": pl.Date,
    "net_amount_usd": pl.Float64,
    "loaded_at": UTC_TS,
}
POS_LINES_SCHEMA = {
    "transaction_id": pl.String,
    "line_no": pl.Int64,
    "store_id": pl.String,
    "date": pl.Date,
    "region": pl.String,
    "transaction_ts": UTC_TS,
    "sku": pl.String,
    "quantity": pl.Int64,
    "unit_price": pl.Float64,
    "gross_amount": pl.Float64,
    "discount_amount": pl.Float64,
    "net_amount": pl.Float64,
    "currency": pl.String,
    "fx_rate": pl.Float64,
    "fx_rate_date": pl.Date,
    "net_amount_usd": pl.Float64,
    "loyalty_id": pl.String,
    "customer_name": pl.String,
    "customer_email": pl.String,
    "customer_phone": pl.String,
    "source_file": pl.String,
}


def customers() -> pl.DataFrame:
    return frame(
        [
            # C1 and C2 share an email: one customer; C1 was updated last so it survives.
            {
                "customer_id": "C1",
                "first_name": "Ann",
                "last_name": "Lee",
                "email_normalized": "ann@example.com",
                "country": "US",
                "segment": "Consumer",
                "created_at": ts(2023, 1, 1),
                "updated_at": ts(2023, 6, 1),
            },
            {
                "customer_id": "C2",
                "first_name": "Annie",
                "last_name": "Lee",
                "email_normalized": "ann@example.com",
                "country": "CA",
                "segment": "Small Business",
                "created_at": ts(2022, 5, 1),
                "updated_at": ts(2023, 1, 1),
            },
            {
                "customer_id": "C3",
                "first_name": "Bo",
                "country": "DE",
                "segment": "Small Business",
                "created_at": ts(2023, 2, 1),
                "updated_at": ts(2023, 2, 1),
            },
        ],
        CUSTOMERS_SCHEMA,
    )


def accounts() -> pl.DataFrame:
    return frame(
        [
            {
                "account_id": "A1",
                "account_name": "Acme",
                "billing_country": "US",
                "region": "na",
                "created_at": ts(2022, 1, 1),
            },
            {"account_id": "A2", "account_name": "Gone Ltd", "region": "uk", "is_deleted": True},
            {"account_id": "A3", "account_name": "Globex", "created_at": ts(2022, 6, 1)},
        ],
        ACCOUNTS_SCHEMA,
        {"is_deleted": False},
    )


def contacts() -> pl.DataFrame:
    return frame(
        [
            {"contact_id": "K1", "account_id": "A3", "mailing_country": "GB", "created_at": ts(2021, 3, 1)},
            {"contact_id": "K2", "account_id": "A3", "mailing_country": "GB", "created_at": ts(2022, 7, 1)},
            {
                "contact_id": "K3",
                "account_id": "A3",
                "mailing_country": "US",
                "created_at": ts(2020, 1, 1),
                "is_deleted": True,
            },
        ],
        CONTACTS_SCHEMA,
        {"is_deleted": False},
    )


def products() -> pl.DataFrame:
    return frame(
        [
            {
                "sku": "SKU-1",
                "product_name": "Widget",
                "category": "Hardware",
                "subcategory": "Widgets",
                "standard_cost_usd": 4.0,
            },
            {
                "sku": "SKU-2",
                "product_name": "Gadget",
                "category": "Hardware",
                "subcategory": "Gadgets",
                "standard_cost_usd": 10.0,
            },
        ],
        PRODUCTS_SCHEMA,
        {"brand": "Acme", "list_price_usd": 20.0},
    )


def crm_products() -> pl.DataFrame:
    return frame(
        [
            {"product_id": "P1", "product_name": "Widget (CRM)", "sku": "SKU-1", "family": "Devices"},
            {"product_id": "P9", "product_name": "Onboarding", "sku": "SKU-CRM", "family": "Services"},
            {"product_id": "P8", "product_name": "Retired", "sku": "SKU-DEL", "family": "Services", "is_deleted": True},
        ],
        CRM_PRODUCTS_SCHEMA,
        {"is_active": True, "is_deleted": False, "system_modstamp": ts(2024, 1, 1)},
    )


def users() -> pl.DataFrame:
    return frame(
        [
            {"user_id": "U1", "name": "Rita Rep", "region": "na", "territory": "West", "manager_id": "U3"},
            {"user_id": "U2", "name": "Ian Inactive", "region": "uk", "territory": "London", "is_active": False},
            {"user_id": "U3", "name": "Mia Manager", "region": "emea", "territory": "DACH"},
            {"user_id": "U4", "name": "Del Eted", "region": "na", "territory": "East", "is_deleted": True},
        ],
        USERS_SCHEMA,
        {"is_active": True, "is_deleted": False},
    )


def web_lines() -> pl.DataFrame:
    defaults = {"date": DAY, "region": "na", "currency": "USD", "fx_rate": 1.0, "fx_rate_date": DAY, "order_ts": TS}
    rows = [
        {
            "order_id": "O1",
            "line_number": 1,
            "order_status": "completed",
            "customer_id": "C2",
            "sku": "SKU-1",
            "quantity": 2,
            "unit_price": 10.0,
            "discount_amount": 0.0,
        },
        {
            "order_id": "O1",
            "line_number": 2,
            "order_status": "completed",
            "customer_id": "C2",
            "sku": "SKU-2",
            "quantity": 1,
            "unit_price": 30.0,
            "discount_amount": 5.0,
        },
        {
            "order_id": "O2",
            "line_number": 1,
            "order_status": "cancelled",
            "customer_id": "C1",
            "sku": "SKU-1",
            "quantity": 1,
            "unit_price": 10.0,
            "discount_amount": 0.0,
        },
        {
            "order_id": "O3",
            "line_number": 1,
            "order_status": "completed",
            "customer_id": "C3",
            "sku": "SKU-1",
            "quantity": 5,
            "unit_price": 10.0,
            "discount_amount": 0.0,
            "region": "emea",
            "currency": "EUR",
            "fx_rate": 1.1,
            "fx_rate_date": date(2024, 3, 4),
        },
        # Outside the requested dates / regions: dropped even though the caller should not send them.
        {
            "order_id": "O4",
            "line_number": 1,
            "order_status": "completed",
            "customer_id": "C3",
            "sku": "SKU-1",
            "quantity": 1,
            "unit_price": 10.0,
            "discount_amount": 0.0,
            "date": date(2024, 4, 1),
        },
        {
            "order_id": "O5",
            "line_number": 1,
            "order_status": "completed",
            "customer_id": "C3",
            "sku": "SKU-1",
            "quantity": 1,
            "unit_price": 10.0,
            "discount_amount": 0.0,
            "region": "apac",
            "currency": "JPY",
            "fx_rate": 0.0067,
        },
        # A customer id the customer dimension does not know.
        {
            "order_id": "O6",
            "line_number": 1,
            "order_status": "completed",
            "customer_id": "C404",
            "sku": "SKU-2",
            "quantity": 1,
            "unit_price": 30.0,
            "discount_amount": 0.0,
        },
    ]
    return (
        frame(rows, WEB_LINES_SCHEMA, defaults)
        .with_columns(
            (pl.col("quantity") * pl.col("unit_price")).alias("gross_amount"),
        )
        .with_columns(
            (pl.col("gross_amount") - pl.col("discount_amount")).alias("net_amount"),
        )
        .with_columns((pl.col("net_amount") * pl.col("fx_rate")).alias("net_amount_usd"))
    )


def pos_lines() -> pl.DataFrame:
    defaults = {
        "date": DAY,
        "region": "uk",
        "store_id": "S1",
        "transaction_ts": TS,
        "currency": "GBP",
        "fx_rate": 1.25,
        "fx_rate_date": date(2024, 3, 4),
        "discount_amount": 0.0,
        "source_file": "S1.csv",
    }
    rows = [
        {
            "transaction_id": "T1",
            "line_no": 1,
            "sku": "SKU-1",
            "quantity": 1,
            "unit_price": 8.0,
            "customer_email": "  Ann@Example.COM ",
            "loyalty_id": "L1",
        },
        {
            "transaction_id": "T1",
            "line_no": 2,
            "sku": "SKU-XYZ",
            "quantity": 2,
            "unit_price": 5.0,
            "customer_email": "  Ann@Example.COM ",
            "loyalty_id": "L1",
        },
        {
            "transaction_id": "T2",
            "line_no": 1,
            "sku": "SKU-2",
            "quantity": 1,
            "unit_price": 16.0,
            "discount_amount": 1.0,
            "loyalty_id": "L9",
        },
        {
            "transaction_id": "T3",
            "line_no": 1,
            "sku": "SKU-2",
            "quantity": 1,
            "unit_price": 16.0,
            "customer_email": "stranger@example.com",
        },
    ]
    return (
        frame(rows, POS_LINES_SCHEMA, defaults)
        .with_columns(
            (pl.col("quantity") * pl.col("unit_price")).alias("gross_amount"),
        )
        .with_columns(
            (pl.col("gross_amount") - pl.col("discount_amount")).alias("net_amount"),
        )
        .with_columns((pl.col("net_amount") * pl.col("fx_rate")).alias("net_amount_usd"))
    )


def opportunities() -> pl.DataFrame:
    defaults = {
        "account_id": "A1",
        "owner_id": "U1",
        "currency": "USD",
        "fx_rate": 1.0,
        "fx_rate_date": DAY,
        "close_date": DAY,
        "created_at": ts(2024, 2, 5),
        "is_deleted": False,
        "amount": 1000.0,
        "amount_usd": 1000.0,
    }
    won = {"stage_name": "Closed Won", "is_closed": True, "is_won": True, "probability": 100.0}
    rows = [
        {"opportunity_id": "OP1", **won, "campaign_id": "CMP1"},
        {"opportunity_id": "OP2", **won, "web_order_id": "O1"},
        {"opportunity_id": "OP3", "stage_name": "Closed Lost", "is_closed": True, "is_won": False, "probability": 0.0},
        {
            "opportunity_id": "OP4",
            "stage_name": "Negotiation",
            "is_closed": False,
            "is_won": False,
            "probability": 60.0,
            "close_date": date(2024, 6, 30),
        },
        {"opportunity_id": "OP5", **won, "is_deleted": True},
        {"opportunity_id": "OP6", **won, "close_date": date(2024, 4, 15)},
        # Owner deleted: no rep, region falls back to the account's (A3 → GB contacts → uk).
        {
            "opportunity_id": "OP7",
            **won,
            "owner_id": "U4",
            "account_id": "A3",
            "currency": "GBP",
            "fx_rate": 1.25,
            "amount": 200.0,
            "amount_usd": 250.0,
        },
        # Account deleted in the CRM: the unknown customer.
        {"opportunity_id": "OP8", **won, "account_id": "A2", "web_order_id": "  "},
    ]
    return frame(rows, OPPORTUNITIES_SCHEMA, defaults)


def opportunity_lines() -> pl.DataFrame:
    defaults = {"currency": "USD", "fx_rate": 1.0, "fx_rate_date": DAY, "is_deleted": False}
    rows = [
        {
            "line_item_id": "LI1",
            "opportunity_id": "OP1",
            "sku": "SKU-1",
            "quantity": 3.0,
            "unit_price": 100.0,
            "total_price": 270.0,
        },
        {
            "line_item_id": "LI2",
            "opportunity_id": "OP1",
            "sku": "SKU-CRM",
            "quantity": 1.0,
            "unit_price": 500.0,
            "total_price": 500.0,
        },
        {
            "line_item_id": "LI3",
            "opportunity_id": "OP1",
            "sku": "SKU-2",
            "quantity": 1.0,
            "unit_price": 99.0,
            "total_price": 99.0,
            "is_deleted": True,
        },
        {
            "line_item_id": "LI4",
            "opportunity_id": "OP2",
            "sku": "SKU-1",
            "quantity": 1.0,
            "unit_price": 10.0,
            "total_price": 10.0,
        },
        {
            "line_item_id": "LI5",
            "opportunity_id": "OP3",
            "sku": "SKU-1",
            "quantity": 1.0,
            "unit_price": 10.0,
            "total_price": 10.0,
        },
        {
            "line_item_id": "LI6",
            "opportunity_id": "OP4",
            "sku": "SKU-1",
            "quantity": 1.0,
            "unit_price": 10.0,
            "total_price": 10.0,
        },
        {
            "line_item_id": "LI7",
            "opportunity_id": "OP5",
            "sku": "SKU-1",
            "quantity": 1.0,
            "unit_price": 10.0,
            "total_price": 10.0,
        },
        {
            "line_item_id": "LI8",
            "opportunity_id": "OP6",
            "sku": "SKU-1",
            "quantity": 1.0,
            "unit_price": 10.0,
            "total_price": 10.0,
        },
        {
            "line_item_id": "LI9",
            "opportunity_id": "OP7",
            "sku": "SKU-NOWHERE",
            "quantity": 2.0,
            "unit_price": 100.0,
            "total_price": 200.0,
            "currency": "GBP",
            "fx_rate": 1.25,
            "fx_rate_date": date(2024, 3, 4),
        },
        {
            "line_item_id": "LI10",
            "opportunity_id": "OP8",
            "sku": "SKU-2",
            "quantity": 2.0,
            "unit_price": 50.0,
            "total_price": 100.0,
        },
    ]
    return frame(rows, OPPORTUNITY_LINES_SCHEMA, defaults).with_columns(
        (pl.col("total_price") * pl.col("fx_rate")).alias("total_price_usd")
    )


@pytest.fixture(scope="module")
def dim_customer() -> pl.DataFrame:
    return build_dim_customer(customers(), accounts(), contacts())


@pytest.fixture(scope="module")
def dim_product() -> pl.DataFrame:
    return build_dim_product(products(), crm_products())


@pytest.fixture(scope="module")
def fact(dim_customer: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    return build_fact_sales(
        web_lines(),
        pos_lines(),
        opportunities(),
        opportunity_lines(),
        build_dim_sales_rep(users()),
        dim_customer,
        dim_product,
        START,
        END,
        REGIONS,
    )


def line(fact: pl.DataFrame, sales_line_id: str) -> dict[str, Any]:
    rows = fact.filter(pl.col("sales_line_id") == sales_line_id).to_dicts()
    assert len(rows) == 1, sales_line_id
    return rows[0]


def customer_key_of(dim_customer: pl.DataFrame, source_customer_id: str) -> str:
    return dim_customer.filter(pl.col("source_customer_id") == source_customer_id)["customer_key"].item()


def product_key_of(dim_product: pl.DataFrame, sku: str) -> str:
    return dim_product.filter(pl.col("sku") == sku)["product_key"].item()


# --- keys -------------------------------------------------------------------------------------


def test_surrogate_key_is_deterministic_and_distinguishes_inputs() -> None:
    df = pl.DataFrame({"a": ["x", "x", "x|y", None, ""], "b": ["y", "z", None, "y", "y"]})
    first = df.select(surrogate_key(pl.col("a"), pl.col("b")))["a"].to_list()
    second = df.select(surrogate_key(pl.col("a"), pl.col("b")))["a"].to_list()
    assert first == second
    assert len(set(first)) == len(first)  # separators and nulls do not make different keys collide
    assert first[0] == surrogate_key_value("x", "y")
    assert all(len(k) == 32 for k in first)


def test_keys_are_stable_across_processes(dim_customer: pl.DataFrame, dim_product: pl.DataFrame) -> None:
    script = (
        "from sales360_assets_tests.test_core_transforms import *\n"
        "d = build_dim_customer(customers(), accounts(), contacts())\n"
        "p = build_dim_product(products(), crm_products())\n"
        "print(','.join(sorted(d['customer_key'].to_list() + p['product_key'].to_list())))\n"
    )
    root = Path(__file__).resolve().parent.parent
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True, cwd=root)
    here = sorted(dim_customer["customer_key"].to_list() + dim_product["product_key"].to_list())
    assert result.stdout.strip().split(",") == here


def test_dimension_rebuilds_give_identical_keys() -> None:
    assert build_dim_customer(customers(), accounts(), contacts()).equals(
        build_dim_customer(customers(), accounts(), contacts())
    )
    reps = build_dim_sales_rep(users())
    assert reps.equals(build_dim_sales_rep(users()))


# --- dimensions -------------------------------------------------------------------------------


def test_dim_date_calendar_and_holidays() -> None:
    dim = build_dim_date(date(2023, 11, 20), date(2024, 12, 31))
    assert dim.height == (date(2024, 12, 31) - date(2023, 11, 20)).days + 1
    assert dim["date"].is_unique().all()
    by_date = {row["date"]: row for row in dim.to_dicts()}
    # US Thanksgiving was 23 Nov 2023 and 28 Nov 2024.
    assert by_date[date(2023, 11, 24)]["holiday_name"] == "Black Friday"
    assert by_date[date(2024, 11, 29)]["holiday_name"] == "Black Friday"
    assert dim.filter(pl.col("holiday_name") == "Black Friday").height == 2
    new_year = by_date[date(2024, 1, 1)]
    assert (new_year["is_holiday"], new_year["holiday_name"]) == (True, "New Year's Day")
    assert (new_year["day_of_week"], new_year["day_name"], new_year["is_weekend"]) == (1, "Monday", False)
    assert by_date[date(2024, 12, 26)]["holiday_name"] == "Boxing Day"
    saturday = by_date[date(2024, 3, 9)]
    assert (saturday["day_of_week"], saturday["is_weekend"], saturday["is_holiday"]) == (6, True, False)
    assert saturday["holiday_name"] is None
    leap = by_date[date(2024, 2, 29)]
    assert (leap["year"], leap["quarter"], leap["month"], leap["month_name"]) == (2024, 1, 2, "February")
    assert leap["first_day_of_month"] == date(2024, 2, 1)
    assert by_date[date(2024, 12, 30)]["iso_week"] == 1


def test_dim_region_lists_countries_and_active_territories() -> None:
    dim = build_dim_region(users())
    assert dim["region"].to_list() == ["apac", "emea", "na", "uk"]
    rows = {r["region"]: r for r in dim.to_dicts()}
    assert rows["na"]["countries"] == "US, CA"
    assert rows["na"]["currency"] == "USD"
    assert rows["na"]["territories"] == "West"  # U4's "East" is a deleted user
    assert rows["emea"]["territories"] == "DACH"
    assert rows["uk"]["territories"] is None  # its only rep is inactive


def test_dim_product_conforms_crm_and_has_unknown_member(dim_product: pl.DataFrame) -> None:
    assert dim_product["product_key"].is_unique().all()
    assert dim_product["product_key"].null_count() == 0
    assert sorted(dim_product["sku"].drop_nulls().to_list()) == ["SKU-1", "SKU-2", "SKU-CRM"]  # SKU-DEL is deleted
    widget = dim_product.filter(pl.col("sku") == "SKU-1").row(0, named=True)
    assert (widget["product_name"], widget["crm_family"], widget["in_catalogue"]) == ("Widget", "Devices", True)
    crm_only = dim_product.filter(pl.col("sku") == "SKU-CRM").row(0, named=True)
    assert (crm_only["category"], crm_only["subcategory"]) == ("Unmapped", "Unmapped (CRM only)")
    assert (crm_only["product_name"], crm_only["in_catalogue"], crm_only["is_unknown_member"]) == (
        "Onboarding",
        False,
        False,
    )
    unknown = dim_product.filter(pl.col("is_unknown_member")).to_dicts()
    assert len(unknown) == 1
    assert unknown[0]["product_key"] == UNMAPPED_PRODUCT_KEY
    assert (unknown[0]["sku"], unknown[0]["product_name"], unknown[0]["category"]) == (
        None,
        "Unmapped product",
        "Unmapped",
    )


def test_dim_customer_merges_shared_emails_and_has_unknown_members(dim_customer: pl.DataFrame) -> None:
    assert dim_customer["customer_key"].is_unique().all()
    assert dim_customer["email_normalized"].drop_nulls().is_unique().all()
    web = dim_customer.filter(pl.col("customer_source") == "web")
    assert web.height == 2
    ann = web.filter(pl.col("email_normalized") == "ann@example.com").row(0, named=True)
    assert ann["source_customer_id"] == "C1"
    assert ann["source_customer_ids"] == ["C1", "C2"]
    assert (ann["customer_name"], ann["segment"], ann["region"]) == ("Ann Lee", "Consumer", "na")
    assert ann["first_seen_at"] == ts(2022, 5, 1)
    bo = web.filter(pl.col("source_customer_id") == "C3").row(0, named=True)
    assert bo["customer_key"] == surrogate_key_value("web", "C3")
    assert (bo["region"], bo["email_normalized"]) == ("emea", None)

    crm = dim_customer.filter(pl.col("customer_source") == "crm")
    assert sorted(crm["source_customer_id"].to_list()) == ["A1", "A3"]  # A2 is deleted
    assert set(crm["segment"]) == {"Enterprise"}
    globex = crm.filter(pl.col("source_customer_id") == "A3").row(0, named=True)
    assert globex["customer_key"] == surrogate_key_value("account", "A3")
    assert (globex["customer_name"], globex["country"], globex["region"]) == ("Globex", "GB", "uk")
    assert globex["first_seen_at"] == ts(2021, 3, 1)

    unknown = dim_customer.filter(pl.col("is_unknown_member"))
    assert set(unknown["customer_key"]) == {UNIDENTIFIED_IN_STORE_CUSTOMER_KEY, UNKNOWN_CUSTOMER_KEY}
    assert set(unknown["customer_name"]) == {"Unidentified in-store customer", "Unknown customer"}
    assert set(unknown["customer_source"]) == {"unknown"}


def test_dim_sales_rep_has_managers_and_no_sales_rep_member() -> None:
    dim = build_dim_sales_rep(users())
    assert dim["sales_rep_key"].is_unique().all()
    assert sorted(dim["user_id"].drop_nulls().to_list()) == ["U1", "U2", "U3"]
    rita = dim.filter(pl.col("user_id") == "U1").row(0, named=True)
    assert (rita["manager_name"], rita["territory"], rita["region"]) == ("Mia Manager", "West", "na")
    unknown = dim.filter(pl.col("is_unknown_member")).to_dicts()
    assert [(u["sales_rep_key"], u["name"]) for u in unknown] == [(NO_SALES_REP_KEY, "No sales rep")]


# --- fact_sales -------------------------------------------------------------------------------


def test_fact_sales_lines_and_keys_are_complete(
    fact: pl.DataFrame, dim_customer: pl.DataFrame, dim_product: pl.DataFrame
) -> None:
    assert sorted(fact["sales_line_id"].to_list()) == sorted(
        [
            "web:O1:1",
            "web:O1:2",
            "web:O3:1",
            "web:O6:1",
            "pos:T1:1",
            "pos:T1:2",
            "pos:T2:1",
            "pos:T3:1",
            "crm:LI1",
            "crm:LI2",
            "crm:LI9",
            "crm:LI10",
        ]
    )
    assert fact["sales_line_id"].is_unique().all()
    for column in ("customer_key", "product_key", "sales_rep_key", "date", "region", "net_amount_usd"):
        assert fact[column].null_count() == 0, column
    assert fact["customer_key"].is_in(dim_customer["customer_key"].implode()).all()
    assert fact["product_key"].is_in(dim_product["product_key"].implode()).all()
    assert fact["sales_rep_key"].is_in(build_dim_sales_rep(users())["sales_rep_key"].implode()).all()
    assert fact.filter(pl.col("date").is_between(START, END).not_() | pl.col("region").is_in(REGIONS).not_()).is_empty()


def test_cancelled_web_orders_are_not_sales(fact: pl.DataFrame) -> None:
    assert fact.filter(pl.col("order_id") == "O2").is_empty()


def test_web_lines_map_to_the_merged_customer(fact: pl.DataFrame, dim_customer: pl.DataFrame) -> None:
    first = line(fact, "web:O1:1")
    assert first["customer_key"] == customer_key_of(dim_customer, "C1")  # ordered as C2, merged into C1
    assert first["customer_ref"] == "C2"
    assert first["sales_rep_key"] == NO_SALES_REP_KEY
    assert first["store_id"] is None
    assert line(fact, "web:O6:1")["customer_key"] == UNKNOWN_CUSTOMER_KEY


def test_crm_deals_counted_once(fact: pl.DataFrame, dim_customer: pl.DataFrame) -> None:
    crm = fact.filter(pl.col("channel") == "crm")
    # OP2 was fulfilled as web order O1; OP3 lost, OP4 open, OP5 deleted, OP6 closed in April, LI3 deleted.
    assert sorted(crm["order_id"].unique().to_list()) == ["OP1", "OP7", "OP8"]
    li1 = line(fact, "crm:LI1")
    assert li1["customer_key"] == customer_key_of(dim_customer, "A1")
    assert li1["customer_ref"] == "A1"
    assert (
        li1["sales_rep_key"] == build_dim_sales_rep(users()).filter(pl.col("user_id") == "U1")["sales_rep_key"].item()
    )
    assert (li1["date"], li1["region"], li1["line_number"]) == (DAY, "na", None)
    assert (li1["quantity"], li1["gross_amount_local"], li1["discount_amount_local"], li1["net_amount_local"]) == (
        3.0,
        300.0,
        30.0,
        270.0,
    )
    assert li1["net_amount_usd"] == 270.0
    op7 = line(fact, "crm:LI9")
    assert (op7["sales_rep_key"], op7["region"]) == (NO_SALES_REP_KEY, "uk")
    assert op7["customer_key"] == customer_key_of(dim_customer, "A3")
    assert line(fact, "crm:LI10")["customer_key"] == UNKNOWN_CUSTOMER_KEY


def test_won_deal_with_neither_owner_nor_account_region_is_booked_in_its_currency_region(
    dim_customer: pl.DataFrame, dim_product: pl.DataFrame
) -> None:
    """Owner and account both gone from the CRM: the deal's currency names the booking region."""
    orphan = (
        opportunities()
        .filter(pl.col("opportunity_id") == "OP1")
        .with_columns(
            pl.lit("OPX").alias("opportunity_id"),
            pl.lit("U-GONE").alias("owner_id"),
            pl.lit("ACC-GONE").alias("account_id"),
            pl.lit("EUR").alias("currency"),
        )
    )
    orphan_line = (
        opportunity_lines()
        .filter(pl.col("line_item_id") == "LI1")
        .with_columns(pl.lit("LIX").alias("line_item_id"), pl.lit("OPX").alias("opportunity_id"))
    )
    fact = build_fact_sales(
        web_lines(),
        pos_lines(),
        pl.concat([opportunities(), orphan]),
        pl.concat([opportunity_lines(), orphan_line]),
        build_dim_sales_rep(users()),
        dim_customer,
        dim_product,
        START,
        END,
        REGIONS,
    )
    booked = line(fact, "crm:LIX")
    assert (booked["region"], booked["sales_rep_key"], booked["customer_key"]) == (
        "emea",
        NO_SALES_REP_KEY,
        UNKNOWN_CUSTOMER_KEY,
    )


def test_pos_customers_match_by_email_ignoring_case_and_whitespace(
    fact: pl.DataFrame, dim_customer: pl.DataFrame
) -> None:
    t1 = line(fact, "pos:T1:1")
    assert t1["customer_key"] == customer_key_of(dim_customer, "C1")
    assert (t1["customer_ref"], t1["store_id"], t1["order_id"], t1["line_number"]) == ("L1", "S1", "T1", 1)
    anonymous = line(fact, "pos:T2:1")
    assert (anonymous["customer_key"], anonymous["customer_ref"]) == (UNIDENTIFIED_IN_STORE_CUSTOMER_KEY, "L9")
    stranger = line(fact, "pos:T3:1")
    assert (stranger["customer_key"], stranger["customer_ref"]) == (UNIDENTIFIED_IN_STORE_CUSTOMER_KEY, None)


def test_unmapped_skus_get_the_unmapped_product_and_keep_their_sku(
    fact: pl.DataFrame, dim_product: pl.DataFrame
) -> None:
    pos = line(fact, "pos:T1:2")
    assert (pos["product_key"], pos["sku"], pos["is_unmapped_product"]) == (UNMAPPED_PRODUCT_KEY, "SKU-XYZ", True)
    assert (pos["unit_cost_usd"], pos["cost_usd"], pos["gross_margin_usd"]) == (None, 0.0, pos["net_amount_usd"])
    crm = line(fact, "crm:LI9")
    assert (crm["product_key"], crm["sku"], crm["is_unmapped_product"]) == (UNMAPPED_PRODUCT_KEY, "SKU-NOWHERE", True)
    crm_only = line(fact, "crm:LI2")
    assert crm_only["product_key"] == product_key_of(dim_product, "SKU-CRM")
    assert (crm_only["is_unmapped_product"], crm_only["cost_usd"]) == (True, 0.0)
    mapped = line(fact, "web:O1:1")
    assert mapped["product_key"] == product_key_of(dim_product, "SKU-1")
    assert (mapped["is_unmapped_product"], mapped["unit_cost_usd"], mapped["cost_usd"]) == (False, 4.0, 8.0)
    assert mapped["gross_margin_usd"] == pytest.approx(20.0 - 8.0)


def test_amounts_keep_original_currency_rate_and_rate_date(fact: pl.DataFrame) -> None:
    eur = line(fact, "web:O3:1")
    assert (eur["currency"], eur["fx_rate"], eur["fx_rate_date"]) == ("EUR", 1.1, date(2024, 3, 4))
    assert (eur["unit_price_local"], eur["gross_amount_local"], eur["net_amount_local"]) == (10.0, 50.0, 50.0)
    assert eur["net_amount_usd"] == pytest.approx(55.0)
    gbp = line(fact, "pos:T2:1")
    assert (gbp["currency"], gbp["fx_rate"], gbp["fx_rate_date"]) == ("GBP", 1.25, date(2024, 3, 4))
    assert (gbp["gross_amount_local"], gbp["discount_amount_local"], gbp["net_amount_local"]) == (16.0, 1.0, 15.0)
    assert gbp["net_amount_usd"] == pytest.approx(18.75)
    assert fact.schema["quantity"] == pl.Float64
    deviation = fact.select((pl.col("net_amount_local") * pl.col("fx_rate") - pl.col("net_amount_usd")).abs().max())
    assert deviation.item() < 1e-9


def test_fact_sales_handles_empty_inputs(dim_customer: pl.DataFrame, dim_product: pl.DataFrame) -> None:
    empty = build_fact_sales(
        web_lines().clear(),
        pos_lines().clear(),
        opportunities().clear(),
        opportunity_lines().clear(),
        build_dim_sales_rep(users()),
        dim_customer,
        dim_product,
        START,
        END,
        REGIONS,
    )
    assert empty.is_empty()
    assert empty.columns[:3] == ["sales_line_id", "channel", "date"]


# --- fact_opportunity -------------------------------------------------------------------------


def test_fact_opportunity(dim_customer: pl.DataFrame) -> None:
    fact = build_fact_opportunity(opportunities(), build_dim_sales_rep(users()), dim_customer)
    assert fact["opportunity_id"].to_list() == ["OP1", "OP2", "OP3", "OP4", "OP6", "OP7", "OP8"]  # OP5 is deleted
    rows = {r["opportunity_id"]: r for r in fact.to_dicts()}
    op1 = rows["OP1"]
    assert (op1["created_date"], op1["close_date"], op1["days_to_close"]) == (date(2024, 2, 5), DAY, 29)
    assert (op1["expected_amount_usd"], op1["campaign_id"], op1["region"]) == (1000.0, "CMP1", "na")
    assert op1["customer_key"] == customer_key_of(dim_customer, "A1")
    open_deal = rows["OP4"]
    assert (open_deal["days_to_close"], open_deal["expected_amount_usd"]) == (None, 600.0)
    assert rows["OP2"]["web_order_id"] == "O1"
    assert rows["OP8"]["web_order_id"] is None
    assert rows["OP7"]["sales_rep_key"] == NO_SALES_REP_KEY
    assert (rows["OP7"]["amount_local"], rows["OP7"]["currency"], rows["OP7"]["amount_usd"]) == (200.0, "GBP", 250.0)
