"""The Delta lake layer: exact partition replacement, refusal of foreign rows, schema merge."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pyarrow as pa
import pytest
from deltalake.exceptions import CommitFailedError
from polars.testing import assert_frame_equal

from sales360_assets.lake import delta as delta_module
from sales360_assets.lake.commits import OutOfPartitionError
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection

D1 = date(2026, 3, 1)


def rows(days: list[date], regions: list[str], value: float) -> pl.DataFrame:
    return pl.DataFrame(
        [{"date": d, "region": r, "amount": value, "key": f"{d}-{r}"} for d in days for r in regions],
        schema={"date": pl.Date, "region": pl.String, "amount": pl.Float64, "key": pl.String},
    )


def days(n: int, start: date = D1) -> list[date]:
    return [start + timedelta(days=i) for i in range(n)]


def sorted_table(lake: DeltaLake, name: str) -> pl.DataFrame:
    return lake.read(name).select("date", "region", "amount", "key").sort("date", "region")


@pytest.fixture
def lake(tmp_path: Path) -> DeltaLake:
    return DeltaLake(str(tmp_path / "lake"))


def test_write_replaces_exactly_the_selected_partitions(lake: DeltaLake) -> None:
    lake.write_partitions(
        "t", rows(days(3), ["na", "emea", "uk"], 1.0), PartitionSelection(D1, D1 + timedelta(2), ("na", "emea", "uk"))
    )
    # Replace day 2 for two regions (an IN-list and a one-day range) with new values.
    sel = PartitionSelection(D1 + timedelta(1), D1 + timedelta(1), ("na", "uk"))
    lake.write_partitions("t", rows([D1 + timedelta(1)], ["na", "uk"], 9.0), sel)
    table = sorted_table(lake, "t")
    assert table.height == 9
    changed = table.filter(sel.filter_expr())
    assert changed["amount"].to_list() == [9.0, 9.0]
    assert table.filter(~sel.filter_expr())["amount"].unique().to_list() == [1.0]


def test_rewriting_a_partition_is_idempotent(lake: DeltaLake) -> None:
    sel = PartitionSelection(D1, D1 + timedelta(1), ("na",))
    data = rows(days(2), ["na"], 2.0)
    lake.write_partitions("t", data, sel)
    first = sorted_table(lake, "t")
    lake.write_partitions("t", data, sel)
    assert_frame_equal(sorted_table(lake, "t"), first)


def test_range_write_equals_per_partition_writes(tmp_path: Path) -> None:
    ranged, single = DeltaLake(str(tmp_path / "a")), DeltaLake(str(tmp_path / "b"))
    data = rows(days(5), ["na", "apac"], 3.0)
    ranged.write_partitions("t", data, PartitionSelection(D1, D1 + timedelta(4), ("na", "apac")))
    for d in days(5):
        for region in ("apac", "na"):
            sel = PartitionSelection.single(d, region)
            single.write_partitions("t", data.filter(sel.filter_expr()), sel)
    assert_frame_equal(sorted_table(ranged, "t"), sorted_table(single, "t"))


def test_rows_outside_the_run_are_refused_and_nothing_is_written(lake: DeltaLake) -> None:
    lake.write_partitions("t", rows([D1], ["na"], 1.0), PartitionSelection.single(D1, "na"))
    version = lake.version("t")
    stray = rows([D1, D1 + timedelta(1)], ["na"], 5.0)
    with pytest.raises(OutOfPartitionError, match="outside the run's partitions"):
        lake.write_partitions("t", stray, PartitionSelection.single(D1, "na"))
    assert lake.version("t") == version
    assert sorted_table(lake, "t")["amount"].to_list() == [1.0]


def test_null_partition_values_are_refused(lake: DeltaLake) -> None:
    bad = rows([D1], ["na"], 1.0).with_columns(pl.lit(None, dtype=pl.String).alias("region"))
    with pytest.raises(OutOfPartitionError):
        lake.write_partitions("t", bad, PartitionSelection.single(D1, "na"))
    assert not lake.exists("t")


def test_empty_write_clears_the_partition(lake: DeltaLake) -> None:
    lake.write_partitions("t", rows(days(2), ["na"], 1.0), PartitionSelection(D1, D1 + timedelta(1), ("na",)))
    lake.write_partitions("t", rows([], [], 0.0), PartitionSelection.single(D1, "na"))
    assert sorted_table(lake, "t")["date"].to_list() == [D1 + timedelta(1)]


def test_added_column_is_merged_into_the_schema(lake: DeltaLake) -> None:
    lake.write_partitions("t", rows([D1], ["na"], 1.0), PartitionSelection.single(D1, "na"))
    wider = rows([D1 + timedelta(1)], ["na"], 2.0).with_columns(pl.lit("new").alias("channel"))
    lake.write_partitions("t", wider, PartitionSelection.single(D1 + timedelta(1), "na"))
    table = lake.read("t").sort("date")
    assert table["channel"].to_list() == [None, "new"]


def test_invalid_region_cannot_inject_into_the_predicate() -> None:
    with pytest.raises(ValueError, match="invalid region"):
        PartitionSelection(D1, D1, ("na') OR (1=1",))


def test_replace_where_and_merge(lake: DeltaLake) -> None:
    a = pl.DataFrame({"source_table": ["x", "x", "y"], "v": [1, 2, 3]})
    lake.overwrite("dl", a)
    lake.replace_where(
        "dl", pl.DataFrame({"source_table": ["x"], "v": [7]}), "source_table = 'x'", pl.col("source_table") == "x"
    )
    assert lake.read("dl").sort("v")["v"].to_list() == [3, 7]
    with pytest.raises(OutOfPartitionError):
        lake.replace_where(
            "dl", pl.DataFrame({"source_table": ["y"], "v": [0]}), "source_table = 'x'", pl.col("source_table") == "x"
        )

    lake.merge("m", pl.DataFrame({"id": [1, 2], "v": ["a", "b"]}), ["id"])
    lake.merge("m", pl.DataFrame({"id": [2, 3], "v": ["B", "c"]}), ["id"])
    assert lake.read("m").sort("id").rows() == [(1, "a"), (2, "B"), (3, "c")]
    with pytest.raises(ValueError, match="duplicate keys"):
        lake.merge("m", pl.DataFrame({"id": [4, 4], "v": ["x", "y"]}), ["id"])


def test_unwritable_lake_root_fails_clearly(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the lake should be")
    with pytest.raises(PermissionError, match="not writable"):
        DeltaLake(str(blocker / "lake")).ensure_writable()


def test_row_count_comes_from_the_log_and_matches_a_scan(lake: DeltaLake) -> None:
    assert lake.row_count("t") == 0
    lake.write_partitions(
        "t", rows(days(3), ["na", "emea"], 1.0), PartitionSelection(D1, D1 + timedelta(2), ("na", "emea"))
    )
    lake.write_partitions("t", rows([D1], ["na"], 2.0), PartitionSelection.single(D1, "na"))
    lake.write_partitions("t", rows([], [], 0.0), PartitionSelection.single(D1 + timedelta(1), "emea"))
    assert lake.row_count("t") == lake.read("t").height == 5


def test_last_date_is_the_latest_day_with_rows_read_from_the_log(lake: DeltaLake) -> None:
    assert lake.last_date("t") is None  # no table yet
    lake.write_partitions(
        "t", rows(days(5), ["na", "uk"], 1.0), PartitionSelection(D1, D1 + timedelta(4), ("na", "uk"))
    )
    latest = D1 + timedelta(4)
    assert lake.last_date("t") == lake.read("t")["date"].max() == latest

    # The latest day re-run with no rows in one region, then in both: the day before is the latest with rows.
    lake.write_partitions("t", rows([], [], 0.0), PartitionSelection.single(latest, "na"))
    assert lake.last_date("t") == latest
    lake.write_partitions("t", rows([], [], 0.0), PartitionSelection.single(latest, "uk"))
    assert lake.last_date("t") == lake.read("t")["date"].max() == latest - timedelta(1)

    lake.overwrite("flat", pl.DataFrame({"date": [D1, D1 + timedelta(9)], "amount": [1.0, 2.0]}))
    assert lake.last_date("flat") == D1 + timedelta(9)  # not date-partitioned: read from the rows


BLOCK_SCHEMA = pl.Schema({"key": pl.String(), "amount": pl.Float64()})


def blocks_of(n: int, size: int) -> list[pl.DataFrame]:
    return [
        pl.DataFrame(
            {"key": [f"k{i:03}" for i in range(lo, min(lo + size, n))], "amount": [1.5] * (min(lo + size, n) - lo)}
        )
        for lo in range(0, n, size)
    ]


def test_a_table_written_from_blocks_is_one_commit_of_every_block(lake: DeltaLake) -> None:
    lake.overwrite("t", pl.DataFrame({"key": ["old"], "amount": [9.0]}))
    made: list[int] = []

    def make() -> Iterator[pl.DataFrame]:
        for block in blocks_of(25, 4):
            made.append(block.height)  # blocks are made as the writer asks for them
            yield block

    result = lake.overwrite_blocks("t", BLOCK_SCHEMA, make)

    assert result.version == 1 and result.rows_written == 25 and result.total_rows == 25
    assert_frame_equal(lake.read("t").sort("key"), pl.concat(blocks_of(25, 4)))
    assert made == [4, 4, 4, 4, 4, 4, 1]
    empty = lake.overwrite_blocks("t", BLOCK_SCHEMA, lambda: iter(()))
    assert empty.rows_written == 0 and lake.read("t").schema == BLOCK_SCHEMA and lake.read("t").height == 0


def test_a_refused_blocks_commit_retries_with_fresh_blocks(lake: DeltaLake, monkeypatch: pytest.MonkeyPatch) -> None:
    """A concurrent writer wins the first commit after our stream was spent: the retry must make the blocks again."""
    lake.overwrite("t", pl.DataFrame({"key": ["old"], "amount": [9.0]}))
    real_write = delta_module.write_deltalake
    attempts: list[int] = []

    def refused_once(table: object, data: pa.RecordBatchReader, **kwargs: object) -> None:
        attempts.append(1)
        if len(attempts) == 1:
            data.read_all()  # the stream is consumed, then the commit loses
            raise CommitFailedError("a concurrent writer committed first")
        real_write(table, data, **kwargs)

    monkeypatch.setattr(delta_module, "write_deltalake", refused_once)
    result = lake.overwrite_blocks("t", BLOCK_SCHEMA, lambda: iter(blocks_of(10, 3)))

    assert len(attempts) == 2
    assert result.rows_written == 10
    assert_frame_equal(lake.read("t").sort("key"), pl.concat(blocks_of(10, 3)))


def test_a_block_with_other_columns_fails_and_writes_nothing(lake: DeltaLake) -> None:
    lake.overwrite("t", pl.DataFrame({"key": ["old"], "amount": [9.0]}))
    wrong = pl.DataFrame({"key": ["a"], "amount": [1]})  # an integer amount

    with pytest.raises(ValueError, match="a block has columns"):
        lake.overwrite_blocks("t", BLOCK_SCHEMA, lambda: iter([*blocks_of(3, 3), wrong]))

    assert lake.version("t") == 0 and lake.read("t")["key"].to_list() == ["old"]


class RowRuleBroken(Exception):
    pass


def test_a_block_that_fails_to_be_made_fails_the_write_with_its_own_error(lake: DeltaLake) -> None:
    """The asset's own checks run while the blocks are made; their error must reach the run as it is."""
    lake.overwrite("t", pl.DataFrame({"key": ["old"], "amount": [9.0]}))

    def blocks() -> Iterator[pl.DataFrame]:
        yield from blocks_of(6, 3)
        raise RowRuleBroken("fact_sales: refusing to write rows that break its rules")

    with pytest.raises(RowRuleBroken, match="refusing to write"):
        lake.overwrite_blocks("t", BLOCK_SCHEMA, blocks)

    assert lake.version("t") == 0 and lake.read("t")["key"].to_list() == ["old"]
