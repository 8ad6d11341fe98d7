"""Sensors against real Dagster instances, real runs and real Delta tables in temporary directories."""

import json
import os
import time
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from sales360_assets.definitions import build_definitions, defs
from sales360_assets.freshness import DailyPartitionSla, LogNotifier, SlaConfig, WebhookNotifier
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.partitions import date_region_partitions
from sales360_assets.retries import classified_extraction
from sales360_assets.sensors import (
    RETRY_ATTEMPT_TAG,
    RETRY_OF_TAG,
    RETRY_REASON_TAG,
    TRIGGER_TAG,
    LandingPlan,
    RetryPlan,
    RetrySettings,
    alert_on_breaches,
    build_dead_letter_replay_sensor,
    build_failed_partition_retry_sensor,
    build_pos_landing_sensor,
    build_sla_alert_sensor,
    dump_landing_cursor,
    load_landing_cursor,
    plan_dead_letter_replays,
    plan_partition_retries,
    plan_pos_runs,
)
from sales360_assets.sensors.pos_cursor import LandingCursor
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.resources import LandingZoneResource
from sales360_assets.sources.salesforce_live import SalesforcePermanentError, SalesforceTransientError
from sales360_assets.staging.dead_letters import read_dead_letters
from sales360_assets.staging.quality import DEAD_LETTER_SCHEMA
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.fault_helpers import WebhookSink, fresh_lake, snapshot
from sales360_assets_tests.servers import project_instance

HEADER = "transaction_id,line_no,store_id,transaction_ts,sku,quantity,unit_price,discount,currency,loyalty_id,customer_name,customer_email,customer_phone"
STORES = "store_id,store_name,region,country,city,currency,opened_on\nemea-001,Berlin,emea,DE,Berlin,EUR,2021-01-01\nuk-001,Leeds,uk,GB,Leeds,GBP,2021-01-01\n"


def test_sensors_and_their_jobs_are_registered_and_off_until_turned_on() -> None:
    names = {s.name for s in defs.sensors}
    assert names == {
        "reporting_after_upstream",
        "late_change_sensor",
        "failed_partition_retry_sensor",
        "pos_landing_sensor",
        "dead_letter_replay_sensor",
        "sla_breach_alert_sensor",
    }
    assert all(s.default_status == dg.DefaultSensorStatus.STOPPED for s in defs.sensors)
    for job in ("pos_landing_job", "dead_letter_replay_job"):
        assert defs.resolve_job_def(job).partitions_def == date_region_partitions


# --- POS landing folder --------------------------------------------------------------------------


def drop(root: Path, day: date, store: str, lines: list[str]) -> Path:
    path = root / "pos" / day.isoformat() / f"{store}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def line(store: str, number: int, quantity: int = 1) -> str:
    return f"{store}-T{number},1,{store},2026-03-03T10:00:00+00:00,SKU-1,{quantity},9.99,0.00,EUR,,,,"


