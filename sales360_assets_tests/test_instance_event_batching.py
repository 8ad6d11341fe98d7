"""The local instance (dagster.yaml) stores a range run's per-partition events in a few transactions.

Same runs, two instances: one from the project's dagster.yaml (``BatchedSqliteStorage``), one with
Dagster's own SQLite storage. The batched one must tell the UI exactly what Dagster's tells it
(each partition's materializations, its latest planned run, failed and in-progress partitions,
the asset's last run) while opening a handful of connections where Dagster's opens two per event,
and planning a range run with one event per asset where Dagster's writes one per partition.
"""

from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.instance import range_plans
from sales360_assets.instance.sqlite_event_log import BatchedSqliteEventLogStorage, MisplacedInstanceStorageError
from sales360_assets_tests.servers import LOCAL_PROFILE, instance_from_profile

DAYS = 30
FAILING_DAY = "2026-01-07"
parts = dg.MultiPartitionsDefinition(
    {"date": dg.DailyPartitionsDefinition("2026-01-01"), "region": dg.StaticPartitionsDefinition(["emea", "na"])}
)


class NoStorage(dg.IOManager):
    def handle_output(self, context: dg.OutputContext, obj: object) -> None:
        return None

    def load_input(self, context: dg.InputContext) -> None:
        return None


def _job(fail: bool) -> dg.JobDefinition:
    @dg.asset(partitions_def=parts, backfill_policy=dg.BackfillPolicy.single_run(), io_manager_key="nothing")
    def extract() -> None:
        return None

    @dg.asset(
        partitions_def=parts, backfill_policy=dg.BackfillPolicy.single_run(), io_manager_key="nothing", deps=[extract]
    )
    def load(context: dg.AssetExecutionContext) -> None:
        if fail and any(key.startswith(FAILING_DAY) for key in context.partition_keys):
            raise RuntimeError("the load step failed")

    # A check makes the run's planned batch mix check-planned events with the asset events, as
    # the project's jobs do.
    @dg.asset_check(asset=load)
    def load_has_rows() -> dg.AssetCheckResult:
        return dg.AssetCheckResult(passed=True)

    defs = dg.Definitions(
        assets=[extract, load],
        asset_checks=[load_has_rows],
        jobs=[dg.define_asset_job("history", selection=[extract, load])],
        resources={"nothing": NoStorage()},
    )
    return defs.resolve_job_def("history")


RANGE = {
    "dagster/asset_partition_range_start": "2026-01-01|emea",
    "dagster/asset_partition_range_end": f"2026-01-{DAYS:02d}|emea",
}
KEYS = [f"2026-01-{d:02d}|emea" for d in range(1, DAYS + 1)]


@pytest.fixture
def project_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    instance = instance_from_profile(LOCAL_PROFILE, tmp_path / "project_home")
    try:
        yield instance
    finally:
        instance.dispose()


def _stock_instance(home: Path) -> dg.DagsterInstance:
    """An instance on Dagster's own SQLite storage, in ``home``."""
    home.mkdir(parents=True, exist_ok=True)
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    return dg.DagsterInstance.from_config(str(home))


@pytest.fixture
def stock_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    instance = _stock_instance(tmp_path / "stock_home")
    try:
        yield instance
    finally:
        instance.dispose()


def _planned_events(instance: dg.DagsterInstance, name: str) -> list[dg.EventLogRecord]:
    planned = dg.DagsterEventType.ASSET_MATERIALIZATION_PLANNED
    return list(instance.get_event_records(dg.EventRecordsFilter(planned, asset_key=dg.AssetKey(name)), limit=1000))


def _recorded(instance: dg.DagsterInstance) -> dict[str, object]:
    """What the UI and the freshness report read back, per asset."""
    seen: dict[str, object] = {}
    # Runs by the order they were made in: the two instances give them different ids.
    run_order = {run.run_id: i for i, run in enumerate(reversed(instance.get_runs()))}
    for name in ("extract", "load"):
        key = dg.AssetKey(name)
        # The run the UI names as a partition's latest ("latest run for partition").
        latest_planned = {k: instance.get_latest_planned_materialization_info(key, k) for k in KEYS}
        done = instance.fetch_materializations(key, limit=1000).records
        status = instance.get_status_by_partition(key, KEYS, parts) or {}
        entry = instance.get_asset_records([key])[0].asset_entry
        latest = entry.last_materialization_record
        seen[name] = {
            "latest_planned_run": {k: run_order[p.run_id] if p else None for k, p in latest_planned.items()},
            "materialized": sorted(r.partition_key or "" for r in done),
            # Storage ids follow the order the events were reported in (a buffer is inserted as
            # one executemany whose ids come back in the rows' order).
            "in_storage_order": [r.partition_key for r in sorted(done, key=lambda r: r.storage_id)],
            "status": {k: v.value for k, v in sorted(status.items())},
            # The asset's index row: its latest materialization is the last one stored.
            "latest": (latest.partition_key, latest.storage_id == max(r.storage_id for r in done)) if latest else None,
        }
    return seen


