"""Crashed runs: a run killed mid-extract is failed with a reason, its pool slots come back, the next run completes."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.run_health import WORKER_HOST_TAG, WORKER_PID_TAG, fail_dead_runs
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.servers import LOCAL_PROFILE, instance_from_profile, project_instance

REPO = Path(__file__).resolve().parents[1]


def _worker(env: dict[str, str], sources: Path, lake: Path, **extra: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "sales360_assets_tests.run_health_worker", str(sources), str(lake)],
        env={**env, **extra},
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _wait_for(paths: list[Path], procs: list[subprocess.Popen], timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not all(p.exists() for p in paths):
        for proc in procs:
            if proc.poll() is not None:
                pytest.fail(f"worker exited early ({proc.returncode}): {proc.stderr.read() if proc.stderr else ''}")
        if time.monotonic() > deadline:
            pytest.fail("the extracts never started")
        time.sleep(0.2)


def test_the_deployment_config_enables_run_monitoring_and_pool_limits(tmp_path: Path) -> None:
    with instance_from_profile(LOCAL_PROFILE, tmp_path) as instance:
        assert instance.run_monitoring_enabled
        assert "MONITORING" in instance.get_required_daemon_types()
        assert instance.run_monitoring_settings["free_slots_after_run_end_seconds"] > 0
        assert instance.run_monitoring_max_runtime_seconds > 0
        assert instance.global_op_concurrency_default_limit == 2


@pytest.mark.xdist_group("subprocess_runs")
def test_runs_killed_mid_extract_are_failed_and_the_next_run_completes(
    tmp_path: Path, sample_sources: SampleSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    home, lake = tmp_path / "dagster_home", tmp_path / "lake"
    home.mkdir()
    monkeypatch.setenv("DAGSTER_HOME", str(home))  # this process reads the instance too
    env = {**os.environ, "DAGSTER_HOME": str(home)}
    with instance_from_profile(LOCAL_PROFILE, home):  # salesforce pool: 2 slots
        pass  # create the SQLite storage once: two processes creating it at once race on its migrations

    # Two extracts hold both salesforce slots, then their processes are killed (kill -9).
    markers = [tmp_path / f"extracting-{i}" for i in range(2)]
    stalled = [_worker(env, sample_sources.root, lake, STALL_SECONDS="300", STALL_MARKER=str(m)) for m in markers]
    try:
        _wait_for(markers, stalled, timeout=45)
    finally:
        for proc in stalled:
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
    dead_pids = {str(proc.pid) for proc in stalled}

    with dg.DagsterInstance.from_config(str(home)) as instance:
        killed = instance.get_runs(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED]))
        assert {run.tags[WORKER_PID_TAG] for run in killed} == dead_pids
        pool = instance.event_log_storage.get_concurrency_info("salesforce")
        assert len(pool.claimed_slots) == pool.slot_count == 2  # no slot left: the next run would wait forever

    # The next run: the same CLI path fails the dead runs, frees their slots, and completes.
    began = time.monotonic()
    next_run = _worker(env, sample_sources.root, lake)
    try:
        _out, err = next_run.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        next_run.kill()
        pytest.fail("the next run hung behind the dead runs' pool slots")
    assert next_run.returncode == 0, err
    assert err.count("FAILED: its worker") == 2
    assert time.monotonic() - began < 60

    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = {run.run_id: run for run in instance.get_runs()}
        for run in killed:
            assert runs[run.run_id].status == dg.DagsterRunStatus.FAILURE
            failure = instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_FAILURE).records
            message = failure[0].event_log_entry.dagster_event.message or ""
            assert f"pid {run.tags[WORKER_PID_TAG]}" in message and "is gone" in message
        (healthy,) = [r for r in runs.values() if r.run_id not in {k.run_id for k in killed}]
        assert healthy.status == dg.DagsterRunStatus.SUCCESS
        assert instance.event_log_storage.get_concurrency_info("salesforce").claimed_slots == []


def test_live_workers_and_other_hosts_are_left_alone() -> None:
    with project_instance() as instance:
        gone = subprocess.Popen([sys.executable, "-c", "pass"])
        gone.wait()  # reaped: its pid names no process now
        here, elsewhere = socket.gethostname(), "another-host.example"
        cases = {
            "dead_here": {WORKER_HOST_TAG: here, WORKER_PID_TAG: str(gone.pid)},
            "alive_here": {WORKER_HOST_TAG: here, WORKER_PID_TAG: str(os.getppid())},
            "dead_elsewhere": {WORKER_HOST_TAG: elsewhere, WORKER_PID_TAG: str(gone.pid)},
            "untagged": {},
        }
        for run_id, tags in cases.items():
            instance.add_run(
                dg.DagsterRun(job_name="some_job", run_id=run_id, status=dg.DagsterRunStatus.STARTED, tags=tags)
            )
        dead = fail_dead_runs(instance)
        assert [d.run_id for d in dead] == ["dead_here"]
        statuses = {run_id: instance.get_run_by_id(run_id).status for run_id in cases}
    assert statuses == {
        "dead_here": dg.DagsterRunStatus.FAILURE,
        "alive_here": dg.DagsterRunStatus.STARTED,
        "dead_elsewhere": dg.DagsterRunStatus.STARTED,
        "untagged": dg.DagsterRunStatus.STARTED,
    }
