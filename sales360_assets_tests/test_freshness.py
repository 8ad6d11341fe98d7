"""Commission SLAs: config and overrides, the window evaluator (fixed clocks, fake reader), the CLI, notifiers.

The instance-backed tests (checks the UI shows, sensor breach/recovery, CLI agreement) are in
``test_freshness_checks.py``.
"""

import json
import logging
from collections.abc import Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.definitions import build_definitions, defs
from sales360_assets.freshness import (
    DEFAULT_SLA_CONFIG,
    SLA_CONFIG_ENV,
    WEBHOOK_ENV,
    AfterPartitionsSla,
    DailyPartitionSla,
    FanoutNotifier,
    LogNotifier,
    Materialization,
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

FACTS = DailyPartitionSla(
    "facts", "Yesterday's facts by 06:00", ("fact_sales",), time(6, 0), 1, tuple(REGION_CODES), lookback_days=7
)
START = date(2026, 3, 1)  # the partitions' first date in these tests


# --- config --------------------------------------------------------------------------------------


def test_default_slas_are_the_commission_deadlines() -> None:
    config = load_sla_config(override="")
    by_name = {sla.name: sla for sla in config.slas}
    assert set(by_name) == {"sales_facts", "commission_marts", "commission_statements", "crm_opportunities"}
    facts, marts, crm = by_name["sales_facts"], by_name["commission_marts"], by_name["crm_opportunities"]
    assert isinstance(facts, DailyPartitionSla) and facts.due_at == time(6, 0) and facts.regions == tuple(REGION_CODES)
    assert facts.lookback_days == 14
    assert isinstance(marts, DailyPartitionSla) and marts.due_at == time(7, 0) and "mart_daily_sales" in marts.assets
    assert isinstance(crm, MaxAgeSla) and crm.max_age == timedelta(hours=4) and crm.business_days == (0, 1, 2, 3, 4)
    # The commission statement tables had no freshness at all (issue 8).
    statements = by_name["commission_statements"]
    assert isinstance(statements, AfterPartitionsSla) and statements.after == ("fact_sales",)
    assert set(statements.assets) == {"commission_credit_lines", "commission_statement_lines", "commission_statements"}


def test_sla_assets_carry_sla_checks_and_no_contradicting_freshness_policy() -> None:
    """Changed (issue 8): the Dagster FreshnessPolicy was dropped — it passed while yesterday was missing.

    It used to assert the cron / time-window policies on the assets; now each SLA asset carries an
    ``sla_<name>`` check and no Dagster policy that could show a second, contradicting verdict.
    """
    graph = defs.resolve_asset_graph()
    config = load_sla_config(override="")
    for sla in config.slas:
        for asset in sla.assets:
            assert graph.get(dg.AssetKey(asset)).freshness_policy is None, asset
            assert dg.AssetCheckKey(dg.AssetKey(asset), f"sla_{sla.name}") in graph.asset_check_keys
    assert {k.name for k in graph.asset_check_keys if k.asset_key == dg.AssetKey("commission_statements")} >= {
        "sla_commission_statements"
    }


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
    assert set(by_name) == {"sales_facts", "commission_marts", "commission_statements", "emea_facts_early"}
    assert by_name["sales_facts"].due_at == time(5, 30)
    assert by_name["sales_facts"].description.startswith("Yesterday's sales facts")  # kept from the defaults
    assert by_name["emea_facts_early"].regions == ("emea",)
    assert config.sources == (str(DEFAULT_SLA_CONFIG), str(override))
    # Changed (issue 8): the override shows in the checks (not in a Dagster freshness policy any more).
    graph = build_definitions("/nonexistent/sources", str(tmp_path / "lake")).resolve_asset_graph()
    checks = {(k.asset_key.to_user_string(), k.name) for k in graph.asset_check_keys if k.name.startswith("sla_")}
    assert ("stg_pos_transactions", "sla_emea_facts_early") in checks
    assert ("fact_opportunity", "sla_crm_opportunities") not in checks


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
        ({"lookback_days": 0}, "slas.x.lookback_days: 0 is not a whole number of days >= 1"),
        ({"after": ["fact_sales"]}, "unknown field(s) ['after']"),
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
    statements = {
        "description": "d",
        "type": "after_partitions",
        "assets": ["commission_statements"],
        "due_at": "08:00",
    }
    with pytest.raises(SlaConfigError, match=r"slas.s.after: a non-empty list"):
        parse_sla_config({"s": statements}, ["x.yaml"])
    upstream_unpartitioned = parse_sla_config({"s": {**statements, "after": ["fact_opportunity"]}}, ["x.yaml"])
    with pytest.raises(SlaConfigError, match=r"slas.s.after: 'fact_opportunity' is not partitioned"):
        upstream_unpartitioned.validate_assets(["fact_sales"], ["fact_opportunity", "commission_statements"])


# --- the window evaluator (fixed clocks) ---------------------------------------------------------


class FakeReader:
    """Materializations as a test says they are: by partition key (every asset), or by asset."""

    def __init__(
        self,
        partitions: dict[str, PartitionObservation] | None = None,
        last: datetime | None = None,
        by_asset: dict[str, dict[str, PartitionObservation]] | None = None,
        built: dict[str, list[Materialization]] | None = None,
    ) -> None:
        self.observed = partitions or {}
        self.by_asset = by_asset or {}
        self.last = last
        self.built = built or {}

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
        observed = self.by_asset.get(asset, self.observed)
        return {k: observed.get(k, PartitionObservation("missing")) for k in keys}

    def materializations(self, asset: str, since: datetime) -> list[Materialization]:
        return [m for m in self.built.get(asset, []) if m.at >= since]

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None:
        return self.last


def delivered(day: date, hour: int = 3, minute: int = 10) -> PartitionObservation:
    """A partition of ``day`` written by the nightly run the next morning (the run started at 03:00)."""
    next_day = datetime.combine(day + timedelta(days=1), time(0), UTC)
    at = next_day + timedelta(hours=hour, minutes=minute)
    return PartitionObservation("materialized", (Materialization(at, min(at, next_day + timedelta(hours=hour))),))


def all_delivered(first: date, last: date, regions: Sequence[str] = REGION_CODES) -> dict[str, PartitionObservation]:
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    return {f"{d}|{r}": delivered(d) for d in days for r in regions}


NOW = datetime(2026, 3, 10, 6, 30, tzinfo=UTC)  # due: 2026-03-09 by 2026-03-10 06:00
ON_TIME = datetime(2026, 3, 10, 3, 10, tzinfo=UTC)


def facts_config() -> SlaConfig:
    return SlaConfig((FACTS,), ("test",))


def evaluate(reader: FakeReader, now: datetime = NOW, config: SlaConfig | None = None) -> list:
    return evaluate_slas(reader, now, config or facts_config(), start=START)


def test_every_region_of_every_day_in_the_window_on_time_meets_the_sla() -> None:
    [status] = evaluate(FakeReader(all_delivered(START, date(2026, 3, 9))))
    assert status.state is SlaState.MET and status.met
    assert status.due_date == date(2026, 3, 9) and status.deadline == datetime(2026, 3, 10, 6, tzinfo=UTC)
    assert status.window_start == date(2026, 3, 3)  # 7 days back
    assert {r.region: r.last_delivered for r in status.regions} == dict.fromkeys(REGION_CODES, date(2026, 3, 9))
    assert "Yesterday's sales data for emea is complete (fact_sales landed 2026-03-10 03:10 UTC, on time)." in (
        status.lines
    )


def test_a_missing_day_stays_breached_after_later_days_are_due() -> None:
    """Issue 8: a missing 03-09|emea showed BREACHED on 03-10 and MET on 03-11. The oldest gap is reported."""
    observed = all_delivered(START, date(2026, 3, 10))
    del observed["2026-03-09|emea"]
    [on_the_10th] = evaluate(FakeReader(observed), NOW)
    [on_the_11th] = evaluate(FakeReader(observed), NOW + timedelta(days=1))
    del observed["2026-03-10|emea"]
    [two_gaps] = evaluate(FakeReader(observed), NOW + timedelta(days=1))
    assert on_the_10th.state is SlaState.BREACHED
    assert on_the_11th.state is SlaState.BREACHED and on_the_11th.due_date == date(2026, 3, 10)
    emea = {r.region: r for r in on_the_11th.regions}["emea"]
    assert emea.oldest_gap == date(2026, 3, 9) and emea.gaps == 1 and emea.last_delivered == date(2026, 3, 10)
    assert on_the_11th.problems == ("2026-03-09|emea: fact_sales missing",)
    assert (
        "Sales data of Mon 2026-03-09 for emea is missing: no run has loaded fact_sales 2026-03-09|emea yet"
        in (on_the_11th.lines[1])
    )
    assert on_the_10th.lines[1].startswith("Yesterday's sales data for emea is missing:")
    two = {r.region: r for r in two_gaps.regions}["emea"]
    assert two.oldest_gap == date(2026, 3, 9) and two.gaps == 2 and "1 later day(s)" in two_gaps.lines[1]


def test_the_window_never_reaches_before_the_partitions_start() -> None:
    observed = all_delivered(date(2026, 3, 8), date(2026, 3, 9))
    [status] = evaluate_slas(FakeReader(observed), NOW, facts_config(), start=date(2026, 3, 8))
    assert status.state is SlaState.MET and status.window_start == date(2026, 3, 8)
    [nothing_due] = evaluate_slas(FakeReader({}), NOW, facts_config(), start=date(2026, 3, 10))
    assert nothing_due.state is SlaState.NOT_APPLICABLE and nothing_due.met


def test_a_partition_written_during_its_own_business_day_is_not_delivered() -> None:
    """Issue 8: a partition first written during its own day (partial data) counted as delivered."""
    observed = all_delivered(START, date(2026, 3, 9))
    during_the_day = datetime(2026, 3, 9, 14, 0, tzinfo=UTC)
    observed["2026-03-09|uk"] = PartitionObservation(
        "materialized", (Materialization(during_the_day, during_the_day - timedelta(minutes=5)),)
    )
    [partial] = evaluate(FakeReader(observed))
    assert partial.state is SlaState.BREACHED
    uk = {r.region: r for r in partial.regions}["uk"]
    assert uk.state is PartitionState.PARTIAL and uk.oldest_gap == date(2026, 3, 9)
    assert (
        "Yesterday's sales data for uk is incomplete: fact_sales 2026-03-09|uk was only written at "
        in (partial.lines[3])
    )
    # A run that STARTED before midnight but finished after it still read a partial day.
    straddling = Materialization(datetime(2026, 3, 10, 0, 20, tzinfo=UTC), datetime(2026, 3, 9, 23, 50, tzinfo=UTC))
    observed["2026-03-09|uk"] = PartitionObservation("materialized", (straddling,))
    [still_partial] = evaluate(FakeReader(observed))
    assert {r.region: r.state for r in still_partial.regions}["uk"] is PartitionState.PARTIAL
    # The nightly run after the day closed delivers it.
    observed["2026-03-09|uk"] = PartitionObservation(
        "materialized", (straddling, *delivered(date(2026, 3, 9)).materializations)
    )
    [complete] = evaluate(FakeReader(observed))
    assert complete.state is SlaState.MET


@pytest.mark.parametrize("latest_attempt", ["in_progress", "failed"])
def test_a_rerun_of_delivered_partitions_keeps_them_delivered(latest_attempt: str) -> None:
    """Issue 8: re-running delivered days showed BREACHED ("in progress") and alerted a breach."""
    observed = all_delivered(START, date(2026, 3, 9))
    for day in ("2026-03-07", "2026-03-08", "2026-03-09"):
        observed[f"{day}|emea"] = PartitionObservation(latest_attempt, observed[f"{day}|emea"].materializations)
    [status] = evaluate(FakeReader(observed))
    assert status.state is SlaState.MET and status.problems == ()
    assert {r.region: r.state for r in status.regions}["emea"] is PartitionState.OK
    note = "being re-run now" if latest_attempt == "in_progress" else "latest re-run failed"
    assert note in status.lines[1]


@pytest.mark.parametrize(
    ("observation", "state", "partition_state"),
    [
        (delivered(date(2026, 3, 9), hour=6, minute=5), SlaState.LATE, PartitionState.LATE),
        (PartitionObservation("failed"), SlaState.BREACHED, PartitionState.FAILED),
        (PartitionObservation("in_progress"), SlaState.BREACHED, PartitionState.IN_PROGRESS),
    ],
)
def test_late_failed_and_running_partitions(
    observation: PartitionObservation, state: SlaState, partition_state: PartitionState
) -> None:
    observed = all_delivered(START, date(2026, 3, 9))
    observed["2026-03-09|na"] = observation
    [status] = evaluate(FakeReader(observed))
    assert status.state is state
    assert {r.region: r.state for r in status.regions}["na"] is partition_state
    assert status.alert_key == "facts:2026-03-09"


def test_late_is_about_the_latest_due_date_only() -> None:
    observed = all_delivered(START, date(2026, 3, 9))
    observed["2026-03-05|na"] = delivered(date(2026, 3, 5), hour=9)  # late once, last week
    [status] = evaluate(FakeReader(observed))
    assert status.state is SlaState.MET
    observed["2026-03-09|na"] = delivered(date(2026, 3, 9), hour=6, minute=20)
    [late] = evaluate(FakeReader(observed))
    assert late.state is SlaState.LATE
    assert (
        "Yesterday's sales data for na arrived late: fact_sales landed 2026-03-10 06:20 UTC, 20 min after"
        in (late.lines[2])
    )


def test_before_the_deadline_the_previous_date_is_judged_and_the_next_shows_progress() -> None:
    before_deadline = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    observed = all_delivered(START, date(2026, 3, 8))
    observed["2026-03-09|emea"] = delivered(date(2026, 3, 9))
    [status] = evaluate(FakeReader(observed), before_deadline)
    assert status.due_date == date(2026, 3, 8) and status.state is SlaState.MET
    assert status.next_due_date == date(2026, 3, 9) and status.next_ready_regions == ("emea",)


STATEMENTS = AfterPartitionsSla(
    "statements",
    "Commission statements after yesterday's sales, by 08:00",
    ("commission_statements",),
    time(8, 0),
    1,
    tuple(REGION_CODES),
    lookback_days=3,
    after=("fact_sales",),
)


def test_commission_statements_are_due_after_every_region_of_the_day_was_delivered() -> None:
    config = SlaConfig((STATEMENTS,), ("test",))
    at = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    sales = all_delivered(START, date(2026, 3, 9))  # each day's sales complete at 03:10 the next morning

    def built(*runs: tuple[datetime, datetime]) -> dict[str, list[Materialization]]:
        return {"commission_statements": [Materialization(end, start) for start, end in runs]}

    daily = [(datetime(2026, 3, d, 6, 30, tzinfo=UTC), datetime(2026, 3, d, 6, 40, tzinfo=UTC)) for d in range(6, 11)]
    [met] = evaluate_slas(FakeReader(sales, built=built(*daily)), at, config, start=START)
    assert met.state is SlaState.MET
    assert met.lines == (
        "Yesterday's commission statement data is complete (commission_statements landed 2026-03-10 06:40 UTC, "
        "on time).",
    )
    # Built before yesterday's sales were all in: not up to date for yesterday.
    early = [*daily[:-1], (datetime(2026, 3, 10, 2, 0, tzinfo=UTC), datetime(2026, 3, 10, 2, 10, tzinfo=UTC))]
    [stale] = evaluate_slas(FakeReader(sales, built=built(*early)), at, config, start=START)
    assert stale.state is SlaState.BREACHED
    assert (
        "the sales data of 2026-03-09 was complete at 2026-03-10 03:10 UTC and no run started since" in stale.lines[0]
    )
    # A region missing upstream: the statements wait for it, and say which.
    del sales["2026-03-09|uk"]
    [waiting] = evaluate_slas(FakeReader(sales, built=built(*daily)), at, config, start=START)
    assert waiting.state is SlaState.BREACHED
    assert waiting.problems == (
        "2026-03-09: commission_statements waiting for upstream (waiting for fact_sales 2026-03-09|uk (missing))",
    )
    assert waiting.regions[0].region == "all regions" and waiting.regions[0].oldest_gap == date(2026, 3, 9)
    # Built late, after the deadline: LATE.
    late = [*daily[:-1], (datetime(2026, 3, 10, 8, 5, tzinfo=UTC), datetime(2026, 3, 10, 8, 15, tzinfo=UTC))]
    sales["2026-03-09|uk"] = delivered(date(2026, 3, 9))
    [late_status] = evaluate_slas(FakeReader(sales, built=built(*late)), at, config, start=START)
    assert late_status.state is SlaState.LATE


def test_one_evaluation_asks_about_each_asset_partition_once() -> None:
    """Every question is a partition-status lookup of the instance, whose cost grows with history:
    the daily window and the day after it are one read, and the statements' wait on fact_sales
    reuses what the facts SLA read."""
    asked: list[tuple[str, tuple[str, ...]]] = []

    class CountingReader(FakeReader):
        def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
            asked.append((asset, tuple(keys)))
            return super().partitions(asset, keys)

    config = SlaConfig((FACTS, STATEMENTS), ("test",))
    at = datetime(2026, 3, 10, 8, 30, tzinfo=UTC)
    evaluate_slas(CountingReader(all_delivered(START, date(2026, 3, 9))), at, config, start=START)
    pairs = [(asset, key) for asset, keys in asked for key in keys]
    assert len(pairs) == len(set(pairs)) > 0
    assert [asset for asset, _ in asked].count("fact_sales") == 1


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


def test_the_report_format_shows_window_regions_and_progress() -> None:
    text = format_statuses(evaluate(FakeReader(all_delivered(START, date(2026, 3, 9)))))
    assert "[MET] facts: Yesterday's facts by 06:00" in text
    assert "  Yesterday's sales data for emea is complete (fact_sales landed 2026-03-10 03:10 UTC, on time)." in text
    assert "checked: 2026-03-03 … 2026-03-09 (latest due by 2026-03-10 06:00 UTC)" in text
    assert "    emea         2026-03-09       ok (2026-03-10 03:10 UTC)" in text
    assert "next: 2026-03-10 due by 2026-03-11 06:00 UTC — 0/4 regions ready" in text


# --- notifiers -----------------------------------------------------------------------------------


def alert() -> SlaAlert:
    [status] = evaluate_slas(FakeReader({}), NOW, facts_config(), start=date(2026, 3, 9))
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
