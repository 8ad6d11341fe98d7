"""Core star schema: conformed dimensions and cross-channel facts. Pure Polars, no I/O.

Keys
    Every dimension key is ``surrogate_key(namespace, natural key...)``: the MD5 hex digest of the
    parts joined with ``|``. Facts never hash: they pick keys up by joining natural keys to the
    dimensions (or to the small users table), so a 10M-line fact partition pays nothing for it.

Unknown members
    Each dimension carries explicit unknown rows (``is_unknown_member``), and every fact row
    points at a real or an unknown member, never at null or at a key that is not in its dimension.

Tombstones
    Salesforce records with ``is_deleted`` are left out of every core table.
"""

from __future__ import annotations

from datetime import date

import polars as pl

# Keys are re-exported here: every layer imports them from the core transforms.
from sales360_assets.core.funnel import CANCELLED_STAGE, FUNNEL_BY_NAME, LOST_STAGE, WON_STAGE, map_stages
from sales360_assets.core.keys import NO_SALES_REP_KEY as NO_SALES_REP_KEY
from sales360_assets.core.keys import UNIDENTIFIED_IN_STORE_CUSTOMER_KEY as UNIDENTIFIED_IN_STORE_CUSTOMER_KEY
from sales360_assets.core.keys import UNKNOWN_CUSTOMER_KEY as UNKNOWN_CUSTOMER_KEY
from sales360_assets.core.keys import UNMAPPED_PRODUCT_KEY as UNMAPPED_PRODUCT_KEY
from sales360_assets.core.keys import surrogate_key as surrogate_key
from sales360_assets.core.keys import surrogate_key_value as surrogate_key_value
from sales360_assets.core.product_cost import cost_on_sale_date
from sales360_assets.core.scd import (
    BEGINNING_OF_TIME,
    END_OF_TIME,
    REP_VERSION_SCHEMA,
    attribute_to_version,
    build_rep_versions,
)
from sales360_assets.money import LOCAL_AMOUNT
from sales360_assets.settings import REGION_BY_CURRENCY, REGION_CODES, REGIONS

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
FUNNEL_ORDER = {name: stage.order for name, stage in FUNNEL_BY_NAME.items()}

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


