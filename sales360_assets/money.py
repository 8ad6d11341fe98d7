"""Money types and currency precision, in one place.

* USD money that is paid (commission statements, the ledger) is ``Decimal(18, 2)``: cents,
  rounded half-up at the line (see ``docs/commissions.md``).
* Amounts in a sale's own currency (``*_local`` columns of the facts) are ``Decimal(18, 3)``
  holding exactly the source's value in that currency's minor units: 0 decimals for JPY, 2 for
  USD, 3 for KWD. One scale for every currency, because a Delta column has one type; three
  decimals is the most any ISO 4217 currency uses. Staging dead-letters a price or discount
  with more decimals than its currency has (``finer_than_currency``), so a stored JPY amount is
  always whole yen and line totals (integer quantity × price − discount) stay exact.

USD analytics columns (``net_amount_usd`` …) stay ``Float64``: they are converted at a
floating FX rate and only ever summed for reporting; what is paid is re-derived as Decimal.
"""

from __future__ import annotations

from decimal import Decimal

import polars as pl

CENT = Decimal("0.01")
MONEY = pl.Decimal(18, 2)
LOCAL_AMOUNT = pl.Decimal(18, 3)

DEFAULT_MINOR_UNITS = 2
# ISO 4217 currencies whose minor unit is not 1/100 (the list changes rarely; no library in our
# lock carries the table, and adding Babel for a dozen entries is not worth it).
MINOR_UNITS: dict[str, int] = {
    **dict.fromkeys(["BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG", "RWF", "UGX", "UYI"], 0),
    **dict.fromkeys(["VND", "VUV", "XAF", "XOF", "XPF"], 0),
    **dict.fromkeys(["BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"], 3),
}  # CLF and UYW (4 decimals) are units of account, not currencies sales are made in.


# Nine decimals fix each USD float to a billionth of a dollar (off by at most 5e-10 a line); 29
# integer digits hold any sum of sales.
EXACT_SUM = pl.Decimal(38, 9)


def exact_sum(amount: str | pl.Expr) -> pl.Expr:
    """The sum of a float column, the same whatever order its rows are added in.

    Polars adds a group's floats in parallel partial sums whose order changes from one collect to
    the next (measured on Polars 2.1: 6 different results in 10 collects of one query), and a range
    run reads lines in another order than one run per partition, so a float sum differs in its
    last bits between two runs over the same lines: a re-run would not write the same table. Each
    value is fixed to nine decimals and summed as integers, then returned as a float.
    """
    column = pl.col(amount) if isinstance(amount, str) else amount
    return column.cast(EXACT_SUM).sum().cast(pl.Float64)


def to_the_cent(column: str) -> pl.Expr:
    """A USD amount as it ranks: to the cent. Two amounts equal to the cent tie, whatever their
    lines' fractions of a cent (0.1 + 0.2 ranks with 0.3)."""
    return pl.col(column).round(2)


def minor_units(currency: str) -> int:
    """Decimals the currency's amounts carry (JPY 0, USD 2, KWD 3)."""
    return MINOR_UNITS.get(currency.upper(), DEFAULT_MINOR_UNITS)


def minor_units_expr(currency: str | pl.Expr) -> pl.Expr:
    column = pl.col(currency) if isinstance(currency, str) else currency
    return column.str.to_uppercase().replace_strict(MINOR_UNITS, default=DEFAULT_MINOR_UNITS, return_dtype=pl.Int32)


def finer_than_currency(amount: pl.Expr, currency: str | pl.Expr) -> pl.Expr:
    """True where a (float) amount has more decimals than its currency allows (99.5 JPY, 1.005 USD).

    The tolerance is absolute, a thousandth of a minor unit: a binary float's error (0.1 + 0.2)
    stays far below it for amounts up to about 10^12 minor units, while half a yen or a tenth of
    a cent is far above it (a tolerance relative to the amount stopped seeing 6000.005 USD).
    """
    scaled = amount * pl.lit(10.0).pow(minor_units_expr(currency))
    return (scaled - scaled.round(0)).abs() > 1e-3
