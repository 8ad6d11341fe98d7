"""A small warehouse-only export in the source contract: the bring-your-own walkthrough's example.

``sales360 example-export --out DIR`` writes it. Unlike the full sample it is what a company's
first export usually looks like: warehouse tables only (no ``crm/``, no ``landing/``), dates
only (no ``order_ts``, no ``_loaded_at``), flat Parquet files, no USD→USD FX row, amounts in
each currency's minor units, and only the configured regions and currencies
(``SALES360_CONFIG``). Its completed lines come back with ``net_usd`` so a test can reconcile
the marts with the export's own totals.
"""

from __future__ import annotations

import argparse
import random
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl

from sales360_assets.money import minor_units
from sales360_assets.settings import REGIONS, REPORTING_CURRENCY

# Constant rates make the expected USD totals a plain product, independent of the FX look-back.
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "AUD": 0.66, "BRL": 0.2}
OTHER_CURRENCY_RATE = 0.5  # a configured currency this table does not know
SKUS = [f"SKU-{i:03d}" for i in range(10)]
STAMP = datetime(2026, 1, 1, tzinfo=UTC)


def usd_per_unit(currency: str) -> float:
    return USD_PER_UNIT.get(currency, OTHER_CURRENCY_RATE)


def _customers(countries: list[str]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"customer_id": f"c-{i:03d}", "first_name": f"First{i}", "last_name": f"Last{i}",
             "email": f"customer{i}@example.com", "phone": None, "country": countries[i % len(countries)],
             "city": "City", "segment": ["Consumer", "Corporate", None][i % 3], "created_at": STAMP,
             "updated_at": STAMP}
            for i in range(40)
        ]
    )  # fmt: skip


def _products() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "sku": SKUS,
            "product_name": [f"Product {s}" for s in SKUS],
            "category": ["Electronics", "Home"] * 5,
            "subcategory": ["Phones", "Kitchen"] * 5,
            "brand": ["Acme"] * 10,
            "list_price_usd": [10.0 + 5 * i for i in range(10)],
            "standard_cost_usd": [4.0 + 2 * i for i in range(10)],
            "updated_at": [STAMP] * 10,
        }
    )


def _fx_rates(start: date, end: date, currencies: set[str]) -> pl.DataFrame:
    """Business-day rates from two weeks before the window (the FX look-back) to its end."""
    days = [start - timedelta(days=14) + timedelta(days=i) for i in range((end - start).days + 15)]
    rows = [
        {"rate_date": d, "currency": c, "usd_per_unit": usd_per_unit(c)}
        for d in days
        if d.weekday() < 5
        for c in sorted(currencies - {REPORTING_CURRENCY})  # the reporting currency needs no feed row
    ]
    return pl.DataFrame(rows, schema={"rate_date": pl.Date, "currency": pl.String, "usd_per_unit": pl.Float64})


def _orders_and_lines(rng: random.Random, start: date, end: date) -> tuple[list[dict], list[dict]]:
    regions = sorted(REGIONS.values(), key=lambda r: r.code)
    days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
    orders, lines = [], []
    for n in range(120):
        region, day, order_id = regions[n % len(regions)], days[n % len(days)], f"o-{n:04d}"
        status = "cancelled" if n % 10 == 7 else "completed"
        orders.append({"order_id": order_id, "customer_id": f"c-{rng.randrange(40):03d}", "order_date": day,
                       "region": region.code, "currency": region.currency, "status": status})  # fmt: skip
        decimals = minor_units(region.currency)  # whole yen for JPY, cents for USD
        for line in range(1, rng.randint(1, 3) + 1):
            quantity = rng.randint(1, 5)
            price = round(rng.uniform(1, 200) * (100 if decimals == 0 else 1), decimals)
            lines.append(
                {"order_id": order_id, "line_number": line, "sku": rng.choice(SKUS), "quantity": quantity,
                 "unit_price": price,
                 "discount_amount": round(rng.choice([0.0, 0.0, 0.1]) * quantity * price, decimals),
                 "order_date": day, "region": region.code, "_status": status, "_currency": region.currency}
            )  # fmt: skip
    return orders, lines


def write_example_export(root: Path, start: date, end: date, seed: int = 12) -> pl.DataFrame:
    """Write the export under ``root`` for [start, end]; return its completed lines with ``net_usd``."""
    rng = random.Random(seed)
    orders, lines = _orders_and_lines(rng, start, end)
    regions = list(REGIONS.values())
    tables = {
        "customers": _customers([r.countries[0] for r in sorted(regions, key=lambda r: r.code)]),
        "products": _products(),
        "fx_rates": _fx_rates(start, end, {r.currency for r in regions}),
        "orders": pl.DataFrame(orders),
        "order_lines": pl.DataFrame(lines).drop("_status", "_currency"),
    }
    for table, frame in tables.items():
        (root / "warehouse" / table).mkdir(parents=True, exist_ok=True)
        frame.write_parquet(root / "warehouse" / table / f"{table}.parquet")
    rate = pl.col("_currency").map_elements(usd_per_unit, return_dtype=pl.Float64)
    return (
        pl.DataFrame(lines)
        .filter(pl.col("_status") == "completed")
        .with_columns(((pl.col("quantity") * pl.col("unit_price") - pl.col("discount_amount")) * rate).alias("net_usd"))
    )


def _cmd_example_export(args: argparse.Namespace) -> int:
    end = date.fromisoformat(args.end) if args.end else datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    out = Path(args.out)
    if (out / "warehouse").exists():
        print(f"error: {out / 'warehouse'} exists; pick an empty --out (the export is never merged)", file=sys.stderr)
        return 2
    lines = write_example_export(out, start, end)
    print(
        f"wrote a warehouse-only export for {start}..{end} under {out}: {lines['order_id'].n_unique()} completed "
        f"orders, {lines.height} lines, {lines['net_usd'].sum():,.2f} USD net. Next:\n"
        f"  export SALES360_SOURCES_DIR={out} SALES360_LAKE_URI={out.parent / (out.name + '-lake')}\n"
        f"  sales360 materialize --start {start} --end {end}"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``example-export`` to the CLI."""
    parser = sub.add_parser(
        "example-export", help="write a small warehouse-only export in the source contract (docs walkthrough)"
    )
    parser.add_argument("--out", required=True, help="an empty folder for the export")
    parser.add_argument("--end", default=None, help="last order date, YYYY-MM-DD (default: yesterday, UTC)")
    parser.add_argument("--days", type=int, default=7, help="days of orders (default 7)")
    parser.set_defaults(func=_cmd_example_export)
