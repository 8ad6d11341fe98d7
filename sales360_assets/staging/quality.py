"""Staging building blocks: rejects with reasons, duplicate collapsing, FX conversion.

Every staging transform returns a ``StagingResult`` whose counts reconcile exactly:
``raw_rows == staged + rejected + duplicates``. Rejected rows become dead letters carrying the
source table, key, the whole raw record as JSON and the first rule it broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from sales360_assets.settings import FX_MAX_STALENESS_DAYS, KNOWN_CURRENCIES, REGION_CODES

DEAD_LETTER_SCHEMA: dict[str, pl.DataType] = {
    "source_table": pl.String,
    "source_key": pl.String,
    "reason": pl.String,
    "raw_record": pl.String,
    "date": pl.Date,
    "region": pl.String,
}

Rule = tuple[pl.Expr, pl.Expr | str]
# Added by our ingestion, not delivered by the source; the dead letter carries its own run_id, and
# keeping them out of raw_record makes re-running a partition reproduce identical dead letters.
RUN_COLUMNS = frozenset({"_ingested_at", "_run_id"})


@dataclass(frozen=True)
class StagingResult:
    staged: pl.DataFrame
    rejected: pl.DataFrame  # DEAD_LETTER_SCHEMA
    raw_rows: int
    duplicate_rows: int

    @property
    def reconciles(self) -> bool:
        return self.raw_rows == self.staged.height + self.rejected.height + self.duplicate_rows

    def counts(self) -> dict[str, int]:
        return {
            "raw_rows": self.raw_rows,
            "staged_rows": self.staged.height,
            "rejected_rows": self.rejected.height,
            "duplicate_rows": self.duplicate_rows,
        }


def not_in(column: str, allowed: Iterable[str]) -> pl.Expr:
    """True when the value is missing or not allowed (``is_in`` alone lets nulls through)."""
    return ~pl.col(column).is_in(sorted(allowed)).fill_null(False)


def unknown_currency(column: str = "currency") -> Rule:
    return not_in(column, KNOWN_CURRENCIES), pl.format("unknown currency '{}'", pl.col(column).fill_null(""))


def unknown_region(column: str = "region") -> Rule:
    return not_in(column, REGION_CODES), pl.format("unknown region '{}'", pl.col(column).fill_null(""))


def missing(column: str, label: str | None = None) -> Rule:
    col = pl.col(column)
    blank = col.is_null() | (col.cast(pl.String).str.strip_chars() == "")
    return blank, f"missing {label or column}"


def first_reason(rules: Sequence[Rule]) -> pl.Expr:
    """The reason of the first rule a row breaks (null when it breaks none)."""
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for condition, text in reversed(rules):
        value = pl.lit(text) if isinstance(text, str) else text
        reason = pl.when(condition.fill_null(False)).then(value).otherwise(reason)
    return reason


def dead_letters(
    rows: pl.DataFrame, source_table: str, key_columns: Sequence[str], record_columns: Sequence[str]
) -> pl.DataFrame:
    """Dead-letter rows from rejected raw rows that carry a ``_reason`` column."""
    return rows.select(
        pl.lit(source_table).alias("source_table"),
        pl.concat_str([pl.col(k).cast(pl.String).fill_null("<null>") for k in key_columns], separator="|").alias(
            "source_key"
        ),
        pl.col("_reason").alias("reason"),
        pl.struct([c for c in record_columns if c not in RUN_COLUMNS]).struct.json_encode().alias("raw_record"),
        (pl.col("date").cast(pl.Date) if "date" in rows.columns else pl.lit(None, dtype=pl.Date)).alias("date"),
        (pl.col("region").cast(pl.String) if "region" in rows.columns else pl.lit(None, dtype=pl.String)).alias(
            "region"
        ),
    )


def split_rejects(
    frame: pl.DataFrame,
    rules: Sequence[Rule],
    source_table: str,
    key_columns: Sequence[str],
    record_columns: Sequence[str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(valid rows, dead-letter rows) — every row lands in exactly one of them.

    ``record_columns`` are the columns as delivered (the dead letter's ``raw_record``); helper
    columns a transform added before judging (parsed values, joined lookups) are left out.
    """
    judged = frame.with_columns(first_reason(rules).alias("_reason"))
    valid = judged.filter(pl.col("_reason").is_null()).drop("_reason")
    rejected = dead_letters(
        judged.filter(pl.col("_reason").is_not_null()),
        source_table,
        key_columns,
        record_columns if record_columns is not None else frame.columns,
    )
    return valid, rejected


def collapse_duplicates(
    frame: pl.DataFrame, keys: Sequence[str], latest_by: str | None = None
) -> tuple[pl.DataFrame, int]:
    """Keep one row per natural key: the latest by ``latest_by`` (retries and older versions collapse)."""
    ordered = frame.sort(latest_by, descending=True, nulls_last=True, maintain_order=True) if latest_by else frame
    kept = ordered.unique(subset=list(keys), keep="first", maintain_order=True)
    return kept, frame.height - kept.height


def attach_fx(
    frame: pl.DataFrame, fx_rates: pl.DataFrame, on_date: str = "date", currency: str = "currency"
) -> pl.DataFrame:
    """Add ``fx_rate`` (USD per unit) and ``fx_rate_date``: the latest rate on or before the date.

    Feeds publish business days only, so a Saturday sale uses Friday's rate; a rate older than
    ``FX_MAX_STALENESS_DAYS`` counts as missing and the row is rejected by ``missing_fx``.
    """
    rates = fx_rates.select(
        pl.col("currency").alias("_fx_currency"),
        pl.col("rate_date").alias("fx_rate_date"),
        pl.col("usd_per_unit").alias("fx_rate"),
    ).sort("fx_rate_date")
    indexed = frame.with_row_index("_row").with_columns(pl.col(on_date).alias("_fx_on"))
    joined = indexed.sort("_fx_on").join_asof(
        rates,
        left_on="_fx_on",
        right_on="fx_rate_date",
        by_left=currency,
        by_right="_fx_currency",
        strategy="backward",
        tolerance=f"{FX_MAX_STALENESS_DAYS}d",
        check_sortedness=False,
    )
    return joined.sort("_row").drop("_row", "_fx_on")


def missing_fx(on_date: str = "date", currency: str = "currency") -> Rule:
    return pl.col("fx_rate").is_null(), pl.format(
        "no {} FX rate within {} days before {}",
        pl.col(currency),
        pl.lit(FX_MAX_STALENESS_DAYS),
        pl.col(on_date),
    )


def empty_result(staged_schema: dict[str, pl.DataType]) -> StagingResult:
    return StagingResult(pl.DataFrame(schema=staged_schema), pl.DataFrame(schema=DEAD_LETTER_SCHEMA), 0, 0)
