"""Dagster instance storage for Sales 360: event logs that write a batch of events at once.

A history backfill records one ``ASSET_MATERIALIZATION`` event per partition per asset (48,000
for three years × 4 regions × 11 assets), and Dagster's storages as many
``ASSET_MATERIALIZATION_PLANNED`` events; here a range run is planned with one event per asset
(``range_plans``). Dagster buffers the events (``DAGSTER_EVENT_BATCH_SIZE``) and hands each buffer
to ``store_event_batch``, but its SQLite storage then stores them one by one (a new engine and a
commit per event, twice: the run's file and the asset index), and dagster-postgres 0.29 inserts
planned events one by one. The classes here keep Dagster's tables, rows and bookkeeping and
write a buffer in one bulk insert per database (executemany on SQLite, COPY on PostgreSQL) in one
transaction. Upstream: dagster-io/dagster#32242 (wide partition ranges spend minutes logging
planned events one at a time). The SQLite event log also keeps a connection per database file
open between writes (``sqlite_connections``), the PostgreSQL event log and run storage keep
pooled connections (``postgres_pool``), and both event logs remember the schema they found
(``schema_facts``). Figures: benchmarks/README.md.
"""

from __future__ import annotations

import os

# Dagster reads this environment variable (not a dagster.yaml key) whenever it stores an event.
# Every process that loads an instance configured with these classes (CLI, webserver, daemon, run
# workers) runs this package's __init__ first (Python imports a package before its modules), so setting a default here turns batching on exactly where
# the storage can use it. An explicit value in the environment still wins.
BATCH_SIZE_ENV = "DAGSTER_EVENT_BATCH_SIZE"
DEFAULT_BATCH_SIZE = "1000"
os.environ.setdefault(BATCH_SIZE_ENV, DEFAULT_BATCH_SIZE)
