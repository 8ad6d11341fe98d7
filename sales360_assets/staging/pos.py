"""Staging transforms for the offline POS/ERP logs. Pure Polars.

POS lines arrive as text; each value is cast here and a value that does not parse rejects the
line with the offending text in the reason. The checks every source shares are called as
``quality.*``, so a rule list shows which are common and which (``_malformed``,
``_whole_number_text``) are this module's text parsing.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import spans_of_months
from sales360_assets.sources.contract import POS_TRANSACTIONS
from sales360_assets.sources.routing import normalized_region
from sales360_assets.staging import quality
from sales360_assets.staging.quality import Rule, StagingResult

SOURCE_TABLE = "raw_pos_transactions"


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
    valid, rejected = quality.split_rejects(
        raw,
        [quality.missing("store_id"), quality.delivered_region(raw), quality.unknown_currency()],
        "raw_pos_stores",
        ["store_id"],
    )
    staged, dups = quality.collapse_duplicates(valid, ["store_id"])
    staged = staged.select(
        "store_id", "store_name", normalized_region(pl.col("region")).alias("region"), "country", "city", "currency"
    )
    return StagingResult(staged, rejected, raw.height, dups)


def _whole_number_text(column: str, parsed: str) -> tuple[pl.Expr, pl.Expr]:
    """A quantity such as '2.5': it is a number, but not a count of items (truncating it changes gross)."""
    as_float = _blank_to_null(column).cast(pl.Float64, strict=False)
    return (
        pl.col(parsed).is_null() & as_float.is_not_null(),
        pl.format("{} '{}' is not a whole number", pl.lit(column), pl.col(column)),
    )


def stage_pos_transactions(
    raw: pl.DataFrame | pl.LazyFrame, fx_rates: pl.DataFrame, staged_elsewhere: pl.DataFrame | None = None
) -> StagingResult:
    """Cast, validate, de-duplicate and convert POS lines.

    ``staged_elsewhere``: keys (``transaction_id``, ``line_no``, ``date``) already staged for
    partitions outside this run, so a line re-sent into another day's folder is not counted twice.

    The lines are staged a span of months at a time (``frames.spans_of_months``): a region-year of
    POS text at 10 M order lines took the step 3.6 GiB whole. Each span sees the keys the spans
    before it claimed as staged elsewhere, so a copy in a later month is judged as it is in one pass:
    spans run in date order, the earliest date keeps a key, and every other rule (line rules,
    conflicting versions, retries) compares lines of one date, which one span holds.
    """
    lines = raw.lazy()
    spans = spans_of_months([lines])
    if len(spans) <= 1:
        return _stage_span(lines.collect(), fx_rates, staged_elsewhere)[0]
    results, elsewhere = [], staged_elsewhere
    for first, last in spans:
        span = lines.filter(pl.col("date").is_between(first, last)).collect()
        result, claimed = _stage_span(span, fx_rates, elsewhere)
        results.append(result)
        # A key's earliest date is all a later span compares with: one row per key, not per line.
        claimed = claimed.group_by("transaction_id", "line_no").agg(pl.col("date").min())
        if staged_elsewhere is not None and staged_elsewhere.height:
            # A key staged outside the run keeps that date in its reason, as in one pass.
            claimed = claimed.join(staged_elsewhere, on=["transaction_id", "line_no"], how="anti")
        elsewhere = claimed if elsewhere is None else pl.concat([elsewhere.select(claimed.columns), claimed])
    return StagingResult(
        pl.concat([r.staged for r in results]),
        pl.concat([r.rejected for r in results]),
        sum(r.raw_rows for r in results),
        sum(r.duplicate_rows for r in results),
    )


def _stage_span(
    raw: pl.DataFrame, fx_rates: pl.DataFrame, staged_elsewhere: pl.DataFrame | None
) -> tuple[StagingResult, pl.DataFrame]:
    """The staging of ``raw``, and the keys its valid lines claim (``staged_elsewhere``'s columns):
    a later span's copy of one of them is a duplicate of the earliest date, as in one pass."""
    parsed = quality.attach_fx(_parsed(raw), fx_rates)
    valid, rejected = quality.split_rejects(
        parsed, _line_rules(raw), SOURCE_TABLE, ["_source_file", "transaction_id", "line_no"], raw.columns
    )
    claimed = valid.select("transaction_id", pl.col("_line_no").alias("line_no"), "date")
    valid, repeated = _split_repeats(valid, raw, staged_elsewhere)
    staged, dups = quality.collapse_duplicates(valid, ["transaction_id", "_line_no"])
    result = StagingResult(_staged_columns(staged), pl.concat([rejected, repeated]), raw.height, dups)
    return result, claimed


def _parsed(raw: pl.DataFrame) -> pl.DataFrame:
    """The text columns cast next to the originals (``_``-prefixed), so a rule can quote what was sent."""
    return raw.with_columns(
        _blank_to_null("line_no").cast(pl.Int64, strict=False).alias("_line_no"),
        _blank_to_null("quantity").cast(pl.Int64, strict=False).alias("_quantity"),
        _blank_to_null("unit_price").cast(pl.Float64, strict=False).alias("_unit_price"),
        _blank_to_null("discount").cast(pl.Float64, strict=False).alias("_discount"),
        pl.col("transaction_ts")
        .str.strip_chars()
        .str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False, time_zone="UTC")
        .alias("_transaction_ts"),
        # The store's business date is the date on its own clock (the timestamp's offset), which is
        # what the folder is named after; the UTC date differs for Tokyo's mornings.
        pl.col("transaction_ts")
        .str.strip_chars()
        .str.slice(0, 10)
        .str.to_date("%Y-%m-%d", strict=False)
        .alias("_business_date"),
    )