def _conform(frame: pl.DataFrame, schema: dict[str, pl.DataType]) -> pl.DataFrame:
    """Exactly the schema's columns, in order and type, so empty inputs still write a typed table."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in schema.items()])


def _live(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.filter(~pl.col("is_deleted").fill_null(False))


def _blank_to_null(expr: pl.Expr) -> pl.Expr:
    stripped = expr.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def _valid_region(expr: pl.Expr) -> pl.Expr:
    # Source region codes outside settings.REGIONS would not join dim_region; treat them as unknown.
    return pl.when(expr.is_in(REGION_CODES)).then(expr)


def _region_of_country(expr: pl.Expr) -> pl.Expr:
    return expr.str.strip_chars().str.to_uppercase().replace_strict(COUNTRY_TO_REGION, default=None)


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
    return _conform(frame, DIM_DATE_SCHEMA)


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
        _live(users)
        .filter(pl.col("is_active").fill_null(False))
        .select("region", _blank_to_null(pl.col("territory")).alias("territory"))
        .drop_nulls()
        .group_by("region")
        .agg(pl.col("territory").unique().sort().str.join(", ").alias("territories"))
    )
    frame = regions.join(territories, on="region", how="left").sort("region")
    return _conform(frame, DIM_REGION_SCHEMA)


# --- dim_product ------------------------------------------------------------------------------


def build_dim_product(products: pl.DataFrame, crm_products: pl.DataFrame) -> pl.DataFrame:
    """Products conformed on SKU (warehouse ``sku`` = Salesforce ``ProductCode``).

    The warehouse catalogue is the master for names, categories and costs. SKUs only the CRM
    sells get a row too (category "Unmapped", subcategory "Unmapped (CRM only)", no cost) so
    their deals have a real product; they are the catalogue gap to close.
    """
    catalogue = products.select(
        "sku",
        "product_name",
        "category",
        "subcategory",
        "brand",
        "list_price_usd",
        "standard_cost_usd",
        pl.lit(True).alias("in_catalogue"),
    )
    # Several Product2 records can share a ProductCode; the active, most recently modified wins.
    crm = (
        _live(crm_products)
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
            _blank_to_null(pl.col("crm_family")),
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
    return pl.concat([_conform(real.sort("sku"), DIM_PRODUCT_SCHEMA), unknown])


# --- dim_customer -----------------------------------------------------------------------------


def _web_customers(customers: pl.DataFrame) -> pl.DataFrame:
    email = _blank_to_null(pl.col("email_normalized")).str.to_lowercase()
    name = _blank_to_null(pl.concat_str(["first_name", "last_name"], separator=" ", ignore_nulls=True))
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
        _region_of_country(pl.col("country")).alias("region"),
        pl.lit(False).alias("is_unknown_member"),
    )


def _crm_customers(accounts: pl.DataFrame, contacts: pl.DataFrame) -> pl.DataFrame:
    # Contacts say where and since when an account is known when the account record itself is
    # thin: the most common mailing country fills a missing billing country, and a contact
    # created before its account moves first_seen_at back.
    per_account = (
        _live(contacts)
        .filter(pl.col("account_id").is_not_null())
        .group_by("account_id")
        .agg(
            _blank_to_null(pl.col("mailing_country")).drop_nulls().mode().sort().first().alias("contact_country"),
            pl.col("created_at").min().alias("first_contact_at"),
        )
    )
    joined = _live(accounts).join(per_account, on="account_id", how="left")
    country = pl.coalesce(_blank_to_null(pl.col("billing_country")), pl.col("contact_country"))
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
        pl.coalesce(_valid_region(pl.col("region")), _region_of_country(country)).alias("region"),
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
    web = _conform(_web_customers(customers), DIM_CUSTOMER_SCHEMA).sort("source_customer_id")
    crm = _conform(_crm_customers(accounts, contacts), DIM_CUSTOMER_SCHEMA).sort("source_customer_id")
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
    members = _live(team_members).select(
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
    return _conform(bridge, BRIDGE_ACCOUNT_TEAM_SCHEMA).sort("account_id", "valid_from", "user_id")


# --- facts ------------------------------------------------------------------------------------


def _attach_product(
    lines: pl.DataFrame, dim_product: pl.DataFrame, product_costs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Product key, mapping flag and ``_unit_cost``: the cost valid on the line's date (``dim_product_cost``).

    Without ``product_costs`` (unit tests of other rules) each SKU's current cost applies to every date.
    """
    products = dim_product.filter(~pl.col("is_unknown_member")).select(
        "sku", "product_key", pl.col("in_catalogue").alias("_mapped")
    )
    if product_costs is None:
        product_costs = dim_product.filter(pl.col("in_catalogue")).select(
            "sku", pl.lit(BEGINNING_OF_TIME).alias("valid_from"), "standard_cost_usd"
        )
    costed = cost_on_sale_date(lines, product_costs)
    return (
        costed.join(products, on="sku", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("product_key").fill_null(pl.lit(UNMAPPED_PRODUCT_KEY)),
            # CRM-only SKUs have a product row but no catalogue cost: unmapped for costing too, as
            # is a catalogue product whose cost is unknown on the sale date (its margin would read 100 %).
            (~pl.col("_mapped").fill_null(False) | pl.col("_unit_cost").is_null()).alias("is_unmapped_product"),
        )
        .drop("_mapped")
    )


def _live_changes(stage_history: pl.DataFrame) -> pl.DataFrame:
    """Stage changes the org still holds (a history row deleted in Salesforce proves nothing)."""
    if "is_deleted" not in stage_history.columns:
        return stage_history
    return stage_history.filter(~pl.col("is_deleted").fill_null(False))


def _first_cancellation(deals: pl.DataFrame, stage_history: pl.DataFrame) -> pl.DataFrame:
    """(opportunity_id, _history_cancelled): the UTC date of each deal's first change to the Cancelled stage.

    Stage names are mapped in the deal's region vocabulary, like the deal's current stage. The
    first change wins: a deal cancelled, reopened and cancelled again was cancelled the first time
    (that is when the clawback window was measured from).
    """
    changes = _live_changes(stage_history).select("opportunity_id", "stage_name", "changed_at")
    mapped = map_stages(changes.join(deals.select("opportunity_id", "region"), on="opportunity_id", how="inner"))
    return (
        mapped.filter(pl.col("funnel_stage") == CANCELLED_STAGE)
        .group_by("opportunity_id")
        .agg(pl.col("changed_at").min().dt.convert_time_zone("UTC").dt.date().alias("_history_cancelled"))
    )


