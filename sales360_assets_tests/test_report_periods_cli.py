"""Issue 12 item 7: the analyst asks for a report period from the CLI (run config underneath).

`sales360 report --period all` runs the sales_team_report asset through the instance in
$DAGSTER_HOME, in a fresh process as a user would, over a copy of the materialized lake; its
figures must total fact_sales over the whole history, not the latest month or week.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.cli import main as cli
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests.conftest import MaterializedLake

pytestmark = pytest.mark.integration


def _report(lake_root: Path, home: Path, sources: Path, period: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        # Relative, as the README writes it (DAGSTER_HOME=.dagster_home from the project root).
        "DAGSTER_HOME": home.name,
        "SALES360_LAKE_URI": str(lake_root),
        "SALES360_SOURCES_DIR": str(sources),
        "SALES360_REPORTS_DIR": str(home.parent / "reports"),
    }
    command = [sys.executable, "-m", "sales360_assets.cli", "report", "--period", period]
    return subprocess.run(command, env=env, cwd=home.parent, capture_output=True, text=True, timeout=600, check=False)


def test_report_for_the_whole_history_from_the_cli(materialized: MaterializedLake, tmp_path: Path) -> None:
    lake_root = tmp_path / "lake"
    shutil.copytree(materialized.lake_uri, lake_root)
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text("")

    done = _report(lake_root, home, materialized.sources.root, "all")
    assert done.returncode == 0, done.stderr
    assert "sales team report for all history" in done.stdout

    lake = DeltaLake(str(lake_root))
    fact = lake.read("fact_sales")
    figures = lake.read("sales_team_report")
    assert figures["period_start"].unique().to_list() == [fact["date"].min()]
    assert figures["period_end"].unique().to_list() == [fact["date"].max()]
    headline = figures.filter(pl.col("section") == "headline", pl.col("metric") == "revenue_usd")["value"].item()
    assert headline == pytest.approx(fact["net_amount_usd"].sum())
    report_text = (tmp_path / "reports" / "sales_team_report.md").read_text()
    assert report_text.startswith("# Sales team report — all history")

    # A period the data does not hold fails the run with one line that says what the data covers.
    done = _report(lake_root, home, materialized.sources.root, "2019")
    assert done.returncode == 1
    assert "2019 is not complete in the data (the data covers" in done.stderr
    assert "Traceback" not in done.stderr


def test_a_malformed_period_is_refused_before_any_run(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli(["report", "--period", "fortnight"]) == 2
    assert "report period 'fortnight' is not one of: latest, week, month" in capsys.readouterr().err


def test_commands_that_run_jobs_say_how_to_set_dagster_home(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    """Dagster's own errors were `DagsterHomeNotSetError` and '$DAGSTER_HOME ".dagster_home" must be an
    absolute path'; each command that runs a job now says what to set, before any run."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("SALES360_LAKE_URI", str(tmp_path / "lake"))
    for command in (["materialize", "--days", "1"], ["report"], ["freshness"]):
        monkeypatch.delenv("DAGSTER_HOME", raising=False)
        assert cli(command) == 2, command
        assert "set DAGSTER_HOME" in capsys.readouterr().err, command
        monkeypatch.setenv("DAGSTER_HOME", "no_such_dir")
        assert cli(command) == 2, command
        assert "DAGSTER_HOME=no_such_dir is not a directory" in capsys.readouterr().err, command
