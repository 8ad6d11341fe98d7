"""Core conformed dimensions: date, region, product, customer, sales rep (type 2) and the account team bridge.

Keys
    Every dimension key is ``surrogate_key(namespace, natural key...)``: the MD5 hex digest of the
    parts joined with ``|`` (core/keys.py). Facts never hash: they pick keys up by joining natural
    keys to these dimensions, so a 10M-line fact partition pays nothing for it.

Unknown members
    Each dimension carries explicit unknown rows (``is_unknown_member``), and every fact row
    points at a real or an unknown member, never at null or at a key that is not in its dimension.

Tombstones
    Salesforce records with ``is_deleted`` are left out of every core table.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sales360_assets.core.column_rules import blank_to_null, live, region_of_country, valid_region
from sales360_assets.core.keys import (
    UNIDENTIFIED_IN_STORE_CUSTOMER_KEY,
    UNKNOWN_CUSTOMER_KEY,
    UNMAPPED_PRODUCT_KEY,
    surrogate_key,
)
from sales360_assets.core.scd import END_OF_TIME, build_rep_versions
from sales360_assets.core.schemas import (
    BRIDGE_ACCOUNT_TEAM_SCHEMA,
    CRM_ONLY_SUBCATEGORY,
    CRM_SEGMENT,
    DIM_CUSTOMER_SCHEMA,
    DIM_DATE_SCHEMA,
    DIM_PRODUCT_SCHEMA,
    DIM_REGION_SCHEMA,
    IN_STORE_UNIDENTIFIED_SEGMENT,
    UNMAPPED_CATEGORY,
)
from sales360_assets.frames import conform
from sales360_assets.settings import REGIONS
from sales360_assets.staging.warehouse import CATALOGUE_COLUMNS

# --- dim_date ---------------------------------------------------------------------------------


def build_dim_date(start: date, end: date) -> pl.DataFrame:
    """One row per calendar day in [start, end].

    Holidays are a deliberately small, global list — 1 Jan (New Year's Day), 25 Dec (Christmas
    Day), 26 Dec (Boxing Day) and US Black Friday (the day after the 4th Thursday of November) —
    enough to explain the big trading spikes; they are not per-region public holiday calendars.
    """
    day = pl.col("date")
    month, dom = day.dt.month(), day.dt.day()
    # The 4th Thursday of November falls on the 22nd–28th, so Black Friday is the only Friday
    # between the 23rd and the 29th.
    holiday_name = (
        pl.when((month == 1) & (dom == 1))
        .then(pl.lit("New Year's Day"))
        .when((month == 12) & (dom == 25))
        .then(pl.lit("Christmas Day"))
        .when((month == 12) & (dom == 26))
        .then(pl.lit("Boxing Day"))
        .when((month == 11) & (day.dt.weekday() == 5) & dom.is_between(23, 29))
        .then(pl.lit("Black Friday"))
    )
    frame = pl.DataFrame({"date": pl.date_range(start, end, "1d", eager=True)}).with_columns(
        day.dt.year().alias("year"),
        day.dt.quarter().alias("quarter"),
        month.alias("month"),
        day.dt.strftime("%B").alias("month_name"),
        day.dt.week().alias("iso_week"),
        day.dt.weekday().alias("day_of_week"),
        day.dt.strftime("%A").alias("day_name"),
        (day.dt.weekday() >= 6).alias("is_weekend"),
        holiday_name.is_not_null().alias("is_holiday"),
        holiday_name.alias("holiday_name"),
        day.dt.month_start().alias("first_day_of_month"),
    )
    return conform(frame, DIM_DATE_SCHEMA)


# --- dim_region -------------------------------------------------------------------------------


def build_dim_region(users: pl.DataFrame) -> pl.DataFrame:
    """One row per region in settings.REGIONS, with the territories its active reps cover."""
    regions = pl.DataFrame(
        {
            "region": [r.code for r in REGIONS.values()],
            "region_name": [r.name for r in REGIONS.values()],
            "currency": [r.currency for r in REGIONS.values()],
            "countries": [", ".join(r.countries) for r in REGIONS.values()],
        }
    )
    territories = (
        live(users)
        .filter(pl.col("is_active").fill_null(False))
        .select("region", blank_to_null(pl.col("territory")).alias("territory"))
        .drop_nulls()
        .group_by("region")
        .agg(pl.col("territory").unique().sort().str.join(", ").alias("territories"))
    )
    frame = regions.join(territories, on="region", how="left").sort("region")
    return conform(frame, DIM_REGION_SCHEMA)


# --- dim_product ------------------------------------------------------------------------------


def build_dim_product(products: pl.DataFrame, crm_products: pl.DataFrame) -> pl.DataFrame:
    """Products conformed on SKU (warehouse ``sku`` = Salesforce ``ProductCode``).

    The warehouse catalogue is the master for names, categories and costs. SKUs only the CRM
    sells get a row too (category "Unmapped", subcategory "Unmapped (CRM only)", no cost) so
    their deals have a real product; they are the catalogue gap to close.
    """
    catalogue = products.select(*CATALOGUE_COLUMNS, pl.lit(True).alias("in_catalogue"))
    # Several Product2 records can share a ProductCode; the active, most recently modified wins.
    crm = (
        live(crm_products)
        .filter(pl.col("sku").is_not_null())
        .sort(["is_active", "system_modstamp"], descending=True, nulls_last=True)
        .unique(subset="sku", keep="first", maintain_order=True)
        .select(
            "sku",
            pl.col("product_name").alias("crm_product_name"),
            pl.col("family").alias("crm_family"),
            pl.lit(True).alias("in_crm"),
        )
    )
    joined = catalogue.join(crm, on="sku", how="full", coalesce=True)
    in_catalogue = pl.col("in_catalogue").fill_null(False)
    real = joined.select(
        surrogate_key(pl.lit("product"), pl.col("sku")).alias("product_key"),
        "sku",
        pl.coalesce("product_name", "crm_product_name").alias("product_name"),
        pl.when(in_catalogue).then(pl.col("category")).otherwise(pl.lit(UNMAPPED_CATEGORY)).alias("category"),
        pl.when(in_catalogue).then(pl.col("subcategory")).otherwise(pl.lit(CRM_ONLY_SUBCATEGORY)).alias("subcategory"),
        "brand",
        "list_price_usd",
        "standard_cost_usd",
        "crm_family",
        pl.coalesce(
            blank_to_null(pl.col("crm_family")),
            pl.when(in_catalogue).then(pl.col("category")),
            pl.lit(UNMAPPED_CATEGORY),
        ).alias("product_family"),
        in_catalogue.alias("in_catalogue"),
        pl.col("in_crm").fill_null(False),
        pl.lit(False).alias("is_unknown_member"),
    )
    unknown = pl.DataFrame(
        [
            {
                "product_key": UNMAPPED_PRODUCT_KEY,
                "product_name": "Unmapped product",
                "category": UNMAPPED_CATEGORY,
                "subcategory": UNMAPPED_CATEGORY,
                "product_family": UNMAPPED_CATEGORY,
                "in_catalogue": False,
                "in_crm": False,
                "is_unknown_member": True,
            }
        ],
        schema=DIM_PRODUCT_SCHEMA,
    )
    return pl.concat([conform(real.sort("sku"), DIM_PRODUCT_SCHEMA), unknown])


# --- dim_customer -----------------------------------------------------------------------------


def _web_customers(customers: pl.DataFrame) -> pl.DataFrame:
    email = blank_to_null(pl.col("email_normalized")).str.to_lowercase()
    name = blank_to_null(pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True))
    keyed = customers.with_columns(email.alias("email_normalized")).with_columns(
        surrogate_key(
            pl.when(pl.col("email_normalized").is_not_null()).then(pl.lit("email")).otherwise(pl.lit("web")),
            pl.coalesce("email_normalized", "customer_id"),
        ).alias("customer_key"),
        name.alias("customer_name"),
    )
    # Crude identity conformance: web customers sharing a normalized email are one person. The
    # most recently updated record survives (freshest name, segment, country); first_seen_at is
    # the earliest creation among all of them and every merged id stays in source_customer_ids.
    # Real record linkage (fuzzy names, phones, CRM contacts) is a later piece of work.
    survivors_first = keyed.sort(["updated_at", "customer_id"], descending=True, nulls_last=True)
    merged = survivors_first.group_by("customer_key", maintain_order=True).agg(
        pl.col("customer_id").first().alias("source_customer_id"),
        pl.col("customer_id").sort().alias("source_customer_ids"),
        pl.col("customer_name", "email_normalized", "segment", "country").first(),
        pl.col("created_at").min().alias("first_seen_at"),
    )
    return merged.with_columns(
        pl.lit("web").alias("customer_source"),
        region_of_country(pl.col("country")).alias("region"),
        pl.lit(False).alias("is_unknown_member"),
    )


def _crm_customers(accounts: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    # Contacts say where and since when an account is known when the account record itself is
    # thin: the most common mailing country fills a missing billing country, and a contact
    # created before its account moves first_seen_at back.
    per_account = (
        live(contacts)
        .filter(pl.col("account_id").is_not_null())
        .group_by("account_id")
        .agg(
            blank_to_null(pl.col("mailing_country")).drop_nulls().mode().sort().first().alias("contact_country"),
            pl.col("created_at").min().alias("first_contact_at"),
        )
    )
    joined = live(accounts).join(per_account, on="account_id", how="left")
    country = pl.coalesce(blank_to_null(pl.col("billing_country")), pl.col("contact_country"))
    return joined.select(
        surrogate_key(pl.lit("account"), pl.col("account_id")).alias("customer_key"),
        pl.lit("crm").alias("customer_source"),
        pl.col("account_id").alias("source_customer_id"),
        pl.concat_list(pl.col("account_id")).alias("source_customer_ids"),
        pl.col("account_name").alias("customer_name"),
        # Accounts are organisations; their people's emails stay with contacts so that an email
        # never matches two customers when POS lines are matched by email.
        pl.lit(None, dtype=pl.String).alias("email_normalized"),
        pl.lit(CRM_SEGMENT).alias("segment"),
        country.alias("country"),
        pl.coalesce(valid_region(pl.col("region")), region_of_country(country)).alias("region"),
        pl.min_horizontal("created_at", "first_contact_at").alias("first_seen_at"),
        pl.lit(False).alias("is_unknown_member"),
    )


def build_dim_customer(customers: pl.DataFrame, accounts: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    """Web customers, CRM accounts (B2B, segment "Enterprise") and the unknown members.

    Web key: the normalized email when there is one (so the same shopper in store, identified by
    email on the receipt, lands on the same customer), else ``web|customer_id``. CRM key:
    ``account|account_id``. One row per customer_key.
    """
    unknown = pl.DataFrame(
        [
            {
                "customer_key": UNIDENTIFIED_IN_STORE_CUSTOMER_KEY,
                "customer_source": "unknown",
                "source_customer_ids": [],
                "customer_name": "Unidentified in-store customer",
                "segment": IN_STORE_UNIDENTIFIED_SEGMENT,
                "is_unknown_member": True,
            },
            {
                "customer_key": UNKNOWN_CUSTOMER_KEY,
                "customer_source": "unknown",
                "source_customer_ids": [],
                "customer_name": "Unknown customer",
                "segment": "Unknown",
                "is_unknown_member": True,
            },
        ],
        schema=DIM_CUSTOMER_SCHEMA,
    )
    web = conform(_web_customers(customers), DIM_CUSTOMER_SCHEMA).sort("source_customer_id")
    crm = conform(_crm_customers(accounts, contacts), DIM_CUSTOMER_SCHEMA).sort("source_customer_id")
    return pl.concat([web, crm, unknown])


# --- dim_sales_rep ----------------------------------------------------------------------------


def build_dim_sales_rep(users: pl.DataFrame) -> pl.DataFrame:
    """Sales reps as a type 2 slowly changing dimension, plus the "No sales rep" member.

    ``users`` are staged User record versions (the history, or just the latest version per user):
    one row per rep and assignment period (title, region, territory, manager), valid from
    ``valid_from`` (inclusive) to ``valid_to`` (exclusive). Inactive reps stay: their historical
    deals still need a rep. See core/scd.py for the rules.
    """
    return build_rep_versions(users)


# --- bridge: accounts × sales team members ------------------------------------------------------


def build_bridge_account_team(team_members: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Who shares the credit of each account, period by period (many-to-many accounts × reps).

    Each account's timeline is cut wherever its team changes, so within one row's
    ``[valid_from, valid_to)`` the team is constant and its ``credit_split_pct`` values sum to
    ``period_split_total_pct`` — 100 when the source is consistent (``is_balanced``). An
    open-ended membership (no Effective_To__c) runs to the end of time; Effective_To__c is an
    inclusive date in Salesforce, so the exclusive end is the day after.
    """
    members = live(team_members).select(
        "account_id",
        "user_id",
        "account_team_member_id",
        "team_member_role",
        "credit_split_pct",
        pl.col("effective_from").alias("_from"),
        (pl.col("effective_to") + pl.duration(days=1)).fill_null(END_OF_TIME).alias("_to"),
    )
    bounds = (
        pl.concat(
            [
                members.select("account_id", pl.col("_from").alias("valid_from")),
                members.select("account_id", pl.col("_to").alias("valid_from")),
            ]
        )
        .unique()
        .sort("account_id", "valid_from")
        .with_columns(pl.col("valid_from").shift(-1).over("account_id").alias("valid_to"))
        .drop_nulls("valid_to")
    )
    accounts = dim_customer.filter(pl.col("customer_source") == "crm").select(
        pl.col("source_customer_id").alias("account_id"), "customer_key"
    )
    bridge = (
        members.join(bounds, on="account_id", how="inner")
        .filter(pl.col("_from") <= pl.col("valid_from"), pl.col("_to") >= pl.col("valid_to"))
        .with_columns(pl.col("credit_split_pct").sum().over("account_id", "valid_from").alias("period_split_total_pct"))
        .with_columns(((pl.col("period_split_total_pct") - 100.0).abs() < 1e-6).alias("is_balanced"))
        .join(accounts, on="account_id", how="left")
        .with_columns(pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)))
    )
    return conform(bridge, BRIDGE_ACCOUNT_TEAM_SCHEMA).sort("account_id", "valid_from", "user_id")
