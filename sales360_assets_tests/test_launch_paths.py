"""Every way a data engineer launches partitions writes exactly those partitions.

The job page's backfill, the asset graph's "materialize selected partitions" (an asset
backfill), the CLI and a sensor's range request all go through different Dagster code that
tags runs differently. Each is driven here through the machinery the UI and the daemon use
(GraphQL → backfill daemon → run launcher; see ``daemon_harness``) and judged on the Delta tables:
the set of (date, region) partitions present, and per partition the rows a clean build writes.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.cli import QUIET_CONSOLE
from sales360_assets.definitions import build_definitions
from sales360_assets.jobs import partitioned_assets
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource
from sales360_assets.partitions import (
    KEPT_RANGES,
    DateRegionPartitionsDefinition,
    PartitionTagConflictError,
    date_region_partitions,
    keys_for,
    range_selection,
    region_partitions,
    run_partition_selection,
    selection_from_keys,
)
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.daemon_harness import BulkActionStatus, deployment
from sales360_assets_tests.fault_helpers import RUN_COLUMNS, range_tags
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration

START, END = date(2026, 3, 3), date(2026, 3, 5)
REGIONS = ("emea", "uk")
REQUESTED = {(d, r) for d in (date(2026, 3, 3), date(2026, 3, 4), date(2026, 3, 5)) for r in REGIONS}
TABLES = ("raw_warehouse_orders", "stg_warehouse_order_lines", "fact_sales", "mart_daily_sales")


def partitions_in(lake: DeltaLake, table: str) -> set[tuple[date, str]]:
    return set(lake.read(table).select("date", "region").unique().iter_rows())


def comparable(lake: DeltaLake, table: str) -> pl.DataFrame:
    frame = lake.read(table)
    return frame.drop([c for c in frame.columns if c in RUN_COLUMNS]).sort(frame.columns[:6])


def source_order_counts(sources: Path) -> dict[tuple[date, str], int]:
    """Orders per (date, region) straight from the warehouse export, without the platform's code."""
    orders = pl.read_parquet(sources / "warehouse" / "orders" / "**" / "*.parquet", hive_partitioning=False)
    return {
        (day, region): n
        for day, region, n in orders.filter(
            pl.col("order_date").is_between(START, END) & pl.col("region").is_in(REGIONS)
        )
        .unique("order_id")
        .group_by("order_date", "region")
        .len()
        .iter_rows()
    }


