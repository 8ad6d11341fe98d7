"""The commission scenario sales ops run, through real Dagster runs on a Delta lake.

Run; close March with ``sales360 commissions close 2026-03``; the CRM cancels a March deal on
2 April (a new Opportunity version and its OpportunityHistory row, as a real org records it);
run again. March stays byte-identical; April carries the clawback, linked to the booking line
and the ledger event. Then a ledger event forced into March (a bug, simulated) trips the blocking
check and leaves March as issued.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.cli import main as cli
from sales360_assets.commissions import periods, statements
from sales360_assets.commissions.assets import commission_assets
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.servers import project_instance

# The three tests are one story on one lake (run, close, cancel; then two tampering cases): one worker, in order.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("commission_close_scenario")]

MARCH, APRIL = date(2026, 3, 1), date(2026, 4, 1)
CANCELLED_ON = "2026-04-02T10:00:00.000+0000"
# The commission path as sales_reporting_job runs it: credit → attainment → ledger → statements.
COMMISSION_ASSETS = [a.key for a in commission_assets]


@dataclass
class Scenario:
    sources: Path
    lake: DeltaLake
    lake_uri: str
    defs: dg.Definitions
    instance: dg.DagsterInstance

    def run(self, reference: bool = True) -> dg.ExecuteInProcessResult:
        if reference:
            ref = self.defs.resolve_job_def("reference_data_job").execute_in_process(instance=self.instance)
            assert ref.success
        return self.defs.resolve_job_def("sales_reporting_job").execute_in_process(
            instance=self.instance, asset_selection=COMMISSION_ASSETS, raise_on_error=False
        )

    def month(self, table: str, month: date) -> pl.DataFrame:
        return self.lake.read(table).filter(pl.col("statement_month") == month)


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, sample_sources: SampleSources) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("commission-close")
    sources = tmp / "sources"
    shutil.copytree(sample_sources.root, sources)
    lake_uri = str(tmp / "lake")
    with project_instance() as instance:
        yield Scenario(sources, DeltaLake(lake_uri), lake_uri, build_definitions(str(sources), lake_uri), instance)


def close_through_march(scenario: Scenario, by: str = "test") -> None:
    """Close every month with statements up to March, in order, as sales ops would."""
    months = scenario.lake.read("commission_statements")["statement_month"].unique().sort()
    for month in months.filter(months <= MARCH):
        assert cli(["commissions", "close", f"{month:%Y-%m}", "--by", by, "--lake", scenario.lake_uri]) == 0


def _append_page(sources: Path, object_name: str, record: dict) -> None:
    page = sources / "crm" / object_name / f"{record['SystemModstamp'][:10]}.json"
    records = json.loads(page.read_text())["records"] if page.exists() else []
    records.append(record)
    page.write_text(json.dumps({"totalSize": len(records), "done": True, "records": records}))


def _cancel_in_crm(sources: Path, opportunity_id: str) -> None:
    """What the org records when a rep cancels a won deal: a new version and a history row."""
    log = [
        r
        for page in sorted((sources / "crm" / "Opportunity").glob("????-??-??.json"))
        for r in json.loads(page.read_text())["records"]
        if r["Id"] == opportunity_id
    ]
    current = max(log, key=lambda r: r["SystemModstamp"])
    _append_page(
        sources,
        "Opportunity",
        {
            **current,
            "StageName": "Cancelled",
            "IsWon": False,
            "IsClosed": True,
            "Probability": 0.0,
            "Cancelled_Date__c": CANCELLED_ON[:10],
            "SystemModstamp": CANCELLED_ON,
        },
    )
    _append_page(
        sources,
        "OpportunityHistory",
        {
            "attributes": {"type": "OpportunityHistory"},
            "Id": "008999999999999999",
            "OpportunityId": opportunity_id,
            "StageName": "Cancelled",
            "Amount": current["Amount"],
            "CloseDate": current["CloseDate"],
            "Probability": 0.0,
            "CreatedDate": CANCELLED_ON,
            "SystemModstamp": CANCELLED_ON,
            "IsDeleted": False,
        },
    )


def test_a_closed_month_is_byte_identical_after_a_crm_cancellation(scenario: Scenario) -> None:
    assert scenario.run().success
    issued_lines = scenario.month("commission_statement_lines", MARCH)
    issued = scenario.month("commission_statements", MARCH)
    assert issued_lines.height > 0

    close_through_march(scenario, by="sales-ops")
    assert periods.closed_months(scenario.lake)[-1] == MARCH

    # A March booking of a deal not fulfilled online, still standing: the CRM now cancels it.
    bookings = scenario.lake.read("fact_booking_line").filter(
        pl.col("booking_date").dt.month_start() == MARCH, ~pl.col("is_cancelled"), pl.col("web_order_id").is_null()
    )
    deal = bookings["opportunity_id"].sort()[0]
    deal_lines = set(bookings.filter(pl.col("opportunity_id") == deal)["booking_line_id"])
    _cancel_in_crm(scenario.sources, deal)
    result = scenario.run()
    assert result.success

    # March: exactly the issued statements, byte for byte.
    assert periods.content_hash(scenario.month("commission_statement_lines", MARCH)) == periods.content_hash(
        issued_lines
    )
    assert periods.content_hash(scenario.month("commission_statements", MARCH)) == periods.content_hash(issued)
    # April: the clawback, linked to the booking lines and to the ledger's cancellation event.
    april = scenario.month("commission_statement_lines", APRIL).filter(pl.col("line_type") == statements.CLAWBACK)
    assert set(april["booking_line_id"]) == deal_lines
    assert (april["commission_usd"] < 0).all() and (april["rate_month"] == MARCH).all()
    ledger = scenario.lake.read("commission_ledger")
    events = ledger.with_columns(pl.format("{}#{}", "credit_line_id", "event_seq").alias("event_key"))
    cancelled = events.filter(pl.col("event_key").is_in(april["event_key"].implode()))
    assert set(cancelled["event_type"]) == {"cancelled"} and set(cancelled["posting_month"]) == {APRIL}
    assert set(cancelled["cancelled_date"]) == {date(2026, 4, 2)}
    april_statements = scenario.month("commission_statements", APRIL)
    assert april_statements["clawback_usd"].sum() == april["commission_usd"].sum()
    print(
        f"SCENARIO close 2026-03 then cancel {deal}: March payout {issued['payout_usd'].sum()} unchanged, "
        f"April clawback {april['commission_usd'].sum()} in {april.height} line(s)"
    )

    # Closing again changes nothing and says so.
    assert cli(["commissions", "close", "2026-03", "--lake", scenario.lake_uri]) == 0


def _latest(sources: Path, object_name: str, predicate: Callable[[dict], bool]) -> list[dict]:
    """The current version of every record of an object matching ``predicate``."""
    current: dict[str, dict] = {}
    for page in sorted((sources / "crm" / object_name).glob("????-??-??.json")):
        for record in json.loads(page.read_text())["records"]:
            if record["SystemModstamp"] >= current.get(record["Id"], {}).get("SystemModstamp", ""):
                current[record["Id"]] = record
    return [r for r in current.values() if predicate(r)]


def test_a_deleted_deal_and_a_moved_close_date_post_into_open_months(scenario: Scenario) -> None:
    """Case 1 through real runs: the CRM deletes one March deal and moves another's close date to February."""
    if not periods.closed_months(scenario.lake):  # run alone: set the stage the first test leaves
        assert scenario.run().success
        close_through_march(scenario)
    issued = scenario.month("commission_statement_lines", MARCH)
    bookings = scenario.lake.read("fact_booking_line").filter(
        pl.col("booking_date").dt.month_start() == MARCH, ~pl.col("is_cancelled"), pl.col("web_order_id").is_null()
    )
    deleted, moved = bookings["opportunity_id"].unique().sort()[1:3].to_list()
    stamp = "2026-04-03T09:00:00.000+0000"
    (opportunity,) = _latest(scenario.sources, "Opportunity", lambda r: r["Id"] == deleted)
    _append_page(scenario.sources, "Opportunity", {**opportunity, "IsDeleted": True, "SystemModstamp": stamp})
    for item in _latest(scenario.sources, "OpportunityLineItem", lambda r: r["OpportunityId"] == deleted):
        _append_page(scenario.sources, "OpportunityLineItem", {**item, "IsDeleted": True, "SystemModstamp": stamp})
    (opportunity,) = _latest(scenario.sources, "Opportunity", lambda r: r["Id"] == moved)
    _append_page(scenario.sources, "Opportunity", {**opportunity, "CloseDate": "2026-02-27", "SystemModstamp": stamp})
    assert scenario.run().success

    assert periods.content_hash(scenario.month("commission_statement_lines", MARCH)) == periods.content_hash(issued)
    lines = scenario.lake.read("commission_statement_lines").filter(pl.col("line_type") == statements.ADJUSTMENT)
    removal = lines.filter(pl.col("opportunity_id") == deleted)
    assert set(removal["statement_month"]) == {APRIL} and (removal["commission_usd"] < 0).all()
    assert set(removal["event_type"]) == {"removed"}
    move = lines.filter(pl.col("opportunity_id") == moved)
    # March is closed: the move posts into April — March's share comes back, February's is earned.
    assert set(move["statement_month"]) == {APRIL}
    assert set(move["rate_month"]) == {date(2026, 2, 1), MARCH}
    assert (move.filter(pl.col("rate_month") == MARCH)["commission_usd"] < 0).all()
    assert (move.filter(pl.col("rate_month") == date(2026, 2, 1))["commission_usd"] > 0).all()
    print(
        f"SCENARIO deleted {deleted}: April {removal['commission_usd'].sum()}; moved {moved} to February: "
        f"{move['commission_usd'].sum()} net in April; March unchanged"
    )