def test_each_new_or_changed_landing_file_starts_exactly_one_run(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    (root / "pos").mkdir(parents=True)
    (root / "pos" / "stores.csv").write_text(STORES)
    zone = LandingZone(root)
    day, now = date(2026, 3, 3), datetime(2026, 3, 10, 12, tzinfo=UTC)
    emea = drop(root, day, "emea-001", [line("emea-001", 1)])
    drop(root, day, "uk-001", [line("uk-001", 1)])
    drop(root, now.date(), "emea-001", [line("emea-001", 9)])  # today: the partition does not exist yet

    def plan(seen: LandingCursor | None) -> LandingPlan:
        return plan_pos_runs(zone, seen, now, "pos_landing_job", settle=timedelta(0), lookback_days=30)

    first = plan(None)
    assert sorted(r.partition_key for r in first.requests) == ["2026-03-03|emea", "2026-03-03|uk"]
    assert all(r.tags[TRIGGER_TAG] == "pos_landing" for r in first.requests)
    assert (
        "pos/2026-03-03/emea-001.csv"
        in next(r for r in first.requests if "emea" in r.partition_key).tags["sales360/pos_files"]
    )
    assert any("2026-03-10|emea: waits until 2026-03-10 23:00 UTC" in note for note in first.notes)  # Berlin midnight
    seen = load_landing_cursor(dump_landing_cursor(first.seen))  # what the sensor stores between ticks
    assert plan(seen).requests == []

    # The same content dropped again (new mtime): recorded, not processed.
    emea.write_text(emea.read_text())
    os.utime(emea, ns=(time.time_ns(), time.time_ns() + 5_000_000_000))
    again = plan(seen)
    assert again.requests == [] and any("identical content re-dropped" in n for n in again.notes)
    seen = again.seen

    # Changed content: exactly one run, with a new run key.
    original = emea.read_text()
    emea.write_text(original + line("emea-001", 2) + "\n")
    changed = plan(seen)
    assert [r.partition_key for r in changed.requests] == ["2026-03-03|emea"]
    first_key = next(r.run_key for r in first.requests if "emea" in r.partition_key)
    assert changed.requests[0].run_key != first_key
    assert plan(changed.seen).requests == []

    # Back to the first content (A → B → A): that is a change too, and its key is new again.
    emea.write_text(original)
    os.utime(emea, ns=(time.time_ns(), time.time_ns() + 10_000_000_000))
    reverted = plan(changed.seen)
    assert len(reverted.requests) == 1
    assert reverted.requests[0].run_key not in {first_key, changed.requests[0].run_key}

    # A store nobody registered waits (nothing recorded) until it is in stores.csv.
    drop(root, day, "emea-999", [line("emea-999", 1)])
    unregistered = plan(reverted.seen)
    assert unregistered.requests == [] and any("emea-999" in n and "stores.csv" in n for n in unregistered.notes)
    (root / "pos" / "stores.csv").write_text(STORES + "emea-999,Paris,emea,FR,Paris,EUR,2026-01-01\n")
    registered = plan(unregistered.seen)
    assert [r.partition_key for r in registered.requests] == ["2026-03-03|emea"]


def test_the_landing_sensor_keeps_its_cursor_between_ticks(tmp_path: Path) -> None:
    root = tmp_path / "landing"
    (root / "pos").mkdir(parents=True)
    (root / "pos" / "stores.csv").write_text(STORES)
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    drop(root, yesterday, "uk-001", [line("uk-001", 1)])
    sensor = build_pos_landing_sensor(settle=timedelta(0))
    resources = {"landing": LandingZoneResource(root=str(root))}
    location = build_definitions(str(tmp_path), str(tmp_path / "lake"))  # resolves the partitioned job
    with project_instance() as instance:
        first = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources=resources, definitions=location)
        )
        second = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, cursor=first.cursor, resources=resources, definitions=location)
        )
    assert [r.partition_key for r in first.run_requests] == [f"{yesterday.isoformat()}|uk"]
    assert first.run_requests[0].job_name == "pos_landing_job"
    assert second.run_requests == [] and second.cursor == first.cursor


# --- failed partitions ---------------------------------------------------------------------------

FLAKY = {"mode": "transient"}


@dg.asset(partitions_def=date_region_partitions, retry_policy=dg.RetryPolicy(max_retries=1, delay=0))
def flaky_extract(context: dg.AssetExecutionContext) -> None:
    with classified_extraction("test source"):
        if FLAKY["mode"] == "transient":
            raise SalesforceTransientError("HTTP 503 Service Unavailable (still failing after 5 attempts)")
        if FLAKY["mode"] == "permanent":
            raise SalesforcePermanentError("HTTP 401 INVALID_LOGIN: check SALESFORCE_PASSWORD")


flaky_job = dg.define_asset_job("flaky_job", selection=[flaky_extract], partitions_def=date_region_partitions)
flaky_defs = dg.Definitions(assets=[flaky_extract], jobs=[flaky_job])


def launch(
    instance: dg.DagsterInstance, mode: str, *, partition: str | None = None, tags: dict | None = None
) -> dg.ExecuteInProcessResult:
    FLAKY["mode"] = mode
    return flaky_defs.resolve_job_def("flaky_job").execute_in_process(
        instance=instance, partition_key=partition, tags=tags, raise_on_error=False
    )


def plan_at(instance: dg.DagsterInstance, now: datetime, **settings: Any) -> RetryPlan:
    return plan_partition_retries(instance, ["flaky_job"], now, RetrySettings(**settings))


