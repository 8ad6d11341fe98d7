"""What a real org sends that the sample data does not: Bulk CSV without nulls, compound and binary
describe() fields, hostile field names, and the login domain setting.

Real simple-salesforce against the HTTPS stub org on 127.0.0.1; nothing of the library is mocked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest

from sales360_assets.sources.contract import SALESFORCE_OBJECTS
from sales360_assets.sources.salesforce import extract_object, parse_records
from sales360_assets.sources.salesforce_live import SalesforceLiveClient
from sales360_assets_tests.stubs.fixtures import SalesforceStub, salesforce_session, salesforce_stub, sf_record

OPPORTUNITY = SALESFORCE_OBJECTS["Opportunity"]
TEAM = SALESFORCE_OBJECTS["AccountTeamMember"]
ACCOUNT = SALESFORCE_OBJECTS["Account"]
T0 = datetime(2024, 5, 1, tzinfo=UTC)
UNTIL = datetime(2024, 5, 2, tzinfo=UTC)


def session_client(org: SalesforceStub, *, bulk: bool) -> SalesforceLiveClient:
    """A client on the stub's preset session; ``bulk`` forces Bulk API 2.0 for every window."""
    return SalesforceLiveClient(
        instance_url=org.url,
        session_id=org.preset_session_id,
        session=salesforce_session(org),
        bulk_threshold=0 if bulk else None,
        bulk_poll_interval=0.0,
    )


def selected_fields(soql: str) -> list[str]:
    return [f.strip() for f in soql.split(" FROM ", 1)[0].removeprefix("SELECT ").split(",")]


def record_queries(org: SalesforceStub) -> list[str]:
    return [s for s in org.soql_received() if not s.startswith("SELECT COUNT()")]


# --- 2. Bulk CSV has no null ---------------------------------------------------------------------


@pytest.fixture
def nullable_org() -> Iterator[SalesforceStub]:
    """Most opportunities never cancelled, open team memberships: empty dates, as in any real org."""
    opportunities = [
        sf_record(
            "Opportunity",
            f"006{i:03d}",
            T0 + timedelta(hours=i),
            Cancelled_Date__c="2024-06-15" if i == 1 else None,
            CreatedDate=None if i == 2 else "2024-04-01T08:00:00.000+0000",
            Amount=None if i == 0 else 10.0,
            IsWon=None if i == 0 else True,
            Web_Order_Id__c=None,
        )
        for i in range(4)
    ]
    members = [
        sf_record(
            "AccountTeamMember",
            f"01M{i:03d}",
            T0 + timedelta(hours=i),
            Effective_From__c="2024-01-01",
            Effective_To__c="2024-03-31" if i == 0 else None,
        )
        for i in range(3)
    ]
    with salesforce_stub({"Opportunity": opportunities, "AccountTeamMember": members}) as stub:
        yield stub


def test_bulk_csv_empty_dates_and_datetimes_arrive_as_nulls(nullable_org: SalesforceStub) -> None:
    client = session_client(nullable_org, bulk=True)
    opportunities, _ = extract_object(client, OPPORTUNITY, None, UNTIL)
    members, _ = extract_object(client, TEAM, None, UNTIL)

    assert client.usage_metadata()["salesforce_api_path"] == "bulk2"
    assert len(nullable_org.requests_to("/jobs/query", method="POST")) == 2
    by_id = opportunities.sort("Id")
    assert by_id["Cancelled_Date__c"].to_list() == [None, date(2024, 6, 15), None, None]
    assert by_id["CreatedDate"].to_list()[2] is None
    assert by_id["Amount"].to_list()[0] is None and by_id["IsWon"].to_list()[0] is None
    assert members.sort("Id")["Effective_To__c"].to_list() == [date(2024, 3, 31), None, None]

    # The same records over REST (JSON nulls) give the same frames.
    rest = session_client(nullable_org, bulk=False)
    assert opportunities.sort("Id").equals(extract_object(rest, OPPORTUNITY, None, UNTIL)[0].sort("Id"))
    assert members.sort("Id").equals(extract_object(rest, TEAM, None, UNTIL)[0].sort("Id"))


@pytest.mark.parametrize("table", [OPPORTUNITY, TEAM, ACCOUNT], ids=lambda t: t.name)
def test_an_all_empty_bulk_row_is_null_in_every_type(table: Any) -> None:
    """Bulk CSV has no null for any type: every empty cell must become null, whatever the column type."""
    row = {name: "" for name in table.columns} | {"Id": "x1"}
    frame = parse_records(table, [row])

    assert frame.schema == pl.Schema(table.columns)
    assert frame.drop("Id").null_count().row(0) == (1,) * (len(table.columns) - 1)