@pytest.fixture(scope="module")
def clean_build(tmp_path_factory: pytest.TempPathFactory, sample_sources: SampleSources) -> DeltaLake:
    """The requested partitions built one region at a time by range runs: what every path must equal."""
    lake_uri = str(tmp_path_factory.mktemp("clean") / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    with project_instance() as instance:
        defs.resolve_job_def("reference_data_job").execute_in_process(instance=instance, run_config=QUIET_CONSOLE)
        for region in REGIONS:
            defs.resolve_job_def("daily_sales_job").execute_in_process(
                instance=instance, tags=range_tags(START, END, region), run_config=QUIET_CONSOLE
            )
    return DeltaLake(lake_uri)


@pytest.mark.parametrize("path", ["job_page_backfill", "asset_backfill"])
def test_ui_backfill_writes_every_requested_partition(
    path: str, tmp_path: Path, sample_sources: SampleSources, clean_build: DeltaLake
) -> None:
    lake_uri = str(tmp_path / "lake")
    keys = [str(k) for k in keys_for(START, END, REGIONS)]
    with deployment(tmp_path, sample_sources.root, lake_uri) as dep:
        defs = build_definitions(str(sample_sources.root), lake_uri)
        defs.resolve_job_def("reference_data_job").execute_in_process(instance=dep.instance, run_config=QUIET_CONSOLE)
        if path == "job_page_backfill":
            backfill_id = dep.launch_job_backfill("daily_sales_job", keys)
        else:
            # Every partitioned asset, as a user selecting the daily layer in the asset graph would.
            partitioned = [a.key.path[-1] for a in partitioned_assets]
            backfill_id = dep.launch_asset_backfill(partitioned, keys)
        status = dep.run_backfill_daemon(backfill_id)
        runs = dep.backfill_runs(backfill_id)

        assert status == BulkActionStatus.COMPLETED_SUCCESS
        assert runs and all(run.status == dg.DagsterRunStatus.SUCCESS for run in runs)
        lake = DeltaLake(lake_uri)
        for table in TABLES:
            assert partitions_in(lake, table) == REQUESTED, table
        # Independent of the platform: the orders in the warehouse export for those partitions.
        raw = lake.read("raw_warehouse_orders").unique("order_id").group_by("date", "region").len()
        assert dict(((d, r), n) for d, r, n in raw.iter_rows()) == source_order_counts(sample_sources.root)
        for table in TABLES:
            assert_frame_equal(comparable(lake, table), comparable(clean_build, table), check_row_order=False)
        # What the UI's partition grid shows agrees with the lake.
        materialized = dep.instance.get_materialized_partitions(dg.AssetKey("fact_sales"))
        assert {tuple(k.split("|")) for k in materialized} == {(d.isoformat(), r) for d, r in REQUESTED}


def test_an_asset_page_backfill_runs_its_steps_in_the_runs_process(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    """The asset page launches a backfill without run config, so the code location's default
    executor decides. Dagster's default starts a process per step, each rebuilding the
    definitions (benchmarks: 28.7 s in process vs 446 s for 30 days × 4 regions; here, two assets
    for one partition, 20.6 s against 0.3 s)."""
    lake_uri = str(tmp_path / "lake")
    with deployment(tmp_path, sample_sources.root, lake_uri) as dep:
        defs = build_definitions(str(sample_sources.root), lake_uri)
        defs.resolve_job_def("reference_data_job").execute_in_process(instance=dep.instance, run_config=QUIET_CONSOLE)
        keys = [str(k) for k in keys_for(START, START, ["uk"])]
        backfill_id = dep.launch_asset_backfill(["raw_warehouse_orders", "stg_warehouse_orders"], keys, run_config=None)
        assert dep.run_backfill_daemon(backfill_id) == BulkActionStatus.COMPLETED_SUCCESS
        [run] = dep.backfill_runs(backfill_id)
        engine = [e.message for e in dep.instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)]
    assert any(m.startswith("Executing steps in process") for m in engine), engine


def run_with_tags(tags: dict[str, str]) -> dg.DagsterRun:
    return dg.DagsterRun(job_name="daily_sales_job", run_id="r", tags=tags)


def test_partition_tags_that_disagree_are_refused() -> None:
    """A range and a single key on one run: refuse instead of picking one."""
    tags = {
        **range_tags(START, END, "uk"),
        "dagster/partition/date": START.isoformat(),
        "dagster/partition/region": "emea",
    }
    with pytest.raises(PartitionTagConflictError, match="disagree"):
        run_partition_selection(tags)
    # The same key written both ways is consistent.
    single = {**range_tags(START, START, "uk"), "dagster/partition": f"{START}|uk"}
    assert run_partition_selection(single).dates == [START]


@pytest.mark.parametrize(
    ("start", "end"),
    [
        ("2026-01-01|emea", "2026-01-01|emea"),
        ("2025-12-30|apac", "2026-01-02|apac"),  # across a year
        ("2026-01-01|apac", "2026-03-31|uk"),  # every region
        ("2026-02-27|emea", "2026-03-02|na"),  # some regions, across a short month
    ],
)
def test_a_ranges_rectangle_is_the_one_dagsters_keys_make(start: str, end: str) -> None:
    """A range run's rectangle comes from its two end keys; it must cover exactly the keys Dagster
    lists for that range (each dimension's range, crossed)."""
    keys = date_region_partitions.get_partition_keys_in_range(dg.PartitionKeyRange(start, end))
    assert range_selection(start, end) == selection_from_keys(keys)
    assert len(range_selection(start, end).dates) * len(range_selection(start, end).regions) == len(keys)


def test_the_partition_keys_are_listed_once_a_day_and_are_dagsters_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every history-wide step asks for every key (Dagster's data-version bookkeeping); they are
    built once per day that opens, and are the keys Dagster's own definition gives at any time."""
    ours = DateRegionPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2024-01-01"), "region": region_partitions}
    )
    stock = dg.MultiPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2024-01-01"), "region": region_partitions}
    )
    built: list[datetime] = []
    build = dg.MultiPartitionsDefinition._get_partition_keys
    monkeypatch.setattr(
        dg.MultiPartitionsDefinition,
        "_get_partition_keys",
        lambda self, _current_time: built.append(_current_time) or build(self, _current_time),
    )
    morning, evening = datetime(2026, 3, 5, 6, tzinfo=UTC), datetime(2026, 3, 5, 23, 59, tzinfo=UTC)
    for at in (morning, evening, morning + timedelta(days=1), morning - timedelta(days=400), morning):
        assert list(ours.get_partition_keys(current_time=at)) == list(stock.get_partition_keys(current_time=at)), at
    # Dagster's stock definition built the list five times; ours once per distinct day (three in turn, and again for the first).
    assert len(built) == 5 + 4