def _crm_attribution(
    opportunities: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    on_date: pl.Expr,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Live opportunities with customer_key, sales_rep_key, region and funnel stage.

    The rep is the owner's assignment valid on ``on_date`` (null: the current one), so a deal
    counts for the territory and manager the owner had when it closed. Region is that
    assignment's region; when the owner is unknown or has none, the account's region, so that a
    deal is not silently dropped from every region partition. Stages map to the standard funnel
    by that region's vocabulary.

    A cancelled deal's ``cancelled_date`` is the first change to the Cancelled stage in
    ``stage_history`` (staged ``OpportunityHistory``), else ``Cancelled_Date__c``, else the day of
    the current version (``SystemModstamp``) — the last is a guess: any later edit of the deal
    moves it, which is why the history comes first when it is available.
    """
    versions = build_rep_versions(users)
    accounts = dim_customer.filter(pl.col("customer_source") == "crm").select(
        pl.col("source_customer_id").alias("account_id"), "customer_key", pl.col("region").alias("_account_region")
    )
    live = _live(opportunities)
    if "cancelled_date" not in live.columns:  # a source without the custom field
        live = live.with_columns(pl.lit(None, dtype=pl.Date).alias("cancelled_date"))
    attributed = attribute_to_version(
        live.with_columns(on_date.alias("_attributed_on")),
        versions,
        "owner_id",
        pl.col("_attributed_on"),
        ["sales_rep_key", pl.col("region").alias("_owner_region")],
    )
    deals = (
        attributed.join(accounts, on="account_id", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("sales_rep_key").fill_null(pl.lit(NO_SALES_REP_KEY)),
            pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)),
            # Owner's region, else the account's; when neither resolves (owner or account gone),
            # the deal's currency names the booking region, so a won deal never falls out of
            # every date × region partition unnoticed.
            pl.coalesce(
                _valid_region(pl.col("_owner_region")),
                "_account_region",
                pl.col("currency").replace_strict(REGION_BY_CURRENCY, default=None),
            ).alias("region"),
        )
        .drop("_owner_region", "_account_region", "_attributed_on")
    )
    deals = map_stages(deals, "region", "stage_name")
    if stage_history is not None:
        deals = deals.join(
            _first_cancellation(deals, stage_history), on="opportunity_id", how="left", maintain_order="left"
        )
    else:
        deals = deals.with_columns(pl.lit(None, dtype=pl.Date).alias("_history_cancelled"))
    cancelled = pl.col("funnel_stage") == CANCELLED_STAGE
    return deals.with_columns(
        cancelled.alias("is_cancelled"),
        pl.when(cancelled)
        .then(pl.coalesce("_history_cancelled", "cancelled_date", pl.col("system_modstamp").dt.date()))
        .alias("cancelled_date"),
        pl.when(pl.col("is_won").fill_null(False) | cancelled).then(pl.col("close_date")).alias("booking_date"),
    ).drop("_history_cancelled")


def _web_sales(web_lines: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    # Cancelled orders never became revenue; only completed orders are sales.
    completed = web_lines.filter(pl.col("order_status") == "completed")
    customer_keys = (
        dim_customer.filter(pl.col("customer_source") == "web")
        .select("customer_key", pl.col("source_customer_ids").alias("customer_id"))
        .explode("customer_id")
    )
    return completed.join(customer_keys, on="customer_id", how="left", validate="m:1", maintain_order="left").select(
        pl.concat_str([pl.lit("web"), "order_id", "line_number"], separator=":").alias("sales_line_id"),
        pl.lit("web").alias("channel"),
        "date",
        "region",
        "order_id",
        "line_number",
        pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)),
        pl.col("customer_id").alias("customer_ref"),
        "sku",
        pl.lit(NO_SALES_REP_KEY).alias("sales_rep_key"),
        pl.lit(None, dtype=pl.String).alias("store_id"),
        "quantity",
        pl.col("unit_price").alias("unit_price_local"),
        pl.col("gross_amount").alias("gross_amount_local"),
        pl.col("discount_amount").alias("discount_amount_local"),
        pl.col("net_amount").alias("net_amount_local"),
        "currency",
        "fx_rate",
        "fx_rate_date",
        "net_amount_usd",
    )


def _pos_sales(pos_lines: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    emails = dim_customer.filter(pl.col("email_normalized").is_not_null()).select(
        pl.col("email_normalized").alias("_email"), "customer_key"
    )
    return (
        pos_lines.with_columns(_blank_to_null(pl.col("customer_email")).str.to_lowercase().alias("_email"))
        .join(emails, on="_email", how="left", validate="m:1", maintain_order="left")
        .select(
            pl.concat_str([pl.lit("pos"), "transaction_id", "line_no"], separator=":").alias("sales_line_id"),
            pl.lit("pos").alias("channel"),
            "date",
            "region",
            pl.col("transaction_id").alias("order_id"),
            pl.col("line_no").alias("line_number"),
            pl.col("customer_key").fill_null(pl.lit(UNIDENTIFIED_IN_STORE_CUSTOMER_KEY)),
            pl.col("loyalty_id").alias("customer_ref"),
            "sku",
            pl.lit(NO_SALES_REP_KEY).alias("sales_rep_key"),
            "store_id",
            "quantity",
            pl.col("unit_price").alias("unit_price_local"),
            pl.col("gross_amount").alias("gross_amount_local"),
            pl.col("discount_amount").alias("discount_amount_local"),
            pl.col("net_amount").alias("net_amount_local"),
            "currency",
            "fx_rate",
            "fx_rate_date",
            "net_amount_usd",
        )
    )


def _booked_deals(
    opportunities: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Booked deals (won, or won and later cancelled), attributed to the owner's assignment on the close date."""
    return _crm_attribution(opportunities, users, dim_customer, pl.col("close_date"), stage_history).filter(
        pl.col("booking_date").is_not_null()
    )


def crm_sale_partitions(opportunities: pl.DataFrame, users: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """(opportunity_id, date, region) where each booked deal's lines sit in ``fact_sales`` (its close
    date, the owner's region on that date), whatever its status: the partitions a change to the deal
    touches. The same attribution ``_crm_sales`` uses, so a re-run lands where this says."""
    return _booked_deals(opportunities, users, dim_customer).select(
        "opportunity_id", pl.col("close_date").alias("date"), "region"
    )


def _crm_sales(
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    start: date,
    end: date,
    web_orders: pl.DataFrame | None = None,
) -> pl.DataFrame:
    web_order = _blank_to_null(pl.col("web_order_id"))
    fulfilled_online = web_order.is_not_null()
    if web_orders is not None:
        # Only a web order that exists is a web sale: a deal pointing at an order the warehouse
        # never had would otherwise vanish from every channel.
        fulfilled_online = fulfilled_online & web_order.is_in(web_orders["order_id"].implode())
    deals = (
        _booked_deals(opportunities, users, dim_customer)
        .filter(
            # Current state: a cancelled deal is no longer a sale (fact_booking_line keeps its history).
            ~pl.col("is_cancelled"),
            # A deal fulfilled as a web order is already a sale in the web channel.
            ~fulfilled_online,
            pl.col("close_date").is_between(start, end),
        )
        .select("opportunity_id", "account_id", "customer_key", "sales_rep_key", "region", "close_date")
    )
    gross = pl.col("quantity") * pl.col("unit_price")
    return (
        _live(opportunity_lines)
        .join(deals, on="opportunity_id", how="inner", validate="m:1", maintain_order="left")
        .select(
            pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":").alias("sales_line_id"),
            pl.lit("crm").alias("channel"),
            pl.col("close_date").alias("date"),
            "region",
            pl.col("opportunity_id").alias("order_id"),
            # Line items carry no line number; sales_line_id is their unique reference.
            pl.lit(None, dtype=pl.Int64).alias("line_number"),
            "customer_key",
            pl.col("account_id").alias("customer_ref"),
            "sku",
            "sales_rep_key",
            pl.lit(None, dtype=pl.String).alias("store_id"),
            "quantity",
            pl.col("unit_price").alias("unit_price_local"),
            # Salesforce's TotalPrice is quantity × unit price after the line discount, so the
            # difference to quantity × unit price is the discount.
            gross.alias("gross_amount_local"),
            (gross - pl.col("total_price")).alias("discount_amount_local"),
            pl.col("total_price").alias("net_amount_local"),
            "currency",
            "fx_rate",
            "fx_rate_date",
            pl.col("total_price_usd").alias("net_amount_usd"),
        )
    )


_PRODUCT_DERIVED_COLUMNS = frozenset(
    {"product_key", "unit_cost_usd", "cost_usd", "gross_margin_usd", "is_unmapped_product"}
)


def build_fact_sales(
    web_lines: pl.DataFrame,
    pos_lines: pl.DataFrame,
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    start: date,
    end: date,
    regions: list[str],
    web_orders: pl.DataFrame | None = None,
    product_costs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Sales at order-line grain across the web, POS and CRM channels, for dates [start, end] × regions.

    - web: lines of completed orders (cancelled orders are not sales).
    - pos: every staged line; the customer is the web customer with the receipt's email
      (case/whitespace-insensitive), else the "Unidentified in-store customer" member.
    - crm: line items of won, live deals closed in [start, end], dated on the close date and
      placed in the region of the owner's assignment on that date (``users`` may be the User
      record history: the rep dimension is type 2). Deals with a ``web_order_id`` are left out:
      they were fulfilled as a web order, which the web channel already counts — this is what
      keeps a B2B deal from being counted twice. With ``web_orders`` (``order_id`` of every
      staged web order, any date) only deals whose web order exists are left out; a deal pointing
      at an order that was never placed stays a CRM sale instead of vanishing. Like every
      CRM-derived row this is the deal's
      current state: a deal cancelled later leaves the partition when it is rebuilt, while
      ``fact_booking_line`` keeps the booking and the cancellation.

    Every amount keeps its original value, currency, FX rate and rate date next to the USD value.
    Cost is quantity × the catalogue standard cost valid on the sale's date (``product_costs``:
    ``dim_product_cost``, type 2); a product with no catalogue cost (unmapped or
    CRM-only SKU, ``is_unmapped_product``) costs 0 so that cost and margin stay additive — its
    margin is therefore overstated, which the flag makes visible. ``unit_cost_usd`` stays null
    for those lines, because the unit cost is unknown rather than zero.
    """
    channels = [
        _web_sales(web_lines, dim_customer),
        _pos_sales(pos_lines, dim_customer),
        _crm_sales(opportunities, opportunity_lines, users, dim_customer, start, end, web_orders),
    ]
    columns = [c for c in FACT_SALES_SCHEMA if c not in _PRODUCT_DERIVED_COLUMNS]
    lines = pl.concat(
        [frame.select([pl.col(c).cast(FACT_SALES_SCHEMA[c]) for c in columns]) for frame in channels]
    ).filter(
        # The caller writes exactly these partitions; anything else would land in the wrong one.
        pl.col("date").is_between(start, end),
        pl.col("region").is_in(regions),
    )
    cost = (pl.col("quantity") * pl.col("_unit_cost")).fill_null(0.0)
    fact = _attach_product(lines, dim_product, product_costs).with_columns(
        pl.col("_unit_cost").alias("unit_cost_usd"),
        cost.alias("cost_usd"),
        (pl.col("net_amount_usd") - cost).alias("gross_margin_usd"),
    )
    return _conform(fact, FACT_SALES_SCHEMA).sort("date", "region", "sales_line_id")


def build_fact_opportunity(
    opportunities: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per live opportunity (open, won, lost and cancelled), for pipeline and win-rate analysis.

    Closed deals are attributed to the owner's assignment on the close date, open deals to the
    current one. ``stage_history`` (staged ``OpportunityHistory``: one row per stage change) gives
    the furthest funnel stage each deal reached; without it, the current stage stands in (unknown
    for lost deals).
    """
    created_date = pl.col("created_at").dt.date()
    closed = pl.col("is_closed").fill_null(False)
    deals = _crm_attribution(
        opportunities, users, dim_customer, pl.when(closed).then(pl.col("close_date")), stage_history
    ).with_columns(
        created_date.alias("created_date"),
        pl.col("amount").alias("amount_local"),
        (pl.col("amount_usd") * pl.col("probability") / 100.0).alias("expected_amount_usd"),
        pl.when(closed).then((pl.col("close_date") - created_date).dt.total_days()).alias("days_to_close"),
        _blank_to_null(pl.col("web_order_id")).alias("web_order_id"),
    )
    reached = _stage_rung(pl.col("funnel_stage"), pl.col("funnel_stage_order"))
    # The current stage counts too: a history the org purged or the extract has not reached yet
    # must not make a deal look less advanced than it is.
    history = deals.select("opportunity_id", "stage_name")
    if stage_history is not None:
        history = pl.concat([_live_changes(stage_history).select("opportunity_id", "stage_name"), history])
    furthest = (
        map_stages(history.join(deals.select("opportunity_id", "region"), on="opportunity_id", how="inner"))
        .group_by("opportunity_id")
        .agg(reached.max().alias("furthest_stage_order"))
    )
    fact = deals.join(furthest, on="opportunity_id", how="left").with_columns(
        pl.col("owner_id"), pl.col("opportunity_type"), pl.col("lead_source")
    )
    return _conform(fact, FACT_OPPORTUNITY_SCHEMA).sort("opportunity_id")


