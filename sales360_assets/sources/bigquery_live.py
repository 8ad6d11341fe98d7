"""Live warehouse backend: the ``WarehouseClient`` protocol over google-cloud-bigquery.

Every read is one parameterized standard-SQL query (never string-built values) with an explicit
column list, filtered on the table's partition column so BigQuery prunes partitions. A dry run
first reports the bytes the query would scan; over ``maximum_bytes_billed`` the query is not
sent, and the real job carries the same cap so BigQuery itself stops a runaway. Results come back
as Arrow and go straight to Polars: pandas is never involved. Every retried failure is logged with
its reason and the time left, so an unreachable endpoint is never a silent wait.
"""

from __future__ import annotations

import concurrent.futures
import logging
import re
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, TypeVar

import google.auth
import polars as pl
import requests
from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry
from google.auth import exceptions as auth_exceptions
from google.auth.credentials import AnonymousCredentials, Credentials
from google.cloud import bigquery
from google.cloud.bigquery.retry import DEFAULT_JOB_RETRY, DEFAULT_RETRY

from sales360_assets.sources.bigquery_limits import (
    DEFAULT_RETRY_DEADLINE,
    GIB,
    BigQueryCostLimitError,
    BigQueryLiveError,
    BigQueryPermanentError,
    BigQueryTransientError,
    check_maximum_bytes_billed,
    check_retry_deadline,
    failure_of,
    logged_retry,
    message_of,
    reason_of,
)
from sales360_assets.sources.contract import SourceTable, check_schema_drift
from sales360_assets.sources.routing import route_regions
from sales360_assets.sources.warehouse import conform

logger = logging.getLogger(__name__)

T = TypeVar("T")

_SCOPES = ("https://www.googleapis.com/auth/bigquery",)
# Names spliced into SQL (they cannot be parameters) must look like what BigQuery allows; this
# also rules out backticks, so a quoted identifier cannot be closed early.
_PROJECT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.:_-]*$")
_IDENTIFIER = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# Reasons BigQuery uses for errors that clear by themselves.
_TRANSIENT_REASONS = frozenset(
    {
        "rateLimitExceeded",
        "backendError",
        "internalError",
        "badGateway",
        "jobRateLimitExceeded",
        "jobBackendError",
        "jobInternalError",
    }
)
# Column types an additive-drift column may have and still land as a flat Delta column.
_NESTED_TYPES = frozenset({"RECORD", "STRUCT", "RANGE"})


def _quote(name: str, pattern: re.Pattern[str], what: str) -> str:
    if not pattern.fullmatch(name):
        raise BigQueryPermanentError(f"{what} {name!r} is not a valid BigQuery name; refusing to put it into SQL")
    return name


