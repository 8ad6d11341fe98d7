"""Delivered values made safe to route and to type, without losing a row or a digit.

Two things used to make rows vanish or numbers change before staging could see them:

* Readers filtered ``region IN (run regions)``: a row spelled ``UK`` or ``mars`` or with no
  region was in no run at all. Now a region is matched case- and space-insensitively, and a row
  whose region is unknown or missing is read by the run of ``UNROUTED_REGION_OWNER`` (its raw
  partition) with the delivered value kept in ``_source_region``, so staging dead-letters it.
* ``cast`` truncates (2.5 → 2). ``exact_cast`` refuses any conversion that does not round-trip:
  the value becomes null and ``_cast_error`` says what was delivered, so staging dead-letters
  the row with that text instead of staging a different number.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import polars as pl

from sales360_assets.settings import REGION_CODES

# Rows whose region names no known region still need a partition to live in (raw) and be
# dead-lettered from. One fixed region keeps that deterministic and re-runnable: its runs read them.
UNROUTED_REGION_OWNER = REGION_CODES[0]
SOURCE_REGION = "_source_region"
CAST_ERROR = "_cast_error"


def normalized_region(expr: pl.Expr) -> pl.Expr:
    """``' UK '`` → ``'uk'``: sources disagree on case and padding, not on the region."""
    return expr.cast(pl.String).str.strip_chars().str.to_lowercase()


def routed_region(expr: pl.Expr) -> pl.Expr:
    """The partition a row belongs to: its normalised region if known, else the owner of unrouted rows."""
    normal = normalized_region(expr)
    return pl.when(normal.is_in(REGION_CODES).fill_null(False)).then(normal).otherwise(pl.lit(UNROUTED_REGION_OWNER))


def route_region_value(value: str | None) -> str:
    """``routed_region`` for one value (a store's registered region)."""
    normal = (value or "").strip().lower()
    return normal if normal in REGION_CODES else UNROUTED_REGION_OWNER


def route_regions(frame: pl.DataFrame, region_column: str, regions: Sequence[str]) -> pl.DataFrame:
    """Rows of ``regions`` (unrouted rows too when the owner is among them), region normalised.

    The delivered value stays in ``_source_region`` for staging to judge and the dead letter to show.
    """
    routed = frame.with_columns(
        pl.col(region_column).cast(pl.String).alias(SOURCE_REGION),
        routed_region(pl.col(region_column)).alias(region_column),
    )
    return routed.filter(pl.col(region_column).is_in(list(regions)))


def exact_cast(frame: pl.DataFrame, types: Mapping[str, pl.DataType]) -> pl.DataFrame:
    """Cast columns to ``types`` only where the value survives; add ``_cast_error`` for the rest.

    Numbers must round-trip (2.5 → Int64 is refused, 2.0 is fine); any other conversion must not
    turn a present value into null. A refused value becomes null and ``_cast_error`` carries the
    delivered text: the row is kept for staging to dead-letter, never silently changed.
    """
    casts: list[pl.Expr] = []
    errors: list[pl.Expr] = []
    for column, target in types.items():
        if column not in frame.columns or frame.schema[column] == target:
            continue
        source = frame.schema[column]
        original = pl.col(column)
        converted = original.cast(target, strict=False)
        lost = original.is_not_null() & converted.is_null()
        if source.is_numeric() and target.is_numeric():
            lost = lost | (original.is_not_null() & converted.cast(source, strict=False).ne_missing(original))
        casts.append(pl.when(lost).then(None).otherwise(converted).alias(column))
        errors.append(
            pl.when(lost).then(
                pl.format(
                    "{} {} delivered as {} is not exactly a {}{}",
                    pl.lit(column),
                    original.cast(pl.String),
                    pl.lit(str(source)),
                    pl.lit(str(target)),
                    pl.lit(" (not a whole number)" if target.is_integer() and source.is_float() else ""),
                )
            )
        )
    error = pl.coalesce(errors) if errors else pl.lit(None, dtype=pl.String)
    # The error is computed from the delivered values, so it goes on before the casts replace them.
    return frame.with_columns(error.cast(pl.String).alias(CAST_ERROR)).with_columns(casts)
