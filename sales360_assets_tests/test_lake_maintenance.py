"""Delta maintenance: small partition files compacted, a checkpoint written, old files vacuumed
except those of the versions a check still reads by time travel."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from deltalake import write_deltalake

from sales360_assets.lake.delta import LEAN_STATISTICS, DeltaLake
from sales360_assets.lake.maintenance import maintain_table
from sales360_assets.lake.selection import PARTITION_COLUMNS, PartitionSelection
from sales360_assets_tests.conftest import WINDOW_START, SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance


def _batch(first: int) -> pl.DataFrame:
    return pl.DataFrame(
        {"event_key": [f"e{first + i}" for i in range(3)], "amount": [float(first + i) for i in range(3)]}
    )


def test_maintenance_compacts_checkpoints_and_vacuums_all_but_the_kept_versions(tmp_path: Path) -> None:
    lake = DeltaLake(str(tmp_path / "lake"))
    # Six small appends (one file each), as the daily ledger inserts leave them, then a correction
    # that rewrites the first file.
    for first in range(0, 18, 3):
        lake.insert_new("ledger", _batch(first), ["event_key"])
    lake.merge("ledger", pl.DataFrame({"event_key": ["e0"], "amount": [-1.0]}), ["event_key"])
    kept = lake.version("ledger")  # the version a time-travel check recorded
    before = lake.read("ledger").sort("event_key")
    files_before = len(lake.table("ledger").file_uris())

    result = maintain_table(lake, "ledger", retention_hours=0, keep_versions=[kept])

    assert result.files_before == files_before == 6
    assert len(lake.table("ledger").file_uris()) == result.files_after == 1
    assert (tmp_path / "lake" / "ledger" / "_delta_log" / "_last_checkpoint").exists()
    assert lake.read("ledger").sort("event_key").equals(before)
    assert result.files_vacuumed == 1  # the first file, rewritten by the correction
    assert lake.read_version("ledger", kept).sort("event_key").equals(before)  # kept for time travel
    with pytest.raises(Exception, match=r"(?i)not found|no such file|does not exist"):
        lake.read_version("ledger", 0)  # its only file was vacuumed


@pytest.mark.integration
def test_the_maintenance_job_keeps_what_the_ledger_check_reads(sample_sources: SampleSources, tmp_path: Path) -> None:
    with project_instance() as instance:
        lake = materialize_into(tmp_path, sample_sources, instance, WINDOW_START, WINDOW_START + timedelta(days=1))
        rows = {name: lake.lake.row_count(name) for name in ("fact_sales", "commission_ledger", "dim_customer")}

        result = lake.defs.resolve_job_def("lake_maintenance_job").execute_in_process(instance=instance)
        assert result.success

        assert {name: lake.lake.row_count(name) for name in rows} == rows
        assert (Path(lake.lake_uri) / "fact_sales" / "_delta_log" / "_last_checkpoint").exists()
        # The ledger check compares with the version its last materialization recorded, from before
        # this maintenance: it must still read.
        rerun = lake.defs.resolve_job_def("sales_reporting_job").execute_in_process(instance=instance)
        assert rerun.success
        checks = rerun.get_asset_check_evaluations()
        ledger_check = next(c for c in checks if c.check_name == "ledger_keeps_every_event")
        assert ledger_check.passed


def _day(day: str, region: str, rows: int) -> pl.DataFrame:
    return pl.DataFrame({"date": [date.fromisoformat(day)] * rows, "region": [region] * rows, "amount": [1.5] * rows})


def test_date_region_tables_log_row_counts_but_no_column_statistics(tmp_path: Path) -> None:
    """Loading a date × region table's log must not grow with per-column statistics of every file;
    the row counts dagster/row_count reads stay logged."""
    lake = DeltaLake(str(tmp_path / "lake"))
    lake.write_partitions("facts", _day("2026-10-01", "na", 3), PartitionSelection.single(date(2026, 10, 1), "na"))
    result = lake.write_partitions(
        "facts", _day("2026-10-02", "uk", 2), PartitionSelection.single(date(2026, 10, 2), "uk")
    )

    adds = pl.DataFrame(lake.table("facts").get_add_actions(flatten=True))
    assert not [c for c in adds.columns if c.startswith(("min.", "max.", "null_count."))]
    assert adds["num_records"].to_list() and adds["num_records"].null_count() == 0
    assert result.total_rows == lake.row_count("facts") == 5
    assert lake.read("facts", PartitionSelection.single(date(2026, 10, 2), "uk")).height == 2


def test_maintenance_makes_a_date_region_table_written_with_statistics_lean(tmp_path: Path) -> None:
    uri = str(tmp_path / "lake" / "facts")
    for day in ("2026-10-01", "2026-10-02"):  # the layout lakes had before: statistics on every column
        write_deltalake(uri, _day(day, "na", 2).to_arrow(), mode="append", partition_by=PARTITION_COLUMNS)
    write_deltalake(uri, _day("2026-10-01", "na", 1).to_arrow(), mode="append", partition_by=PARTITION_COLUMNS)
    lake = DeltaLake(str(tmp_path / "lake"))
    assert "min.amount" in pl.DataFrame(lake.table("facts").get_add_actions(flatten=True)).columns

    maintain_table(lake, "facts", retention_hours=0)

    assert lake.table("facts").metadata().configuration == LEAN_STATISTICS
    adds = pl.DataFrame(lake.table("facts").get_add_actions(flatten=True))
    compacted = adds.filter(pl.col("partition.date") == date(2026, 10, 1))
    assert compacted.height == 1 and compacted["num_records"].item() == 3
    assert lake.row_count("facts") == 5


def test_maintenance_retries_on_the_refreshed_table_when_a_run_commits_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = str(tmp_path / "lake" / "facts")
    for day in ("2026-10-01", "2026-10-01", "2026-10-02"):  # statistics on, two small files in one partition
        write_deltalake(uri, _day(day, "na", 2).to_arrow(), mode="append", partition_by=PARTITION_COLUMNS)
    lake = DeltaLake(str(tmp_path / "lake"))
    loaded_by_maintenance = lake.table("facts")
    # A daily run replaces a partition after maintenance loaded the table.
    lake.write_partitions("facts", _day("2026-10-01", "na", 5), PartitionSelection.single(date(2026, 10, 1), "na"))
    monkeypatch.setattr(lake, "table", lambda name: loaded_by_maintenance)

    maintain_table(lake, "facts", retention_hours=0)

    monkeypatch.undo()
    assert lake.table("facts").metadata().configuration == LEAN_STATISTICS
    assert lake.row_count("facts") == 7  # the run's replacement kept, nothing lost or doubled
    assert lake.read("facts").filter(pl.col("date") == date(2026, 10, 1)).height == 5


def test_a_merge_on_a_table_another_writer_changed_retries_on_the_refreshed_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lake = DeltaLake(str(tmp_path / "lake"))
    lake.insert_new("ledger", _batch(0), ["event_key"])
    stale = lake.table("ledger")
    lake.insert_new("ledger", _batch(3), ["event_key"])  # another writer commits first
    monkeypatch.setattr(lake, "table", lambda name: stale)

    result = lake.merge("ledger", pl.DataFrame({"event_key": ["e0", "e9"], "amount": [-1.0, 9.0]}), ["event_key"])

    monkeypatch.undo()
    assert result.total_rows == lake.row_count("ledger") == 7
    assert lake.read("ledger").filter(pl.col("event_key") == "e0")["amount"].item() == -1.0
