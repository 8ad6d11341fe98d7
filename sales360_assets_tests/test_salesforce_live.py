"""The live Salesforce client, through the real simple-salesforce, against the HTTPS stub org."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pytest
from simple_salesforce import format_soql

from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.sources.resources import SalesforceResource, salesforce_resource_from_env
from sales360_assets.sources.salesforce import LocalCrmClient, extract_object, parse_records
from sales360_assets.sources.salesforce_live import (
    SalesforceLiveClient,
    SalesforcePermanentError,
    SalesforceSessionExpiredError,
    SalesforceTransientError,
    build_window_soql,
)
from sales360_assets_tests.stubs.fixtures import SalesforceStub, salesforce_session, salesforce_stub, sf_record

OPPORTUNITY = SALESFORCE_OBJECTS["Opportunity"]
T0 = datetime(2024, 5, 1, tzinfo=UTC)
UNTIL = datetime(2024, 5, 2, tzinfo=UTC)

# Distinctive so a leak is unmistakable in any text.
PASSWORD = "pw-Sup3r&Secret<>"
TOKEN = "tok-XYZZY-4711"
CONSUMER_SECRET = "cs-very-private-9000"
SESSION_ID = "00DSTUB!preset-session-SECRET"


def _opportunities() -> list[dict[str, Any]]:
    records = [
        sf_record(
            "Opportunity",
            f"006{i:03d}",
            T0 + timedelta(hours=i, milliseconds=123),
            Amount=1000.0 + i,
            Probability=None if i == 2 else 50.0,
            IsClosed=i % 2 == 0,
            CloseDate="2024-06-30",
            Name=f'Deal {i}, "quoted"\nwith a line break',
        )
        for i in range(7)
    ]
    records[3]["IsDeleted"] = True  # a tombstone: only queryAll returns it
    return records


@pytest.fixture
def org() -> Iterator[SalesforceStub]:
    with salesforce_stub(
        {"Opportunity": _opportunities()},
        page_size=2,
        bulk_page_size=3,
        password=PASSWORD,
        security_token=TOKEN,
        consumer_secret=CONSUMER_SECRET,
        session_id=SESSION_ID,
    ) as stub:
        yield stub


class Sleeps(list[float]):
    """Records backoff sleeps instead of sleeping."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def password_client(org: SalesforceStub, sleeps: Sleeps | None = None, **options: Any) -> SalesforceLiveClient:
    return SalesforceLiveClient(
        username=org.username,
        password=PASSWORD,
        security_token=TOKEN,
        session=salesforce_session(org),
        sleep=sleeps if sleeps is not None else Sleeps(),
        backoff_base=0.01,
        **options,
    )


def ids(frame: pl.DataFrame) -> list[str]:
    return frame["Id"].to_list()


def test_multi_page_rest_extraction_returns_every_record_exactly_once(org: SalesforceStub) -> None:
    client = password_client(org)
    frame, added = extract_object(client, OPPORTUNITY, None, UNTIL)

    assert sorted(ids(frame)) == [f"006{i:03d}" for i in range(7)]
    assert frame["Id"].n_unique() == frame.height == 7
    assert added == []
    # 7 records, 2 per page: the first queryAll answer plus three nextRecordsUrl pages.
    assert len(org.requests_to("/queryAll/01g")) == 3
    assert client.usage_metadata()["salesforce_api_path"] == "rest"


def test_window_bounds_in_soql_and_a_later_since_asks_only_for_newer_records(org: SalesforceStub) -> None:
    client = password_client(org)
    # Aware datetimes in another zone, with sub-second parts: SOQL must carry them as UTC.
    cest = timezone(timedelta(hours=2))
    since = datetime(2024, 5, 1, 3, 0, 0, 500_000, tzinfo=cest)  # 01:00:00.5 UTC
    until = datetime(2024, 5, 1, 6, 0, 0, tzinfo=cest)  # 04:00 UTC
    first, _ = extract_object(client, OPPORTUNITY, since, until)

    soql = [s for s in org.soql_received() if not s.startswith("SELECT COUNT()")]
    assert soql[-1].endswith(
        "FROM Opportunity WHERE SystemModstamp >= 2024-05-01T01:00:00+00:00 "
        "AND SystemModstamp < 2024-05-01T04:00:00+00:00 ORDER BY SystemModstamp, Id"
    )
    assert sorted(ids(first)) == ["006001", "006002", "006003"]

    # A record modified later, then the next incremental run from the high-water mark.
    org.upsert("Opportunity", sf_record("Opportunity", "006100", T0 + timedelta(hours=10), Amount=5.0))
    org.clear_requests()
    second, _ = extract_object(client, OPPORTUNITY, T0 + timedelta(hours=6), UNTIL)

    received = [s for s in org.soql_received() if not s.startswith("SELECT COUNT()")]
    assert len(received) == 1
    assert "SystemModstamp >= 2024-05-01T06:00:00+00:00 AND SystemModstamp < 2024-05-02T00:00:00+00:00" in received[0]
    assert sorted(ids(second)) == ["006006", "006100"]


