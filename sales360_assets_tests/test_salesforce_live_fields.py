"""What a real org sends that the sample data does not: Bulk CSV without nulls, compound and binary
describe() fields, hostile field names, and the login domain setting.

Real simple-salesforce against the HTTPS stub org on 127.0.0.1; nothing of the library is mocked.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
import requests
from requests.adapters import HTTPAdapter

from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.sources.salesforce import extract_object, parse_records
from sales360_assets.sources.salesforce_live import SalesforceLiveClient, SalesforcePermanentError, build_window_soql
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


# --- 3. compound and binary fields ---------------------------------------------------------------

# What every real Account describe() lists besides the contract fields.
ACCOUNT_EXTRAS = [
    {"name": "BillingAddress", "type": "address", "nillable": True},
    {"name": "BillingStreet", "type": "textarea", "nillable": True, "compoundFieldName": "BillingAddress"},
    {"name": "BillingPostalCode", "type": "string", "nillable": True, "compoundFieldName": "BillingAddress"},
    {"name": "ShippingAddress", "type": "address", "nillable": True},
    {"name": "ShippingCity", "type": "string", "nillable": True, "compoundFieldName": "ShippingAddress"},
    {"name": "HQ_Location__c", "type": "location", "nillable": True},
    {"name": "HQ_Location__Latitude__s", "type": "double", "nillable": True, "compoundFieldName": "HQ_Location__c"},
    {"name": "Logo__c", "type": "base64", "nillable": True},
]
COMPOUND_OR_BINARY = {"BillingAddress", "ShippingAddress", "HQ_Location__c", "Logo__c"}
COMPONENTS = {"BillingStreet", "BillingPostalCode", "ShippingCity", "HQ_Location__Latitude__s"}


@pytest.mark.parametrize("bulk", [True, False], ids=["bulk2", "rest"])
def test_compound_and_base64_fields_are_skipped_and_their_components_selected(bulk: bool) -> None:
    accounts = [
        sf_record("Account", f"001{i:03d}", T0 + timedelta(hours=i), BillingStreet=f"{i} Main St", ShippingCity="Oslo")
        for i in range(3)
    ]
    with salesforce_stub({"Account": accounts}, extra_fields={"Account": ACCOUNT_EXTRAS}) as org:
        frame, added = extract_object(session_client(org, bulk=bulk), ACCOUNT, None, UNTIL)
        (soql,) = record_queries(org)

    fields = selected_fields(soql)
    assert not COMPOUND_OR_BINARY & set(fields)
    assert set(fields) >= COMPONENTS
    assert [f for f in fields if f in ACCOUNT.columns] == list(ACCOUNT.columns)  # the contract, in order
    assert set(added) == COMPONENTS
    assert sorted(frame["BillingStreet"].to_list()) == ["0 Main St", "1 Main St", "2 Main St"]


# --- 4. identifiers ------------------------------------------------------------------------------

HOSTILE = ["Name FROM User --", "Id,(SELECT Id FROM Contacts)", "Amount) FROM Opportunity WHERE (Id", "Näme__c"]


@pytest.mark.parametrize("bad", HOSTILE)
def test_a_hostile_field_name_in_describe_never_reaches_soql(bad: str, caplog: pytest.LogCaptureFixture) -> None:
    opportunities = [sf_record("Opportunity", f"006{i:03d}", T0 + timedelta(hours=i)) for i in range(2)]
    extra = {"Opportunity": [{"name": bad, "type": "string", "nillable": True}]}
    with salesforce_stub({"Opportunity": opportunities}, extra_fields=extra) as org:
        client = session_client(org, bulk=False)
        # An added (drift) field with such a name is skipped with a warning; the extract goes on.
        frame, added = extract_object(client, OPPORTUNITY, None, UNTIL)
        assert frame.height == 2
        assert bad not in added
        assert f"skipping field {bad!r}" in caplog.text
        for soql in org.soql_received():
            assert bad not in soql and "User" not in soql and "Contacts" not in soql

        # Asked for explicitly, it is refused even though describe() offers it.
        org.clear_requests()
        with pytest.raises(SalesforcePermanentError, match="not a Salesforce field API name"):
            build_window_soql("Opportunity", ["Id", bad], client.describe("Opportunity"), None, UNTIL)
        with pytest.raises(SalesforcePermanentError, match="not a Salesforce field API name"):
            list(client.extract("Opportunity", ["Id", "SystemModstamp", bad], None, UNTIL))
        assert org.soql_received() == []


# --- 5. the login domain -------------------------------------------------------------------------


class NoNetwork(HTTPAdapter):
    """A transport that records every URL a client tries and lets none of them out."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        self.urls.append(str(request.url))
        raise requests.exceptions.ConnectionError("no network in this test")


@pytest.mark.parametrize(
    "domain",
    [
        "evil.example.com/x?",
        "evil.example.com#",
        "user@evil.example.com:443/",
        "evil.example.com",
        "https://acme.my.salesforce.com",
        "acme.my/../x",
        "acme.evil.my",
        "login.",
        "",
    ],
)
@pytest.mark.parametrize("auth", ["password", "client_credentials"])
def test_a_foreign_login_domain_is_refused_before_any_network_call(domain: str, auth: str) -> None:
    transport = NoNetwork()
    session = requests.Session()
    session.mount("https://", transport)
    session.mount("http://", transport)
    credentials = (
        {"username": "u@example.com", "password": "pw", "security_token": "tok"}
        if auth == "password"
        else {"consumer_key": "key", "consumer_secret": "secret"}
    )
    with pytest.raises(SalesforcePermanentError, match="SALESFORCE_DOMAIN") as failure:
        # max_retries=0: on a refused connection the old code would otherwise back off for minutes.
        SalesforceLiveClient(domain=domain, session=session, max_retries=0, **credentials).describe("Opportunity")

    assert transport.urls == []
    message = str(failure.value)
    assert "'login'" in message and "'test'" in message and "acme.my" in message
    assert "pw" not in message and "secret" not in message


@pytest.mark.parametrize(
    ("domain", "used"),
    [
        ("login", "login"),
        ("test", "test"),
        ("Test", "test"),
        ("acme.my", "acme.my"),
        ("acme--uat.sandbox.my", "acme--uat.sandbox.my"),
        ("acme-dev-ed.develop.my", "acme-dev-ed.develop.my"),
        ("Acme.my.salesforce.com", "Acme.my"),  # the host as shown in the browser
    ],
)
def test_login_test_and_my_domains_log_in(domain: str, used: str) -> None:
    with salesforce_stub({"Opportunity": []}, password="pw-1234", security_token="tok-5678") as org:
        client = SalesforceLiveClient(
            username=org.username,
            password="pw-1234",
            security_token="tok-5678",
            domain=domain,
            session=salesforce_session(org),
        )
        assert client.domain == used
        assert client.describe("Opportunity")["name"] == "Opportunity"
        assert org.logins == 1


def test_skipped_compound_and_binary_fields_are_logged(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    with salesforce_stub({"Account": []}, extra_fields={"Account": ACCOUNT_EXTRAS}) as org:
        extract_object(session_client(org, bulk=False), ACCOUNT, None, UNTIL)
    assert "BillingAddress" in caplog.text and "Logo__c" in caplog.text
