"""Commission SLAs: config and overrides, freshness policies, the partition-exact evaluator, the CLI, notifiers."""

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.cli import main
from sales360_assets.definitions import build_definitions, defs
from sales360_assets.freshness import (
    DEFAULT_SLA_CONFIG,
    SLA_CONFIG_ENV,
    WEBHOOK_ENV,
    DailyPartitionSla,
    FanoutNotifier,
    LogNotifier,
    MaxAgeSla,
    NotifierError,
    PartitionObservation,
    PartitionState,
    SlaAlert,
    SlaConfig,
    SlaConfigError,
    SlaState,
    WebhookNotifier,
    evaluate_slas,
    format_statuses,
    load_sla_config,
    notifier_from_env,
    parse_sla_config,
)
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.fault_helpers import WebhookSink

FACTS = DailyPartitionSla("facts", "Yesterday's facts by 06:00", ("fact_sales",), time(6, 0), 1, tuple(REGION_CODES))


# --- config --------------------------------------------------------------------------------------


def test_default_slas_are_the_commission_deadlines() -> None:
    config = load_sla_config(override="")
    by_name = {sla.name: sla for sla in config.slas}
    assert set(by_name) == {"sales_facts", "commission_marts", "crm_opportunities"}
    facts, marts, crm = by_name["sales_facts"], by_name["commission_marts"], by_name["crm_opportunities"]
    assert isinstance(facts, DailyPartitionSla) and facts.due_at == time(6, 0) and facts.regions == tuple(REGION_CODES)
    assert isinstance(marts, DailyPartitionSla) and marts.due_at == time(7, 0) and "mart_daily_sales" in marts.assets
    assert isinstance(crm, MaxAgeSla) and crm.max_age == timedelta(hours=4) and crm.business_days == (0, 1, 2, 3, 4)


def test_freshness_policies_from_the_config_are_on_the_assets() -> None:
    graph = defs.resolve_asset_graph()

    def policy(name: str) -> dg.FreshnessPolicy | None:
        return graph.get(dg.AssetKey(name)).freshness_policy

    facts = policy("fact_sales")
    assert facts.deadline_cron == "0 6 * * *" and facts.lower_bound_delta == timedelta(hours=6)
    assert policy("mart_product_performance").deadline_cron == "0 7 * * *"
    crm = policy("fact_opportunity")
    assert crm.fail_window.to_timedelta() == timedelta(hours=4)
    assert crm.warn_window.to_timedelta() == timedelta(hours=2)
    assert policy("raw_warehouse_orders") is None


