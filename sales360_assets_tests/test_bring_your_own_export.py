"""End to end: a minimal warehouse-only export loads without code changes or invented data.

No ``crm/`` and no ``landing/`` (both sources switch off), dates only (no ``order_ts``, no
``_loaded_at``), no USD→USD FX row, orders and lines as flat Parquet files. The marts must
reconcile exactly to the export's own totals.
"""

from __future__ import annotations

import os
import random
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.money import minor_units
from sales360_assets.settings import REGIONS, SOURCES_ENV
from sales360_assets_tests.conftest import WINDOW_END, WINDOW_START, SampleSources, materialize_into

# Constant rates make the expected USD totals a plain product, independent of the FX look-back.
USD_PER_UNIT = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067, "AUD": 0.66, "BRL": 0.2}
# Two territories the sample does not have, for the run under a deployment config.
CUSTOM_REGIONS = """\
regions:
  - {code: anz, currency: AUD, countries: [AU, NZ], timezone: Australia/Sydney}
  - {code: latam, currency: BRL, countries: [BR, AR], timezone: America/Sao_Paulo}
"""
SKUS = [f"SKU-{i:03d}" for i in range(10)]


def write_export(root: Path, seed: int = 12) -> pl.DataFrame:
    """The export under ``root``; returns its completed lines with ``net_usd`` (the expected answer)."""
    rng = random.Random(seed)
    regions = sorted(REGIONS.values(), key=lambda r: r.code)
    days = [WINDOW_START + timedelta(days=i) for i in range((WINDOW_END - WINDOW_START).days + 1)]
    stamp = datetime(2026, 1, 1, tzinfo=UTC)
    customers = pl.DataFrame(
        [
            {
                "customer_id": f"c-{i:03d}",
                "first_name": f"First{i}",
                "last_name": f"Last{i}",
                "email": f"customer{i}@example.com",
                "phone": None,
                "country": regions[i % len(regions)].countries[0],
                "city": "City",
                "segment": ["Consumer", "Corporate", None][i % 3],
                "created_at": stamp,
                "updated_at": stamp,
            }
            for i in range(40)
        ]
    )
    products = pl.DataFrame(
        {
            "sku": SKUS,
            "product_name": [f"Product {s}" for s in SKUS],
            "category": ["Electronics", "Home"] * 5,
            "subcategory": ["Phones", "Kitchen"] * 5,
            "brand": ["Acme"] * 10,
            "list_price_usd": [10.0 + 5 * i for i in range(10)],
            "standard_cost_usd": [4.0 + 2 * i for i in range(10)],
            "updated_at": [stamp] * 10,
        }
    )
    rate_days = [WINDOW_START - timedelta(days=14) + timedelta(days=i) for i in range(21)]
    fx = pl.DataFrame(
        [
            {"rate_date": d, "currency": c, "usd_per_unit": r}
            for d in rate_days
            if d.weekday() < 5
            for c, r in USD_PER_UNIT.items()
            # Only the deployment's currencies (another would be an unknown currency, dead-lettered);
            # the reporting currency needs no feed row.
            if c != "USD" and c in {region.currency for region in regions}
        ]
    )
    orders, lines = [], []
    for n in range(120):
        region = regions[n % len(regions)]
        day = days[n % len(days)]
        order_id = f"o-{n:04d}"
        status = "cancelled" if n % 10 == 7 else "completed"
        orders.append(
            {
                "order_id": order_id,
                "customer_id": f"c-{rng.randrange(40):03d}",
                "order_date": day,
                "region": region.code,
                "currency": region.currency,
                "status": status,
            }
        )
        for line in range(1, rng.randint(1, 3) + 1):
            # Amounts in the currency's minor units (whole yen for JPY), as the contract asks.
            decimals = minor_units(region.currency)
            quantity, price = rng.randint(1, 5), round(rng.uniform(1, 200) * (100 if decimals == 0 else 1), decimals)
            lines.append(
                {
                    "order_id": order_id,
                    "line_number": line,
                    "sku": rng.choice(SKUS),
                    "quantity": quantity,
                    "unit_price": price,
                    "discount_amount": round(rng.choice([0.0, 0.0, 0.1]) * quantity * price, decimals),
                    "order_date": day,
                    "region": region.code,
                    "_status": status,
                    "_currency": region.currency,
                }
            )
    for table, frame in {
        "customers": customers,
        "products": products,
        "fx_rates": fx,
        "orders": pl.DataFrame(orders),
        "order_lines": pl.DataFrame(lines).drop("_status", "_currency"),
    }.items():
        (root / "warehouse" / table).mkdir(parents=True)
        frame.write_parquet(root / "warehouse" / table / f"{table}.parquet")
    return (
        pl.DataFrame(lines)
        .filter(pl.col("_status") == "completed")
        .with_columns(
            (
                (pl.col("quantity") * pl.col("unit_price") - pl.col("discount_amount"))
                * pl.col("_currency").replace_strict(USD_PER_UNIT)
            ).alias("net_usd")
        )
    )


def test_a_warehouse_only_dates_only_export_reconciles_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)  # switched off by the missing folders alone
    expected = write_export(tmp_path / "sources")
    with dg.instance_for_test() as instance:
        run = materialize_into(tmp_path, SampleSources(tmp_path / "sources", {}), instance)
        lake = run.lake
        facts = lake.read("fact_sales")
        assert facts["channel"].unique().to_list() == ["web"]  # no CRM or POS lines
        assert lake.read("raw_salesforce_opportunities").height == 0
        assert lake.read("raw_pos_stores").height == 0
        letters = lake.read("dead_letter")  # the export is clean: not one row may be rejected
        assert letters.height == 0, letters.select("source_table", "reason").head(5)
        mart = lake.read("mart_daily_sales")
        got = mart.select(pl.col("revenue_usd").sum().round(2), pl.col("orders").sum(), pl.col("units").sum()).row(0)
        want = (
            round(expected["net_usd"].sum(), 2),
            expected["order_id"].n_unique(),
            float(expected["quantity"].sum()),
        )
        assert got == want
        per_region = mart.group_by("region").agg(pl.col("revenue_usd").sum().round(2)).sort("region")
        want_region = (
            expected.group_by("region").agg(pl.col("net_usd").sum().round(2).alias("revenue_usd")).sort("region")
        )
        assert per_region.to_dicts() == want_region.to_dicts()
        orders = lake.read("stg_warehouse_orders")
        assert (orders["order_ts"].dt.date() == orders["date"]).all()
        assert (orders["order_ts"].dt.time() == datetime.min.time()).all()
        assert date(2026, 3, 2) in orders["date"].to_list()


def test_custom_regions_and_currencies_from_the_config_alone(tmp_path: Path) -> None:
    """Issue 12's acceptance: anz in AUD and latam in BRL, USD reporting, no CRM, no POS, dates only —
    the same export test, in a fresh process whose only difference is SALES360_CONFIG."""
    config = tmp_path / "deployment.yaml"
    config.write_text(CUSTOM_REGIONS)
    env = {**os.environ, "SALES360_CONFIG": str(config), "PYTHONPATH": str(Path(__file__).parents[1])}
    test = f"{Path(__file__)}::test_a_warehouse_only_dates_only_export_reconciles_exactly"
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test, "--basetemp", str(tmp_path / "run")],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "1 passed" in done.stdout