def test_transient_partition_failures_are_relaunched_with_growing_delays_up_to_a_cap() -> None:
    key = "2026-03-03|emea"
    with project_instance() as instance:
        failed = launch(instance, "transient", partition=key)
        assert not failed.success
        # The step already retried once (its RetryPolicy); the partition is still failed.
        assert any(e.event_type_value == "STEP_UP_FOR_RETRY" for e in failed.all_events)
        start = datetime.now(UTC)
        waiting = plan_at(instance, start)
        assert waiting.requests == [] and "attempt 1 waits until" in waiting.skipped[0]

        expected_delays = []
        for attempt in (1, 2, 3):
            delay = timedelta(minutes=15) * 2 ** (attempt - 1)
            early = plan_at(instance, datetime.now(UTC) + delay - timedelta(minutes=1))
            assert early.requests == [], f"attempt {attempt} came before its delay"
            plan = plan_at(instance, datetime.now(UTC) + delay + timedelta(seconds=1))
            assert len(plan.requests) == 1, plan.skipped
            request = plan.requests[0]
            assert request.partition_key == key
            assert request.tags[RETRY_ATTEMPT_TAG] == str(attempt)
            assert request.tags[RETRY_REASON_TAG].startswith("transient:")
            assert request.tags[RETRY_OF_TAG] in {r.run_id for r in instance.get_runs()}
            expected_delays.append(delay)
            # The relaunched run fails again (the outage continues).
            assert not launch(instance, "transient", partition=request.partition_key, tags=request.tags).success

        gave_up = plan_at(instance, datetime.now(UTC) + timedelta(days=1))
        assert gave_up.requests == [] and "gave up after 3 attempts" in gave_up.skipped[0]
        runs = instance.get_runs()
        assert sorted(r.tags.get(RETRY_ATTEMPT_TAG, "0") for r in runs) == ["0", "1", "2", "3"]
    assert expected_delays == [timedelta(minutes=15), timedelta(minutes=30), timedelta(minutes=60)]


def test_permanent_failures_successes_and_dagster_run_retries_are_left_alone() -> None:
    later = datetime.now(UTC) + timedelta(days=1)
    with project_instance() as instance:
        assert not launch(instance, "permanent", partition="2026-03-04|uk").success
        assert not launch(instance, "transient", partition="2026-03-05|na").success
        assert launch(instance, "success", partition="2026-03-05|na").success  # fixed by a later run
        crashed = launch(instance, "transient", partition="2026-03-06|apac")
        instance.add_run_tags(crashed.run_id, {"dagster/will_retry": "true"})
        plan = plan_at(instance, later)
    assert plan.requests == []
    assert any("permanent failure" in s and "INVALID_LOGIN" in s for s in plan.skipped)
    assert any("Dagster's run retries" in s for s in plan.skipped)
    assert len(plan.skipped) == 2  # the fixed partition is not even considered


def test_a_failed_range_run_is_relaunched_as_one_range_per_region_and_the_sensor_emits_it() -> None:
    tags = {
        "dagster/asset_partition_range_start": "2026-03-02|uk",
        "dagster/asset_partition_range_end": "2026-03-04|uk",
    }
    with project_instance() as instance:
        failed = launch(instance, "transient", tags=tags)
        assert not failed.success
        sensor = build_failed_partition_retry_sensor(
            monitored_jobs=[flaky_job], settings=RetrySettings(base_delay=timedelta(0))
        )
        result = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
    [request] = result.run_requests
    assert request.job_name == "flaky_job"
    assert request.partition_key is None
    assert request.tags["dagster/asset_partition_range_start"] == "2026-03-02|uk"
    assert request.tags["dagster/asset_partition_range_end"] == "2026-03-04|uk"
    assert request.tags[RETRY_OF_TAG] == failed.run_id and request.tags[RETRY_ATTEMPT_TAG] == "1"
    assert request.run_key == f"partition-retry:{failed.run_id}:uk:2026-03-02:2026-03-04"


# --- dead-letter replay --------------------------------------------------------------------------


def dead_letter(source_table: str, key: str, reason: str, day: date | None, region: str | None) -> dict:
    return {
        "source_table": source_table,
        "source_key": key,
        "reason": reason,
        "raw_record": "{}",
        "date": day,
        "region": region,
    }


