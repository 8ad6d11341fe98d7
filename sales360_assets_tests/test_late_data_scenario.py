"""Late and changed data reach the tables by themselves: only schedules, sensors and automation act.

The scenario of issue 8: a window is materialized; then the warehouse delivers rows for a day
that already ran (outside the nightly trailing window), and a CRM deal whose partition already
ran is cancelled. Nobody re-runs anything by hand: the hourly reference schedule, the nightly
trailing schedule, the change sensor and the reporting automation are evaluated, and what they
request is executed. ``fact_sales`` and the marts must then equal a clean rebuild on the final
sources, partition by partition (rows and money).
"""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.cli import QUIET_CONSOLE, materialize_window
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.conftest import WINDOW_END, WINDOW_START, SampleSources
from sales360_assets_tests.fault_helpers import RUN_COLUMNS
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration

COMPARED = ("fact_sales", "mart_daily_sales", "mart_product_performance")  # all from daily_sales_job
LATE_DAY = WINDOW_START + timedelta(days=1)  # outside a 3-day trailing window ending WINDOW_END


def add_late_web_order(sources: Path, loaded_at: datetime) -> str:
    """A copy of an existing order (new id) dated LATE_DAY, loaded now: the contract's late arrival."""
    order_id = "LATE-0001"
    for table in ("orders", "order_lines"):
        folder = sources / "warehouse" / table / f"order_date={LATE_DAY.isoformat()}"
        frame = pl.read_parquet(folder / "part-0.parquet")
        template = frame.filter(pl.col("order_id") == frame["order_id"][0])
        if table == "orders":
            template = template.with_columns(pl.lit("completed").alias("status"))
        late = template.with_columns(
            pl.lit(order_id).alias("order_id"), pl.lit(loaded_at, dtype=frame.schema["_loaded_at"]).alias("_loaded_at")
        )
        late.write_parquet(folder / "part-late.parquet")
    return order_id


def cancel_a_booked_deal(sources: Path, lake: DeltaLake, modstamp: datetime) -> tuple[str, str]:
    """Append a Cancelled version of a won deal that fact_sales already counts; returns (id, partition)."""
    crm_lines = lake.read("fact_sales").filter(pl.col("channel") == "crm").sort("date", "order_id")
    opportunity_id, day, region = crm_lines.select("order_id", "date", "region").row(0)
    folder = sources / "crm" / "Opportunity"
    versions = [
        record
        for page in sorted(folder.glob("????-??-??.json"))
        for record in json.loads(page.read_text())["records"]
        if record["Id"] == opportunity_id
    ]
    latest = max(versions, key=lambda r: r["SystemModstamp"])
    stamp = modstamp.strftime("%Y-%m-%dT%H:%M:%S.000+0000")
    cancelled = {**latest, "StageName": "Cancelled", "SystemModstamp": stamp, "Cancelled_Date__c": None}
    page = folder / f"{modstamp.date().isoformat()}.json"
    records = json.loads(page.read_text())["records"] if page.exists() else []
    page.write_text(json.dumps({"totalSize": len(records) + 1, "done": True, "records": [*records, cancelled]}))
    return opportunity_id, f"{day}|{region}"


def comparable(lake: DeltaLake, table: str) -> pl.DataFrame:
    frame = lake.read(table)
    return frame.drop([c for c in frame.columns if c in RUN_COLUMNS]).sort(frame.columns)


def money_by_partition(lake: DeltaLake) -> pl.DataFrame:
    return (
        lake.read("fact_sales")
        .group_by("date", "region")
        .agg(pl.len().alias("lines"), pl.col("net_amount_usd").sum().round(2))
        .sort("date", "region")
    )


def tick(sensor: dg.SensorDefinition, defs: dg.Definitions, instance: dg.DagsterInstance, cursor: str | None):
    with dg.build_sensor_context(instance=instance, cursor=cursor, resources=defs.resources) as context:
        return sensor.evaluate_tick(context)


def execute(defs: dg.Definitions, instance: dg.DagsterInstance, request: dg.RunRequest, job: str) -> None:
    result = defs.resolve_job_def(request.job_name or job).execute_in_process(
        instance=instance,
        tags=dict(request.tags),
        partition_key=request.partition_key,
        run_config=QUIET_CONSOLE,
        asset_selection=list(request.asset_selection) if request.asset_selection else None,
    )
    assert result.success