def test_a_ranges_keys_are_built_once_and_are_dagsters_own(monkeypatch: pytest.MonkeyPatch) -> None:
    """A range run's step asks for its keys again and again (inputs, data versions, metadata,
    events): ~1,100 ``MultiPartitionKey``s each time for a three-year region run. They are built
    once per range, and are the keys Dagster's own definition lists."""
    dims = {"date": dg.DailyPartitionsDefinition("2024-01-01"), "region": region_partitions}
    ours, stock = DateRegionPartitionsDefinition(dims), dg.MultiPartitionsDefinition(dims)
    built: list[dg.PartitionKeyRange] = []
    build = dg.MultiPartitionsDefinition.get_partition_keys_in_range
    monkeypatch.setattr(
        dg.MultiPartitionsDefinition,
        "get_partition_keys_in_range",
        lambda self, key_range, store=None: built.append(key_range) or build(self, key_range, store),
    )
    region_run = dg.PartitionKeyRange("2024-01-01|uk", "2026-12-31|uk")
    every_region = dg.PartitionKeyRange("2026-03-01|apac", "2026-03-07|uk")
    for key_range in (region_run, region_run, every_region, region_run, every_region):
        assert list(ours.get_partition_keys_in_range(key_range)) == list(stock.get_partition_keys_in_range(key_range))
    assert len(built) == 5 + 2  # the stock definition's five, ours once per range
    mine = ours.get_partition_keys_in_range(region_run)
    mine.clear()  # a caller changing its list does not change the next caller's
    assert len(ours.get_partition_keys_in_range(region_run)) == 1096
    for day in range(KEPT_RANGES + 1):  # a long-lived process keeps only the last few ranges
        ours.get_partition_keys_in_range(dg.PartitionKeyRange(f"2025-01-{day + 1:02d}|uk", "2025-02-01|uk"))
    assert len(ours.__dict__["_keys_in_range"]) == KEPT_RANGES


def test_a_history_wide_asset_reads_every_partition_and_nothing_outside_them(tmp_path: Path) -> None:
    """An unpartitioned asset gets every date × region partition of its input, and no rows a
    partition cannot hold (a region since removed, days before the partitions start)."""
    parts = DateRegionPartitionsDefinition(
        {"date": dg.DailyPartitionsDefinition("2026-03-01"), "region": region_partitions}
    )
    lake = DeltaLake(str(tmp_path / "lake"))
    lake.overwrite(
        "daily_rows",
        pl.DataFrame(
            {
                "date": [date(2026, 3, 1), date(2026, 3, 2), date(2026, 2, 28), date(2026, 3, 2)],
                "region": ["emea", "uk", "emea", "gone"],
                "amount": [1, 2, 4, 8],
            }
        ),
    )

    @dg.asset
    def history_total(daily_rows: pl.DataFrame) -> pl.DataFrame:
        return daily_rows.select(pl.col("amount").sum())

    resource = LakeResource(root_uri=lake.root_uri)
    with project_instance() as instance:
        result = dg.materialize(
            [dg.AssetSpec("daily_rows", partitions_def=parts), history_total],
            selection=["history_total"],
            resources={"io_manager": DeltaPolarsIOManager(lake=resource), "lake": resource},
            instance=instance,
        )
    assert result.success
    assert lake.read("history_total").item() == 1 + 2


def test_a_run_over_days_without_source_rows_says_so(tmp_path: Path, sample_sources: SampleSources) -> None:
    """Partitions the sources hold nothing for are counted in metadata and warned about, not silently green."""
    lake_uri = str(tmp_path / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    empty_start, empty_end = date(2026, 4, 1), date(2026, 4, 2)  # after the sample window
    with project_instance() as instance:
        defs.resolve_job_def("reference_data_job").execute_in_process(instance=instance, run_config=QUIET_CONSOLE)
        result = defs.resolve_job_def("daily_sales_job").execute_in_process(
            instance=instance, tags=range_tags(empty_start, empty_end, "uk"), run_config=QUIET_CONSOLE
        )
        assert result.success
        event = instance.get_latest_materialization_event(dg.AssetKey("raw_warehouse_orders"))
        assert event is not None and event.asset_materialization is not None
        metadata = event.asset_materialization.metadata
        assert metadata["partitions_without_source_rows"].value == 2
        warnings = [
            e.message
            for e in instance.all_logs(result.run_id)
            if e.level >= 30 and "has no rows for 2 of this run's partitions" in e.message
        ]
        assert warnings, "no warning in the run log"


def test_partitions_start_where_the_local_history_starts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sales360_assets.settings import history_start_in, partitions_start_date

    (tmp_path / "warehouse" / "orders" / "order_date=2026-10-30").mkdir(parents=True)
    (tmp_path / "warehouse" / "orders" / "order_date=2026-11-02").mkdir(parents=True)
    assert history_start_in(tmp_path) == date(2026, 10, 30)
    monkeypatch.delenv("SALES360_PARTITIONS_START")
    monkeypatch.setenv("SALES360_SOURCES_DIR", str(tmp_path))
    assert partitions_start_date() == date(2026, 10, 30)
    (tmp_path / "_manifest.json").write_text('{"arguments": {"start": "2026-10-23", "end": "2026-11-28"}}')
    assert partitions_start_date() == date(2026, 10, 23)
    monkeypatch.setenv("SALES360_PARTITIONS_START", "2026-01-01")
    assert partitions_start_date() == date(2026, 1, 1)