def test_only_letters_whose_fix_has_arrived_are_replayed(tmp_path: Path) -> None:
    lake = DeltaLake(str(tmp_path / "lake"))
    day = date(2026, 3, 3)
    lake.write_partitions(
        "stg_warehouse_orders",
        pl.DataFrame({"order_id": ["o1"], "date": [day], "region": ["emea"]}),
        PartitionSelection.single(day, "emea"),
    )
    lake.overwrite("stg_salesforce_opportunities", pl.DataFrame({"opportunity_id": ["006A"]}))
    lake.overwrite(
        "stg_warehouse_fx_rates",
        pl.DataFrame({"rate_date": [date(2026, 2, 20)], "currency": ["GBP"], "usd_per_unit": [1.27]}),
    )
    letters = pl.DataFrame(
        [
            dead_letter(
                "raw_warehouse_order_lines",
                "o1|1",
                "order o1 is not in stg_warehouse_orders (missing or rejected)",
                day,
                "emea",
            ),
            dead_letter(
                "raw_warehouse_order_lines",
                "o2|1",
                "order o2 is not in stg_warehouse_orders (missing or rejected)",
                day,
                "emea",
            ),
            dead_letter("raw_pos_transactions", "f|t|1", "no GBP FX rate within 7 days before 2026-03-03", day, "uk"),
            dead_letter("raw_pos_transactions", "f|t|2", "unknown currency 'XYZ'", day, "uk"),
            dead_letter(
                "raw_salesforce_opportunity_line_items",
                "00k1|x",
                "opportunity 006A is not in stg_salesforce_opportunities",
                None,
                None,
            ),
        ],
        schema=DEAD_LETTER_SCHEMA,
    )
    lake.overwrite("dead_letter", letters)

    plan = plan_dead_letter_replays(lake)
    # o1 arrived; o2 has not; the newest GBP rate (20 Feb) is older than 7 days; XYZ never will be.
    assert (plan.fixable_rows, plan.waiting_rows, plan.permanent_rows) == (2, 2, 1)
    by_job = {r.job_name: r for r in plan.requests}
    assert by_job["dead_letter_replay_job"].partition_key == "2026-03-03|emea"
    assert by_job["dead_letter_replay_job"].tags["sales360/replay_rows"] == "1"
    assert by_job["reference_data_job"].asset_selection == [
        dg.AssetKey("stg_salesforce_opportunities"),
        dg.AssetKey("stg_salesforce_opportunity_line_items"),
        dg.AssetKey("fact_opportunity"),
    ]
    assert plan_dead_letter_replays(lake).requests == plan.requests  # same fix, same run key: replayed once

    lake.overwrite(
        "stg_warehouse_fx_rates",
        pl.DataFrame(
            {"rate_date": [date(2026, 2, 20), date(2026, 3, 2)], "currency": ["GBP"] * 2, "usd_per_unit": [1.27, 1.26]}
        ),
    )
    with_rate = plan_dead_letter_replays(lake)
    assert {r.partition_key for r in with_rate.requests} == {"2026-03-03|emea", "2026-03-03|uk", None}
    uk = next(r for r in with_rate.requests if r.partition_key == "2026-03-03|uk")
    assert "GBP rate of 2026-03-02" in uk.tags["sales360/replay_reasons"]


