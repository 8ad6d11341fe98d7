"""Delta table maintenance, so reading one day does not cost more as history grows. Knows nothing of Dagster.

* a date × region table still stored per date × region (lakes written before 2026-12) is moved to
  one Delta partition per region with date statistics (``STORAGE_PARTITION_COLUMNS`` in
  ``delta.py``, which says why): its rows rewritten in one commit, once.
* ``optimize.compact``: each daily run adds a small file per region (re-runs more); compaction
  bins each Delta partition's small files into target-size files.
* a checkpoint: readers start from it instead of replaying every JSON commit since version 0.
* ``cleanup_metadata``: drops log entries older than the table's log retention (30 days by default).
* ``vacuum``: deletes files no version newer than the retention needs, except the files of
  ``keep_versions``, the versions a check still reads by time travel (``commission_ledger``'s
  ``ledger_keeps_every_event`` compares with the version its last materialization recorded).

Retention: a week (Delta's own default). Time travel to any version of the last week works, and
so does a reader that started before a vacuum and still reads the files it listed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from deltalake import CommitProperties, DeltaTable, write_deltalake

from sales360_assets.lake.commits import arrow_for_delta, with_commit_retry
from sales360_assets.lake.delta import DATE_STATISTICS, STORAGE_PARTITION_COLUMNS, DeltaLake
from sales360_assets.lake.selection import DATE_COLUMN, PARTITION_COLUMNS

DEFAULT_RETENTION_HOURS = 7 * 24


@dataclass(frozen=True)
class MaintenanceResult:
    table: str
    files_before: int
    files_after: int
    files_vacuumed: int
    version: int


def maintain_table(
    lake: DeltaLake, name: str, retention_hours: int = DEFAULT_RETENTION_HOURS, keep_versions: Sequence[int] = ()
) -> MaintenanceResult:
    """Compact, checkpoint, trim the log and vacuum one table (which must exist)."""
    table = lake.table(name)
    if table is None:
        raise FileNotFoundError(f"Delta table {lake.table_uri(name)} does not exist")
    files_before = len(table.file_uris())
    # A run committing meanwhile makes these commits conflict: retry them on the refreshed table
    # (retrying on the stale one conflicts again every time).
    if table.metadata().partition_columns == PARTITION_COLUMNS:
        with_commit_retry(lambda: table.alter.set_table_properties(DATE_STATISTICS), refresh=table.update_incremental)
        with_commit_retry(lambda: _store_per_region(lake, name, table), refresh=table.update_incremental)
    with_commit_retry(lambda: table.optimize.compact(), refresh=table.update_incremental)
    table.create_checkpoint()
    table.cleanup_metadata()
    vacuumed = table.vacuum(
        retention_hours=retention_hours,
        dry_run=False,
        # The bound is the caller's (MaintenanceConfig): tests vacuum at 0 hours on purpose.
        enforce_retention_duration=False,
        keep_versions=list(keep_versions) or None,
    )
    table.update_incremental()
    return MaintenanceResult(name, files_before, len(table.file_uris()), len(vacuumed), table.version())


def _store_per_region(lake: DeltaLake, name: str, table: DeltaTable) -> None:
    """Rewrite a table stored per date × region as one Delta partition per region, days in order.

    A change of partitioning is a whole-table overwrite in Delta, so the table is read into memory
    once (the job's peak: the largest such table). Any commit since that read must fail the move:
    delta-rs would otherwise rebase it over a run that only added files (a new day), keeping the
    run's file with its date × region partition values under metadata that no longer has a ``date``
    partition, and the table would no longer load. Refused, the caller retries on the refreshed table.
    """
    rows = lake.read(name, table=table).sort(DATE_COLUMN)  # the writer groups by region, keeping this order
    write_deltalake(
        table,
        arrow_for_delta(rows),
        mode="overwrite",
        partition_by=STORAGE_PARTITION_COLUMNS,
        schema_mode="overwrite",
        commit_properties=CommitProperties(max_commit_retries=0),
    )
