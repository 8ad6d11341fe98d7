"""Staging transforms for the warehouse (e-commerce) tables. Pure Polars."""

from __future__ import annotations

from datetime import UTC, date, datetime

import polars as pl

from sales360_assets.staging.quality import (
    StagingResult,
    attach_fx,
    collapse_duplicates,
    delivered_region,
    discount_outside_gross,
    finer_than_currency_rule,
    missing,
    missing_fx,
    not_finite,
    not_in,
    split_conflicts,
    split_rejects,
    unknown_currency,
)

# What stg_warehouse_customers publishes about a customer: the email also normalized (dim_customer
# keys web customers on it) and a missing segment named, so segment reports have no null bucket.
CUSTOMER_COLUMNS = (
    "customer_id",
    "first_name",
    "last_name",
    "email",
    pl.col("email").str.strip_chars().str.to_lowercase().alias("email_normalized"),
    "phone",
    "country",
    "city",
    pl.col("segment").fill_null("Unknown"),
    "created_at",
    "updated_at",
)
ORDER_STATUSES = ("completed", "cancelled")
# What stg_warehouse_products publishes about a product (dim_product reads exactly these).
CATALOGUE_COLUMNS = (
    "sku",
    "product_name",
    "category",
    "subcategory",
    "brand",
    "list_price_usd",
    "standard_cost_usd",
)
# An order line loaded more than this long after its order date arrived late: it is kept, and
# flagged, because the daily run for its date may already have happened (re-run that partition).
LATE_ARRIVAL_DAYS = 1


def delivered_values(frame: pl.DataFrame) -> list[str]:
    """The columns a source delivered (ours start with ``_``): two rows of one key and one load
    time that differ in any of them conflict."""
    return [c for c in frame.columns if not c.startswith("_")]


def stage_fx_rates(raw: pl.DataFrame) -> StagingResult:
    valid, rejected = split_rejects(
        raw,
        [
            missing("rate_date"),
            unknown_currency(),
            not_finite("usd_per_unit", "FX rate usd_per_unit"),
            (
                pl.col("usd_per_unit").is_null() | (pl.col("usd_per_unit") <= 0),
                "FX rate missing or not positive",
            ),
        ],
        "raw_warehouse_fx_rates",
        ["rate_date", "currency"],
    )
    staged, dups = collapse_duplicates(valid, ["rate_date", "currency"])
    staged = staged.select("rate_date", "currency", "usd_per_unit").sort("currency", "rate_date")
    return StagingResult(staged, rejected, raw.height, dups)


def stage_customers(raw: pl.DataFrame) -> StagingResult:
    valid, rejected = split_rejects(raw, [missing("customer_id")], "raw_warehouse_customers", ["customer_id"])
    staged, dups = collapse_duplicates(valid, ["customer_id"], latest_by="updated_at")
    return StagingResult(staged.select(CUSTOMER_COLUMNS), rejected, raw.height, dups)


