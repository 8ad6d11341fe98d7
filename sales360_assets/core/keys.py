"""Surrogate keys shared by every core table (dimensions, facts, the SCD and bridge modules)."""

from __future__ import annotations

import hashlib

import polars as pl

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