def _stage_rung(stage: pl.Expr, order: pl.Expr) -> pl.Expr:
    """The funnel rung a version proves the deal reached: a loss proves nothing, a cancellation a win."""
    won_order = FUNNEL_ORDER[WON_STAGE]
    return (
        pl.when(stage == LOST_STAGE)
        .then(None)
        .when(stage == CANCELLED_STAGE)
        .then(pl.lit(won_order))
        .otherwise(order)
        .cast(pl.Int8)
    )


def build_fact_booking_line(
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every line item of every booked deal — won, or won and later cancelled — at booking.

    The bookings ledger sales commissions are paid from. Unlike ``fact_sales`` (the deal's
    current state), a cancellation never removes a booking here: it sets ``is_cancelled`` and
    ``cancelled_date`` on the lines, so the period of the booking never changes and the
    cancellation can be settled in its own period. Web-fulfilled deals are included (the rep
    sold them), with ``web_order_id`` pointing at the web order that carries their revenue.
    Amounts are in USD at the deal's close-date rate (staging); the rep is the owner's
    assignment on the booking date.

    ``stage_history`` (staged ``OpportunityHistory``) dates each cancellation by its first change
    to the Cancelled stage; without it (None) the date falls back to ``Cancelled_Date__c``, then to
    the current version's ``SystemModstamp`` (see ``_crm_attribution``).
    """
    deals = _booked_deals(opportunities, users, dim_customer, stage_history).select(
        "opportunity_id",
        "account_id",
        "customer_key",
        _blank_to_null(pl.col("campaign_id")).alias("campaign_id"),
        "owner_id",
        "sales_rep_key",
        "region",
        "booking_date",
        "is_cancelled",
        "cancelled_date",
        _blank_to_null(pl.col("web_order_id")).alias("web_order_id"),
    )
    products = dim_product.filter(~pl.col("is_unknown_member")).select("sku", "product_key", "product_family")
    lines = (
        _live(opportunity_lines)
        .join(deals, on="opportunity_id", how="inner", validate="m:1", maintain_order="left")
        .join(products, on="sku", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":").alias("booking_line_id"),
            pl.col("product_key").fill_null(pl.lit(UNMAPPED_PRODUCT_KEY)),
            pl.col("product_family").fill_null(pl.lit(UNMAPPED_CATEGORY)),
            pl.col("total_price").alias("net_amount_local"),
            pl.col("total_price_usd").alias("net_amount_usd"),
            (pl.col("cancelled_date") - pl.col("booking_date")).dt.total_days().alias("days_booked_to_cancelled"),
            pl.when(pl.col("web_order_id").is_null())
            .then(pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":"))
            .alias("sales_line_id"),
        )
    )
    return _conform(lines, FACT_BOOKING_LINE_SCHEMA).sort("booking_date", "booking_line_id")
