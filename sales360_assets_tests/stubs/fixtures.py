"""Starting the stubs from tests, and sample data shaped like the source contract.

Plain context managers and functions, so any test (or a pytest fixture wrapping them) can use
them::

    with salesforce_stub({"Account": [sf_record("Account", "001A", "2024-05-01T10:00:00Z")]}) as sf:
        client = SalesforceLiveClient(
            username=sf.username, password=sf.password, security_token=sf.security_token,
            session=salesforce_session(sf), sleep=lambda s: None,
        )
        ...
        sf.url, sf.ca_path, sf.requests, sf.soql_received()

    with bigquery_stub({"sales.orders": table_from_contract(WAREHOUSE_TABLES["orders"], rows)}) as bq:
        client = BigQueryLiveClient(project=bq.project, dataset="sales", api_endpoint=bq.url, ...)

Through the Dagster resources instead of the clients: point ``SALESFORCE_INSTANCE_URL`` at
``sf.url`` with ``SALESFORCE_SESSION_ID=sf.preset_session_id`` and ``REQUESTS_CA_BUNDLE=sf.ca_path``
(requests reads it for sessions that verify), and ``BIGQUERY_API_ENDPOINT`` at ``bq.url``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import polars as pl
import requests
from requests.adapters import HTTPAdapter

from sales360_assets.sources.contract import UTC_DATETIME
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets_tests.stubs import RecordedRequest
from sales360_assets_tests.stubs.bigquery_stub import BigQueryStub, StubTable, table_from_contract
from sales360_assets_tests.stubs.salesforce_stub import SalesforceStub, parse_sf_datetime, rest_datetime

__all__ = [
    "BigQueryStub",
    "RecordedRequest",
    "SalesforceStub",
    "StubTable",
    "bigquery_stub",
    "salesforce_session",
    "salesforce_stub",
    "sf_record",
    "table_from_contract",
]


@contextmanager
def salesforce_stub(objects: Mapping[str, Iterable[Mapping[str, Any]]], **options: Any) -> Iterator[SalesforceStub]:
    """A running HTTPS Salesforce stub (see ``SalesforceStub`` for options); stopped on exit."""
    with SalesforceStub(objects, **options) as stub:
        yield stub


@contextmanager
def bigquery_stub(tables: Mapping[str, StubTable], **options: Any) -> Iterator[BigQueryStub]:
    """A running BigQuery REST stub (see ``BigQueryStub`` for options); stopped on exit."""
    with BigQueryStub(tables, **options) as stub:
        yield stub


class _LoginHostsToStub(HTTPAdapter):
    """Sends ``https://<anything>.salesforce.com/...`` to the stub; other URLs go out unchanged.

    simple-salesforce builds login URLs as ``https://{domain}.salesforce.com``, which no domain
    setting can point at 127.0.0.1, so the test session rewrites them.
    """

    def __init__(self, target: str, ca_path: str) -> None:
        super().__init__()
        self._target = urlsplit(target)
        self._ca_path = ca_path

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        parts = urlsplit(request.url or "")
        if (parts.hostname or "").endswith("salesforce.com"):
            request.url = urlunsplit((self._target.scheme, self._target.netloc, parts.path, parts.query, ""))
            parts = urlsplit(request.url)
        if parts.netloc == self._target.netloc:
            # requests lets REQUESTS_CA_BUNDLE override Session.verify, so pin the stub CA here.
            kwargs["verify"] = self._ca_path
        return super().send(request, *args, **kwargs)


def salesforce_session(stub: SalesforceStub) -> requests.Session:
    """A requests session that trusts the stub's CA and routes Salesforce login hosts to it."""
    session = requests.Session()
    session.verify = stub.ca_path
    session.mount("https://", _LoginHostsToStub(stub.url, stub.ca_path))
    return session


def _sample_value(name: str, dtype: pl.DataType, object_name: str, record_id: str) -> Any:
    if name == "Id":
        return record_id
    if dtype == pl.Boolean:
        return False
    if dtype == pl.Float64:
        return 100.0
    if dtype == pl.Date:
        return "2024-05-01"
    if dtype == UTC_DATETIME:
        return "2024-04-01T08:00:00.000+0000"
    if name == "CurrencyIsoCode":
        return "USD"
    return f"{object_name} {name} {record_id}"


def sf_record(object_name: str, record_id: str, modstamp: str | datetime, **values: Any) -> dict[str, Any]:
    """One record of a contract object as REST JSON returns it; unspecified fields get samples."""
    stamp = modstamp if isinstance(modstamp, datetime) else parse_sf_datetime(modstamp)
    table = SALESFORCE_OBJECTS[object_name]
    record = {name: _sample_value(name, dtype, object_name, record_id) for name, dtype in table.columns.items()}
    record.update({"IsDeleted": False, "SystemModstamp": rest_datetime(stamp)})
    record.update(values)
    return record


def warehouse_sample_value(dtype: pl.DataType, index: int) -> Any:
    """A Python value BigQuery would hand back for a contract column type (NUMERIC as Decimal)."""
    if dtype == pl.Int64:
        return index
    if dtype == pl.Float64:
        return Decimal(f"{index}.25")
    if dtype == pl.Date:
        return date(2024, 5, 1)
    if dtype == UTC_DATETIME:
        return datetime(2024, 5, 2, 6, 30, tzinfo=UTC)
    if dtype == pl.Boolean:
        return index % 2 == 0
    return f"v{index}"