@pytest.mark.parametrize(
    "fields",
    [
        ["Id", "Name FROM User WHERE Name != null --"],
        ["Id", "(SELECT Id FROM OpportunityLineItems)"],
        ["Id", "Amount__x"],
    ],
)
def test_field_names_outside_describe_never_reach_soql(org: SalesforceStub, fields: list[str]) -> None:
    client = password_client(org)
    describe = client.describe("Opportunity")
    with pytest.raises(SalesforcePermanentError, match="not in describe"):
        build_window_soql("Opportunity", fields, describe, T0, UNTIL)
    with pytest.raises(SalesforcePermanentError, match="not in describe"):
        list(client.extract("Opportunity", fields, T0, UNTIL))
    assert org.soql_received() == []


@pytest.mark.parametrize("object_name", ["Opportunity WHERE Id != null", "Opportunity/../limits", "Opp'ty"])
def test_object_names_are_refused_before_any_request(org: SalesforceStub, object_name: str) -> None:
    client = password_client(org)
    with pytest.raises(SalesforcePermanentError, match="not a Salesforce object API name"):
        list(client.extract(object_name, ["Id"], T0, UNTIL))
    assert org.requests == []


def test_soql_values_go_through_format_soql() -> None:
    # The only values the client puts into SOQL are datetimes; the same formatter quotes text,
    # so a crafted value stays one literal.
    crafted = "x' OR Name != 'y\\"
    assert format_soql("SELECT Id FROM Account WHERE Name = {}", crafted) == (
        "SELECT Id FROM Account WHERE Name = 'x\\' OR Name != \\'y\\\\'"
    )
    naive = datetime(2024, 5, 1, 10, 0)
    describe = {"name": "Account", "fields": [{"name": "Id"}, {"name": "SystemModstamp"}]}
    # Naive datetimes are taken as UTC (format_soql alone would take them as host-local time).
    assert "SystemModstamp < 2024-05-01T10:00:00+00:00" in build_window_soql("Account", ["Id"], describe, None, naive)


def test_query_all_brings_deleted_records_as_tombstones(org: SalesforceStub) -> None:
    frame, _ = extract_object(password_client(org), OPPORTUNITY, None, UNTIL)

    assert frame.filter(pl.col("IsDeleted"))["Id"].to_list() == ["006003"]
    assert org.requests_to("/query/") == []  # never the plain query endpoint, which hides deletes
    assert org.requests_to("/queryAll/")


def test_bulk_api_above_threshold_parses_to_the_same_frame_as_rest(org: SalesforceStub) -> None:
    rest_frame, _ = extract_object(password_client(org, bulk_threshold=100), OPPORTUNITY, None, UNTIL)
    org.clear_requests()
    bulk_client = password_client(org, bulk_threshold=3, bulk_page_size=3, bulk_poll_interval=0.01)
    bulk_frame, _ = extract_object(bulk_client, OPPORTUNITY, None, UNTIL)

    jobs = org.requests_to("/jobs/query", method="POST")
    assert len(jobs) == 1
    assert jobs[0].info["bulk_operation"] == "queryAll"
    assert "ORDER BY" not in jobs[0].info["soql"]  # it would switch off PK chunking
    assert len(org.requests_to("/results")) == 3  # 7 rows, 3 per CSV page, followed by Sforce-Locator
    assert org.requests_to("/queryAll/01g") == []
    assert bulk_client.usage_metadata()["salesforce_bulk_jobs"] == 1

    assert bulk_frame.schema == rest_frame.schema == pl.Schema(OPPORTUNITY.columns)
    assert bulk_frame.sort("Id").equals(rest_frame.sort("Id"))
    assert bulk_frame.filter(pl.col("Id") == "006002")["Probability"].to_list() == [None]


def test_bulk_csv_rows_parse_like_rest_records() -> None:
    rest = [
        {
            "attributes": {"type": "Account"},
            "Id": "001",
            "Name": None,
            "IsDeleted": True,
            "SystemModstamp": "2024-05-01T10:00:00.000+0000",
            "CreatedDate": "2024-04-01T08:00:00.000+0000",
        }
    ]
    bulk = [
        {
            "Id": "001",
            "Name": "",
            "IsDeleted": "true",
            "SystemModstamp": "2024-05-01T10:00:00.000Z",
            "CreatedDate": "2024-04-01T08:00:00.000Z",
        }
    ]
    table = SALESFORCE_OBJECTS["Account"]
    assert parse_records(table, bulk).equals(parse_records(table, rest))


