"""Delta maintenance: small partition files compacted, a checkpoint written, old files vacuumed
except those of the versions a check still reads by time travel."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest
from deltalake import write_deltalake

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.maintenance import maintain_table
from sales360_assets.lake.selection import PARTITION_COLUMNS, REGION_COLUMN, PartitionSelection
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


def _month(regions: tuple[str, ...], rows_per_day: int) -> pl.DataFrame:
    return pl.concat([_day(f"2026-10-{d:02d}", r, rows_per_day) for d in range(1, 31) for r in regions])


OCTOBER = (date(2026, 10, 1), date(2026, 10, 30))


def _old_layout(uri: str, frames: list[pl.DataFrame]) -> None:
    """The layout lakes had before: a Delta partition per date × region, statistics on every column."""
    for frame in frames:
        write_deltalake(uri, frame.to_arrow(), mode="append", partition_by=PARTITION_COLUMNS)


def _statistics_columns(lake: DeltaLake, name: str) -> list[str]:
    adds = pl.DataFrame(lake.table(name).get_add_actions(flatten=True))
    return sorted(c for c in adds.columns if c.startswith(("min.", "max.", "null_count.")))


def test_date_region_tables_are_stored_per_region_with_date_statistics_only(tmp_path: Path) -> None:
    """A range of days is one file per region, not one per day × region (~4,400 after three years,
    each opened by every read of history and each adding to every load of the log)."""
    lake = DeltaLake(str(tmp_path / "lake"))
    result = lake.write_partitions("facts", _month(("na", "uk"), 2), PartitionSelection(*OCTOBER, ("na", "uk")))

    table = lake.table("facts")
    assert table.metadata().partition_columns == [REGION_COLUMN]
    assert len(table.file_uris()) == 2
    # Only the date is summarised per file: reads of a day skip the other files by it, and the log
    # does not grow with statistics on every column. Row counts (dagster/row_count) stay logged.
    assert _statistics_columns(lake, "facts") == ["max.date", "min.date", "null_count.date"]
    assert result.total_rows == lake.row_count("facts") == 120

    # One day in the middle of a region's file is replaced exactly; the rest of the file stays.
    lake.write_partitions("facts", _day("2026-10-15", "na", 5), PartitionSelection.single(date(2026, 10, 15), "na"))
    after = lake.read("facts")
    assert after.height == lake.row_count("facts") == 123
    assert after.filter(pl.col("date") == date(2026, 10, 15), pl.col("region") == "na").height == 5
    assert after.filter(pl.col("date") == date(2026, 10, 14), pl.col("region") == "na").height == 2
    assert after.filter(pl.col("region") == "uk").height == 60
    assert lake.read("facts", PartitionSelection.single(date(2026, 10, 15), "na")).height == 5
    assert lake.last_date("facts") == date(2026, 10, 30)


def test_a_table_still_stored_per_date_and_region_takes_writes_until_maintenance_moves_it(tmp_path: Path) -> None:
    uri = str(tmp_path / "lake" / "facts")
    _old_layout(uri, [_day(day, region, 2) for day in ("2026-10-01", "2026-10-02") for region in ("na", "uk")])
    lake = DeltaLake(str(tmp_path / "lake"))

    lake.write_partitions("facts", _day("2026-10-02", "na", 4), PartitionSelection.single(date(2026, 10, 2), "na"))

    assert lake.table("facts").metadata().partition_columns == PARTITION_COLUMNS
    assert lake.row_count("facts") == lake.read("facts").height == 10
    assert lake.last_date("facts") == date(2026, 10, 2)


def test_maintenance_moves_a_table_stored_per_date_and_region_to_one_partition_per_region(tmp_path: Path) -> None:
    uri = str(tmp_path / "lake" / "facts")
    _old_layout(uri, [_day(f"2026-10-{d:02d}", region, 2) for d in range(1, 11) for region in ("na", "uk")])
    _old_layout(uri, [_day("2026-10-01", "na", 1)])  # a second small file in one partition
    lake = DeltaLake(str(tmp_path / "lake"))
    before = lake.read("facts").sort(PARTITION_COLUMNS)
    assert len(lake.table("facts").file_uris()) == 21

    result = maintain_table(lake, "facts", retention_hours=0)

    table = lake.table("facts")
    assert table.metadata().partition_columns == [REGION_COLUMN]
    assert result.files_before == 21 and result.files_after == len(table.file_uris()) == 2
    assert _statistics_columns(lake, "facts") == ["max.date", "min.date", "null_count.date"]
    assert lake.read("facts").sort(PARTITION_COLUMNS).equals(before)
    assert lake.row_count("facts") == 41
    # The daily runs write into it as into any new table.
    lake.write_partitions("facts", _day("2026-10-11", "uk", 3), PartitionSelection.single(date(2026, 10, 11), "uk"))
    assert lake.row_count("facts") == 44 and lake.last_date("facts") == date(2026, 10, 11)


def test_maintenance_retries_on_the_refreshed_table_when_a_run_commits_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    uri = str(tmp_path / "lake" / "facts")
    _old_layout(uri, [_day(day, "na", 2) for day in ("2026-10-01", "2026-10-01", "2026-10-02")])
    lake = DeltaLake(str(tmp_path / "lake"))
    loaded_by_maintenance = lake.table("facts")
    # A daily run replaces a partition after maintenance loaded the table.
    lake.write_partitions("facts", _day("2026-10-01", "na", 5), PartitionSelection.single(date(2026, 10, 1), "na"))
    monkeypatch.setattr(lake, "table", lambda name: loaded_by_maintenance)

    maintain_table(lake, "facts", retention_hours=0)

    monkeypatch.undo()
    assert lake.table("facts").metadata().partition_columns == [REGION_COLUMN]
    assert lake.row_count("facts") == 7  # the run's replacement kept, nothing lost or doubled
    assert lake.read("facts").filter(pl.col("date") == date(2026, 10, 1)).height == 5


@pytest.mark.parametrize(
    ("run_day", "rows_after", "run_rows"),
    [
        ("2026-10-01", 7, 5),  # the run replaces a day the table holds: its commit removes a file
        ("2026-10-03", 9, 5),  # the run adds a new day: its commit only adds a file
    ],
)
def test_moving_a_table_to_the_region_layout_keeps_a_run_that_commits_while_its_rows_are_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, run_day: str, rows_after: int, run_rows: int
) -> None:
    uri = str(tmp_path / "lake" / "facts")
    _old_layout(uri, [_day(day, "na", 2) for day in ("2026-10-01", "2026-10-02")])
    lake = DeltaLake(str(tmp_path / "lake"))
    read_for_the_move = lake.read
    run_committed = []

    def read_while_a_run_commits(name: str, selection: PartitionSelection | None = None, table: object = None):
        rows = read_for_the_move(name, selection, table)
        if not run_committed:  # a daily run commits between the move's read and its commit
            DeltaLake(str(tmp_path / "lake")).write_partitions(
                "facts", _day(run_day, "na", run_rows), PartitionSelection.single(date.fromisoformat(run_day), "na")
            )
            run_committed.append(True)
        return rows

    monkeypatch.setattr(lake, "read", read_while_a_run_commits)
    maintain_table(lake, "facts", retention_hours=0)
    monkeypatch.undo()

    reloaded = DeltaLake(str(tmp_path / "lake"))  # a fresh load: the log must still make sense
    assert reloaded.table("facts").metadata().partition_columns == [REGION_COLUMN]
    assert reloaded.row_count("facts") == reloaded.read("facts").height == rows_after  # nothing lost or doubled
    assert reloaded.read("facts").filter(pl.col("date") == date.fromisoformat(run_day)).height == run_rows
    stored = pl.DataFrame(reloaded.table("facts").get_add_actions(flatten=True))
    assert "partition.date" not in stored.columns  # every file in the region layout, the run's too


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
