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

import hashlib
from datetime import date

import polars as pl

from sales360_assets.settings import REGION_CODES, REGIONS

_KEY_SEPARATOR = "|"
_NULL_TOKEN = "<null>"


def surrogate_key_value(*parts: str | None) -> str:
    """The key ``surrogate_key`` computes for these parts, for constants and ad-hoc lookups."""
    text = _KEY_SEPARATOR.join(_NULL_TOKEN if part is None else part for part in parts)
    return hashlib.md5(text.encode("utf-8"), usedforsecurity=False).hexdigest()


def _md5_hex(texts: pl.Series) -> pl.Series:
    md5 = hashlib.md5
    digests = [None if t is None else md5(t, usedforsecurity=False).hexdigest() for t in texts.cast(pl.Binary)]
    return pl.Series(texts.name, digests, dtype=pl.String)


def surrogate_key(*parts: pl.Expr) -> pl.Expr:
    """Deterministic String key: MD5 hex of the parts joined with ``|`` (null parts as ``<null>``).

    Why MD5 and not ``Expr.hash``: Polars documents ``hash`` as stable only within one Polars
    version. Dimensions are rebuilt whole but fact partitions are rewritten one at a time, so a
    Polars upgrade would re-key the dimensions and leave every older fact partition pointing at
    keys that no longer exist. MD5 is defined by a standard, identical in every process, version
    and language, and recomputable in SQL (``md5('account|001...')`` in DuckDB/BigQuery) — the
    dbt ``generate_surrogate_key`` convention. It runs through hashlib at roughly 0.5 µs a key;
    only dimension rows are hashed (thousands to a few million), never fact lines.
    """
    text = pl.concat_str([p.cast(pl.String).fill_null(_NULL_TOKEN) for p in parts], separator=_KEY_SEPARATOR)
    return text.map_batches(_md5_hex, return_dtype=pl.String, is_elementwise=True)


UNMAPPED_PRODUCT_KEY = surrogate_key_value("unknown", "product")
UNIDENTIFIED_IN_STORE_CUSTOMER_KEY = surrogate_key_value("unknown", "in_store_customer")
UNKNOWN_CUSTOMER_KEY = surrogate_key_value("unknown", "customer")
NO_SALES_REP_KEY = surrogate_key_value("unknown", "sales_rep")

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
    "in_catalogue": pl.Boolean(),
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