def test_a_deployment_overrides_fields_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    override = tmp_path / "prod-sla.yaml"
    override.write_text(
        "slas:\n"
        "  sales_facts:\n"
        '    due_at: "05:30"\n'
        "  crm_opportunities:\n"
        "    enabled: false\n"
        "  emea_facts_early:\n"
        "    description: EMEA sales facts for the morning stand-up\n"
        "    type: daily_partitions\n"
        "    assets: [stg_pos_transactions]\n"
        '    due_at: "04:00"\n'
        "    regions: [emea]\n"
    )
    monkeypatch.setenv(SLA_CONFIG_ENV, str(override))
    config = load_sla_config()
    by_name = {sla.name: sla for sla in config.slas}
    assert set(by_name) == {"sales_facts", "commission_marts", "emea_facts_early"}
    assert by_name["sales_facts"].due_at == time(5, 30)
    assert by_name["sales_facts"].description.startswith("Yesterday's sales facts")  # kept from the defaults
    assert by_name["emea_facts_early"].regions == ("emea",)
    assert config.sources == (str(DEFAULT_SLA_CONFIG), str(override))
    graph = build_definitions("/nonexistent/sources", str(tmp_path / "lake")).resolve_asset_graph()
    assert graph.get(dg.AssetKey("fact_sales")).freshness_policy.deadline_cron == "30 5 * * *"
    assert graph.get(dg.AssetKey("fact_opportunity")).freshness_policy is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"type": "hourly"}, "slas.x.type: 'hourly' is not one of"),
        ({"due_at": "6am"}, "slas.x.due_at: '6am' is not a time of day"),
        ({"due_at": 630}, 'write the time in quotes, e.g. "06:00"'),
        ({"regions": ["emea", "mars"]}, "slas.x.regions: unknown region(s) ['mars']"),
        ({"regions": "some"}, "`all` or a list of region codes"),
        ({"due_days_after": -1}, "slas.x.due_days_after: -1 is not a whole number"),
        ({"assets": []}, "slas.x.assets: a non-empty list"),
        ({"description": ""}, "slas.x.description"),
        ({"deadline": "06:00"}, "unknown field(s) ['deadline']"),
        ({"enabled": "yes please"}, "slas.x.enabled"),
    ],
)
def test_invalid_daily_sla_fields_are_named(fields: dict, message: str) -> None:
    raw = {"description": "d", "type": "daily_partitions", "assets": ["fact_sales"], "due_at": "06:00", **fields}
    with pytest.raises(SlaConfigError) as error:
        parse_sla_config({"x": raw}, ["prod.yaml"])
    assert message in str(error.value) and "prod.yaml" in str(error.value)


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"max_age_hours": 0}, "slas.y.max_age_hours: 0 is not a positive number of hours"),
        ({"warn_after_hours": 5}, "must be less than max_age_hours"),
        ({"business_days": ["mon", "funday"]}, "slas.y.business_days"),
    ],
)
def test_invalid_max_age_sla_fields_are_named(fields: dict, message: str) -> None:
    raw = {"description": "d", "type": "max_age", "assets": ["fact_opportunity"], "max_age_hours": 4, **fields}
    with pytest.raises(SlaConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_sla_config({"y": raw}, ["prod.yaml"])


def test_config_file_problems_are_clear(tmp_path: Path) -> None:
    bad_yaml = tmp_path / "bad.yaml"
    bad_yaml.write_text("slas:\n  a: [unclosed\n")
    with pytest.raises(SlaConfigError, match=r"bad.yaml is not valid YAML at line \d+"):
        load_sla_config(bad_yaml, override="")
    with pytest.raises(SlaConfigError, match=r"points at .*missing\.yaml, which is not a file"):
        load_sla_config(override=str(tmp_path / "missing.yaml"))
    twice = {
        "a": {"description": "d", "type": "daily_partitions", "assets": ["fact_sales"], "due_at": "06:00"},
        "b": {"description": "d", "type": "daily_partitions", "assets": ["fact_sales"], "due_at": "07:00"},
    }
    with pytest.raises(SlaConfigError, match="already covered by SLA 'a'"):
        parse_sla_config(twice, ["x.yaml"])
    wrong_kind = parse_sla_config(
        {"c": {"description": "d", "type": "daily_partitions", "assets": ["fact_opportunity"], "due_at": "06:00"}},
        ["x.yaml"],
    )
    with pytest.raises(SlaConfigError, match="'fact_opportunity' is not partitioned by date × region"):
        wrong_kind.validate_assets(partitioned=["fact_sales"], unpartitioned=["fact_opportunity"])


# --- the partition-exact evaluator ---------------------------------------------------------------


class FakeReader:
    """Partition states as a test says they are."""

    def __init__(self, partitions: dict[str, PartitionObservation], last: datetime | None = None) -> None:
        self.observed = partitions
        self.last = last

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
        return {k: self.observed.get(k, PartitionObservation("missing")) for k in keys}

    def successful_keys(self, asset: str) -> set[str]:
        return {k for k, o in self.observed.items() if o.status == "materialized"}

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None:
        return self.last


NOW = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # due: 2026-03-09 by 2026-03-10 06:00
ON_TIME = datetime(2026, 3, 10, 3, 10, tzinfo=UTC)


def facts_config() -> SlaConfig:
    return SlaConfig((FACTS,), ("test",))


def test_every_region_on_time_meets_the_sla() -> None:
    reader = FakeReader({f"2026-03-09|{r}": PartitionObservation("materialized", ON_TIME) for r in REGION_CODES})
    [status] = evaluate_slas(reader, NOW, facts_config())
    assert status.state is SlaState.MET and status.met
    assert status.due_date == date(2026, 3, 9) and status.deadline == datetime(2026, 3, 10, 6, tzinfo=UTC)
    assert {r.region: r.last_successful for r in status.regions} == dict.fromkeys(REGION_CODES, date(2026, 3, 9))


def test_a_backfilled_old_partition_does_not_hide_a_missing_yesterday() -> None:
    """Dagster's policy sees a fresh materialization (the backfill); the SLA sees yesterday's gap."""
    just_now = NOW - timedelta(minutes=5)
    observed = {f"2026-03-01|{r}": PartitionObservation("materialized", just_now) for r in REGION_CODES}
    observed |= {f"2026-03-09|{r}": PartitionObservation("materialized", ON_TIME) for r in ("apac", "na", "uk")}
    [status] = evaluate_slas(FakeReader(observed), NOW, facts_config())
    assert status.state is SlaState.BREACHED
    assert status.problems == ("2026-03-09|emea: fact_sales missing",)
    regions = {r.region: r for r in status.regions}
    assert regions["emea"].state is PartitionState.MISSING and regions["emea"].last_successful == date(2026, 3, 1)
    assert regions["uk"].state is PartitionState.OK


@pytest.mark.parametrize(
    ("observation", "state", "partition_state"),
    [
        (
            PartitionObservation("materialized", datetime(2026, 3, 10, 6, 5, tzinfo=UTC)),
            SlaState.LATE,
            PartitionState.LATE,
        ),
        (PartitionObservation("failed", ON_TIME), SlaState.BREACHED, PartitionState.FAILED),
        (PartitionObservation("in_progress"), SlaState.BREACHED, PartitionState.IN_PROGRESS),
    ],
)
def test_late_failed_and_running_partitions(
    observation: PartitionObservation, state: SlaState, partition_state: PartitionState
) -> None:
    observed = {f"2026-03-09|{r}": PartitionObservation("materialized", ON_TIME) for r in REGION_CODES}
    observed["2026-03-09|na"] = observation
    [status] = evaluate_slas(FakeReader(observed), NOW, facts_config())
    assert status.state is state
    assert {r.region: r.state for r in status.regions}["na"] is partition_state
    assert status.alert_key == "facts:2026-03-09"


def test_before_the_deadline_the_previous_date_is_judged_and_the_next_shows_progress() -> None:
    before_deadline = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    observed = {
        f"2026-03-08|{r}": PartitionObservation("materialized", ON_TIME - timedelta(days=1)) for r in REGION_CODES
    }
    observed["2026-03-09|emea"] = PartitionObservation("materialized", ON_TIME)
    [status] = evaluate_slas(FakeReader(observed), before_deadline, facts_config())
    assert status.due_date == date(2026, 3, 8) and status.state is SlaState.MET
    assert status.next_due_date == date(2026, 3, 9) and status.next_ready_regions == ("emea",)


def test_max_age_is_checked_on_business_days_only() -> None:
    crm = MaxAgeSla("crm", "CRM opportunities", ("fact_opportunity",), timedelta(hours=4), None, (0, 1, 2, 3, 4))
    config = SlaConfig((crm,), ("test",))
    tuesday = datetime(2026, 3, 10, 12, tzinfo=UTC)
    [fresh] = evaluate_slas(FakeReader({}, last=tuesday - timedelta(hours=3)), tuesday, config)
    [stale] = evaluate_slas(FakeReader({}, last=tuesday - timedelta(hours=5)), tuesday, config)
    [weekend] = evaluate_slas(
        FakeReader({}, last=tuesday - timedelta(days=2)), datetime(2026, 3, 8, 12, tzinfo=UTC), config
    )
    assert fresh.state is SlaState.MET
    assert stale.state is SlaState.BREACHED and stale.problems == (
        "fact_opportunity is 5 h 00 min old (max 4 h 00 min)",
    )
    assert weekend.state is SlaState.NOT_APPLICABLE and weekend.met


def report(instance: dg.DagsterInstance, day: date, regions: Sequence[str], asset: str = "fact_sales") -> None:
    for region in regions:
        instance.report_runless_asset_event(dg.AssetMaterialization(asset, partition=f"{day}|{region}"))


def test_partition_exact_evaluation_on_a_real_instance() -> None:
    """Materializations land now; the SLA judges the due date's partitions against its deadline."""
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    # Due two days after the business date: yesterday's deadline is still ahead of these events.
    generous = DailyPartitionSla("generous", "d", ("fact_sales",), time(6, 0), 2, ("emea", "uk"))
    config = SlaConfig((generous,), ("test",))
    at_deadline = generous.deadline_for(yesterday) + timedelta(minutes=1)
    with dg.instance_for_test() as instance:
        report(instance, date(2026, 3, 2), ["emea", "uk"])  # an old backfill: recent, wrong partitions
        [backfilled] = evaluate_slas(instance, at_deadline, config)
        report(instance, yesterday, ["uk"])
        [half] = evaluate_slas(instance, at_deadline, config)
        report(instance, yesterday, ["emea"])
        [complete] = evaluate_slas(instance, at_deadline, config)
        # Due at 00:01 the next day: yesterday's deadline passed before anything above landed.
        strict = SlaConfig((DailyPartitionSla("strict", "d", ("fact_sales",), time(0, 1), 1, ("emea", "uk")),), ("t",))
        today = datetime.now(UTC).date()
        [late] = evaluate_slas(instance, max(datetime.now(UTC), datetime.combine(today, time(0, 2), UTC)), strict)
    assert backfilled.state is SlaState.BREACHED and len(backfilled.problems) == 2
    assert {r.region: r.last_successful for r in backfilled.regions} == {
        "emea": date(2026, 3, 2),
        "uk": date(2026, 3, 2),
    }
    assert half.state is SlaState.BREACHED and half.problems == (f"{yesterday}|emea: fact_sales missing",)
    assert complete.state is SlaState.MET
    assert {r.region: r.last_successful for r in complete.regions} == {"emea": yesterday, "uk": yesterday}
    assert late.due_date == yesterday and late.state is SlaState.LATE
    assert all(r.state is PartitionState.LATE for r in late.regions)


def test_the_freshness_command_prints_each_sla_for_sales_ops(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    monkeypatch.delenv(SLA_CONFIG_ENV, raising=False)
    with dg.DagsterInstance.get() as instance:
        report(instance, date(2026, 3, 8), ["emea", "uk", "na"])
    assert main(["freshness", "--at", "2026-03-09T08:00"]) == 0
    out = capsys.readouterr().out
    assert "[LATE] sales_facts" not in out  # apac is missing: that is a breach, not lateness
    assert "[BREACHED] sales_facts: Yesterday's sales facts for every region by 06:00 UTC" in out
    assert "due: 2026-03-08 for every region by 2026-03-09 06:00 UTC" in out
    assert "apac    none              fact_sales missing" in out
    assert "emea    2026-03-08        fact_sales late, landed" in out
    assert "[BREACHED] crm_opportunities" in out and "never materialized" in out
    assert "0/3 SLAs met" in out
    assert main(["freshness", "--at", "2026-03-09T08:00", "--check"]) == 1
    monkeypatch.setenv(SLA_CONFIG_ENV, str(tmp_path / "nope.yaml"))
    assert main(["freshness"]) == 2
    assert "SALES360_SLA_CONFIG points at" in capsys.readouterr().err
    monkeypatch.delenv(SLA_CONFIG_ENV)
    monkeypatch.delenv("DAGSTER_HOME")
    assert main(["freshness"]) == 2
    assert "set DAGSTER_HOME" in capsys.readouterr().err


def test_the_report_format_shows_deadline_regions_and_progress() -> None:
    reader = FakeReader({f"2026-03-09|{r}": PartitionObservation("materialized", ON_TIME) for r in REGION_CODES})
    text = format_statuses(evaluate_slas(reader, NOW, facts_config()))
    assert "[MET] facts: Yesterday's facts by 06:00" in text
    assert "emea    2026-03-09        ok (2026-03-10 03:10 UTC)" in text
    assert "next: 2026-03-10 due by 2026-03-11 06:00 UTC — 0/4 regions ready" in text


# --- notifiers -----------------------------------------------------------------------------------


def alert() -> SlaAlert:
    [status] = evaluate_slas(FakeReader({}), NOW, facts_config())
    return SlaAlert.from_status(status)


def test_log_notifier_logs_the_breach(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR, logger="sales360.sla"):
        LogNotifier().notify(alert())
    assert "SLA facts BREACHED" in caplog.text and "2026-03-09|apac: fact_sales missing" in caplog.text


def test_webhook_notifier_posts_json_to_the_url() -> None:
    with WebhookSink() as sink:
        WebhookNotifier(sink.url).notify(alert())
    [payload] = sink.received
    assert sink.paths == ["/hooks/T000/SECRET-TOKEN"]
    assert payload["sla"] == "facts" and payload["state"] == "BREACHED" and payload["key"] == "facts:2026-03-09"
    assert (
        payload["text"].startswith("SLA facts BREACHED") and "• 2026-03-09|emea: fact_sales missing" in payload["text"]
    )
    assert len(payload["problems"]) == 4
    json.dumps(payload)


def test_webhook_failures_raise_without_leaking_the_secret_path() -> None:
    with WebhookSink(statuses=[503]) as sink:
        url = sink.url
        with pytest.raises(NotifierError, match="answered HTTP 503") as error:
            WebhookNotifier(url).notify(alert())
    assert "SECRET-TOKEN" not in str(error.value)
    with pytest.raises(NotifierError, match="unreachable") as error:
        WebhookNotifier(url, timeout=2).notify(alert())  # the server is gone
    assert "SECRET-TOKEN" not in str(error.value)
    with pytest.raises(SlaConfigError, match="must be an http"):
        WebhookNotifier("ftp://example.com/hook")


def test_notifier_from_env_adds_the_webhook_when_configured(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(WEBHOOK_ENV, raising=False)
    assert isinstance(notifier_from_env(), LogNotifier)
    with WebhookSink() as sink:
        monkeypatch.setenv(WEBHOOK_ENV, sink.url)
        notifier = notifier_from_env()
        assert isinstance(notifier, FanoutNotifier)
        notifier.notify(alert())
    assert len(sink.received) == 1
