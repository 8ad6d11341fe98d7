"""Vector helpers every part of the sample shares: random streams, time units, ids, gathers, money.

Row volumes are numpy/polars vectors throughout the generator; these turn index and number
arrays into the typed columns the source contract wants.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from datetime import date

import numpy as np
import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME

# Timestamps are integer microseconds since the epoch until they become columns.
EPOCH = date(1970, 1, 1)
SEC = 1_000_000
HOUR = 3600 * SEC
DAY = 24 * HOUR


def component_rng(seed: int, component: str) -> np.random.Generator:
    """One independent stream per component, so changing one part never reshuffles the others."""
    return np.random.default_rng([seed, zlib.crc32(component.encode())])


def day_us(day: date) -> int:
    """Midnight UTC of a day, in µs since the epoch."""
    return (day - EPOCH).days * DAY


def timestamps(name: str, micros: np.ndarray) -> pl.Series:
    """A UTC datetime column from µs since the epoch."""
    return pl.Series(name, np.asarray(micros, dtype=np.int64)).cast(UTC_DATETIME)


def dates(name: str, epoch_days: np.ndarray) -> pl.Series:
    """A date column from days since the epoch."""
    return pl.Series(name, np.asarray(epoch_days, dtype=np.int32)).cast(pl.Date)


def prefixed(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    """Ids as a prefix and a zero-padded number ("WO000000042")."""
    digits = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series().alias(name)


def sf_ids(name: str, prefix: str, numbers: np.ndarray) -> pl.Series:
    """18-character Salesforce-style ids: the object's key prefix and a zero-padded number."""
    return prefixed(name, prefix, numbers, 15)


def take(values: Sequence[str] | pl.Series, idx: np.ndarray, name: str = "") -> pl.Series:
    """Gather strings by index; negative indexes become null."""
    series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
    index = pl.Series(np.asarray(idx, dtype=np.int64))
    if (index < 0).any():
        index = pl.select(pl.when(index >= 0).then(index)).to_series()
    return series.gather(index).alias(name)


def alloc(total: int, weights: Sequence[float], minimum: int = 0) -> np.ndarray:
    """Split ``total`` proportionally to ``weights`` (largest remainder), each part >= minimum."""
    w = np.asarray(weights, dtype=float)
    k = len(w)
    minimum = min(minimum, total // max(k, 1))
    rest = total - minimum * k
    raw = w / w.sum() * rest
    counts = np.floor(raw).astype(np.int64)
    short = rest - int(counts.sum())
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:short]] += 1
    return counts + minimum


def mask(n: int, idx: np.ndarray) -> np.ndarray:
    """A boolean vector of length n, true at the indexes."""
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def round_money(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    """Round amounts to each currency's minor unit."""
    factor = 10.0 ** np.asarray(decimals, dtype=float)
    return np.round(values * factor) / factor


def money_text(values: np.ndarray) -> pl.Series:
    """Non-negative amounts as fixed two-decimal text (CSV wire format)."""
    cents = np.rint(np.asarray(values, dtype=float) * 100).astype(np.int64)
    whole = pl.Series(cents // 100).cast(pl.String)
    frac = pl.Series(cents % 100).cast(pl.String).str.zfill(2)
    return pl.select(pl.concat_str(whole, pl.lit("."), frac)).to_series()


def offset_text(hours: int) -> str:
    """A UTC offset as ISO 8601 text ("+09:00", "-05:00")."""
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"


def basket_sizes(rng: np.random.Generator, lines: int, p: float, cap: int, first_draws: int) -> np.ndarray:
    """Lines per basket (geometric, at most ``cap``) until ``lines`` are spent; the last basket is trimmed to fit."""
    sizes = np.minimum(rng.geometric(p, first_draws), cap)
    while sizes.sum() < lines:
        sizes = np.concatenate([sizes, np.minimum(rng.geometric(p, 64), cap)])
    cum = np.cumsum(sizes)
    n_baskets = int(np.searchsorted(cum, lines) + 1)
    sizes = sizes[:n_baskets]
    sizes[-1] -= int(cum[n_baskets - 1] - lines)
    return sizes


def line_numbers(sizes: np.ndarray) -> np.ndarray:
    """1-based line number within its basket, for every line of baskets of these sizes."""
    return np.arange(int(sizes.sum())) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