def test_an_event_forced_into_a_closed_month_fails_the_blocking_check(scenario: Scenario) -> None:
    if not periods.closed_months(scenario.lake):  # run alone: set the stage the first test leaves
        assert scenario.run().success
        close_through_march(scenario)
    issued = scenario.month("commission_statement_lines", MARCH)
    statements_version = scenario.lake.version("commission_statements")
    ledger = scenario.lake.read("commission_ledger")
    booked = ledger.filter(pl.col("posting_month") == MARCH, pl.col("event_type") == "booked").head(1)
    # A bug that posts a removal into March (the ledger code never does: see test_commission_ledger.py).
    forced = booked.with_columns(
        (pl.col("event_seq") + 100).alias("event_seq"),
        pl.lit("removed").alias("event_type"),
        pl.lit(False).alias("is_present"),
        pl.lit(False).alias("earns_commission"),
    )
    scenario.lake.insert_new("commission_ledger", forced, ["credit_line_id", "event_seq"])
    result = scenario.run(reference=False)
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "closed_months_unchanged")
    assert not check.passed and "2026-03" in check.metadata["closed_months_differing"].value
    assert periods.content_hash(scenario.month("commission_statement_lines", MARCH)) == periods.content_hash(issued)
    # Downstream of the failed check did not run: the statements table did not move.
    assert scenario.lake.version("commission_statements") == statements_version


def test_a_lost_ledger_event_fails_the_blocking_check(scenario: Scenario) -> None:
    if not scenario.lake.exists("commission_ledger"):  # run alone: materialize first
        assert scenario.run().success
    ledger = scenario.lake.read("commission_ledger")
    # Someone rewrites the ledger without its first event (an overwrite, which the asset never does).
    lost = ledger.sort("recorded_at", "credit_line_id", "event_seq").head(1)
    scenario.lake.overwrite("commission_ledger", ledger.join(lost, on=["credit_line_id", "event_seq"], how="anti"))
    result = scenario.run(reference=False)
    assert not result.success
    check = next(e for e in result.get_asset_check_evaluations() if e.check_name == "ledger_keeps_every_event")
    assert not check.passed and check.metadata["events_lost_or_changed"].value == 1