def test_the_local_profile_batches_a_range_runs_events_into_few_transactions(
    project_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    storage = project_instance.event_log_storage
    assert isinstance(storage, BatchedSqliteEventLogStorage)
    connections: list[str] = []
    original = storage._connect

    def counting_connect(shard: str):
        connections.append(shard)
        return original(shard)

    asset_rows: list[str] = []
    store_asset_event = storage._store_asset_event

    def counting_asset_rows(conn: object, event: dg.EventLogEntry, event_id: int) -> None:
        asset_rows.append(event.dagster_event_type or "")
        store_asset_event(conn, event, event_id)  # type: ignore[arg-type]

    # Spies, not stand-ins: every event still goes to the SQLite files through Dagster's SQL.
    monkeypatch.setattr(storage, "_connect", counting_connect)
    monkeypatch.setattr(storage, "_store_asset_event", counting_asset_rows)
    counts: dict[int, tuple[int, int]] = {}
    for days in (DAYS // 3, DAYS):  # a short range, then a range three times as long
        connections.clear()
        asset_rows.clear()
        assert _job(fail=False).execute_in_process(instance=project_instance, tags=_days(1, days)).success
        counts[days] = (connections.count("index"), len(asset_rows))

    # Dagster's storage opens the index once per asset event and writes each asset's index row
    # (latest materialization, run, time) once per event: 2 more of each per partition (40 more
    # here). Batched, once per buffer and event type: neither grows with the partitions.
    (short_index, short_rows), (long_index, long_rows) = counts[DAYS // 3], counts[DAYS]
    assert long_index <= short_index + 2, (
        f"index connections: {short_index} for {DAYS // 3} days, {long_index} for {DAYS}"
    )
    assert 0 < long_rows <= short_rows + 2, (
        f"asset-row writes: {short_rows} for {DAYS // 3} days, {long_rows} for {DAYS}"
    )


def test_batched_storage_records_what_dagsters_storage_records(
    project_instance: dg.DagsterInstance, stock_instance: dg.DagsterInstance
) -> None:
    for instance in (project_instance, stock_instance):
        assert _job(fail=False).execute_in_process(instance=instance, tags=RANGE).success
        result = _job(fail=True).execute_in_process(instance=instance, tags=RANGE, raise_on_error=False)
        assert not result.success

    batched, stock = _recorded(project_instance), _recorded(stock_instance)
    assert batched == stock
    # And what both say is right: the failed re-run left the load partitions FAILED, extract materialized.
    assert set(batched["load"]["status"].values()) == {"FAILED"}  # type: ignore[index]
    assert set(batched["extract"]["status"].values()) == {"MATERIALIZED"}  # type: ignore[index]
    assert set(batched["load"]["latest_planned_run"].values()) == {1}  # type: ignore[index]
    last_runs = [
        project_instance.get_asset_records([dg.AssetKey("load")])[0].asset_entry.last_run_id,
        project_instance.get_runs(limit=1)[0].run_id,
    ]
    assert last_runs[0] == last_runs[1]


def test_a_range_run_is_planned_once_per_asset_and_its_partitions_still_show_failed_or_in_progress(
    project_instance: dg.DagsterInstance, stock_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Dagster's storages write a planned event per partition per asset (half of a history
    backfill's events); the project's writes one per asset holding the run's partitions, and the
    UI's partition statuses read from it must not change."""
    # One plan per page, so the reads below page through the runs' plans.
    monkeypatch.setattr(range_plans, "PLANS_PER_PAGE", 1)
    statuses: dict[str, list[dict[str, str]]] = {}
    for label, instance in (("batched", project_instance), ("stock", stock_instance)):
        seen = statuses.setdefault(label, [])
        failing = _job(fail=True)
        assert not failing.execute_in_process(instance=instance, tags=RANGE, raise_on_error=False).success
        seen.append(
            {k: v.value for k, v in (instance.get_status_by_partition(dg.AssetKey("load"), KEYS, parts) or {}).items()}
        )
        # A run made but not finished (queued, or its process still running): in progress.
        instance.create_run_for_job(_job(fail=False), tags=RANGE)
        seen.append(
            {k: v.value for k, v in (instance.get_status_by_partition(dg.AssetKey("load"), KEYS, parts) or {}).items()}
        )
    assert statuses["batched"] == statuses["stock"]
    assert [set(s.values()) for s in statuses["batched"]] == [{"FAILED"}, {"IN_PROGRESS"}]
    assert len(_planned_events(stock_instance, "load")) == 2 * DAYS
    planned = _planned_events(project_instance, "load")
    assert len(planned) == 2, "one planned event per asset per run"
    latest = {project_instance.get_latest_planned_materialization_info(dg.AssetKey("load"), k).run_id for k in KEYS}
    assert latest == {project_instance.get_runs(limit=1)[0].run_id}  # the newest plan
    subset = planned[0].event_log_entry.get_dagster_event().asset_materialization_planned_data.partitions_subset
    assert subset is not None and sorted(subset.get_partition_keys()) == KEYS


def _days(first: int, last: int) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": f"2026-01-{first:02d}|emea",
        "dagster/asset_partition_range_end": f"2026-01-{last:02d}|emea",
    }


# Runs that plan different partitions: a full range, a failing sub-range (it holds FAILING_DAY),
# one partition, and a range created but not run yet.
SCENARIO: list[tuple[str, dict[str, str]]] = [
    ("run", _days(1, DAYS)),
    ("fail", _days(5, 10)),
    ("run", {"dagster/partition": "2026-01-20|emea"}),
    ("create", _days(25, DAYS)),
]


def _apply(instance: dg.DagsterInstance, step: tuple[str, dict[str, str]]) -> None:
    kind, tags = step
    if kind == "create":
        instance.create_run_for_job(_job(fail=False), tags=tags)
        return
    result = _job(fail=kind == "fail").execute_in_process(instance=instance, tags=tags, raise_on_error=False)
    assert result.success == (kind == "run")


def _shown(instance: dg.DagsterInstance) -> dict[str, object]:
    recorded = _recorded(instance)
    return {name: (seen["status"], seen["latest_planned_run"]) for name, seen in recorded.items()}  # type: ignore[index]


def test_runs_planning_different_partitions_show_as_on_dagsters_storage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Disjoint and overlapping plans, one-partition runs, a run not started: every partition's
    status and latest run as on Dagster's own storage, after every run; also for a home whose
    earlier runs Dagster's storage wrote (one plan per partition), as an upgraded instance has."""
    monkeypatch.setattr(range_plans, "PLANS_PER_PAGE", 1)  # page through the plans
    reference = _stock_instance(tmp_path / "reference")
    project = instance_from_profile(LOCAL_PROFILE, tmp_path / "project")
    upgraded_home = tmp_path / "upgraded"
    upgraded = _stock_instance(upgraded_home)
    try:
        for i, step in enumerate(SCENARIO):
            if i == 2:  # the upgrade: the same files, from now on through the project's storage
                upgraded.dispose()
                upgraded = instance_from_profile(LOCAL_PROFILE, upgraded_home)
            for instance in (reference, project, upgraded):
                _apply(instance, step)
            expected = _shown(reference)
            assert _shown(project) == expected, f"after step {i}: {step}"
            assert _shown(upgraded) == expected, f"after step {i} (upgraded home): {step}"
        statuses = expected["load"][0]  # type: ignore[index]
        assert {k for k, v in statuses.items() if v == "FAILED"} == {f"2026-01-{d:02d}|emea" for d in range(5, 11)}
        assert {k for k, v in statuses.items() if v == "IN_PROGRESS"} == {
            f"2026-01-{d:02d}|emea" for d in range(25, 31)
        }
    finally:
        for instance in (reference, project, upgraded):
            instance.dispose()


def test_the_local_profile_refuses_a_home_other_than_dagster_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    (home / "dagster.yaml").write_text(LOCAL_PROFILE.read_text())
    monkeypatch.setenv("DAGSTER_HOME", str(elsewhere))
    with pytest.raises(MisplacedInstanceStorageError, match=f"set DAGSTER_HOME={home}"):
        dg.DagsterInstance.from_config(str(home))
