"""One freshness truth (issue 8): the UI's ``sla_<name>`` checks, the alert sensor and ``sales360 freshness``
evaluated against real Dagster instances, with fixed evaluation times.

Materializations happen at the real current time, so the business dates are placed around
today (yesterday's partitions, a deadline still ahead) and each evaluation runs at a fixed moment
after them.
"""

import json
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.cli import main
from sales360_assets.freshness import (
    SLA_CONFIG_ENV,
    DailyPartitionSla,
    InstanceStatusReader,
    LogNotifier,
    SlaConfig,
    SlaState,
    build_sla_checks,
    check_key,
    evaluate_slas,
    load_sla_config,
    read_sla_check_results,
)
from sales360_assets.partitions import date_region_partitions
from sales360_assets.sensors import alert_on_breaches, build_sla_alert_sensor
from sales360_assets_tests.servers import project_instance

TODAY = datetime.now(UTC).date()
YESTERDAY = TODAY - timedelta(days=1)
# Due two days after the business date: yesterday's deadline (tomorrow 06:00) is ahead of every write below.
FACTS = DailyPartitionSla(
    "facts", "Yesterday's facts for emea and uk", ("fact_sales",), time(6, 0), 2, ("emea", "uk"), lookback_days=2
)
CONFIG = SlaConfig((FACTS,), ("test",))
AFTER_DEADLINE = FACTS.deadline_for(YESTERDAY) + timedelta(minutes=1)  # a fixed moment: yesterday is due


class Log:
    def __init__(self) -> None:
        self.messages: list[str] = []

    def error(self, message: str) -> None:
        self.messages.append(message)

    info = error


def report(instance: dg.DagsterInstance, day: date, regions: list[str], asset: str = "fact_sales") -> None:
    for region in regions:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=f"{day}|{region}"))


def test_a_breach_then_its_recovery_are_each_sent_once_and_the_check_follows() -> None:
    notifier = LogNotifier()
    log = Log()
    with project_instance() as instance:
        report(instance, YESTERDAY - timedelta(days=1), ["emea", "uk"])
        report(instance, YESTERDAY, ["uk"])
        first, cursor = alert_on_breaches(instance, CONFIG, AFTER_DEADLINE, None, notifier, log)
        failing = instance.get_latest_asset_check_evaluation_record(check_key(FACTS, "fact_sales"))
        again, cursor = alert_on_breaches(
            instance, CONFIG, AFTER_DEADLINE + timedelta(minutes=5), cursor, notifier, log
        )
        report(instance, YESTERDAY, ["emea"])
        recovered, cursor = alert_on_breaches(
            instance, CONFIG, AFTER_DEADLINE + timedelta(minutes=10), cursor, notifier, log
        )
        passing = instance.get_latest_asset_check_evaluation_record(check_key(FACTS, "fact_sales"))
        quiet, cursor = alert_on_breaches(
            instance, CONFIG, AFTER_DEADLINE + timedelta(minutes=15), cursor, notifier, log
        )
    assert [(a.state, a.key) for a in first] == [("BREACHED", f"facts:{YESTERDAY}")]
    assert first[0].problems == (f"{YESTERDAY}|emea: fact_sales missing",)
    assert again == [] and quiet == []
    assert [(a.state, a.key) for a in recovered] == [("RECOVERED", f"facts:{YESTERDAY}")]
    assert recovered[0].summary.startswith(f"SLA facts RECOVERED: sales data of {YESTERDAY} is now complete")
    assert any(line.startswith("emea: fact_sales landed ") for line in recovered[0].problems)
    assert json.loads(cursor)["open"] == {} and f"facts:{YESTERDAY}" in json.loads(cursor)["closed"]
    assert len(notifier.sent) == 2
    # The UI's check followed: failed during the breach, passed after the recovery.
    failing_eval = failing.event.dagster_event.event_specific_data
    passing_eval = passing.event.dagster_event.event_specific_data
    assert not failing_eval.passed and failing_eval.metadata["state"].value == "BREACHED"
    assert (
        f"Sales data of {YESTERDAY:%a %Y-%m-%d} for emea is missing: no run has loaded fact_sales {YESTERDAY}|emea"
        in (failing_eval.description)
    )
    assert passing_eval.passed and passing_eval.metadata["state"].value == "MET"