@pytest.mark.integration
def test_replay_after_the_missing_fx_rate_arrives_empties_the_dead_letters(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    lake = DeltaLake(lake_uri)
    day, region = date(2026, 3, 3), "uk"
    selection = PartitionSelection.single(day, region)
    staged_tables = ("stg_pos_transactions", "stg_warehouse_order_lines", "fact_sales")
    before = {t: snapshot(lake, t, selection) for t in staged_tables}
    letters_before = (
        read_dead_letters(lake).filter(selection.filter_expr()).select("source_table", "source_key", "reason")
    )
    rates = lake.read("stg_warehouse_fx_rates")
    defs_ = build_definitions(str(sample_sources.root), lake_uri)
    sensor = build_dead_letter_replay_sensor()
    resources = {"lake": LakeResource(root_uri=lake_uri)}

    # The GBP feed is missing: re-staging the partition dead-letters every GBP line.
    lake.overwrite("stg_warehouse_fx_rates", rates.filter(pl.col("currency") != "GBP"))
    with project_instance() as instance:
        defs_.resolve_job_def("dead_letter_replay_job").execute_in_process(
            instance=instance, partition_key=f"{day}|{region}"
        )
        fx_letters = read_dead_letters(lake).filter(
            selection.filter_expr() & pl.col("reason").str.starts_with("no GBP FX rate")
        )
        missing = sum(before[t].height for t in staged_tables[:2]) - sum(
            lake.read(t, selection).height for t in staged_tables[:2]
        )
        assert fx_letters.height > 0 and fx_letters.height == missing
        waiting = plan_dead_letter_replays(lake)
        assert waiting.requests == [] and waiting.waiting_rows == fx_letters.height

        # The rates arrive (the hourly reference run re-stages them): one replay for the partition.
        lake.overwrite("stg_warehouse_fx_rates", rates)
        tick = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, resources=resources, definitions=defs_))
        [request] = tick.run_requests
        assert request.partition_key == f"{day}|{region}" and request.job_name == "dead_letter_replay_job"
        assert request.tags["sales360/replay_rows"] == str(fx_letters.height)
        result = defs_.resolve_job_def("dead_letter_replay_job").execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags
        )
        assert result.success
        after_tick = sensor.evaluate_tick(
            dg.build_sensor_context(instance=instance, resources=resources, definitions=defs_)
        )

    letters_after = (
        read_dead_letters(lake).filter(selection.filter_expr()).select("source_table", "source_key", "reason")
    )
    assert letters_after.filter(pl.col("reason").str.starts_with("no GBP FX rate")).height == 0
    # Letters that can never be fixed stay, with their reasons; every replayed row is back.
    assert letters_after.sort(letters_after.columns).equals(letters_before.sort(letters_before.columns))
    for table in staged_tables:
        assert snapshot(lake, table, selection).equals(before[table]), table
    assert after_tick.run_requests == []
    print(
        "\nFAULT dead_letter_replay: "
        + json.dumps(
            {
                "rows_dead_lettered_while_fx_missing": fx_letters.height,
                "rows_replayed": fx_letters.height,
                "fx_dead_letters_after_replay": 0,
                "permanent_dead_letters_kept": letters_after.height,
            }
        )
    )


# --- SLA alerts ----------------------------------------------------------------------------------


def sla_config() -> SlaConfig:
    return SlaConfig(
        (
            DailyPartitionSla(
                "facts",
                "Yesterday's facts by 06:00",
                ("fact_sales",),
                clock_time(6, 0),
                1,
                ("emea", "uk"),
                lookback_days=1,  # one due date, as before the look-back window existed (issue 8)
            ),
        ),
        ("test",),
    )


def test_a_breach_is_alerted_once_and_an_undelivered_alert_is_retried() -> None:
    now = datetime.now(UTC)
    due = sla_config().slas[0].due_date_at(now)
    with project_instance() as instance, WebhookSink(statuses=[500]) as sink:
        instance.report_runless_asset_event(dg.AssetMaterialization("fact_sales", partition=f"{due}|emea"))
        now = datetime.now(UTC)  # after the write: an evaluation only sees what happened before its time
        webhook = WebhookNotifier(sink.url)
        log = LogNotifier()

        class Both:
            def notify(self, alert: object) -> None:
                log.notify(alert)
                webhook.notify(alert)

        errors: list[str] = []

        class Log:
            def error(self, message: str) -> None:
                errors.append(message)

        sent, cursor = alert_on_breaches(instance, sla_config(), now, None, Both(), Log())
        assert sent == [] and "answered HTTP 500" in errors[0]  # not remembered: retried next tick
        assert "SECRET-TOKEN" not in errors[0]
        sent, cursor = alert_on_breaches(instance, sla_config(), now, cursor, Both(), Log())
        assert [a.key for a in sent] == [f"facts:{due}"]
        again, cursor = alert_on_breaches(instance, sla_config(), now + timedelta(minutes=5), cursor, Both(), Log())
        assert again == []
    payload = sink.received[-1]
    assert payload["sla"] == "facts" and payload["state"] == "BREACHED"
    # uk never arrived: the breach. emea arrived after its deadline but is delivered, so it is no longer
    # listed as a problem of the breach (changed in issue 8: only undelivered partitions are).
    assert payload["problems"] == [f"{due}|uk: fact_sales missing"]
    assert "SLA facts BREACHED" in payload["text"]
    assert len(sink.received) == 2 and len(log.sent) == 2


def test_the_alert_sensor_evaluates_partition_by_partition_through_the_notifier() -> None:
    log = LogNotifier()
    sensor = build_sla_alert_sensor(sla_config(), notifier_factory=lambda _log: log)
    with project_instance() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
    assert len(log.sent) == 1 and log.sent[0].state == "BREACHED"
    # Changed in issue 8: the cursor keeps the open breaches (for their recovery notice) and closed ones.
    assert set(json.loads(second.cursor)) == {"open", "closed"} and second.run_requests == []
