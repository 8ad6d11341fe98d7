"""Pooled connections for the PostgreSQL storages of the production profile, and a run storage that
uses them.

dagster-postgres 0.29 builds its event-log, run and schedule engines with ``NullPool``: every
statement opens a new connection (~5 ms on localhost, a TCP and authentication handshake each) and
closes it. A run makes thousands of event-log calls and dozens of run-storage calls (its status
changes, each step's reads of the run record); the daemon's threads poll the run storage all day.
Here an instance keeps two connections per storage, with overflow for threads writing at once: a
process with an instance holds up to four idle connections (daemon, webserver, each run worker and
step process), a few dozen with four runs at once, within PostgreSQL's default ``max_connections``
of 100.

The schedule storage stays dagster-postgres's own: a run barely uses it, and ``DagsterInstance.
dispose`` does not dispose it (Dagster 1.13 disposes the run and event storages only), so pooled
connections would outlive every instance that a test or the daemon opens and drops.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self

from dagster._serdes import ConfigurableClassData
from dagster_postgres.auth import PgTokenProvider
from dagster_postgres.run_storage import PostgresRunStorage
from dagster_postgres.utils import create_pg_engine, get_token_provider_from_config, pg_url_from_config
from sqlalchemy.engine import Engine

if TYPE_CHECKING:

    class _Base:
        """What the mixin uses of dagster-postgres's run and event-log storages (both have it)."""

        _engine: Engine
        postgres_url: str
        _token_provider: PgTokenProvider | None

        def __init__(self, *args: Any, **kwargs: Any) -> None: ...

        def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None: ...

        def dispose(self) -> None: ...
else:
    _Base = object

# Connections a storage keeps open: a call can open a second one inside the first (the event log
# writes an event, then its asset index), so with one kept the second would be reopened each time.
POOL_SIZE = 2
# Beyond the kept ones, no limit (as NullPool had none): a thread holds one connection while it
# takes a second, so a cap could deadlock threads writing at once. Extra ones close when returned.
POOL_OVERFLOW = -1
# A pooled connection older than this is reopened (servers and proxies drop idle sessions).
POOL_RECYCLE_SECONDS = 3600


def pooled_pg_engine(postgres_url: str, token_provider: PgTokenProvider | None) -> Engine:
    """dagster-postgres's engine (autocommit, its token hook) over a pool of ``POOL_SIZE``.

    Pre-ping on every checkout (one ``SELECT 1`` round trip, ~0.1 ms on localhost) replaces a
    connection the server closed, restarted or failed over, so a pooled storage survives what a
    connection-per-statement one did.
    """
    return create_pg_engine(
        postgres_url,
        token_provider,
        isolation_level="AUTOCOMMIT",
        pool_size=POOL_SIZE,
        max_overflow=POOL_OVERFLOW,
        pool_pre_ping=True,
        pool_recycle=POOL_RECYCLE_SECONDS,
    )


class PooledEngineMixin(_Base):
    """Mixed in before a dagster-postgres storage: its engine swapped for ``pooled_pg_engine``, the
    pool closed with the storage, and ``from_config_value`` building this class."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # The storage's own arguments (postgres_url, should_autocreate_tables, inst_data,
        # token_provider): it creates its tables over its NullPool engine, then the pool replaces it.
        super().__init__(*args, **kwargs)
        self._engine.dispose()
        self._engine = pooled_pg_engine(self.postgres_url, self._token_provider)

    def optimize_for_webserver(self, statement_timeout: int, pool_recycle: int, max_overflow: int) -> None:
        # The webserver swaps in dagster-postgres's own pool (a statement timeout on each
        # connection), without closing the engine it replaces.
        pooled = self._engine
        super().optimize_for_webserver(statement_timeout, pool_recycle, max_overflow)
        pooled.dispose()

    def dispose(self) -> None:
        super().dispose()
        self._engine.dispose()  # close the pooled connections with the instance

    @classmethod
    def from_config_value(cls, inst_data: ConfigurableClassData | None, config_value: Mapping[str, Any]) -> Self:
        # As dagster-postgres's from_config_value, which hard-codes its own class.
        return cls(
            inst_data=inst_data,
            postgres_url=pg_url_from_config(config_value),
            should_autocreate_tables=config_value.get("should_autocreate_tables", True),
            token_provider=get_token_provider_from_config(config_value),
        )


class PooledPostgresRunStorage(PooledEngineMixin, PostgresRunStorage):
    """dagster-postgres's run storage (same tables, same configuration) over pooled connections.

    A reference-data run opened 22 connections to it (``test_postgres_instance.py``).
    """
