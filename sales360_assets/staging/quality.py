"""Staging building blocks: rejects with reasons, duplicate collapsing, FX conversion.

Every staging transform returns a ``StagingResult`` whose counts reconcile exactly:
``raw_rows == staged + rejected + duplicates``. Rejected rows become dead letters carrying the
source table, key, the whole raw record as JSON and the first rule it broke.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import polars as pl

from sales360_assets.money import finer_than_currency, minor_units_expr
from sales360_assets.settings import FX_MAX_STALENESS_DAYS, KNOWN_CURRENCIES, REGION_CODES, REPORTING_CURRENCY
from sales360_assets.sources.routing import CAST_ERROR, SOURCE_REGION, normalized_region

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


def delivered_region(frame: pl.DataFrame, column: str = "region") -> Rule:
    """Missing or unknown region as delivered (``_source_region`` when a reader routed the row).

    Readers normalise case and padding (``'UK '`` is uk) and hand rows with an unknown or missing
    region to one owner partition (``sources/routing.py``), so they are judged here, not lost.
    """
    value = pl.col(SOURCE_REGION if SOURCE_REGION in frame.columns else column).cast(pl.String)
    blank = value.is_null() | (value.str.strip_chars() == "")
    return (
        blank | ~normalized_region(value).is_in(REGION_CODES).fill_null(False),
        pl.when(blank).then(pl.lit("missing region")).otherwise(pl.format("unknown region '{}'", value)),
    )


def not_finite(column: str, label: str | None = None) -> Rule:
    """NaN and ±inf pass every comparison silently (NaN < 0 is false), so they are rejected by name."""
    return ~pl.col(column).is_finite(), pl.format(
        "{} {} is not a finite number", pl.lit(label or column), pl.col(column)
    )


def finer_than_currency_rule(column: str, currency: str = "currency", label: str | None = None) -> Rule:
    """A price or discount with more decimals than its currency has (99.5 JPY, 1.005 USD).

    Local amounts are stored exactly in the currency's minor units (``money.py``); rounding
    such a value would change the sale, so it is dead-lettered with the rule to fix it upstream.
    """
    return finer_than_currency(pl.col(column), currency), pl.format(
        "{} {} has more decimals than {} allows ({})",
        pl.lit(label or column),
        pl.col(column),
        pl.col(currency),
        minor_units_expr(currency),
    )


def discount_outside_gross(discount: str, gross: pl.Expr) -> list[Rule]:
    """A discount is money off this line: at least 0 and at most the line's gross amount.

    A negative discount would raise revenue, one above gross would make the line negative.
    """
    return [
        (pl.col(discount) < 0, pl.format("negative discount {}", pl.col(discount))),
        (
            pl.col(discount) > gross,
            pl.format("discount {} exceeds the line's gross amount {}", pl.col(discount), gross.round(2)),
        ),
    ]


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


def delivery_errors(frame: pl.DataFrame) -> list[Rule]:
    """Errors a reader recorded instead of failing or guessing: a line that did not parse, a file
    that could not be read, a value that did not survive its cast. They come before any other rule."""
    return [(pl.col(c).is_not_null(), pl.col(c)) for c in ("_parse_error", CAST_ERROR) if c in frame.columns]


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
    judged = frame.with_columns(first_reason([*delivery_errors(frame), *rules]).alias("_reason"))
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
    return reporting_currency_at_par(joined.sort("_row").drop("_row", "_fx_on"), on_date, currency)


def reporting_currency_at_par(frame: pl.DataFrame, on_date: str, currency: str) -> pl.DataFrame:
    """The reporting currency converts at exactly 1, dated the row's own date, when the feed has no rate.

    A USD amount is already in USD: requiring a USD→USD row in the FX feed (which real feeds do not
    publish) dead-lettered every USD line of an export without one. A rate the feed does give is kept.
    """
    at_par = (pl.col(currency) == REPORTING_CURRENCY) & pl.col("fx_rate").is_null()
    return frame.with_columns(
        pl.when(at_par).then(pl.lit(1.0)).otherwise(pl.col("fx_rate")).alias("fx_rate"),
        pl.when(at_par).then(pl.col(on_date).cast(pl.Date)).otherwise(pl.col("fx_rate_date")).alias("fx_rate_date"),
    )


def missing_fx(on_date: str = "date", currency: str = "currency") -> Rule:
    return pl.col("fx_rate").is_null(), pl.format(
        "no {} FX rate within {} days before {}",
        pl.col(currency),
        pl.lit(FX_MAX_STALENESS_DAYS),
        pl.col(on_date),
    )


def empty_result(staged_schema: dict[str, pl.DataType]) -> StagingResult:
    return StagingResult(pl.DataFrame(schema=staged_schema), pl.DataFrame(schema=DEAD_LETTER_SCHEMA), 0, 0)


def split_conflicts(
    frame: pl.DataFrame,
    keys: Sequence[str],
    value_columns: Sequence[str],
    source_table: str,
    key_columns: Sequence[str],
    record_columns: Sequence[str],
    latest_by: str | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, dead letters): keys whose latest rows disagree on a value are dead-lettered whole.

    Two rows with one key and one load time (quantity 1 vs 10) are not a retry: which one is true
    cannot be known, and keeping either silently changes a figure. Every row of such a key becomes
    a dead letter naming the differing values; a later load still supersedes an earlier one.
    """
    values = [c for c in value_columns if c in frame.columns and c not in keys and c != latest_by]
    if frame.is_empty() or not values:
        return frame, _no_letters(frame, source_table, key_columns, record_columns)
    latest = pl.col(latest_by).eq_missing(pl.col(latest_by).max().over(keys)) if latest_by else pl.lit(True)
    variants = (
        frame.filter(latest)
        .group_by(keys)
        .agg(
            pl.len().alias("_rows"),
            *[pl.col(c).cast(pl.String).fill_null("<null>").unique().sort().alias(c) for c in values],
        )
        .filter(pl.any_horizontal([pl.col(c).list.len() > 1 for c in values]))
    )
    if variants.is_empty():
        return frame, _no_letters(frame, source_table, key_columns, record_columns)
    reasons = []
    for row in variants.iter_rows(named=True):
        differing = "; ".join(f"{c} {' vs '.join(row[c])}" for c in values if len(row[c]) > 1)
        key = "|".join(str(row[k]) for k in keys)
        same = f" (same {latest_by})" if latest_by else ""
        reasons.append({**{k: row[k] for k in keys}, "_reason": f"conflicting duplicate of {key}{same}: {differing}"})
    reason_frame = pl.DataFrame(reasons, schema={**{k: frame.schema[k] for k in keys}, "_reason": pl.String})
    judged = frame.join(reason_frame, on=list(keys), how="left", nulls_equal=True, maintain_order="left")
    clean = judged.filter(pl.col("_reason").is_null()).drop("_reason")
    return clean, dead_letters(
        judged.filter(pl.col("_reason").is_not_null()), source_table, key_columns, record_columns
    )


