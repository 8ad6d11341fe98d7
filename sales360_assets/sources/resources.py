"""Dagster resources for every external system.

Each resource hands assets a *client* with one protocol whatever the backend, so assets never
know whether they read the embedded sample sources or a live system. With no credentials
configured the embedded backend under ``sources_dir`` is used.

Credentials come from the environment through ``dg.EnvVar`` (see ``*_resource_from_env``), so
run config and the UI show the variable's name, never its value.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dagster as dg

from sales360_assets.settings import enabled_sources, source_switched_off
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.salesforce import CrmClient, LocalCrmClient, SwitchedOffCrmClient
from sales360_assets.sources.warehouse import LocalWarehouseClient, WarehouseClient

GIB = 1024**3

# The resource settings each live client takes under the same name.
SALESFORCE_CLIENT_SETTINGS = (
    "username",
    "password",
    "security_token",
    "domain",
    "consumer_key",
    "consumer_secret",
    "instance_url",
    "session_id",
    "api_version",
    "bulk_threshold",
    "max_retries",
)
WAREHOUSE_CLIENT_SETTINGS = (
    "project",
    "dataset",
    "location",
    "credentials_path",
    "api_endpoint",
    "maximum_bytes_billed",
)


def _settings(resource: dg.ConfigurableResource, names: tuple[str, ...]) -> dict[str, Any]:
    return {name: getattr(resource, name) for name in names}


class SalesforceResource(dg.ConfigurableResource):
    """Salesforce CRM. Embedded default: SOQL-shaped pages under ``<sources_dir>/crm``.

    Live when credentials are set: username + password (+ security token), or OAuth client
    credentials (consumer key + secret, with the My Domain in ``domain``), or instance URL +
    session id.
    """

    sources_dir: str
    # Re-read this much before the high-water mark: records committed in Salesforce after an
    # extract started can carry a SystemModstamp slightly earlier than the newest one it saw.
    lookback_minutes: int = 15
    username: str | None = None
    password: str | None = None
    security_token: str | None = None
    # login (production), test (sandbox) or the My Domain as simple-salesforce takes it, e.g.
    # "acme.my" or "acme--uat.sandbox.my"; anything else is refused (it is the login URL's host).
    domain: str = "login"
    consumer_key: str | None = None
    consumer_secret: str | None = None
    instance_url: str | None = None
    session_id: str | None = None
    # Above this many records in a window, extract with Bulk API 2.0 instead of REST queries.
    bulk_threshold: int = 10_000
    api_version: str | None = None
    max_retries: int = 5

    @property
    def is_live(self) -> bool:
        return bool(
            (self.username and self.password)
            or (self.consumer_key and self.consumer_secret)
            or (self.instance_url and self.session_id)
        )

    def get_client(self) -> CrmClient:
        # Read at run time: a crm/ folder that appears later switches the CRM on without a redeploy.
        off = source_switched_off("salesforce", None if self.is_live else Path(self.sources_dir) / "crm")
        if off is not None:
            return SwitchedOffCrmClient(off)
        if not self.is_live:
            return LocalCrmClient(Path(self.sources_dir) / "crm")
        # Imported here so the embedded default never loads the Salesforce client stack.
        from sales360_assets.sources.salesforce_live import SalesforceLiveClient

        return SalesforceLiveClient(**_settings(self, SALESFORCE_CLIENT_SETTINGS))


class WarehouseResource(dg.ConfigurableResource):
    """The BigQuery warehouse. Embedded default: Parquet under ``<sources_dir>/warehouse``.

    Live when ``project`` and ``dataset`` are set; credentials from ``credentials_path`` or
    Application Default Credentials; ``api_endpoint`` overrides the API host (emulators, tests).
    """

    sources_dir: str
    project: str | None = None
    dataset: str | None = None
    location: str | None = None
    credentials_path: str | None = None
    api_endpoint: str | None = None
    # Cost guard: a query that would scan more is refused before it runs, and BigQuery stops any
    # job that would bill more. At least 10 MiB (BigQuery's minimum).
    maximum_bytes_billed: int = 10 * GIB
    # How long a failing request (unreachable endpoint, 5xx, rate limit) is retried, each retry
    # logged with the time left; then the step fails as transient. 1 to 3600.
    retry_deadline_seconds: int = 120

    @property
    def is_live(self) -> bool:
        return bool(self.project and self.dataset)

    def get_client(self) -> WarehouseClient:
        if not self.is_live:
            return LocalWarehouseClient(Path(self.sources_dir) / "warehouse")
        from sales360_assets.sources.bigquery_live import BigQueryLiveClient

        assert self.project and self.dataset
        return BigQueryLiveClient(
            **_settings(self, WAREHOUSE_CLIENT_SETTINGS), retry_deadline=self.retry_deadline_seconds
        )


class LandingZoneResource(dg.ConfigurableResource):
    """Folder where POS/ERP systems drop their daily files (``<sources_dir>/landing``)."""

    root: str

    def get_landing_zone(self) -> LandingZone:
        return LandingZone(Path(self.root))


SALESFORCE_ENV: dict[str, str] = {
    "username": "SALESFORCE_USERNAME",
    "password": "SALESFORCE_PASSWORD",
    "security_token": "SALESFORCE_SECURITY_TOKEN",
    "domain": "SALESFORCE_DOMAIN",
    "consumer_key": "SALESFORCE_CONSUMER_KEY",
    "consumer_secret": "SALESFORCE_CONSUMER_SECRET",
    "instance_url": "SALESFORCE_INSTANCE_URL",
    "session_id": "SALESFORCE_SESSION_ID",
}
SALESFORCE_INT_ENV: dict[str, str] = {"bulk_threshold": "SALESFORCE_BULK_THRESHOLD"}

WAREHOUSE_ENV: dict[str, str] = {
    "project": "BIGQUERY_PROJECT",
    "dataset": "BIGQUERY_DATASET",
    "location": "BIGQUERY_LOCATION",
    "credentials_path": "GOOGLE_APPLICATION_CREDENTIALS",
    "api_endpoint": "BIGQUERY_API_ENDPOINT",
}
WAREHOUSE_INT_ENV: dict[str, str] = {
    "maximum_bytes_billed": "BIGQUERY_MAXIMUM_BYTES_BILLED",
    "retry_deadline_seconds": "BIGQUERY_RETRY_DEADLINE_SECONDS",
}


def _env_fields(strings: dict[str, str], integers: dict[str, str]) -> dict[str, Any]:
    # Only variables that are set (and non-empty): an EnvVar of an unset variable fails when
    # Dagster loads the definitions, and an empty one would turn "not configured" into "".
    fields: dict[str, Any] = {name: dg.EnvVar(var) for name, var in strings.items() if os.environ.get(var)}
    fields.update({name: dg.EnvVar.int(var) for name, var in integers.items() if os.environ.get(var)})
    return fields


def salesforce_resource_from_env(sources_dir: str) -> SalesforceResource:
    """SalesforceResource wired to the SALESFORCE_* variables that are set (embedded when none)."""
    # A misspelt SALES360_SOURCES is refused when the definitions load, not in the first extraction.
    enabled_sources()
    return SalesforceResource(sources_dir=sources_dir, **_env_fields(SALESFORCE_ENV, SALESFORCE_INT_ENV))


def warehouse_resource_from_env(sources_dir: str) -> WarehouseResource:
    """WarehouseResource wired to BIGQUERY_* / GOOGLE_APPLICATION_CREDENTIALS (embedded when unset).

    GOOGLE_APPLICATION_CREDENTIALS alone does not switch to BigQuery: BIGQUERY_PROJECT and
    BIGQUERY_DATASET say which data to read. The byte cap and retry deadline are checked here,
    when the definitions load, rather than in the first query of the first run.
    """
    cap, deadline = (os.environ.get(WAREHOUSE_INT_ENV[k]) for k in ("maximum_bytes_billed", "retry_deadline_seconds"))
    if cap or deadline:
        # Only when set: the embedded default never loads the Google client libraries.
        from sales360_assets.sources.bigquery_limits import check_maximum_bytes_billed, check_retry_deadline

        if cap:
            check_maximum_bytes_billed(cap)
        if deadline:
            check_retry_deadline(deadline)
    return WarehouseResource(sources_dir=sources_dir, **_env_fields(WAREHOUSE_ENV, WAREHOUSE_INT_ENV))
