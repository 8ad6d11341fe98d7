"""Delta table maintenance, so reading one day does not cost more as history grows. Knows nothing of Dagster.

* ``optimize.compact``: daily runs leave one small file per date × region partition per write
  (and re-runs more); compaction bins each partition's small files into target-size files.
* ``LEAN_STATISTICS`` (``delta.py``) on date × region tables created before it existed: files
  written or compacted afterwards carry no per-column statistics, so loading the table gets cheaper.
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

from sales360_assets.lake.delta import LEAN_STATISTICS, DeltaLake, with_commit_retry
from sales360_assets.lake.selection import PARTITION_COLUMNS

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
    metadata = table.metadata()
    lean = all(metadata.configuration.get(k) == v for k, v in LEAN_STATISTICS.items())
    # A run committing meanwhile makes these commits conflict: retry them on the refreshed table
    # (retrying on the stale one conflicts again every time).
    if metadata.partition_columns == PARTITION_COLUMNS and not lean:
        with_commit_retry(lambda: table.alter.set_table_properties(LEAN_STATISTICS), refresh=table.update_incremental)
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