def split_later_copies(
    frame: pl.DataFrame,
    keys: Sequence[str],
    source_table: str,
    key_columns: Sequence[str],
    record_columns: Sequence[str],
    staged_elsewhere: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(rows, dead letters): a key already staged for another date is a copy, not a new sale.

    ``staged_elsewhere`` holds the keys (and ``date``) staged by runs of other partitions; within
    this frame the earliest date keeps the key. So a file re-sent into the next day's folder
    counts once, on its first date, whether the days run one by one (nightly) or as one range.
    """
    first = pl.col("date").min().over(keys)
    judged = frame.with_columns(
        pl.when(pl.col("date") > first)
        .then(
            pl.format(
                "duplicate of {} staged for {}",
                pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator="|"),
                first,
            )
        )
        .alias("_reason")
    )
    if staged_elsewhere is not None and staged_elsewhere.height:
        other = staged_elsewhere.group_by(keys).agg(pl.col("date").min().alias("_staged_on"))
        other = other.with_columns([pl.col(k).cast(judged.schema[k]) for k in keys])
        judged = (
            judged.join(other, on=list(keys), how="left", maintain_order="left")
            .with_columns(
                pl.coalesce(
                    pl.when(pl.col("_staged_on").is_not_null()).then(
                        pl.format(
                            "duplicate of {} staged for {}",
                            pl.concat_str([pl.col(k).cast(pl.String) for k in keys], separator="|"),
                            pl.col("_staged_on"),
                        )
                    ),
                    pl.col("_reason"),
                ).alias("_reason")
            )
            .drop("_staged_on")
        )
    clean = judged.filter(pl.col("_reason").is_null()).drop("_reason")
    return clean, dead_letters(
        judged.filter(pl.col("_reason").is_not_null()), source_table, key_columns, record_columns
    )


def _no_letters(
    frame: pl.DataFrame, source_table: str, key_columns: Sequence[str], record_columns: Sequence[str]
) -> pl.DataFrame:
    empty = frame.head(0).with_columns(pl.lit(None, dtype=pl.String).alias("_reason"))
    return dead_letters(empty, source_table, key_columns, record_columns)
