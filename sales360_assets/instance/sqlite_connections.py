"""SQLite event-log connections kept open between writes, and a run-log watcher that sees them.

Dagster's ``SqliteEventLogStorage._connect`` builds a new SQLAlchemy engine with ``NullPool`` for
every statement it runs: open the file, write, commit, close. In WAL mode (which Dagster sets)
the close of a database's last connection also checkpoints the write-ahead log into the database
and removes it, a second flush to disk. A run writes ~170 events one at a time (step starts and
ends, inputs, outputs, check results) into its own file, the asset and check events a second
time into the index, so most of their cost was opening and closing. ``KeptSqliteConnectionsMixin``
keeps one engine with one pooled connection per database instead: the index for the process's
life, run files for the last few runs used (``KEPT_RUN_FILES``). Every transaction still commits
(a flush of the log at each commit, as before); checkpoints happen when the log passes SQLite's
1,000 pages or the connection closes. Figures: benchmarks/README.md.

What changes with it, handled here:

* Dagster's live run-log watcher (the UI's run page) waits for the run's ``.db`` file to change,
  which happened at every close's checkpoint. With the connection kept, a commit changes only the
  ``.db-wal`` file, so ``WalAwareWatchdog`` watches both.
* ``wipe`` deletes run files: their kept engines are closed first, or later writes would go to
  deleted files; a kept run engine whose file another process deleted is replaced on next use.
* The ``-wal`` file of a database stays on disk while a process keeps a connection to it (SQLite
  removes it when the last connection closes), up to the largest transaction since (a buffer of
  1,000 events): copy the ``.db`` and ``.db-wal`` files together, or stop the processes first.
* A connection must not cross ``fork`` (SQLite's rule): a process that finds engines made by
  another pid drops them without closing and opens its own.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from dagster._core.storage.event_log.sqlite.sqlite_event_log import (
    INDEX_SHARD_NAME,
    SqliteEventLogStorageWatchdog,
)
from dagster._core.storage.sqlite import SQLITE_BUSY_TIMEOUT_SECONDS
from sqlalchemy import create_engine
from sqlalchemy.pool import QueuePool

if TYPE_CHECKING:
    from collections.abc import Iterator

    from dagster._core.storage.event_log.sqlite.sqlite_event_log import SqliteEventLogStorage
    from sqlalchemy.engine import Connection, Engine
    from watchdog.events import FileSystemEvent

    _Base = SqliteEventLogStorage
else:
    _Base = object

# Run files whose engines stay open: the run being written, and a few a webserver reads from.
KEPT_RUN_FILES = 4


class KeptSqliteConnectionsMixin(_Base):
    """Mixed in before ``SqliteEventLogStorage``: its ``_connect`` with engines kept per database."""

    _kept: OrderedDict[str, Engine]
    _kept_pid: int | None = None

    def _kept_engines(self) -> OrderedDict[str, Engine]:
        if self._kept_pid != os.getpid():
            # New process (or first use): engines inherited through fork stay open for the parent
            # (SQLAlchemy's advice: dispose without closing) and this process opens its own.
            for inherited in getattr(self, "_kept", {}).values():
                inherited.dispose(close=False)
            self._kept = OrderedDict()
            self._kept_pid = os.getpid()
        return self._kept

    def _engine_for(self, shard: str) -> Engine:
        engines = self._kept_engines()
        engine = engines.get(shard)
        if engine is not None and (shard == INDEX_SHARD_NAME or os.path.exists(self.path_for_shard(shard))):
            engines.move_to_end(shard)
            return engine
        if engine is not None:
            # Another process wiped the run files (`dagster run wipe` beside a running webserver):
            # a kept connection would write to the deleted file and lose it. Create the file anew,
            # as Dagster's storage does for a run it has not seen.
            engines.pop(shard).dispose()
            self._initialized_dbs.discard(shard)
        engine = create_engine(
            self.conn_string_for_shard(shard),
            # One connection kept; _initdb inspects the schema from a second one while its first
            # is open, and overflow connections close when returned.
            poolclass=QueuePool,
            pool_size=1,
            max_overflow=2,
            # The kept connection is used by whichever thread holds _db_lock, one at a time.
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_SECONDS, "check_same_thread": False},
        )
        if shard not in self._initialized_dbs:
            self._initdb(engine)  # as Dagster's _connect does
            self._initialized_dbs.add(shard)
        engines[shard] = engine
        run_files = [name for name in engines if name != INDEX_SHARD_NAME]
        for name in run_files[:-KEPT_RUN_FILES]:
            engines.pop(name).dispose()
        return engine

    @contextmanager
    def _connect(self, shard: str) -> Iterator[Connection]:
        # As Dagster's: one thread at a time per storage, one transaction per use.
        with self._db_lock, self._engine_for(shard).connect() as conn, conn.begin():
            yield conn

    def _close_kept_engines(self) -> None:
        with self._db_lock:
            engines = self._kept_engines()
            while engines:
                engines.popitem()[1].dispose()

    def wipe(self) -> None:
        self._close_kept_engines()
        super().wipe()

    def dispose(self) -> None:
        super().dispose()  # stops the run-log watcher first: it could open an engine after the close
        self._close_kept_engines()

    def watch(self, run_id: str, cursor: str | None, callback: Any) -> None:
        # Dagster's watch with a watcher that also sees the write-ahead log change.
        if not self._obs:
            from watchdog.observers import Observer

            self._obs = Observer()
            self._obs.start()
        watchdog = WalAwareWatchdog(self, run_id, callback, cursor)
        self._watchers[run_id][callback] = (watchdog, self._obs.schedule(watchdog, self._base_dir, recursive=True))


class WalAwareWatchdog(SqliteEventLogStorageWatchdog):
    """Dagster's run-log watcher, called when the run's ``.db`` or its ``.db-wal`` file changes."""

    def __init__(self, event_log_storage: SqliteEventLogStorage, run_id: str, callback: Any, cursor: str | None):
        super().__init__(event_log_storage, run_id, callback, cursor)
        # Set after Dagster's __init__, which matches the .db file only.
        self._patterns = [self._log_path, f"{self._log_path}-wal"]

    def on_modified(self, event: FileSystemEvent) -> None:
        # Dagster's asserts the path is the .db file's.
        self._process_log()