def _valid_products(raw: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    if "cost_valid_from" not in raw.columns:  # a raw table written before cost history was in the contract
        raw = raw.with_columns(pl.lit(None, dtype=pl.Date).alias("cost_valid_from"))
    return split_rejects(
        raw,
        [
            missing("sku"),
            missing("category"),
            # NaN passes every comparison and would turn every cost and margin sum into NaN.
            not_finite("standard_cost_usd", "standard cost"),
            not_finite("list_price_usd", "list price"),
            (pl.col("standard_cost_usd") < 0, "negative standard cost"),
            (pl.col("list_price_usd") < 0, "negative list price"),
        ],
        "raw_warehouse_products",
        ["sku"],
    )


def _in_force_first(frame: pl.DataFrame, as_of: date) -> pl.DataFrame:
    """The version in force on ``as_of`` first: the newest one not in the future, else the nearest future one.

    A catalogue may announce next year's cost today; the current product keeps today's cost.
    """
    future = pl.col("cost_valid_from").fill_null(date.min) > as_of
    days = pl.col("cost_valid_from").fill_null(date.min).cast(pl.Int64)
    order = pl.when(future).then(-days).otherwise(days)
    return frame.sort([future, order, pl.col("updated_at")], descending=[False, True, True], nulls_last=True)


def stage_products(raw: pl.DataFrame, as_of: date | None = None) -> StagingResult:
    """The current catalogue: one row per SKU, its cost version in force on ``as_of`` (default today, UTC).

    Other versions count as collapsed; every version is kept by ``stage_product_cost_history``.
    """
    valid, rejected = _valid_products(raw)
    staged, dups = collapse_duplicates(_in_force_first(valid, as_of or datetime.now(UTC).date()), ["sku"])
    staged = staged.select(*CATALOGUE_COLUMNS, "cost_valid_from", "updated_at")
    return StagingResult(staged, rejected, raw.height, dups)


def stage_product_cost_history(raw: pl.DataFrame) -> StagingResult:
    """Every valid cost version: one row per (SKU, cost_valid_from), the latest load of each.

    Same rules as ``stage_products``, which dead-letters the rejected rows.
    """
    valid, rejected = _valid_products(raw)
    staged, dups = collapse_duplicates(valid, ["sku", "cost_valid_from"], latest_by="updated_at")
    staged = staged.select("sku", "cost_valid_from", "standard_cost_usd", "updated_at").sort(
        "sku", "cost_valid_from", nulls_last=False
    )
    return StagingResult(staged, rejected, raw.height, dups)


def stage_orders(raw: pl.DataFrame) -> StagingResult:
    valid, rejected = split_rejects(
        raw,
        [
            missing("order_id"),
            missing("customer_id"),
            missing("order_ts", "order timestamp"),
            unknown_currency(),
            delivered_region(raw),
            (
                not_in("status", ORDER_STATUSES),
                pl.format("unknown order status '{}'", pl.col("status").fill_null("")),
            ),
        ],
        "raw_warehouse_orders",
        ["order_id"],
    )
    valid, conflicts = split_conflicts(
        valid, ["order_id"], delivered_values(raw), "raw_warehouse_orders", ["order_id"], raw.columns, "_loaded_at"
    )
    rejected = pl.concat([rejected, conflicts])
    staged, dups = collapse_duplicates(valid, ["order_id"], latest_by="_loaded_at")
    staged = staged.select(
        "order_id",
        "customer_id",
        "order_ts",
        "date",
        "region",
        "currency",
        "status",
        pl.col("_loaded_at").alias("loaded_at"),
        ((pl.col("_loaded_at").dt.date() - pl.col("date")).dt.total_days() > LATE_ARRIVAL_DAYS).alias(
            "is_late_arrival"
        ),
    )
    return StagingResult(staged, rejected, raw.height, dups)


def stage_order_lines(raw: pl.DataFrame, orders: pl.DataFrame, fx_rates: pl.DataFrame) -> StagingResult:
    """Validate lines against their (staged) order and convert amounts to USD at the order date."""
    header = orders.select(
        "order_id",
        pl.col("customer_id"),
        pl.col("currency"),
        pl.col("status").alias("order_status"),
        pl.col("order_ts"),
        pl.lit(True).alias("_order_found"),
    )
    joined = raw.join(header, on="order_id", how="left", maintain_order="left")
    joined = attach_fx(joined, fx_rates)
    keys = ["order_id", "line_number"]
    valid, rejected = split_rejects(
        joined,
        [
            missing("order_id"),
            missing("line_number", "line number"),
            delivered_region(raw),
            missing("sku"),
            missing("quantity"),
            (pl.col("quantity") < 0, pl.format("negative quantity {}", pl.col("quantity"))),
            (pl.col("quantity") == 0, "zero quantity"),
            (pl.col("unit_price").is_null() | (pl.col("unit_price") < 0), "unit price missing or negative"),
            not_finite("unit_price"),
            not_finite("discount_amount"),
            finer_than_currency_rule("unit_price", label="unit price"),
            finer_than_currency_rule("discount_amount", label="discount"),
            *discount_outside_gross("discount_amount", pl.col("quantity") * pl.col("unit_price")),
            (
                pl.col("_order_found").is_null(),
                pl.format("order {} is not in stg_warehouse_orders (missing or rejected)", pl.col("order_id")),
            ),
            missing_fx(),
        ],
        "raw_warehouse_order_lines",
        keys,
        raw.columns,
    )
    valid, conflicts = split_conflicts(
        valid, keys, delivered_values(raw), "raw_warehouse_order_lines", keys, raw.columns, "_loaded_at"
    )
    rejected = pl.concat([rejected, conflicts])
    staged, dups = collapse_duplicates(valid, keys, latest_by="_loaded_at")
    gross = pl.col("quantity") * pl.col("unit_price")
    net = gross - pl.col("discount_amount").fill_null(0.0)
    staged = staged.select(
        "order_id",
        "line_number",
        "date",
        "region",
        "order_ts",
        "order_status",
        "customer_id",
        "sku",
        "quantity",
        "unit_price",
        gross.alias("gross_amount"),
        pl.col("discount_amount").fill_null(0.0).alias("discount_amount"),
        net.alias("net_amount"),
        "currency",
        "fx_rate",
        "fx_rate_date",
        (net * pl.col("fx_rate")).alias("net_amount_usd"),
        pl.col("_loaded_at").alias("loaded_at"),
    )
    return StagingResult(staged, rejected, raw.height, dups)
