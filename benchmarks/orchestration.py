"""Orchestration overhead of a history backfill: compute + IO vs wall time, events per run, per instance.

The same generated history is materialized (reference job, one range run per region, reporting)
on each profile, into a fresh lake each time:

* ``sqlite``: the embedded default (dagster.yaml): SQLite files, events written a buffer at a time
  (sales360_assets/instance/);
* ``sqlite-dagster``: the same settings on Dagster's own SQLite storage (a commit per event), i.e.
  the embedded default before the batched storage, for a side-by-side figure;
* ``postgres``: the production profile (deploy/postgres/dagster.yaml), on a throwaway local server
  that flushes to disk at commit as SQLite does (unless ``DAGSTER_PG_*`` name a running server).

Compute + IO of a step is the time from its STEP_START to its first materialization event
(input loads, the transform, the Delta write): Dagster logs a step's materializations right after
its IO manager's ``handle_output`` returns. Check-only steps count whole. Everything else in the
wall time is orchestration: run start, resource set-up, the planned and materialization events
per partition, the step bookkeeping.
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import yaml

from sales360_assets.cli import materialize_window, run_job
from sales360_assets.definitions import build_definitions
from sales360_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key
from sales360_assets.settings import REGION_CODES

# The throwaway server and the profile loader are the tests' (benchmarks run from the repository).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sales360_assets_tests.servers import (
    LOCAL_PROFILE,
    POSTGRES_PROFILE,
    connect,
    create_database,
    instance_from_profile,
    postgres_server,
)


@dataclass
class RunFigures:
    job: str
    # From the run's creation to its RUN_START: the ASSET_MATERIALIZATION_PLANNED events (one per
    # partition per asset) are written in between.
    before_start_seconds: float
    wall_seconds: float
    compute_io_seconds: float
    events: int
    materializations: int
    metadata_bytes: int


def _compute_io_seconds(instance: dg.DagsterInstance, run_id: str) -> float:
    starts: dict[str, float] = {}
    total = 0.0
    for entry in instance.all_logs(run_id):
        event = entry.dagster_event
        if event is None or not entry.step_key:
            continue
        kind = event.event_type_value
        if kind == "STEP_START":
            starts[entry.step_key] = entry.timestamp
        elif kind in ("ASSET_MATERIALIZATION", "STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in starts:
            total += entry.timestamp - starts.pop(entry.step_key)
    return total


def run_figures(instance: dg.DagsterInstance) -> list[RunFigures]:
    figures = []
    for record in reversed(instance.get_run_records()):  # oldest first
        run = record.dagster_run
        stats = instance.get_run_stats(run.run_id)
        logs = instance.all_logs(run.run_id)
        kinds = Counter(e.dagster_event.event_type_value for e in logs if e.dagster_event is not None)
        metadata_bytes = sum(
            len(dg.serialize_value(e.asset_materialization.metadata)) for e in logs if e.asset_materialization
        )
        region = run.tags.get("dagster/asset_partition_range_start", "").partition("|")[2]
        figures.append(
            RunFigures(
                job=f"{run.job_name}{f'[{region}]' if region else ''}",
                before_start_seconds=(stats.start_time or 0) - record.create_timestamp.timestamp(),
                wall_seconds=(stats.end_time or 0) - (stats.start_time or 0),
                compute_io_seconds=_compute_io_seconds(instance, run.run_id),
                events=len(logs),
                materializations=kinds["ASSET_MATERIALIZATION"],
                metadata_bytes=metadata_bytes,
            )
        )
    return figures


def server_setting(server: dict[str, str], name: str) -> str:
    conn = connect(server)
    try:
        with conn.cursor() as cur:
            cur.execute(f"SHOW {name}")
            return str(cur.fetchone()[0])
    finally:
        conn.close()


@contextmanager
def postgres_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    # A server started here flushes to disk at commit as a production one does (the tests' skips
    # it): SQLite, on the other side of the comparison, flushes at every commit.
    with postgres_server(durable=True) as server:
        fsync = server_setting(server, "fsync")
        if fsync != "on":  # a server named by DAGSTER_PG_* is used as it is
            print(f"!! the PostgreSQL server has fsync={fsync}: it skips the flush SQLite pays at every commit")
        env = {**server, "DAGSTER_PG_DB": create_database(server)}
        saved = {name: os.environ.get(name) for name in env}
        os.environ.update(env)
        instance = instance_from_profile(POSTGRES_PROFILE, home)
        try:
            yield instance
        finally:
            instance.dispose()
            for name, value in saved.items():
                if value is None:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = value


@contextmanager
def sqlite_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    # The embedded default, as `./dev up` has it (run, event and schedule storage in SQLite files).
    instance = instance_from_profile(LOCAL_PROFILE, home)
    try:
        yield instance
    finally:
        instance.dispose()


@contextmanager
def dagster_sqlite_instance(home: Path) -> Iterator[dg.DagsterInstance]:
    # The embedded default's settings without its storage section: Dagster's SqliteEventLogStorage.
    settings = {k: v for k, v in yaml.safe_load(LOCAL_PROFILE.read_text()).items() if k != "storage"}
    home.mkdir(parents=True)
    profile = home.parent / "dagster-sqlite.yaml"
    profile.write_text(yaml.safe_dump(settings))
    instance = instance_from_profile(profile, home)
    try:
        yield instance
    finally:
        instance.dispose()


OPENERS = {"sqlite": sqlite_instance, "sqlite-dagster": dagster_sqlite_instance, "postgres": postgres_instance}


def region_run_in_own_process(home: str, sources: str, lake: str, start: date, end: date, region: str) -> None:
    """One region's range run in a process of its own on the instance at ``home``, as the run
    worker Dagster's run launcher starts for each run of a backfill."""
    os.environ["DAGSTER_HOME"] = home  # the embedded default's storage reads it
    instance = dg.DagsterInstance.from_config(home)
    try:
        tags = {RANGE_START_TAG: partition_key(start, region), RANGE_END_TAG: partition_key(end, region)}
        if not run_job(build_definitions(sources, lake), instance, "daily_sales_job", tags):
            raise RuntimeError(f"daily_sales_job {start}..{end} × {region} failed")
    finally:
        instance.dispose()


