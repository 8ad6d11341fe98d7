"""Normalised match keys: email, E.164 phone and folded names. Pure Polars expressions.

Matching compares what people typed in different systems, so every key is reduced to the part
that identifies the person: case, stray whitespace, accents, phone formatting and the trunk 0
of national numbers carry no identity and are removed here, once, for every rule and model.
"""

from __future__ import annotations

import unicodedata

import polars as pl

# ITU country calling codes of the countries the regions cover (settings.REGIONS). A number typed
# without its country code gets the code of the record's country: that is how a clerk in Dublin
# writes a Dublin number.
CALLING_CODES: dict[str, str] = {
    "US": "1",
    "CA": "1",
    "DE": "49",
    "FR": "33",
    "NL": "31",
    "ES": "34",
    "IT": "39",
    "GB": "44",
    "IE": "353",
    "JP": "81",
    "AU": "61",
    "BR": "55",
    "MX": "52",
}
_NANP = "1"


def fold_text(text: str | None) -> str | None:
    """Lower-case ASCII letters, digits and single spaces: "Zoë  O'Connor" -> "zoe oconnor"."""
    if text is None:
        return None
    ascii_text = "".join(
        c for c in unicodedata.normalize("NFKD", text.replace("ß", "ss")) if not unicodedata.combining(c)
    )
    kept = "".join(c if c.isalnum() or c.isspace() or c == "-" else "" for c in ascii_text.lower())
    folded = " ".join(kept.replace("-", " ").split())
    return folded or None


def fold_name(expr: pl.Expr) -> pl.Expr:
    """A name as matching sees it; a quoted nickname (`Robert "Bob"`) is dropped for the given name."""
    without_quoted = expr.str.replace_all(r'"[^"]*"', "")
    return without_quoted.map_elements(fold_text, return_dtype=pl.String)


def normalise_email(expr: pl.Expr) -> pl.Expr:
    """Trimmed, lower-cased; anything without exactly one @ and a dotted domain is no email."""
    email = expr.str.strip_chars().str.to_lowercase()
    return pl.when(email.str.contains(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")).then(email)


def email_domain(expr: pl.Expr) -> pl.Expr:
    return normalise_email(expr).str.split("@").list.last()


def normalise_phone(phone: pl.Expr, country: pl.Expr) -> pl.Expr:
    """E.164 (`+442079460123`) from the formats people type, using the record's country.

    `+44 20 7946 0123` and `0044…` keep their code; a national number drops its trunk 0 and gets
    the country's code; a 10-digit North American number gets +1. Numbers too short or too long
    for E.164 (under 8 or over 15 digits) are no phone, so they never match anything.
    """
    text = phone.str.strip_chars()
    digits = text.str.replace_all(r"\D", "")
    code = country.str.strip_chars().str.to_uppercase().replace_strict(CALLING_CODES, default=None)
    international = text.str.starts_with("+") | digits.str.starts_with("00")
    national = digits.str.strip_prefix("0")
    e164 = (
        pl.when(text.str.starts_with("+"))
        .then(digits)
        .when(digits.str.starts_with("00"))
        .then(digits.str.slice(2))
        .when((code == _NANP) & (digits.str.len_chars() == 11) & digits.str.starts_with("1"))
        .then(digits)
        .when(code.is_not_null() & ~international)
        .then(pl.concat_str(code, national))
    )
    return pl.when(e164.str.len_chars().is_between(8, 15)).then(pl.concat_str(pl.lit("+"), e164))


def national_phone(phone: pl.Expr) -> pl.Expr:
    """The national significant number: the digits left once the country code or trunk 0 is gone.

    The match key for phones. A store knows where the till is, not where the shopper lives (a
    Dutch customer in a Paris store types a Dutch number without +31), so a national number
    cannot be given a country code safely; comparing what is left of every format can.
    """
    text = phone.str.strip_chars()
    digits = text.str.replace_all(r"\D", "")
    international = (
        pl.when(text.str.starts_with("+")).then(digits).when(digits.str.starts_with("00")).then(digits.str.slice(2))
    )
    # Longest codes first so "353" (Ireland) is not read as "35" + number.
    codes = sorted(set(CALLING_CODES.values()), key=len, reverse=True)
    stripped = international
    for code in codes:
        stripped = (
            pl.when(international.str.starts_with(code)).then(international.str.slice(len(code))).otherwise(stripped)
        )
    national = pl.coalesce(stripped, digits).str.strip_prefix("0")
    return pl.when(national.str.len_chars().is_between(7, 14)).then(national)
