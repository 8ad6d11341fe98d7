"""``sales360 materialize --executor process_per_run``: each run of a window in a fresh process.

The same tables as the default in-process runs, every run recorded in the caller's instance, and
each run's steps executed in a process other than the caller's (the pid Dagster logs).
"""

from __future__ import annotations

import os
import re
import threading
from datetime import timedelta
from pathlib import Path

import dagster as dg
import pytest
from polars.testing import assert_frame_equal

from sales360_assets import cli
from sales360_assets.cli import PROCESS_PER_RUN, materialize_window
from sales360_assets.cli_support import RunFailedInChildError
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests import process_helpers
from sales360_assets_tests.conftest import WINDOW_START, SampleSources
from sales360_assets_tests.servers import project_instance

DAYS = (WINDOW_START, WINDOW_START + timedelta(days=1))


def _materialize(sources: SampleSources, lake: Path, instance: dg.DagsterInstance, executor: str) -> DeltaLake:
    defs = build_definitions(str(sources.root), str(lake))
    materialize_window(defs, instance, *DAYS, ["uk"], log=lambda _: None, executor=executor, reporting=False)
    return DeltaLake(str(lake))


def test_each_run_in_its_own_process_writes_what_in_process_runs_write(
    sample_sources: SampleSources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The run's process rebuilds the definitions from the environment, as a deployment's would.
    monkeypatch.setenv("SALES360_SOURCES_DIR", str(sample_sources.root))
    monkeypatch.setenv("SALES360_LAKE_URI", str(tmp_path / "isolated"))
    with project_instance() as instance:
        isolated = _materialize(sample_sources, tmp_path / "isolated", instance, PROCESS_PER_RUN)
        runs = instance.get_runs()
        assert sorted(r.job_name for r in runs) == ["daily_sales_job", "reference_data_job"]
        assert all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        for run in runs:
            pids = {
                int(m.group(1))
                for entry in instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
                if (m := re.search(r"pid: (\d+)", entry.message or ""))
            }
            assert pids and os.getpid() not in pids
    with project_instance() as instance:
        in_process = _materialize(sample_sources, tmp_path / "in_process", instance, "in_process")
    for table in ("fact_sales", "stg_pos_transactions", "dim_customer"):
        expected, got = in_process.read(table), isolated.read(table)
        assert got.height > 0
        assert_frame_equal(got.sort(got.columns), expected.sort(expected.columns))


def test_a_killed_run_process_ends_the_wait_with_a_message_that_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    """A run's process killed before it answers (out of memory, kill -9) used to leave the caller
    waiting forever on the pipe; it now ends with a short error naming the exit code."""
    monkeypatch.setattr(cli, "_execute_run", process_helpers.killed_before_answering)
    errors: list[str] = []

    def launch(instance: dg.DagsterInstance) -> None:
        try:
            cli._run_in_fresh_process(instance, "daily_sales_job", {})
        except RunFailedInChildError as exc:
            errors.append(str(exc))

    with project_instance() as instance:
        waiting = threading.Thread(target=launch, args=(instance,), daemon=True)
        waiting.start()
        waiting.join(timeout=90)
        assert not waiting.is_alive(), "still waiting on a run process that is gone"
    assert len(errors) == 1
    assert "daily_sales_job: its process exited with code -9 before the run ended" in errors[0]