def test_the_sensor_sends_a_breach_once_through_the_notifier_and_records_only_changes() -> None:
    """Changed from test_sensors.py's sensor test: the cursor now holds open and closed breaches."""
    notifier = LogNotifier()
    sensor = build_sla_alert_sensor(CONFIG, notifier_factory=lambda _log: notifier, clock=lambda: AFTER_DEADLINE)
    with project_instance() as instance:
        first = sensor.evaluate_tick(dg.build_sensor_context(instance=instance))
        second = sensor.evaluate_tick(dg.build_sensor_context(instance=instance, cursor=first.cursor))
        history = instance.event_log_storage.get_asset_check_execution_history(check_key(FACTS, "fact_sales"), limit=10)
    assert len(notifier.sent) == 1 and notifier.sent[0].state == "BREACHED"
    assert f"facts:{YESTERDAY - timedelta(days=1)}" in json.loads(second.cursor)["open"]
    assert second.run_requests == []
    assert len(history) == 1  # the unchanged second evaluation was not written again


def test_a_partition_written_during_its_own_day_does_not_count_on_a_real_instance() -> None:
    today_due = DailyPartitionSla("today", "d", ("fact_sales",), time(6, 0), 1, ("emea",), lookback_days=1)
    with project_instance() as instance:
        report(instance, TODAY, ["emea"])  # written now, while today is not over
        [status] = evaluate_slas(
            instance, today_due.deadline_for(TODAY) + timedelta(minutes=1), SlaConfig((today_due,), ("t",))
        )
    assert status.state is SlaState.BREACHED
    assert "is incomplete" in status.lines[0] and "before the day was over" in status.lines[0]


@dg.asset(name="fact_sales", partitions_def=date_region_partitions)
def stub_fact_sales(context: dg.AssetExecutionContext) -> None:
    """Stands in for fact_sales; on a tagged re-run it evaluates the SLA while its own run is in progress."""
    if context.run.tags.get("probe") == "rerun":
        reader = InstanceStatusReader(context.instance)
        key = context.partition_key
        context.instance.report_runless_asset_event(
            dg.AssetObservation(
                "fact_sales",
                metadata={"status_during_rerun": reader.partitions("fact_sales", [key])[key].status},
            )
        )
        sent, _ = alert_on_breaches(context.instance, CONFIG, AFTER_DEADLINE, None, LogNotifier(), Log(), False)
        [status] = evaluate_slas(context.instance, AFTER_DEADLINE, CONFIG)
        context.add_output_metadata({"sla_during_rerun": status.state.value, "alerts_during_rerun": len(sent)})


def test_a_rerun_in_progress_of_delivered_partitions_stays_met_and_alerts_nothing() -> None:
    checks = build_sla_checks(CONFIG, clock=lambda: AFTER_DEADLINE)
    with project_instance() as instance:
        for day in (YESTERDAY - timedelta(days=1), YESTERDAY):
            for region in ("emea", "uk"):
                dg.materialize([stub_fact_sales], partition_key=f"{day}|{region}", instance=instance)
        # A re-run of a delivered partition, with the SLA check in the same run (as a job includes it).
        rerun = dg.materialize(
            [stub_fact_sales, checks], partition_key=f"{YESTERDAY}|emea", instance=instance, tags={"probe": "rerun"}
        )
        observation = instance.fetch_observations(dg.AssetKey("fact_sales"), limit=1).records[0]
        recorded = read_sla_check_results(instance, CONFIG)
    assert observation.asset_observation.metadata["status_during_rerun"].value == "in_progress"  # really in progress
    [materialization] = rerun.asset_materializations_for_node("fact_sales")
    assert materialization.metadata["sla_during_rerun"].value == "MET"
    assert materialization.metadata["alerts_during_rerun"].value == 0
    # The check ran after the asset in the run, with the same evaluation.
    [check] = rerun.get_asset_check_evaluations()
    assert check.passed and check.metadata["state"].value == "MET"
    assert recorded[("facts", "fact_sales")].state == "MET"


