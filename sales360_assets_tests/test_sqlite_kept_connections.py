"""The local instance's event log keeps its SQLite connections open between writes.

Dagster's SQLite event log opens (and on close checkpoints) the database file for every event it
writes one at a time. The project's (``KeptSqliteConnectionsMixin``) keeps one connection per file.
What must still hold: the UI's live run log sees each event as it is written, and a wipe does
not leave writes going to deleted files.
"""

from __future__ import annotations

import sqlite3
import threading

import dagster as dg
import pytest
from dagster._core.events import DagsterEvent, DagsterEventType, EngineEventData

from sales360_assets.instance.sqlite_event_log import BatchedSqliteEventLogStorage

EVENTS = 40


def _engine_events(instance: dg.DagsterInstance, run_id: str, count: int, label: str = "step") -> None:
    # Events a run writes one at a time (as step starts, outputs and logs are), through the instance.
    for i in range(count):
        instance.report_dagster_event(
            DagsterEvent(
                DagsterEventType.ENGINE_EVENT.value,
                job_name="history",
                message=f"{label} {i}",
                event_specific_data=EngineEventData(),
            ),
            run_id=run_id,
        )


def _messages(instance: dg.DagsterInstance, run_id: str) -> list[str]:
    return [r.event_log_entry.dagster_event.message or "" for r in instance.get_records_for_run(run_id).records]


def test_a_runs_events_are_written_over_one_kept_connection(
    local_instance: dg.DagsterInstance, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert isinstance(local_instance.event_log_storage, BatchedSqliteEventLogStorage)
    opened: list[str] = []
    connect = sqlite3.dbapi2.connect  # what SQLAlchemy's pysqlite dialect calls

    def counting_connect(database: str, *args: object, **kwargs: object) -> sqlite3.Connection:
        opened.append(str(database))
        return connect(database, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(sqlite3.dbapi2, "connect", counting_connect)
    _engine_events(local_instance, "run-one", EVENTS)

    assert len(_messages(local_instance, "run-one")) == EVENTS
    # Dagster's storage opens the run's file once per event (40 here); kept, a few times in all.
    run_file_opens = [path for path in opened if path.endswith("run-one.db")]
    assert 0 < len(run_file_opens) <= 3, f"{len(run_file_opens)} connections to the run's file for {EVENTS} events"


def test_the_live_run_log_sees_events_written_over_a_kept_connection(local_instance: dg.DagsterInstance) -> None:
    """The UI's run page follows a run through ``watch_event_logs``: Dagster's watcher reads new
    events when the run's .db file changes, which a kept connection's commit does not do (it
    writes the .db-wal file)."""
    _engine_events(local_instance, "run-two", 1, label="before watching")
    seen: list[str] = []
    arrived = threading.Event()

    def on_event(entry: dg.EventLogEntry, _cursor: str) -> None:
        seen.append(entry.dagster_event.message if entry.dagster_event else "")
        if len(seen) == EVENTS + 1:
            arrived.set()

    local_instance.watch_event_logs("run-two", None, on_event)
    try:
        _engine_events(local_instance, "run-two", EVENTS, label="watched")
        arrived.wait(timeout=20)
    finally:
        local_instance.end_watch_event_logs("run-two", on_event)
    assert seen[-1:] == [f"watched {EVENTS - 1}"], f"the watcher saw {len(seen)} of {EVENTS + 1} events"


def test_a_wipe_closes_the_kept_connections_before_deleting_the_run_files(local_instance: dg.DagsterInstance) -> None:
    _engine_events(local_instance, "run-three", 3, label="before the wipe")
    local_instance.event_log_storage.wipe()
    _engine_events(local_instance, "run-three", 2, label="after the wipe")
    # Written over a connection to the deleted file, these would be lost.
    assert _messages(local_instance, "run-three") == ["after the wipe 0", "after the wipe 1"]


def test_a_run_file_another_process_wiped_is_created_anew(local_instance: dg.DagsterInstance) -> None:
    """``dagster run wipe`` beside a running webserver deletes the run files under its kept
    connections; what the webserver writes afterwards must reach a file the others can read."""
    base_dir = local_instance.event_log_storage._base_dir  # type: ignore[attr-defined]
    _engine_events(local_instance, "run-four", 2, label="before the wipe")
    elsewhere = BatchedSqliteEventLogStorage(base_dir)  # the same files, as another process opens them
    elsewhere.wipe()
    _engine_events(local_instance, "run-four", 2, label="after the wipe")
    records = BatchedSqliteEventLogStorage(base_dir).get_records_for_run("run-four").records
    assert [r.event_log_entry.dagster_event.message for r in records] == ["after the wipe 0", "after the wipe 1"]
    elsewhere.dispose()