def test_schedules_and_sensors_alone_bring_late_rows_and_crm_changes_in(
    tmp_path: Path, sample_sources: SampleSources, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALES360_TRAILING_DAYS", "3")
    sources = tmp_path / "sources"
    shutil.copytree(sample_sources.root, sources)
    lake_uri = str(tmp_path / "lake")
    defs = build_definitions(str(sources), lake_uri)
    lake = DeltaLake(lake_uri)
    with project_instance() as instance:
        materialize_window(defs, instance, WINDOW_START, WINDOW_END, REGION_CODES, log=lambda _: None)
        change_sensor = defs.resolve_sensor_def("late_change_sensor")
        # The sensor is turned on after the initial load: its first tick only starts watching.
        first = tick(change_sensor, defs, instance, None)
        assert not first.run_requests
        cursor = first.cursor
        # Likewise the automation sensor: its first evaluation is the baseline it reacts to.
        baseline = dg.evaluate_automation_conditions(defs=defs, instance=instance)
        assert baseline.total_requested == 0

        now = datetime.now(UTC)
        late_order = add_late_web_order(sources, loaded_at=now)
        cancelled_id, cancelled_partition = cancel_a_booked_deal(sources, lake, modstamp=now - timedelta(minutes=5))
        assert not lake.read("fact_sales").filter(pl.col("order_id") == late_order).height

        # The hourly CRM schedule, then the nightly schedule (yesterday = WINDOW_END + trailing days).
        reference = defs.resolve_schedule_def("reference_data_hourly")
        for request in reference.evaluate_tick(dg.build_schedule_context(instance=instance)).run_requests or []:
            execute(defs, instance, request, "reference_data_job")
        nightly = defs.resolve_schedule_def("daily_sales_nightly")
        at = datetime.combine(WINDOW_END + timedelta(days=1), datetime.min.time(), tzinfo=UTC) + timedelta(hours=3)
        nightly_requests = nightly.evaluate_tick(
            dg.build_schedule_context(instance=instance, scheduled_execution_time=at)
        ).run_requests
        assert nightly_requests and len(nightly_requests) == len(REGION_CODES)
        for request in nightly_requests:
            assert request.tags["dagster/asset_partition_range_start"].startswith(
                (WINDOW_END - timedelta(days=2)).isoformat()
            )
            execute(defs, instance, request, "daily_sales_job")
        # The trailing window does not reach LATE_DAY, and the cancelled deal's day is also older.
        changes = tick(change_sensor, defs, instance, cursor)
        requested = sorted(
            (r.tags.get("dagster/asset_partition_range_start") or r.partition_key, r.tags.get("sales360/trigger"))
            for r in changes.run_requests
        )
        assert requested, "the change sensor requested nothing"
        assert all(trigger == "late_change" for _, trigger in requested)
        for request in changes.run_requests:
            execute(defs, instance, request, "daily_sales_job")
        # Each change is handled once.
        again = tick(change_sensor, defs, instance, changes.cursor)
        assert not again.run_requests
        # Reporting follows its upstream assets, not a clock.
        evaluation = dg.evaluate_automation_conditions(defs=defs, instance=instance, cursor=baseline.cursor)
        reporting = set(defs.resolve_job_def("sales_reporting_job").asset_layer.executable_asset_keys)
        requested_keys = {r.key for r in evaluation.results if r.true_subset.size} & reporting
        assert requested_keys == reporting
        result = defs.resolve_job_def("sales_reporting_job").execute_in_process(
            instance=instance, asset_selection=sorted(requested_keys), run_config=QUIET_CONSOLE
        )
        assert result.success

    # A clean rebuild on the final sources, through the CLI path.
    clean_uri = str(tmp_path / "clean")
    with project_instance() as clean_instance:
        materialize_window(
            build_definitions(str(sources), clean_uri),
            clean_instance,
            WINDOW_START,
            WINDOW_END,
            REGION_CODES,
            log=lambda _: None,
            reporting=False,  # every compared table is built by daily_sales_job
        )
    clean = DeltaLake(clean_uri)
    facts = lake.read("fact_sales")
    assert facts.filter(pl.col("order_id") == late_order).height > 0
    assert facts.filter(pl.col("order_id") == cancelled_id).is_empty(), cancelled_partition
    assert_frame_equal(money_by_partition(lake), money_by_partition(clean))
    for table in COMPARED:
        assert_frame_equal(comparable(lake, table), comparable(clean, table), check_row_order=False)