def test_the_ui_check_and_the_cli_show_the_same_evaluation(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """What the UI shows for each sla_<name> check (read back from the instance) agrees with the CLI."""
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    override = tmp_path / "sla.yaml"
    override.write_text(
        "slas:\n"
        "  sales_facts: {due_days_after: 2, lookback_days: 2, regions: [emea, uk]}\n"
        "  commission_statements: {due_days_after: 2, lookback_days: 2, regions: [emea, uk]}\n"
        "  commission_marts: {enabled: false}\n"
    )
    monkeypatch.setenv(SLA_CONFIG_ENV, str(override))
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    config = load_sla_config()
    now = AFTER_DEADLINE
    with dg.DagsterInstance.get() as instance:
        report(instance, YESTERDAY - timedelta(days=1), ["emea", "uk"])
        report(instance, YESTERDAY, ["uk"])
        # 1. The sensor tick records every check (what the UI shows without any run).
        sent, _ = alert_on_breaches(instance, config, now, None, LogNotifier(), Log())
        from_sensor = read_sla_check_results(instance, config)
        # 2. "Execute" on the check in the UI: a run of the check alone, the same evaluation.
        checks = build_sla_checks(config, clock=lambda: now)
        specs = [
            dg.AssetSpec(a, partitions_def=date_region_partitions if a == "fact_sales" else None)
            for s in config.slas
            for a in s.assets
        ]
        job = dg.Definitions(assets=specs, asset_checks=[checks]).resolve_implicit_global_asset_job_def()
        key = dg.AssetCheckKey(dg.AssetKey("fact_sales"), "sla_sales_facts")
        executed = job.get_subset(asset_check_selection={key}).execute_in_process(instance=instance)
        from_ui_run = read_sla_check_results(instance, config)
        latest_fact = instance.fetch_materializations(dg.AssetKey("fact_sales"), limit=1).records[0]
        target = instance.get_latest_asset_check_evaluation_record(key).event.dagster_event.event_specific_data
        statuses = {status.sla.name: status for status in evaluate_slas(instance, now, config)}
    assert executed.success
    assert {s for a in sent for s in [a.sla]} == {"sales_facts", "commission_statements", "crm_opportunities"}
    assert (
        from_sensor[("sales_facts", "fact_sales")].description == from_ui_run[("sales_facts", "fact_sales")].description
    )
    assert target.target_materialization_data.storage_id == latest_fact.storage_id  # the UI shows it as current

    # 3. The CLI, with the README's relative DAGSTER_HOME, at the same moment.
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DAGSTER_HOME", "dagster_home")
    assert main(["freshness", "--at", now.isoformat()]) == 0
    out = capsys.readouterr().out
    for sla in config.slas:
        shown = [from_ui_run[(sla.name, asset)] for asset in sla.assets]
        worst = "BREACHED" if any(r.state == "BREACHED" for r in shown) else shown[0].state
        assert f"[{worst}] {sla.name}: " in out and statuses[sla.name].state.value == worst
        # Every plain-language line the CLI prints for the SLA is one its checks show in the UI.
        ui_lines = {line for r in shown for line in r.description.splitlines()[1:]}
        assert set(statuses[sla.name].lines) <= ui_lines
        for line in statuses[sla.name].lines:
            assert f"  {line}" in out, line
        assert f"  UI check sla_{sla.name}: {worst} as of " in out
    assert "not yet updated" not in out  # the UI agrees with what the CLI just evaluated
    assert (
        f"Sales data of {YESTERDAY:%a %Y-%m-%d} for emea is missing: no run has loaded fact_sales {YESTERDAY}|emea"
        in out
    )
    assert main(["freshness", "--at", now.isoformat(), "--check"]) == 1
    monkeypatch.setenv("DAGSTER_HOME", "no_such_dir")
    assert main(["freshness"]) == 2
    assert "DAGSTER_HOME=no_such_dir is not a directory" in capsys.readouterr().err
    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["freshness"]) == 2
    assert "set DAGSTER_HOME" in capsys.readouterr().err
