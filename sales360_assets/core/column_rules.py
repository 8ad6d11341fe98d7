"""Column rules the core dimensions and facts share: tombstones, blank text and region codes."""

from __future__ import annotations

import polars as pl

from sales360_assets.core.schemas import COUNTRY_TO_REGION
from sales360_assets.settings import REGION_CODES


def live(frame: pl.DataFrame) -> pl.DataFrame:
    """Rows Salesforce still holds: a record with ``is_deleted`` is left out of every core table."""
    return frame.filter(~pl.col("is_deleted").fill_null(False))


def blank_to_null(expr: pl.Expr) -> pl.Expr:
    """Trimmed text, null when nothing is left: sources send "" and "  " where they mean unknown."""
    stripped = expr.str.strip_chars()
    return pl.when(stripped != "").then(stripped)


def valid_region(expr: pl.Expr) -> pl.Expr:
    # Source region codes outside settings.REGIONS would not join dim_region; treat them as unknown.
    return pl.when(expr.is_in(REGION_CODES)).then(expr)


def region_of_country(expr: pl.Expr) -> pl.Expr:
    """The sales region of a country code (any case, padded), null for a country no region covers."""
    return expr.str.strip_chars().str.to_uppercase().replace_strict(COUNTRY_TO_REGION, default=None)