def _line_rules(raw: pl.DataFrame) -> list[Rule]:
    """(condition, reason) per way a parsed POS line is unusable; the first that holds rejects it."""
    gross = pl.col("_quantity") * pl.col("_unit_price")
    return [
        quality.missing("transaction_id"),
        quality.missing("line_no", "line number"),
        _malformed("line_no", "_line_no"),
        quality.delivered_region(raw),
        quality.missing("sku"),
        quality.missing("quantity"),
        _whole_number_text("quantity", "_quantity"),
        _malformed("quantity", "_quantity"),
        quality.missing("unit_price", "unit price"),
        _malformed("unit_price", "_unit_price"),
        _malformed("discount", "_discount"),
        quality.missing("transaction_ts", "transaction timestamp"),
        _malformed("transaction_ts", "_transaction_ts"),
        (
            pl.col("_business_date") != pl.col("date"),
            pl.format(
                "transaction date {} (transaction_ts {}) is not the folder date {}",
                pl.col("_business_date"),
                pl.col("transaction_ts"),
                pl.col("date"),
            ),
        ),
        quality.unknown_currency(),
        (pl.col("_quantity") < 0, pl.format("negative quantity {}", pl.col("_quantity"))),
        (pl.col("_quantity") == 0, "zero quantity"),
        quality.not_finite("_unit_price", "unit_price"),
        (pl.col("_unit_price") < 0, "negative unit price"),
        quality.not_finite("_discount", "discount"),
        quality.finer_than_currency_rule("_unit_price", label="unit price"),
        quality.finer_than_currency_rule("_discount", label="discount"),
        *quality.discount_outside_gross("_discount", gross),
        quality.missing_fx(),
    ]


def _split_repeats(
    valid: pl.DataFrame, raw: pl.DataFrame, staged_elsewhere: pl.DataFrame | None
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(lines to stage, dead letters): later copies of a line already staged, and conflicting versions of one."""
    dead_key = ["_source_file", "transaction_id", "line_no"]
    key = ["transaction_id", "_line_no"]
    elsewhere = (
        staged_elsewhere.select("transaction_id", pl.col("line_no").alias("_line_no"), "date")
        if staged_elsewhere is not None
        else None
    )
    valid, copies = quality.split_later_copies(valid, key, SOURCE_TABLE, dead_key, raw.columns, elsewhere)
    # Retries repeat a line verbatim; the same transaction and line with other values is a conflict.
    values = [*(c for c in POS_TRANSACTIONS.columns if c in raw.columns), "date"]
    valid, conflicts = quality.split_conflicts(valid, key, values, SOURCE_TABLE, dead_key, raw.columns)
    return valid, pl.concat([copies, conflicts])


def _staged_columns(staged: pl.DataFrame) -> pl.DataFrame:
    """The published stg_pos_transactions row: typed values, amounts in local currency and USD."""
    gross = pl.col("_quantity") * pl.col("_unit_price")
    discount = pl.col("_discount").fill_null(0.0)
    return staged.select(
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
