"""How one person's name is spelled in each system: accents stripped, nicknames, keying typos.

The spelling variants are what makes the same person look different in the web shop, at the
till and in the CRM; the name tables hold every variant so people draw them by index.
"""

from __future__ import annotations

import unicodedata

import numpy as np
import polars as pl

from sales360_assets.sample_sources.reference_data import NAMES, NICKNAMES


def ascii_fold(text: str) -> str:
    """Accents stripped ("José" -> "Jose", "Weiß" -> "Weiss"), as a keyboard without them types it."""
    text = text.replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def email_part(text: str) -> str:
    """A name as an email local part: ASCII letters only, lower case."""
    return "".join(c for c in ascii_fold(text).lower() if "a" <= c <= "z")


def typo(name: str) -> str:
    """A deterministic keying error: a doubled letter typed once, else two letters swapped."""
    for i in range(len(name) - 1):
        if name[i] == name[i + 1] and name[i].isalpha():
            return name[:i] + name[i + 1 :]
    if len(name) >= 4:
        i = len(name) // 2
        if name[i - 1] != name[i]:
            return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    return name + name[-1]


def name_tables() -> tuple[list[str], dict[str, tuple[int, int, int, int]], pl.Series, pl.Series]:
    """Flat first/last name lists with per-culture ranges and 5 spelling variants each.

    Variant codes: 0 as registered, 1 accents stripped, 2 nickname, 3 typo, 4 nickname in quotes.
    """
    firsts: list[str] = []
    lasts: list[str] = []
    ranges: dict[str, tuple[int, int, int, int]] = {}
    for culture, (fs, ls) in NAMES.items():
        ranges[culture] = (len(firsts), len(fs), len(lasts), len(ls))
        firsts.extend(fs)
        lasts.extend(ls)
    first_variants = [
        *firsts,
        *(ascii_fold(f) for f in firsts),
        *(NICKNAMES.get(f, f) for f in firsts),
        *(typo(f) for f in firsts),
        *(f'{f} "{NICKNAMES[f]}"' if f in NICKNAMES else f for f in firsts),
    ]
    last_variants = [*lasts, *(ascii_fold(x) for x in lasts), *lasts, *(typo(x) for x in lasts), *lasts]
    return (
        [*firsts, *lasts],
        ranges,
        pl.Series(first_variants, dtype=pl.String),
        pl.Series(last_variants, dtype=pl.String),
    )


# Shares of each spelling per system and field. Name variants follow name_tables (as registered,
# accents stripped, nickname, typo, nickname in quotes); emails: as registered, Title Case,
# UPPER CASE, padded with spaces, missing; phones: dashed, international, compact, (paren), missing.
_SPELLING_SHARES: dict[str, tuple[float, ...]] = {
    "pos_first": (0.66, 0.12, 0.08, 0.10, 0.04),
    "pos_last": (0.82, 0.08, 0.0, 0.10, 0.0),
    "crm_first": (0.75, 0.08, 0.12, 0.05, 0.0),
    "crm_last": (0.88, 0.07, 0.0, 0.05, 0.0),
    "pos_email": (0.65, 0.12, 0.05, 0.08, 0.10),
    "crm_email": (0.60, 0.25, 0.0, 0.15, 0.0),
    "pos_phone": (0.55, 0.20, 0.10, 0.0, 0.15),
    "crm_phone": (0.0, 0.35, 0.20, 0.45, 0.0),
}


def system_spellings(
    rng: np.random.Generator, first_idx: np.ndarray, last_idx: np.ndarray, first_v: pl.Series, last_v: pl.Series
) -> dict[str, pl.Series | pl.Expr]:
    """Columns of how the tills and the CRM spell each person (from the ``email`` and ``phone_*`` columns).

    Drawn in ``_SPELLING_SHARES`` order, one draw per person and column.
    """
    n = len(first_idx)
    n_first, n_last = len(first_v) // 5, len(last_v) // 5
    columns: dict[str, pl.Series | pl.Expr] = {}
    for column, probs in _SPELLING_SHARES.items():
        code = rng.choice(len(probs), n, p=probs)
        if column.endswith("_first"):
            columns[column] = first_v.gather(code * n_first + first_idx)
        elif column.endswith("_last"):
            columns[column] = last_v.gather(code * n_last + last_idx)
        elif column.endswith("_email"):
            columns[column] = _email_variant(pl.Series(code))
        else:
            columns[column] = _phone_variant(pl.Series(code))
    return columns


def _email_variant(code: pl.Series) -> pl.Expr:
    email = pl.col("email")
    return (
        pl.when(pl.lit(code) == 0)
        .then(email)
        .when(pl.lit(code) == 1)
        .then(email.str.to_titlecase())
        .when(pl.lit(code) == 2)
        .then(email.str.to_uppercase())
        .when(pl.lit(code) == 3)
        .then(pl.concat_str(pl.lit(" "), email, pl.lit(" ")))
        .otherwise(None)
    )


def _phone_variant(code: pl.Series) -> pl.Expr:
    return (
        pl.when(pl.lit(code) == 0)
        .then(pl.col("phone_dashed"))
        .when(pl.lit(code) == 1)
        .then(pl.col("phone_intl"))
        .when(pl.lit(code) == 2)
        .then(pl.col("phone_compact"))
        .when(pl.lit(code) == 3)
        .then(pl.col("phone_paren"))
        .otherwise(None)
    )