@pytest.mark.parametrize("kind", ["429", "503", "request_limit", "reset"])
def test_transient_bursts_are_retried_and_each_record_arrives_once(org: SalesforceStub, kind: str) -> None:
    sleeps = Sleeps()
    client = password_client(org, sleeps)
    org.inject(kind, 1, path_contains="/describe")
    org.inject(kind, 3, path_contains="/queryAll/01g")  # in the middle of pagination

    frame, _ = extract_object(client, OPPORTUNITY, None, UNTIL)

    assert sorted(ids(frame)) == [f"006{i:03d}" for i in range(7)]
    assert frame["Id"].n_unique() == 7
    assert len(sleeps) == 4
    # Exponential backoff with jitter: each wait within [0.5, 1] x base x 2^(attempt-1).
    assert 0.0025 <= sleeps[1] <= 0.01 and 0.01 <= sleeps[3] <= 0.04
    assert client.usage_metadata()["salesforce_retries"] == 4


def test_retries_are_bounded_then_a_retryable_error_is_raised(org: SalesforceStub) -> None:
    sleeps = Sleeps()
    client = password_client(org, sleeps, max_retries=2)
    org.inject("request_limit", 10, path_contains="/queryAll/")

    with pytest.raises(SalesforceTransientError, match="REQUEST_LIMIT_EXCEEDED") as failure:
        list(client.extract("Opportunity", ["Id", "SystemModstamp"], T0, UNTIL))

    assert failure.value.retryable is True
    assert len(sleeps) == 2
    assert len(org.requests_to("/queryAll/")) == 3


def test_expired_session_is_renewed_once_and_the_call_retried(org: SalesforceStub) -> None:
    client = password_client(org)
    extract_object(client, OPPORTUNITY, None, UNTIL)
    assert org.logins == 1

    org.expire_sessions()
    org.inject("expired", 1, path_contains="/queryAll/01g")  # and once more in mid-pagination
    frame, _ = extract_object(client, OPPORTUNITY, None, UNTIL)

    assert sorted(ids(frame)) == [f"006{i:03d}" for i in range(7)]
    assert org.logins == 3
    assert client.usage_metadata()["salesforce_logins"] == 3


def test_a_second_expiry_in_a_row_fails_clearly(org: SalesforceStub) -> None:
    client = password_client(org)
    org.inject("expired", 2, path_contains="/describe")

    with pytest.raises(SalesforceSessionExpiredError, match="again right after re-authenticating"):
        client.describe("Opportunity")
    assert org.logins == 2


def test_a_session_id_cannot_be_renewed(org: SalesforceStub) -> None:
    client = SalesforceLiveClient(instance_url=org.url, session_id=SESSION_ID, session=salesforce_session(org))
    assert client.describe("Opportunity")["name"] == "Opportunity"

    org.expire_sessions()
    with pytest.raises(SalesforceSessionExpiredError, match="SALESFORCE_SESSION_ID") as failure:
        list(client.extract("Opportunity", ["Id", "SystemModstamp"], T0, UNTIL))
    assert org.logins == 0
    assert SESSION_ID not in str(failure.value)


def test_oauth_client_credentials_login(org: SalesforceStub) -> None:
    client = SalesforceLiveClient(
        consumer_key=org.consumer_key,
        consumer_secret=CONSUMER_SECRET,
        domain="acme.my",
        session=salesforce_session(org),
    )
    frame, _ = extract_object(client, OPPORTUNITY, None, UNTIL)

    assert frame.height == 7
    assert org.requests_to("/services/oauth2/token")[0].body == "<credentials withheld>"
    with pytest.raises(SalesforcePermanentError, match="My Domain"):
        SalesforceLiveClient(consumer_key="k", consumer_secret="s", domain="login")


@pytest.mark.parametrize(
    ("inject", "message"),
    [
        ("malformed", "HTTP 400 MALFORMED_QUERY"),
        ("forbidden", "HTTP 403 INSUFFICIENT_ACCESS"),
    ],
)
def test_permanent_errors_fail_at_once(org: SalesforceStub, inject: str, message: str) -> None:
    sleeps = Sleeps()
    client = password_client(org, sleeps)
    org.inject(inject, 1, path_contains="/queryAll/")

    with pytest.raises(SalesforcePermanentError, match=message) as failure:
        list(client.extract("Opportunity", ["Id", "SystemModstamp"], T0, UNTIL))

    assert failure.value.retryable is False
    assert sleeps == []
    assert len(org.requests_to("/queryAll/")) == 1