DIM_SALES_REP_SCHEMA: dict[str, pl.DataType] = {
    "sales_rep_key": pl.String(),
    "user_id": pl.String(),
    "name": pl.String(),
    "email": pl.String(),
    "title": pl.String(),
    "region": pl.String(),
    "territory": pl.String(),
    "manager_id": pl.String(),
    "manager_name": pl.String(),
    "is_active": pl.Boolean(),
    "is_unknown_member": pl.Boolean(),
}

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
    "unit_price_local": pl.Float64(),
    "gross_amount_local": pl.Float64(),
    "discount_amount_local": pl.Float64(),
    "net_amount_local": pl.Float64(),
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
    "amount_local": pl.Float64(),
    "currency": pl.String(),
    "fx_rate": pl.Float64(),
    "fx_rate_date": pl.Date(),
    "amount_usd": pl.Float64(),
    "probability": pl.Float64(),
    "expected_amount_usd": pl.Float64(),
    "days_to_close": pl.Int64(),
    "web_order_id": pl.String(),
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
        .select("sku", pl.col("product_name").alias("crm_product_name"), pl.col("family").alias("crm_family"))
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
        in_catalogue.alias("in_catalogue"),
        pl.lit(False).alias("is_unknown_member"),
    )
    unknown = pl.DataFrame(
        [
            {
                "product_key": UNMAPPED_PRODUCT_KEY,
                "product_name": "Unmapped product",
                "category": UNMAPPED_CATEGORY,
                "subcategory": UNMAPPED_CATEGORY,
                "in_catalogue": False,
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


def _sales_rep_key(user_id: pl.Expr) -> pl.Expr:
    return surrogate_key(pl.lit("sales_rep"), user_id)


def build_dim_sales_rep(users: pl.DataFrame) -> pl.DataFrame:
    """Salesforce users (inactive ones too: their historical deals still need a rep) plus "No sales rep"."""
    live = _live(users)
    managers = live.select(pl.col("user_id").alias("manager_id"), pl.col("name").alias("manager_name"))
    reps = live.join(managers, on="manager_id", how="left").with_columns(
        _sales_rep_key(pl.col("user_id")).alias("sales_rep_key"),
        pl.lit(False).alias("is_unknown_member"),
    )
    unknown = pl.DataFrame(
        [{"sales_rep_key": NO_SALES_REP_KEY, "name": "No sales rep", "is_active": False, "is_unknown_member": True}],
        schema=DIM_SALES_REP_SCHEMA,
    )
    return pl.concat([_conform(reps.sort("user_id"), DIM_SALES_REP_SCHEMA), unknown])


# --- facts ------------------------------------------------------------------------------------


def _attach_product(lines: pl.DataFrame, dim_product: pl.DataFrame) -> pl.DataFrame:
    products = dim_product.filter(~pl.col("is_unknown_member")).select(
        "sku", "product_key", pl.col("standard_cost_usd").alias("_unit_cost"), pl.col("in_catalogue").alias("_mapped")
    )
    return (
        lines.join(products, on="sku", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("product_key").fill_null(pl.lit(UNMAPPED_PRODUCT_KEY)),
            # CRM-only SKUs have a product row but no catalogue cost: unmapped for costing too.
            (~pl.col("_mapped").fill_null(False)).alias("is_unmapped_product"),
        )
        .drop("_mapped")
    )


def _crm_attribution(opportunities: pl.DataFrame, users: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    """Live opportunities with customer_key, sales_rep_key and region.

    Region is the owner's region; when the owner is unknown or has none, the account's region,
    so that a deal is not silently dropped from every region partition.
    """
    owners = _live(users).select(
        pl.col("user_id").alias("owner_id"),
        _sales_rep_key(pl.col("user_id")).alias("sales_rep_key"),
        _valid_region(pl.col("region")).alias("_owner_region"),
    )
    accounts = dim_customer.filter(pl.col("customer_source") == "crm").select(
        pl.col("source_customer_id").alias("account_id"), "customer_key", pl.col("region").alias("_account_region")
    )
    return (
        _live(opportunities)
        .join(owners, on="owner_id", how="left", validate="m:1", maintain_order="left")
        .join(accounts, on="account_id", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("sales_rep_key").fill_null(pl.lit(NO_SALES_REP_KEY)),
            pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)),
            pl.coalesce("_owner_region", "_account_region").alias("region"),
        )
        .drop("_owner_region", "_account_region")
    )


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


def _crm_sales(
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    start: date,
    end: date,
) -> pl.DataFrame:
    deals = (
        _crm_attribution(opportunities, users, dim_customer)
        .filter(
            pl.col("is_won").fill_null(False),
            # A deal fulfilled as a web order is already a sale in the web channel.
            _blank_to_null(pl.col("web_order_id")).is_null(),
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
) -> pl.DataFrame:
    """Sales at order-line grain across the web, POS and CRM channels, for dates [start, end] × regions.

    - web: lines of completed orders (cancelled orders are not sales).
    - pos: every staged line; the customer is the web customer with the receipt's email
      (case/whitespace-insensitive), else the "Unidentified in-store customer" member.
    - crm: line items of won, live deals closed in [start, end], dated on the close date and
      placed in the owner's region. Deals with a ``web_order_id`` are left out: they were
      fulfilled as a web order, which the web channel already counts — this is what keeps a
      B2B deal from being counted twice.

    Every amount keeps its original value, currency, FX rate and rate date next to the USD value.
    Cost is quantity × catalogue standard cost; a product with no catalogue cost (unmapped or
    CRM-only SKU, ``is_unmapped_product``) costs 0 so that cost and margin stay additive — its
    margin is therefore overstated, which the flag makes visible. ``unit_cost_usd`` stays null
    for those lines, because the unit cost is unknown rather than zero.
    """
    channels = [
        _web_sales(web_lines, dim_customer),
        _pos_sales(pos_lines, dim_customer),
        _crm_sales(opportunities, opportunity_lines, users, dim_customer, start, end),
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
    fact = _attach_product(lines, dim_product).with_columns(
        pl.col("_unit_cost").alias("unit_cost_usd"),
        cost.alias("cost_usd"),
        (pl.col("net_amount_usd") - cost).alias("gross_margin_usd"),
    )
    return _conform(fact, FACT_SALES_SCHEMA).sort("date", "region", "sales_line_id")


def build_fact_opportunity(
    opportunities: pl.DataFrame, users: pl.DataFrame, dim_customer: pl.DataFrame
) -> pl.DataFrame:
    """One row per live opportunity (open, won and lost), for pipeline and win-rate analysis."""
    created_date = pl.col("created_at").dt.date()
    fact = _crm_attribution(opportunities, users, dim_customer).with_columns(
        created_date.alias("created_date"),
        pl.col("amount").alias("amount_local"),
        (pl.col("amount_usd") * pl.col("probability") / 100.0).alias("expected_amount_usd"),
        pl.when(pl.col("is_closed").fill_null(False))
        .then((pl.col("close_date") - created_date).dt.total_days())
        .alias("days_to_close"),
        _blank_to_null(pl.col("web_order_id")).alias("web_order_id"),
    )
    return _conform(fact, FACT_OPPORTUNITY_SCHEMA).sort("opportunity_id")
