"""Staging transforms for the offline POS/ERP logs. Pure Polars.

POS lines arrive as text; each value is cast here and a value that does not parse rejects the
line with the offending text in the reason.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.staging.quality import (
    StagingResult,
    attach_fx,
    collapse_duplicates,
    missing,
    missing_fx,
    split_rejects,
    unknown_currency,
    unknown_region,
)


def _blank_to_null(column: str) -> pl.Expr:
    col = pl.col(column).str.strip_chars()
    return pl.when(col == "").then(None).otherwise(col)


def _malformed(column: str, parsed: str) -> tuple[pl.Expr, pl.Expr]:
    """Text present but not parseable."""
    return (
        pl.col(parsed).is_null() & _blank_to_null(column).is_not_null(),
        pl.format("malformed {} '{}'", pl.lit(column), pl.col(column)),
    )


def stage_pos_stores(raw: pl.DataFrame) -> StagingResult:
    valid, rejected = split_rejects(
        raw, [missing("store_id"), unknown_region(), unknown_currency()], "raw_pos_stores", ["store_id"]
    )
    staged, dups = collapse_duplicates(valid, ["store_id"])
    staged = staged.select("store_id", "store_name", "region", "country", "city", "currency")
    return StagingResult(staged, rejected, raw.height, dups)


def stage_pos_transactions(raw: pl.DataFrame, fx_rates: pl.DataFrame) -> StagingResult:
    parsed = raw.with_columns(
        _blank_to_null("line_no").cast(pl.Int64, strict=False).alias("_line_no"),
        _blank_to_null("quantity").cast(pl.Int64, strict=False).alias("_quantity"),
        _blank_to_null("unit_price").cast(pl.Float64, strict=False).alias("_unit_price"),
        _blank_to_null("discount").cast(pl.Float64, strict=False).alias("_discount"),
        pl.col("transaction_ts")
        .str.strip_chars()
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False, time_zone="UTC")
        .alias("_transaction_ts"),
    )
    parsed = attach_fx(parsed, fx_rates)
    valid, rejected = split_rejects(
        parsed,
        [
            (pl.col("_parse_error").is_not_null(), pl.col("_parse_error")),
            missing("transaction_id"),
            missing("line_no", "line number"),
            _malformed("line_no", "_line_no"),
            missing("sku"),
            missing("quantity"),
            _malformed("quantity", "_quantity"),
            missing("unit_price", "unit price"),
            _malformed("unit_price", "_unit_price"),
            _malformed("discount", "_discount"),
            missing("transaction_ts", "transaction timestamp"),
            _malformed("transaction_ts", "_transaction_ts"),
            unknown_currency(),
            (pl.col("_quantity") < 0, pl.format("negative quantity {}", pl.col("_quantity"))),
            (pl.col("_quantity") == 0, "zero quantity"),
            (pl.col("_unit_price") < 0, "negative unit price"),
            missing_fx(),
        ],
        "raw_pos_transactions",
        ["_source_file", "transaction_id", "line_no"],
        raw.columns,
    )
    # A retried upload repeats lines verbatim: identical transaction and line number.
    staged, dups = collapse_duplicates(valid, ["transaction_id", "_line_no"])
    gross = pl.col("_quantity") * pl.col("_unit_price")
    discount = pl.col("_discount").fill_null(0.0)
    staged = staged.select(
        "transaction_id",
        pl.col("_line_no").alias("line_no"),
        "store_id",
        "date",
        "region",
        pl.col("_transaction_ts").alias("transaction_ts"),
        pl.col("sku").str.strip_chars(),
        pl.col("_quantity").alias("quantity"),
        pl.col("_unit_price").alias("unit_price"),
        gross.alias("gross_amount"),
        discount.alias("discount_amount"),
        (gross - discount).alias("net_amount"),
        "currency",
        "fx_rate",
        "fx_rate_date",
        ((gross - discount) * pl.col("fx_rate")).alias("net_amount_usd"),
        _blank_to_null("loyalty_id").alias("loyalty_id"),
        _blank_to_null("customer_name").alias("customer_name"),
        _blank_to_null("customer_email").alias("customer_email"),
        _blank_to_null("customer_phone").alias("customer_phone"),
        pl.col("_source_file").alias("source_file"),
    )
    return StagingResult(staged, rejected, raw.height, dups)
