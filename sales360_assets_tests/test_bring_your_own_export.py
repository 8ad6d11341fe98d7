"""End to end: a minimal warehouse-only export loads without code changes or invented data.

No ``crm/`` and no ``landing/`` (both sources switch off), dates only (no ``order_ts``, no
``_loaded_at``), no USD→USD FX row, orders and lines as flat Parquet files. The marts must
reconcile exactly to the export's own totals.
"""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.sample_sources.example_export import write_example_export
from sales360_assets.settings import SOURCES_ENV
from sales360_assets_tests.conftest import WINDOW_END, WINDOW_START, SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance

# Two territories the sample does not have, for the run under a deployment config.
CUSTOM_REGIONS = """\
regions:
  - {code: anz, currency: AUD, countries: [AU, NZ], timezone: Australia/Sydney}
  - {code: latam, currency: BRL, countries: [BR, AR], timezone: America/Sao_Paulo}
"""


def write_export(root: Path) -> pl.DataFrame:
    """The walkthrough's example export (what `sales360 example-export` writes) for the test window."""
    return write_example_export(root, WINDOW_START, WINDOW_END)


def test_a_warehouse_only_dates_only_export_reconciles_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)  # switched off by the missing folders alone
    expected = write_export(tmp_path / "sources")
    with project_instance() as instance:
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


def test_the_walkthrough_commands_from_an_example_export_to_reconciled_marts(tmp_path: Path) -> None:
    """docs/source_contract.md's walkthrough, command by command, in fresh processes as a user runs them."""
    export, home = tmp_path / "export", tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")
    env = {k: v for k, v in os.environ.items() if k != SOURCES_ENV}
    env |= {"DAGSTER_HOME": str(home), "SALES360_LAKE_URI": str(tmp_path / "lake"), "SALES360_SOURCES_DIR": str(export)}

    def sales360(*args: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "sales360_assets.cli", *args]
        return subprocess.run(command, env=env, capture_output=True, text=True, timeout=900, check=False)

    written = sales360("example-export", "--out", str(export), "--end", "2026-03-08")
    assert written.returncode == 0, written.stderr
    assert "sales360 materialize --start 2026-03-02 --end 2026-03-08" in written.stdout
    done = sales360("materialize", "--start", "2026-03-02", "--end", "2026-03-08")
    assert done.returncode == 0, done.stderr[-3000:]

    # The answer from the export's own files: completed orders' lines at the fixed example rates.
    warehouse = export / "warehouse"
    orders = pl.read_parquet(warehouse / "orders").filter(pl.col("status") == "completed")
    rates = pl.read_parquet(warehouse / "fx_rates").group_by("currency").agg(pl.col("usd_per_unit").first())
    lines = (
        pl.read_parquet(warehouse / "order_lines")
        .join(orders.select("order_id", "currency"), on="order_id")
        .join(rates, on="currency", how="left")
        .with_columns(pl.col("usd_per_unit").fill_null(1.0))  # USD has no feed row: at par
    )
    net_usd = ((pl.col("quantity") * pl.col("unit_price") - pl.col("discount_amount")) * pl.col("usd_per_unit")).sum()
    mart = DeltaLake(str(tmp_path / "lake")).read("mart_daily_sales")
    assert mart["revenue_usd"].sum() == pytest.approx(lines.select(net_usd).item(), abs=0.005)
    assert mart["orders"].sum() == orders.height
    assert mart["units"].sum() == lines["quantity"].sum()