class BigQueryLiveClient:
    """Reads contract tables from ``<project>.<dataset>``; implements ``WarehouseClient``.

    Credentials: ``credentials`` if given, else the JSON file at ``credentials_path`` (service
    account or any file ``google.auth`` understands), else anonymous when ``api_endpoint`` is a
    plain-``http://`` emulator (a bearer token must not travel unencrypted, and emulators ignore
    it), else Application Default Credentials.
    """

    def __init__(
        self,
        *,
        project: str,
        dataset: str,
        location: str | None = None,
        credentials: Credentials | None = None,
        credentials_path: str | None = None,
        api_endpoint: str | None = None,
        maximum_bytes_billed: int = 10 * GIB,
        retry_deadline: float = DEFAULT_RETRY_DEADLINE,
        retry_initial_delay: float = 1.0,
        retry_max_delay: float = 60.0,
        page_size: int | None = None,
        labels: dict[str, str] | None = None,
        client: bigquery.Client | None = None,
    ) -> None:
        self.project = _quote(project, _PROJECT, "project")
        self.dataset = _quote(dataset, _IDENTIFIER, "dataset")
        self.location = location
        self.api_endpoint = api_endpoint
        self.maximum_bytes_billed = check_maximum_bytes_billed(maximum_bytes_billed)
        self.retry_deadline = check_retry_deadline(retry_deadline)
        self.page_size = page_size
        self.labels = {"app": "sales360", **(labels or {})}
        self._credentials = credentials
        self._credentials_path = credentials_path
        self._client = client
        self._retry: Retry = logged_retry(DEFAULT_RETRY, self.retry_deadline, retry_initial_delay, retry_max_delay)
        self._job_retry: Retry = logged_retry(
            DEFAULT_JOB_RETRY, self.retry_deadline, retry_initial_delay, retry_max_delay
        )
        self._schemas: dict[str, list[bigquery.SchemaField]] = {}
        # What usage_metadata reports as bigquery_<count>: queries, bytes_to_scan, bytes_billed and rows.
        self._counts: Counter[str] = Counter()
        self._last_job_id: str | None = None

    def __repr__(self) -> str:
        return f"BigQueryLiveClient(project={self.project!r}, dataset={self.dataset!r}, location={self.location!r})"

    # --- plumbing -------------------------------------------------------------------------------

    def _bq(self) -> bigquery.Client:
        if self._client is None:
            credentials = self._credentials
            if credentials is None and self._credentials_path:
                try:
                    credentials, _ = google.auth.load_credentials_from_file(self._credentials_path, scopes=_SCOPES)
                except (OSError, auth_exceptions.DefaultCredentialsError) as exc:
                    raise BigQueryPermanentError(
                        f"cannot load Google credentials from {self._credentials_path} "
                        f"({type(exc).__name__}); point GOOGLE_APPLICATION_CREDENTIALS at a readable "
                        "service-account JSON key"
                    ) from None
            elif credentials is None and self.api_endpoint and self.api_endpoint.startswith("http://"):
                credentials = AnonymousCredentials()  # type: ignore[no-untyped-call]
            try:
                self._client = bigquery.Client(
                    project=self.project,
                    credentials=credentials,
                    location=self.location,
                    client_options={"api_endpoint": self.api_endpoint} if self.api_endpoint else None,
                )
            except auth_exceptions.DefaultCredentialsError:
                raise BigQueryPermanentError(
                    "no Google credentials found: set GOOGLE_APPLICATION_CREDENTIALS to a service-account "
                    "key file, or run `gcloud auth application-default login`"
                ) from None
        return self._client

    def table_reference(self, table: SourceTable) -> str:
        """``project.dataset.table`` (unquoted), for messages and SQL."""
        return f"{self.project}.{self.dataset}.{_quote(table.name, _IDENTIFIER, 'table')}"

    def _translate(self, exc: BaseException, table: SourceTable) -> BigQueryLiveError | None:
        """Our error for a library failure, naming the table and what to do (None: not ours)."""
        ref = f"`{self.table_reference(table)}`"
        if isinstance(exc, api_exceptions.RetryError):
            return BigQueryTransientError(
                f"BigQuery kept failing for {ref} and gave up within the {self.retry_deadline:g}s retry "
                f"deadline, BIGQUERY_RETRY_DEADLINE_SECONDS ({failure_of(exc)}); this is transient: run again later"
            )
        if isinstance(exc, api_exceptions.GoogleAPICallError):
            reason = reason_of(exc)
            message = message_of(exc)
            if reason == "bytesBilledLimitExceeded":
                return BigQueryCostLimitError(
                    f"BigQuery stopped the query on {ref}: it would bill more than maximum_bytes_billed="
                    f"{self.maximum_bytes_billed} bytes ({message}); narrow the partition range or raise "
                    "BIGQUERY_MAXIMUM_BYTES_BILLED"
                )
            code = exc.code if isinstance(exc.code, int) else 0
            if reason in _TRANSIENT_REASONS or code == 429 or code >= 500:
                return BigQueryTransientError(f"BigQuery failed transiently for {ref} ({reason or code}: {message})")
            if isinstance(exc, api_exceptions.NotFound):
                return BigQueryPermanentError(
                    f"BigQuery table {ref} (or its dataset) was not found ({message}); check BIGQUERY_PROJECT, "
                    "BIGQUERY_DATASET and BIGQUERY_LOCATION"
                )
            if isinstance(exc, api_exceptions.Forbidden | api_exceptions.Unauthorized):
                return BigQueryPermanentError(
                    f"permission denied reading BigQuery table {ref} ({reason or code}: {message}); grant the "
                    "service account roles/bigquery.dataViewer on the dataset and roles/bigquery.jobUser "
                    "on the project"
                )
            return BigQueryPermanentError(
                f"BigQuery rejected the query on {ref} ({reason or code}: {message}); check the table's "
                "columns against sales360_assets/sources/contract.py"
            )
        if isinstance(exc, requests.exceptions.SSLError):
            return BigQueryPermanentError(f"TLS verification failed talking to BigQuery for {ref}: {exc}")
        if isinstance(
            exc,
            requests.exceptions.ConnectionError
            | requests.exceptions.Timeout
            | requests.exceptions.ChunkedEncodingError
            | concurrent.futures.TimeoutError
            | auth_exceptions.TransportError,
        ):
            return BigQueryTransientError(f"could not reach BigQuery for {ref} ({type(exc).__name__}: {exc})")
        if isinstance(exc, auth_exceptions.RefreshError):
            return BigQueryPermanentError(
                f"Google credentials were rejected while reading {ref} ({exc}); renew the key or ADC login"
            )
        return None

    def _guarded(self, table: SourceTable, fn: Callable[[], T]) -> T:
        try:
            return fn()
        except BigQueryLiveError:
            raise
        except Exception as exc:
            translated = self._translate(exc, table)
            if translated is None:
                raise
            # Our message carries what matters; the library's traceback would add only noise.
            raise translated from None

    def _columns(self, table: SourceTable) -> list[str]:
        """Contract columns the table has, then added (additive drift) columns; raises on lost required ones."""
        if table.name not in self._schemas:
            ref = self.table_reference(table)
            self._schemas[table.name] = self._guarded(
                table, lambda: list(self._bq().get_table(ref, retry=self._retry).schema)
            )
        schema = self._schemas[table.name]
        offered = [f.name for f in schema]
        added = check_schema_drift(table, offered)
        flat = {f.name for f in schema if f.field_type not in _NESTED_TYPES and f.mode != "REPEATED"}
        skipped = [c for c in added if c not in flat]
        if skipped:
            logger.warning("BigQuery table %s: skipping added nested/repeated column(s) %s", table.name, skipped)
        columns = [c for c in table.columns if c in offered] + [c for c in added if c in flat]
        return [_quote(c, _IDENTIFIER, "column") for c in columns]

    def _run(self, table: SourceTable, sql: str, parameters: list[Any], whole_rows: bool = True) -> pl.DataFrame:
        client = self._bq()

        def dry_run() -> int:
            config = bigquery.QueryJobConfig(
                dry_run=True, use_query_cache=False, query_parameters=parameters, labels=self.labels
            )
            job = client.query(sql, job_config=config, retry=self._retry, job_retry=None)
            return int(job.total_bytes_processed or 0)

        scan = self._guarded(table, dry_run)
        self._counts["bytes_to_scan"] += scan
        if scan > self.maximum_bytes_billed:
            raise BigQueryCostLimitError(
                f"BigQuery query on `{self.table_reference(table)}` would scan {scan} bytes, over "
                f"maximum_bytes_billed={self.maximum_bytes_billed}; not sent. Narrow the partition range "
                "or raise BIGQUERY_MAXIMUM_BYTES_BILLED"
            )

        def execute() -> pl.DataFrame:
            config = bigquery.QueryJobConfig(
                query_parameters=parameters, maximum_bytes_billed=self.maximum_bytes_billed, labels=self.labels
            )
            job = client.query(sql, job_config=config, retry=self._retry, job_retry=self._job_retry)
            self._counts["queries"] += 1
            self._last_job_id = job.job_id
            rows = job.result(retry=self._retry, page_size=self.page_size, job_retry=self._job_retry)
            # Arrow straight from the REST pages: no pandas, and no Storage API client to install.
            arrow = rows.to_arrow(create_bqstorage_client=False)
            self._counts["bytes_billed"] += int(job.total_bytes_billed or 0)
            frame = pl.from_arrow(arrow)
            assert isinstance(frame, pl.DataFrame)
            return frame

        frame = self._guarded(table, execute)
        self._counts["rows"] += frame.height
        # A projection (whole_rows=False) is not the contract's row shape: cast what it has.
        return conform(table, frame) if whole_rows else frame.cast({c: table.columns[c] for c in frame.columns})

    # --- WarehouseClient ------------------------------------------------------------------------

    def partitioned_query(self, table: SourceTable) -> str:
        """The SQL of ``read_partitioned`` (parameters ``@start_date``, ``@end_date``, ``@regions``)."""
        if table.date_column is None or table.region_column is None:
            raise ValueError(f"warehouse table {table.name!r} is not partitioned by date and region")
        date_column = _quote(table.date_column, _IDENTIFIER, "column")
        region_column = _quote(table.region_column, _IDENTIFIER, "column")
        select = ", ".join(f"`{c}`" for c in self._columns(table))
        return (
            f"SELECT {select} FROM `{self.table_reference(table)}` "
            f"WHERE `{date_column}` BETWEEN @start_date AND @end_date "
            f"AND `{region_column}` IN UNNEST(@regions)"
        )

    def read_partitioned(self, table: SourceTable, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame:
        sql = self.partitioned_query(table)
        parameters = [
            bigquery.ScalarQueryParameter("start_date", "DATE", start),
            bigquery.ScalarQueryParameter("end_date", "DATE", end),
            bigquery.ArrayQueryParameter("regions", "STRING", list(regions)),
        ]
        # The SQL matches regions exactly (clustering prunes on it); unrouted spellings are a known
        # gap here (docs/operations.md §5). Routing keeps the raw schema the same as the local reader's.
        return route_regions(self._run(table, sql, parameters), table.region_column or "region", regions)

    def read_loaded_between(self, table: SourceTable, since: datetime, until: datetime) -> pl.DataFrame:
        """Rows loaded in [since, until]: three narrow columns, so the scan is cheap whatever the history."""
        if table.date_column is None or table.region_column is None or table.modified_column is None:
            raise ValueError(f"warehouse table {table.name!r} has no date, region and load-time columns")
        columns = [_quote(c, _IDENTIFIER, "column") for c in (table.date_column, table.region_column)]
        loaded = _quote(table.modified_column, _IDENTIFIER, "column")
        sql = (
            f"SELECT `{columns[0]}`, `{columns[1]}`, `{loaded}` FROM `{self.table_reference(table)}` "
            f"WHERE `{loaded}` BETWEEN @loaded_since AND @loaded_until"
        )
        parameters = [
            bigquery.ScalarQueryParameter("loaded_since", "TIMESTAMP", since),
            bigquery.ScalarQueryParameter("loaded_until", "TIMESTAMP", until),
        ]
        return self._run(table, sql, parameters, whole_rows=False)

    def read_full(self, table: SourceTable) -> pl.DataFrame:
        select = ", ".join(f"`{c}`" for c in self._columns(table))
        return self._run(table, f"SELECT {select} FROM `{self.table_reference(table)}`", [])

    def usage_metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {
            "warehouse_backend": "bigquery",
            "bigquery_table_prefix": f"{self.project}.{self.dataset}",
            **{f"bigquery_{name}": self._counts[name] for name in ("queries", "bytes_to_scan", "bytes_billed")},
            "bigquery_maximum_bytes_billed": self.maximum_bytes_billed,
            "bigquery_rows": self._counts["rows"],
        }
        if self._last_job_id is not None:
            meta["bigquery_last_job_id"] = self._last_job_id
        return meta
