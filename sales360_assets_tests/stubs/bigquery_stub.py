"""A BigQuery REST endpoint on 127.0.0.1 (plain HTTP), enough for google-cloud-bigquery's query path.

Serves under ``/bigquery/v2/projects/<project>``:

* ``POST jobs`` (jobs.insert) — dry runs answer ``statistics.query.totalBytesProcessed`` without
  running; real runs execute at once (state ``DONE``), enforcing ``maximumBytesBilled``;
* ``GET jobs/<id>`` (jobs.get), ``GET queries/<id>`` (getQueryResults, ``pageToken`` pages of
  ``page_size`` rows), ``POST queries`` (jobs.query, first page inline);
* ``GET datasets/<d>/tables/<t>`` (tables.get: the schema).

It understands the SQL the platform sends: ``SELECT <cols> FROM `p.d.t` [WHERE <col> BETWEEN
@a AND @b [AND <col> IN UNNEST(@c)]]``, evaluated with the job's query parameters, which are
recorded decoded in ``record.info["parameters"]``. Bytes "scanned" are ``bytes_per_row`` × rows in
the table; ``dry_run_bytes``, when set, is what dry runs report instead (to make a dry run
under-estimate and exercise the job's own ``maximumBytesBilled`` stop).

Faults (``inject(kind, times)``): ``"500"`` (backendError), ``"503"``, ``"rateLimitExceeded"``
(403), ``"invalidQuery"`` (400), ``"notFound"`` (404), ``"accessDenied"`` (403),
``"bytesBilledLimitExceeded"`` (400), ``"reset"`` (connection closed).
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME, SourceTable
from sales360_assets_tests.stubs import RecordedRequest, StubRequest, StubResponse, StubServer

_PATH = re.compile(r"^/bigquery/v2/projects/(?P<project>[^/]+)/(?P<rest>.*)$")
_SQL = re.compile(
    r"^\s*SELECT\s+(?P<columns>.+?)\s+FROM\s+`(?P<table>[^`]+)`(?:\s+WHERE\s+(?P<where>.+?))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_BETWEEN = re.compile(r"^`?(?P<col>\w+)`?\s+BETWEEN\s+@(?P<lo>\w+)\s+AND\s+@(?P<hi>\w+)$", re.IGNORECASE)
_IN_UNNEST = re.compile(r"^`?(?P<col>\w+)`?\s+IN\s+UNNEST\(\s*@(?P<param>\w+)\s*\)$", re.IGNORECASE)

_CONTRACT_TYPES: dict[Any, str] = {
    pl.String: "STRING",
    pl.Int64: "INT64",
    pl.Float64: "NUMERIC",  # money arrives as NUMERIC (Decimal) and is cast by conform()
    pl.Boolean: "BOOL",
    pl.Date: "DATE",
    UTC_DATETIME: "TIMESTAMP",
}

_ERRORS: dict[str, tuple[int, str, str]] = {
    "500": (500, "backendError", "Backend error. Please try again."),
    "503": (503, "backendError", "The service is currently unavailable."),
    "rateLimitExceeded": (403, "rateLimitExceeded", "Exceeded rate limits: too many api requests per user"),
    "invalidQuery": (400, "invalidQuery", "Syntax error: Unexpected keyword at [1:1]"),
    "notFound": (404, "notFound", "Not found: Table"),
    "accessDenied": (403, "accessDenied", "Access Denied: User does not have bigquery.jobs.create permission"),
    "bytesBilledLimitExceeded": (400, "bytesBilledLimitExceeded", "Query exceeded limit for bytes billed"),
}


@dataclass
class StubTable:
    """A table: BigQuery schema fields and rows of Python values (date, datetime, Decimal...)."""

    schema: list[dict[str, str]]
    rows: list[dict[str, Any]] = field(default_factory=list)


def table_from_contract(table: SourceTable, rows: Iterable[Mapping[str, Any]]) -> StubTable:
    """A stub table typed like BigQuery would hold a contract table (Float64 as NUMERIC)."""
    schema = [
        {"name": name, "type": _CONTRACT_TYPES.get(dtype, "STRING"), "mode": "NULLABLE"}
        for name, dtype in table.columns.items()
    ]
    return StubTable(schema=schema, rows=[dict(r) for r in rows])


def _encode(value: Any, bq_type: str) -> Any:
    """A Python value as the JSON REST API carries a cell (strings, or None)."""
    if value is None:
        return None
    if bq_type == "TIMESTAMP":
        assert isinstance(value, datetime)
        aware = value if value.tzinfo else value.replace(tzinfo=UTC)
        micros = int(aware.timestamp()) * 1_000_000 + aware.microsecond
        # google-cloud-bigquery 3.x always asks for (and parses) int64 microseconds.
        return str(micros)
    if bq_type == "BOOL":
        return "true" if value else "false"
    if bq_type == "DATE":
        return value.isoformat() if isinstance(value, date) else str(value)
    if bq_type in ("NUMERIC", "BIGNUMERIC"):
        return format(Decimal(str(value)), "f")
    return str(value)


def _error(status: int, reason: str, message: str) -> StubResponse:
    return StubResponse.json(
        {
            "error": {
                "code": status,
                "message": message,
                "errors": [{"message": message, "domain": "global", "reason": reason}],
            }
        },
        status=status,
    )


class _QueryError(Exception):
    def __init__(self, status: int, reason: str, message: str) -> None:
        super().__init__(message)
        self.status, self.reason, self.message = status, reason, message


def _decode_parameter(parameter: Mapping[str, Any]) -> Any:
    kind = parameter["parameterType"]["type"]
    value = parameter.get("parameterValue", {})
    if kind == "ARRAY":
        inner = parameter["parameterType"]["arrayType"]["type"]
        return [_decode_scalar(v.get("value"), inner) for v in value.get("arrayValues", [])]
    return _decode_scalar(value.get("value"), kind)


def _decode_scalar(value: Any, kind: str) -> Any:
    if value is None:
        return None
    if kind == "DATE":
        return date.fromisoformat(value)
    if kind == "INT64":
        return int(value)
    if kind == "TIMESTAMP":
        return datetime.fromisoformat(value)
    return value


class BigQueryStub(StubServer):
    """In-memory datasets: ``tables`` maps ``"dataset.table"`` to a StubTable."""

    def __init__(
        self,
        tables: Mapping[str, StubTable],
        *,
        project: str = "stub-project",
        page_size: int = 1000,
        bytes_per_row: int = 100,
        dry_run_bytes: int | None = None,
    ) -> None:
        super().__init__()
        self.project = project
        self.tables = dict(tables)
        self.page_size = page_size
        self.bytes_per_row = bytes_per_row
        self.dry_run_bytes = dry_run_bytes
        self._ids = itertools.count(1)
        self._results: dict[str, dict[str, Any]] = {}

    # --- test helpers ---------------------------------------------------------------------------

    def queries_received(self, *, dry_run: bool | None = None) -> list[RecordedRequest]:
        """Requests that carried a query (jobs.insert / jobs.query), optionally only (non-)dry runs."""
        with self.lock:
            return [
                r for r in self.requests if "query" in r.info and (dry_run is None or r.info.get("dry_run") == dry_run)
            ]

    # --- dispatch -------------------------------------------------------------------------------

    def handle(self, request: StubRequest, record: RecordedRequest) -> StubResponse:
        match = _PATH.match(request.path)
        if match is None:
            return _error(404, "notFound", f"no stub route for {request.path}")
        project, rest = match.group("project"), match.group("rest").rstrip("/")
        fault = self.take_fault(request)
        if fault is not None:
            record.info["fault"] = fault
            if fault == "reset":
                return StubResponse(drop=True)
            status, reason, message = _ERRORS[fault]
            return _error(status, reason, message)
        parts = rest.split("/")
        if request.method == "POST" and rest == "jobs":
            return self._insert(project, request, record)
        if request.method == "POST" and rest == "queries":
            return self._jobs_query(project, request, record)
        if request.method == "GET" and len(parts) == 2 and parts[0] == "jobs":
            return self._get_job(project, parts[1])
        if request.method == "GET" and len(parts) == 2 and parts[0] == "queries":
            return self._query_results(project, parts[1], request)
        if request.method == "GET" and len(parts) == 4 and parts[0] == "datasets" and parts[2] == "tables":
            return self._get_table(project, parts[1], parts[3])
        return _error(404, "notFound", f"Not found: {request.method} {rest}")

    # --- query evaluation -----------------------------------------------------------------------

    def _table(self, reference: str) -> tuple[str, StubTable]:
        pieces = reference.split(".")
        if len(pieces) != 3 or pieces[0] != self.project or f"{pieces[1]}.{pieces[2]}" not in self.tables:
            raise _QueryError(404, "notFound", f"Not found: Table {reference} was not found in location US")
        key = f"{pieces[1]}.{pieces[2]}"
        return key, self.tables[key]

    def _scan_bytes(self, table: StubTable) -> int:
        return self.bytes_per_row * len(table.rows)

    def _evaluate(
        self, sql: str, parameters: Mapping[str, Any]
    ) -> tuple[list[dict[str, str]], list[dict[str, Any]], int]:
        match = _SQL.match(sql)
        if match is None:
            raise _QueryError(400, "invalidQuery", "Syntax error: stub cannot parse the query")
        _, table = self._table(match.group("table"))
        types = {f["name"]: f for f in table.schema}
        columns = [c.strip().strip("`") for c in match.group("columns").split(",")]
        for column in columns:
            if column not in types:
                raise _QueryError(400, "invalidQuery", f"Unrecognized name: {column} at [1:8]")
        rows = table.rows
        if match.group("where"):
            for condition in re.split(
                r"\s+AND\s+(?=`?\w+`?\s+(?:BETWEEN|IN)\b)", match.group("where").strip(), flags=re.IGNORECASE
            ):
                rows = self._filter(rows, condition.strip(), parameters, types)
        schema = [types[c] for c in columns]
        return schema, [{c: r.get(c) for c in columns} for r in rows], self._scan_bytes(table)

    def _filter(
        self,
        rows: list[dict[str, Any]],
        condition: str,
        parameters: Mapping[str, Any],
        types: Mapping[str, Any],
    ) -> list[dict[str, Any]]:
        between = _BETWEEN.match(condition)
        if between is not None:
            col, lo, hi = between.group("col"), between.group("lo"), between.group("hi")
            if col not in types:
                raise _QueryError(400, "invalidQuery", f"Unrecognized name: {col}")
            if lo not in parameters or hi not in parameters:
                raise _QueryError(400, "invalidQuery", f"Query parameter '{lo}' or '{hi}' not found")
            return [r for r in rows if r.get(col) is not None and parameters[lo] <= r[col] <= parameters[hi]]
        in_unnest = _IN_UNNEST.match(condition)
        if in_unnest is not None:
            col, param = in_unnest.group("col"), in_unnest.group("param")
            if col not in types:
                raise _QueryError(400, "invalidQuery", f"Unrecognized name: {col}")
            if param not in parameters:
                raise _QueryError(400, "invalidQuery", f"Query parameter '{param}' not found")
            allowed = set(parameters[param])
            return [r for r in rows if r.get(col) in allowed]
        raise _QueryError(400, "invalidQuery", f"stub does not understand condition {condition!r}")

    def _run(self, project: str, configuration: Mapping[str, Any], record: RecordedRequest) -> dict[str, Any]:
        query = configuration.get("query", {})
        sql = query.get("query", "")
        parameters = {p["name"]: _decode_parameter(p) for p in query.get("queryParameters", [])}
        dry_run = bool(configuration.get("dryRun"))
        limit = query.get("maximumBytesBilled")
        record.info.update(
            {
                "query": sql,
                "parameters": parameters,
                "parameter_types": {
                    p["name"]: p["parameterType"].get("arrayType", p["parameterType"])["type"]
                    for p in query.get("queryParameters", [])
                },
                "dry_run": dry_run,
                "use_query_cache": query.get("useQueryCache"),
                "maximum_bytes_billed": int(limit) if limit is not None else None,
                "use_legacy_sql": query.get("useLegacySql"),
                "labels": configuration.get("labels"),
            }
        )
        if query.get("useLegacySql") is not False:
            raise _QueryError(400, "invalidQuery", "stub speaks standard SQL only (useLegacySql must be false)")
        schema, rows, scanned = self._evaluate(sql, parameters)
        if dry_run and self.dry_run_bytes is not None:
            scanned = self.dry_run_bytes
        if not dry_run and limit is not None and scanned > int(limit):
            raise _QueryError(
                400,
                "bytesBilledLimitExceeded",
                f"Query exceeded limit for bytes billed: {int(limit)}. {scanned} or higher required.",
            )
        return {"schema": schema, "rows": rows, "bytes": scanned, "dry_run": dry_run}

    def _job_resource(
        self, project: str, job_id: str, location: str, configuration: Any, outcome: Mapping[str, Any]
    ) -> dict[str, Any]:
        statistics: dict[str, Any] = {
            "creationTime": "1700000000000",
            "query": {
                "totalBytesProcessed": str(outcome["bytes"]),
                "schema": {"fields": outcome["schema"]},
                "statementType": "SELECT",
            },
        }
        if not outcome["dry_run"]:
            statistics["startTime"] = statistics["endTime"] = "1700000000100"
            statistics["query"]["totalBytesBilled"] = str(outcome["bytes"])
            statistics["query"]["totalRows"] = str(len(outcome["rows"]))
        return {
            "kind": "bigquery#job",
            "id": f"{project}:{location}.{job_id}",
            "jobReference": {"projectId": project, "jobId": job_id, "location": location},
            "configuration": configuration,
            "status": {"state": "DONE"},
            "statistics": statistics,
        }

    def _insert(self, project: str, request: StubRequest, record: RecordedRequest) -> StubResponse:
        body = request.json()
        reference = dict(body.get("jobReference") or {})
        job_id = reference.get("jobId") or f"stubjob_{next(self._ids)}"
        location = reference.get("location") or "US"
        configuration = body.get("configuration", {})
        try:
            outcome = self._run(project, configuration, record)
        except _QueryError as exc:
            return _error(exc.status, exc.reason, exc.message)
        if not outcome["dry_run"]:
            with self.lock:
                self._results[job_id] = {**outcome, "configuration": configuration, "location": location}
        return StubResponse.json(self._job_resource(project, job_id, location, configuration, outcome))

    def _jobs_query(self, project: str, request: StubRequest, record: RecordedRequest) -> StubResponse:
        body = request.json()
        # jobs.query takes the query fields flat; reuse the jobs.insert evaluation.
        configuration = {
            "query": {
                "query": body.get("query"),
                "queryParameters": body.get("queryParameters", []),
                "useLegacySql": body.get("useLegacySql"),
                "useQueryCache": body.get("useQueryCache"),
                "maximumBytesBilled": body.get("maximumBytesBilled"),
            },
            "dryRun": body.get("dryRun"),
            "labels": body.get("labels"),
        }
        try:
            outcome = self._run(project, configuration, record)
        except _QueryError as exc:
            return _error(exc.status, exc.reason, exc.message)
        job_id = f"stubjob_{next(self._ids)}"
        location = body.get("location") or "US"
        if outcome["dry_run"]:
            return StubResponse.json(
                {
                    "jobReference": {"projectId": project, "location": location},
                    "jobComplete": True,
                    "totalBytesProcessed": str(outcome["bytes"]),
                    "schema": {"fields": outcome["schema"]},
                }
            )
        with self.lock:
            self._results[job_id] = {**outcome, "configuration": configuration, "location": location}
        max_results = body.get("maxResults")
        return self._page(project, job_id, 0, int(max_results) if max_results is not None else None)

    def _get_job(self, project: str, job_id: str) -> StubResponse:
        result = self._results.get(job_id)
        if result is None:
            return _error(404, "notFound", f"Not found: Job {project}:{job_id}")
        return StubResponse.json(
            self._job_resource(project, job_id, result["location"], result["configuration"], result)
        )

    def _query_results(self, project: str, job_id: str, request: StubRequest) -> StubResponse:
        if job_id not in self._results:
            return _error(404, "notFound", f"Not found: Job {project}:{job_id}")
        token = request.param("pageToken")
        start = int(token) if token else int(request.param("startIndex") or 0)
        max_results = request.param("maxResults")
        return self._page(project, job_id, start, int(max_results) if max_results is not None else None)

    def _page(self, project: str, job_id: str, start: int, max_results: int | None) -> StubResponse:
        result = self._results[job_id]
        size = self.page_size if max_results is None else min(max_results, self.page_size)
        rows = result["rows"][start : start + size]
        following = start + len(rows)
        body: dict[str, Any] = {
            "kind": "bigquery#getQueryResultsResponse",
            "jobReference": {"projectId": project, "jobId": job_id, "location": result["location"]},
            "jobComplete": True,
            "schema": {"fields": result["schema"]},
            "totalRows": str(len(result["rows"])),
            "totalBytesProcessed": str(result["bytes"]),
            "cacheHit": False,
            "rows": [{"f": [{"v": _encode(row[f["name"]], f["type"])} for f in result["schema"]]} for row in rows],
        }
        if following < len(result["rows"]):
            body["pageToken"] = str(following)
        return StubResponse.json(body)

    def _get_table(self, project: str, dataset: str, table_name: str) -> StubResponse:
        key = f"{dataset}.{table_name}"
        if project != self.project or key not in self.tables:
            return _error(404, "notFound", f"Not found: Table {project}:{key}")
        table = self.tables[key]
        return StubResponse.json(
            {
                "kind": "bigquery#table",
                "id": f"{project}:{key}",
                "tableReference": {"projectId": project, "datasetId": dataset, "tableId": table_name},
                "schema": {"fields": table.schema},
                "numRows": str(len(table.rows)),
                "numBytes": str(self._scan_bytes(table)),
                "type": "TABLE",
            }
        )