def test_unknown_object_fails_at_once_with_what_to_check(org: SalesforceStub) -> None:
    sleeps = Sleeps()
    with pytest.raises(SalesforcePermanentError, match=r"HTTP 404.*object API name"):
        password_client(org, sleeps).describe("Quota__c")
    assert sleeps == []


def test_secrets_never_appear_in_logs_errors_or_metadata(org: SalesforceStub, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # urllib3 and simple-salesforce included
    texts: list[str] = []

    # Wrong security token: the login fault must not echo what was sent.
    bad = SalesforceLiveClient(
        username=org.username, password=PASSWORD, security_token="wrong-" + TOKEN, session=salesforce_session(org)
    )
    with pytest.raises(SalesforcePermanentError, match="SALESFORCE_SECURITY_TOKEN") as login_failure:
        bad.describe("Opportunity")
    texts += [str(login_failure.value), repr(bad)]

    # Retries, a renewal and a failure with a live session.
    client = password_client(org, max_retries=1)
    org.inject("503", 1, path_contains="/describe")
    org.inject("expired", 1, path_contains="/queryAll/")
    extract_object(client, OPPORTUNITY, None, UNTIL)
    org.inject("503", 5, path_contains="/queryAll/")
    with pytest.raises(SalesforceTransientError) as transient:
        list(client.extract("Opportunity", ["Id", "SystemModstamp"], T0, UNTIL))
    texts += [str(transient.value), repr(client), str(client.usage_metadata())]

    session_client = SalesforceLiveClient(instance_url=org.url, session_id=SESSION_ID, session=salesforce_session(org))
    org.expire_sessions()
    with pytest.raises(SalesforceSessionExpiredError) as expired:
        session_client.describe("Opportunity")
    texts += [str(expired.value), repr(session_client)]

    issued = {f"00DSTUB!session-{n}" for n in range(1, 10)}
    everything = "\n".join([*texts, caplog.text])
    for secret in [PASSWORD, TOKEN, PASSWORD + TOKEN, CONSUMER_SECRET, SESSION_ID, *issued]:
        assert secret not in everything
    assert "retry 1/1" in caplog.text  # the retry itself was logged


def test_usage_metadata_reports_api_limits(org: SalesforceStub) -> None:
    client = password_client(org)
    extract_object(client, OPPORTUNITY, None, UNTIL)
    meta = client.usage_metadata()

    assert meta["crm_backend"] == "salesforce"
    assert meta["salesforce_api_requests_max"] == 15_000
    assert meta["salesforce_api_requests_used"] == org.api_used
    assert meta["salesforce_requests"] == len(org.requests)
    assert meta["salesforce_records"] == 7


def test_resource_stays_embedded_without_credentials(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    for var in ("SALESFORCE_USERNAME", "SALESFORCE_PASSWORD", "SALESFORCE_CONSUMER_KEY", "SALESFORCE_SESSION_ID"):
        monkeypatch.delenv(var, raising=False)
    (tmp_path / "crm").mkdir()  # an export with CRM data (without crm/ the source is switched off)
    assert isinstance(SalesforceResource(sources_dir=str(tmp_path)).get_client(), LocalCrmClient)
    assert isinstance(salesforce_resource_from_env(str(tmp_path)).get_client(), LocalCrmClient)


def test_resource_from_env_reads_the_stub_org(
    org: SalesforceStub, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", org.url)
    monkeypatch.setenv("SALESFORCE_SESSION_ID", SESSION_ID)
    monkeypatch.setenv("SALESFORCE_BULK_THRESHOLD", "3")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", org.ca_path)  # how a deployment trusts a private CA
    # Outside a run Dagster has not resolved the EnvVars yet; a run does this itself.
    resource = salesforce_resource_from_env(str(tmp_path)).process_config_and_initialize()
    client = resource.get_client()

    assert isinstance(client, SalesforceLiveClient)
    assert resource.bulk_threshold == 3
    client.bulk_poll_interval = 0.0
    frame, _ = extract_object(client, OPPORTUNITY, None, UNTIL)
    assert frame.height == 7
    assert client.usage_metadata()["salesforce_api_path"] == "bulk2"


def test_an_empty_window_gives_an_empty_typed_frame(org: SalesforceStub) -> None:
    frame, _ = extract_object(password_client(org), OPPORTUNITY, UNTIL, UNTIL + timedelta(days=1))

    assert frame.height == 0
    assert frame.schema == pl.Schema(OPPORTUNITY.columns)