def materialize_with_parallel_runs(
    defs: dg.Definitions, instance: dg.DagsterInstance, sources: Path, lake: Path, start: date, end: date, runs: int
) -> None:
    """``materialize_window`` with the region runs ``runs`` at a time, each in its own process:
    what a UI backfill's four region runs do under the run queue (``max_concurrent_runs``), where
    the instance's storage takes writes from several processes at once."""
    run_job(defs, instance, "reference_data_job")
    home = str(instance.root_directory)
    with ProcessPoolExecutor(max_workers=runs, mp_context=multiprocessing.get_context("spawn")) as pool:
        regions = [
            pool.submit(region_run_in_own_process, home, str(sources), str(lake), start, end, region)
            for region in REGION_CODES
        ]
        for region_run in regions:
            region_run.result()  # a failed run fails the measurement
    run_job(defs, instance, "sales_reporting_job")


def measure_profile(name: str, sources: Path, start: date, end: date, parallel_runs: int = 1) -> dict[str, object]:
    opener = OPENERS[name]
    with tempfile.TemporaryDirectory(prefix=f"sales360-orch-{name}-") as tmp, opener(Path(tmp) / "home") as instance:
        lake = Path(tmp) / "lake"
        defs = build_definitions(str(sources), str(lake))
        began = time.perf_counter()
        if parallel_runs > 1:
            materialize_with_parallel_runs(defs, instance, sources, lake, start, end, parallel_runs)
        else:
            materialize_window(defs, instance, start, end, REGION_CODES, log=lambda _: None)
        wall = time.perf_counter() - began
        runs = run_figures(instance)
    compute = sum(r.compute_io_seconds for r in runs)
    print(f"\n== {name}: {wall:.1f} s wall, compute + IO {compute:.1f} s ({compute / wall:.0%} of wall)")
    print(
        f"   {'run':<28} {'to start s':>10} {'wall s':>8} {'compute+IO s':>13} {'events':>7} "
        f"{'materializations':>17} {'metadata B/mat':>15}"
    )
    for r in runs:
        per_mat = r.metadata_bytes // r.materializations if r.materializations else 0
        print(
            f"   {r.job:<28} {r.before_start_seconds:10.1f} {r.wall_seconds:8.1f} {r.compute_io_seconds:13.1f} {r.events:7d} "
            f"{r.materializations:17d} {per_mat:15d}"
        )
    return {
        "wall_seconds": round(wall, 2),
        "compute_io_seconds": round(compute, 2),
        "orchestration_share": round(1 - compute / wall, 3),
        "runs": [vars(r) for r in runs],
    }


PAIRS = (("sqlite-dagster", "sqlite"), ("sqlite", "postgres"), ("sqlite-dagster", "postgres"))


def compare(
    sources: Path, start: date, end: date, profiles: list[str], rounds: int = 1, parallel_runs: int = 1
) -> dict[str, object]:
    """Each profile once per round, the order reversed every other round (so neither always runs
    on the warmer or the more loaded machine), and the wall-time ratio of each pair per round.

    One round's ratio moves by more than the gap between the profiles (the same job's compute
    varies by seconds between runs), so a ratio is a median over rounds, printed with its range.
    """
    if rounds < 1:
        raise ValueError(f"rounds must be at least 1, got {rounds}")
    per_round = []
    for i in range(rounds):
        order = profiles if i % 2 == 0 else list(reversed(profiles))
        if rounds > 1:
            print(f"\n### round {i + 1} of {rounds}: {', '.join(order)}")
        per_round.append({name: measure_profile(name, sources, start, end, parallel_runs) for name in order})
    results: dict[str, object] = dict(per_round[0]) if rounds == 1 else {"per_round": per_round}
    for slower, faster in PAIRS:
        if {slower, faster} <= set(profiles):
            ratios = [r[slower]["wall_seconds"] / r[faster]["wall_seconds"] for r in per_round]
            median = statistics.median(ratios)
            spread = f" (rounds: {', '.join(f'{x:.2f}' for x in ratios)})" if rounds > 1 else ""
            print(f"{slower} / {faster} wall time: {median:.2f}×{' median' if rounds > 1 else ''}{spread}")
            results[f"{slower}_over_{faster}"] = round(median, 2)
            if rounds > 1:
                results[f"{slower}_over_{faster}_rounds"] = [round(x, 2) for x in ratios]
    return results
