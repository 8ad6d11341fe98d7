"""The production instance profile (deploy/postgres/dagster.yaml) against a real PostgreSQL server.

A real range run of ``daily_sales_job`` goes through an instance built from the profile file,
with batched event writes on; its events are then read back from PostgreSQL itself.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from datetime import date
from pathlib import Path

import dagster as dg
import pytest
import sqlalchemy

from sales360_assets.cli import run_job
from sales360_assets.definitions import build_definitions
from sales360_assets.jobs import partitioned_assets
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.servers import (
    PG_VARS,
    POSTGRES_PROFILE,
    connect,
    create_database,
    instance_from_profile,
    postgres_server,
    start_postgres_server,
)
from sales360_assets_tests.test_schema_facts import schema_lookups

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("postgres")]

START, END, REGION = date(2026, 3, 2), date(2026, 3, 4), "na"


@pytest.fixture(scope="module")
def pg_server() -> Iterator[dict[str, str]]:
    with postgres_server() as server:
        yield server


@pytest.fixture
def pg_env(pg_server: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """The profile's variables, pointing at a database of this test's own."""
    env = {**pg_server, "DAGSTER_PG_DB": create_database(pg_server)}
    for name in PG_VARS:
        monkeypatch.setenv(name, env[name])
    return env


@pytest.fixture
def pg_instance(pg_env: dict[str, str], tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    instance = instance_from_profile(POSTGRES_PROFILE, tmp_path / "dagster_home")
    try:
        yield instance
    finally:
        instance.dispose()


def _query(env: dict[str, str], sql: str, params: Sequence[object]) -> list[tuple]:
    conn = connect(env)
    try:
        with conn.cursor() as cur:
            cur.execute(sql, params)
            return cur.fetchall()
    finally:
        conn.close()


def test_the_profile_stores_runs_events_and_schedules_in_postgres(pg_instance: dg.DagsterInstance) -> None:
    from dagster_postgres import PostgresScheduleStorage

    from sales360_assets.instance.postgres_event_log import BatchedPostgresEventLogStorage
    from sales360_assets.instance.postgres_pool import PooledPostgresRunStorage

    assert isinstance(pg_instance.run_storage, PooledPostgresRunStorage)
    assert isinstance(pg_instance.event_log_storage, BatchedPostgresEventLogStorage)
    assert isinstance(pg_instance.schedule_storage, PostgresScheduleStorage)


def test_a_range_run_writes_its_events_to_postgres_in_batches(
    pg_instance: dg.DagsterInstance,
    pg_env: dict[str, str],
    sample_sources: SampleSources,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    storage = pg_instance.event_log_storage
    materialization_batches: list[int] = []
    planned_inserts: list[int] = []
    original_bulk = storage._store_bulk

    def counting_store_bulk(events: Sequence[dg.EventLogEntry]) -> None:
        kinds = [e.dagster_event_type for e in events]
        if dg.DagsterEventType.ASSET_MATERIALIZATION in kinds:
            materialization_batches.append(kinds.count(dg.DagsterEventType.ASSET_MATERIALIZATION))
        if dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED in kinds:
            planned_inserts.append(kinds.count(dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED))
        original_bulk(events)

    # A spy, not a stand-in: every batch still goes to PostgreSQL, one COPY each.
    monkeypatch.setattr(storage, "_store_bulk", counting_store_bulk)
    defs = build_definitions(str(sample_sources.root), str(tmp_path / "lake"))
    assert run_job(defs, pg_instance, "reference_data_job")
    tags = {
        "dagster/asset_partition_range_start": f"{START.isoformat()}|{REGION}",
        "dagster/asset_partition_range_end": f"{END.isoformat()}|{REGION}",
    }
    assert run_job(defs, pg_instance, "daily_sales_job", tags)

    [daily_run] = pg_instance.get_runs(dg.RunsFilter(job_name="daily_sales_job"))
    rows = _query(
        pg_env,
        "SELECT asset_key, partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        (daily_run.run_id, "ASSET_MATERIALIZATION"),
    )
    days = (END - START).days + 1
    partitioned_keys = {key for assets_def in partitioned_assets for key in assets_def.keys}
    assert len(rows) == days * len(partitioned_keys)
    assert {p for _, p in rows} == {f"2026-03-0{d}|{REGION}" for d in (2, 3, 4)}
    # Each step's partition materializations went to PostgreSQL together, one COPY.
    assert sum(materialization_batches) == len(rows)
    assert max(materialization_batches) == days
    # The run's plan: one planned event per asset holding its partitions (not one per partition),
    # in one COPY.
    planned = _query(
        pg_env,
        "SELECT partition FROM event_logs WHERE run_id = %s AND dagster_event_type = %s",
        (daily_run.run_id, "ASSET_MATERIALIZATION_PLANNED"),
    )
    assert planned == [(None,)] * len(partitioned_keys)
    assert planned_inserts[-1] == len(partitioned_keys)  # the reference run before it made its own insert
    # Every index tag points at its own event: a partition tag holds that event's partition.
    mismatched = _query(
        pg_env,
        "SELECT count(*) FROM asset_event_tags t JOIN event_logs e ON e.id = t.event_id "
        "WHERE e.run_id = %s AND t.key = 'dagster/partition/date' AND split_part(e.partition, '|', 1) <> t.value",
        (daily_run.run_id,),
    )
    tagged = _query(
        pg_env,
        "SELECT count(*) FROM asset_event_tags t JOIN event_logs e ON e.id = t.event_id "
        "WHERE e.run_id = %s AND t.key = 'dagster/partition/date'",
        (daily_run.run_id,),
    )
    assert mismatched == [(0,)] and tagged == [(len(rows),)]
    # The events' ids (taken from the sequence for a whole buffer) follow the order Dagster logged them in.
    logged = _query(pg_env, "SELECT timestamp FROM event_logs WHERE run_id = %s ORDER BY id", (daily_run.run_id,))
    assert logged == sorted(logged)
    fact_sales = pg_instance.fetch_materializations(dg.AssetKey("fact_sales"), limit=10).records
    assert sorted(r.partition_key for r in fact_sales) == [f"2026-03-0{d}|{REGION}" for d in (2, 3, 4)]


def test_a_failed_range_runs_partitions_show_failed_then_in_progress_on_postgres(
    pg_instance: dg.DagsterInstance,
) -> None:
    """The range plan (one event per asset) read back from PostgreSQL as the UI reads it."""
    from sales360_assets_tests.test_instance_event_batching import KEYS, RANGE, _job, parts

    load = dg.AssetKey("load")
    result = _job(fail=True).execute_in_process(instance=pg_instance, tags=RANGE, raise_on_error=False)
    assert not result.success
    assert set((pg_instance.get_status_by_partition(load, KEYS, parts) or {}).values()) == {
        dg.AssetPartitionStatus.FAILED
    }
    assert {pg_instance.get_latest_planned_materialization_info(load, k).run_id for k in KEYS} == {result.run_id}
    pending = pg_instance.create_run_for_job(_job(fail=False), tags=RANGE)
    assert set((pg_instance.get_status_by_partition(load, KEYS, parts) or {}).values()) == {
        dg.AssetPartitionStatus.IN_PROGRESS
    }
    assert {pg_instance.get_latest_planned_materialization_info(load, k).run_id for k in KEYS} == {pending.run_id}


@pytest.mark.parametrize("storage", ["event_log_storage", "run_storage"])
def test_a_run_reuses_the_instances_pooled_connections_to_postgres(
    pg_instance: dg.DagsterInstance, sample_sources: SampleSources, tmp_path: Path, storage: str
) -> None:
    """dagster-postgres opens a connection per statement: 982 for this run's event log (~5 ms each
    on localhost) and 22 for its run storage. Each keeps two (a statement can open a second inside
    the first) and closes them with the instance."""
    engine = getattr(pg_instance, storage)._engine
    opened: list[object] = []
    sqlalchemy.event.listen(engine, "connect", lambda conn, _record: opened.append(conn))
    defs = build_definitions(str(sample_sources.root), str(tmp_path / "lake"))
    assert run_job(defs, pg_instance, "reference_data_job")
    assert pg_instance.get_runs(dg.RunsFilter(job_name="reference_data_job"))
    assert 1 <= len(opened) <= 2, f"{len(opened)} connections opened for one run"  # POOL_SIZE
    pool = engine.pool
    assert pool.checkedin() >= 1  # type: ignore[attr-defined]
    pg_instance.dispose()
    assert pool.checkedin() == 0  # type: ignore[attr-defined]  # the kept connections were closed


def test_the_webserver_swaps_the_pooled_storages_for_its_own_and_closes_theirs(
    pg_instance: dg.DagsterInstance,
) -> None:
    """``dagster-webserver`` asks every storage for its own pool (a statement timeout on each
    connection); dagster-postgres replaces the engine without closing the one it had."""
    storages = [pg_instance.run_storage, pg_instance.event_log_storage]
    assert pg_instance.get_runs() == [] and pg_instance.get_asset_keys() == []  # each pool holds one
    pooled = [storage._engine for storage in storages]  # type: ignore[attr-defined]
    # The pools themselves: Engine.dispose hands an engine a new, empty pool.
    pools = [engine.pool for engine in pooled]
    assert all(pool.checkedin() >= 1 for pool in pools)
    pg_instance.optimize_for_webserver(statement_timeout=5000, pool_recycle=3600, max_overflow=20)
    assert all(pool.checkedin() == 0 for pool in pools)  # closed, not left open on the server
    assert all(storage._engine is not engine for storage, engine in zip(storages, pooled, strict=True))  # type: ignore[attr-defined]
    assert pg_instance.get_runs() == [] and pg_instance.get_asset_keys() == []  # the new pools work


def test_the_postgres_event_log_looks_its_schema_up_once(
    pg_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """dagster-postgres inspected the catalog on every asset-record read and asset-event write
    (several queries each, ~1 s of a three-year region run): over 60 lookups here."""
    assert schema_lookups(pg_instance, monkeypatch) <= 6


def test_the_benchmarks_server_flushes_to_disk_at_commit_as_sqlite_does() -> None:
    """The benchmark compares PostgreSQL with SQLite, which flushes its log at every commit: a
    server without fsync (the tests' throwaway one) would win on durability it does not have."""
    with start_postgres_server(durable=True) as server:
        conn = connect({**server, "DAGSTER_PG_DB": "dagster"})
        with conn.cursor() as cur:
            cur.execute("SHOW fsync")
            fsync = cur.fetchone()
        conn.close()
    assert fsync == ("on",)


def test_driver_inserts_store_what_sqlalchemy_stores_on_postgres(pg_env: dict[str, str]) -> None:
    """The buffered events' and tags' driver inserts (``COPY … FROM STDIN``) against
    SQLAlchemy's own insert, on the same server."""
    from dagster._core.storage.event_log.schema import (
        AssetEventTagsTable,
        SqlEventLogStorageMetadata,
        SqlEventLogStorageTable,
    )

    from sales360_assets_tests.test_driver_inserts import EVENT_ROWS, TAG_ROWS, stored_both_ways

    engine = sqlalchemy.create_engine(
        "postgresql+psycopg2://{DAGSTER_PG_USERNAME}:{DAGSTER_PG_PASSWORD}@{DAGSTER_PG_HOST}:{DAGSTER_PG_PORT}/"
        "{DAGSTER_PG_DB}".format(**pg_env)
    )
    try:
        SqlEventLogStorageMetadata.create_all(engine)
        for table, rows in ((SqlEventLogStorageTable, EVENT_ROWS), (AssetEventTagsTable, TAG_ROWS)):
            by_sqlalchemy, by_driver = stored_both_ways(engine, table, rows)
            assert by_driver == by_sqlalchemy and len(by_driver) == len(rows)
    finally:
        engine.dispose()
