"""A Salesforce org on 127.0.0.1 over HTTPS, enough for simple-salesforce to extract from.

Serves (API version taken from the path):

* ``POST /services/Soap/u/<v>`` — SOAP username/password(+token) login;
* ``POST /services/oauth2/token`` — OAuth client credentials (Basic auth) and password grants;
* ``GET /services/data/v<v>/sobjects/<Obj>/describe[/]``;
* ``GET /services/data/v<v>/query/`` and ``/queryAll/?q=<SOQL>`` with ``SELECT <fields>|COUNT()
  FROM <Obj> [WHERE SystemModstamp >=|>|<=|< <datetime> [AND ...]] [ORDER BY ...] [LIMIT n]``,
  pages of ``page_size`` records chained by ``nextRecordsUrl``; ``query/`` hides ``IsDeleted`` rows;
* ``GET /services/data/v<v>/limits/`` and the ``Sforce-Limit-Info`` header on REST answers;
* Bulk API 2.0 query jobs: ``POST jobs/query``, ``GET jobs/query/<id>`` (``InProgress`` for
  ``bulk_polls_before_complete`` polls, then ``JobComplete``), ``GET jobs/query/<id>/results``
  (CSV pages with ``Sforce-Locator`` / ``Sforce-NumberOfRecords``).

Like a real org, a Bulk query job that selects a compound (``address``, ``location``) or
``base64`` field is refused; ``extra_fields`` adds such fields (or any others) to an object's
contract describe().

Faults (``inject(kind, times)``; they hit ``/services/data`` requests only): ``"429"``,
``"500"``, ``"503"``, ``"request_limit"`` (403 REQUEST_LIMIT_EXCEEDED), ``"expired"`` (401
INVALID_SESSION_ID), ``"malformed"`` (400 MALFORMED_QUERY), ``"forbidden"`` (403
INSUFFICIENT_ACCESS), ``"reset"`` (connection closed without an answer). Unknown fields answer
400 INVALID_FIELD, unknown objects 404 NOT_FOUND, bad credentials the SOAP/OAuth login faults.

Records are seeded as REST JSON would return them (datetimes ``2024-05-01T10:00:00.000+0000``);
``attributes`` is added by the stub. Seeds may hold several versions of a record (a change log);
like a real org, queries answer with each record's current version only (``current_versions``),
and ``upsert`` adds a newer version. Login hosts (``https://<domain>.salesforce.com``) reach the
stub through the session from ``fixtures.salesforce_session``.
"""

from __future__ import annotations

import base64
import csv
import io
import itertools
import re
import ssl
import tempfile
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from html import unescape
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs

import polars as pl
import trustme

from sales360_assets.sources.contract import UTC_DATETIME
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets_tests.stubs import RecordedRequest, StubRequest, StubResponse, StubServer

_SELECT = re.compile(
    r"^\s*SELECT\s+(?P<select>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>[\w\s,]+?))?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*(?P<op>>=|<=|>|<|=)\s*(?P<value>\S+)\s*$")
_DATA_PATH = re.compile(r"^/services/data/v(?P<version>\d+\.\d+)/(?P<rest>.*)$")

# describe() types a Bulk API 2.0 query cannot select.
_NOT_IN_BULK = frozenset({"address", "location", "base64"})

_SOAP_NS = {"soapenv": "http://schemas.xmlsoap.org/soap/envelope/", "urn": "urn:partner.soap.sforce.com"}

_CONTRACT_FIELD_TYPES: dict[Any, str] = {
    pl.String: "string",
    pl.Boolean: "boolean",
    pl.Float64: "double",
    pl.Int64: "int",
    pl.Date: "date",
    UTC_DATETIME: "datetime",
}


def parse_sf_datetime(value: str) -> datetime:
    """A REST datetime (``...000+0000``), Bulk one (``...000Z``) or SOQL literal, as aware UTC."""
    text = value.strip()
    if text.endswith("Z"):
        text = text[:-1] + "+00:00"
    text = re.sub(r"([+-]\d{2})(\d{2})$", r"\1:\2", text)
    return datetime.fromisoformat(text).astimezone(UTC)


def rest_datetime(value: datetime) -> str:
    value = value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


def describe_fields_from_contract(object_name: str) -> list[dict[str, Any]]:
    table = SALESFORCE_OBJECTS[object_name]
    return [
        {
            "name": name,
            "type": "id" if name == "Id" else _CONTRACT_FIELD_TYPES.get(dtype, "string"),
            "nillable": name not in table.required_columns,
        }
        for name, dtype in table.columns.items()
    ]


def _csv_value(value: Any) -> str:
    """A REST JSON value as Bulk API 2.0 CSV writes it: text only, empty for null."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str) and re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000", value):
        return value[:-5] + "Z"
    return str(value)


class SalesforceStub(StubServer):
    """An in-memory org. ``objects`` maps object name to its records (REST JSON values)."""

    def __init__(
        self,
        objects: Mapping[str, Iterable[Mapping[str, Any]]],
        *,
        fields: Mapping[str, Iterable[str | Mapping[str, Any]]] | None = None,
        extra_fields: Mapping[str, Iterable[Mapping[str, Any]]] | None = None,
        page_size: int = 2000,
        bulk_page_size: int = 50_000,
        bulk_polls_before_complete: int = 1,
        username: str = "integration@example.com",
        password: str = "stub-password",
        security_token: str = "stub-token",
        consumer_key: str = "stub-consumer-key",
        consumer_secret: str = "stub-consumer-secret",
        session_id: str = "00DSTUB!preset-session",
        api_max: int = 15_000,
        api_used: int = 100,
    ) -> None:
        super().__init__()
        self.objects: dict[str, list[dict[str, Any]]] = {k: [dict(r) for r in v] for k, v in objects.items()}
        self.describes: dict[str, list[dict[str, Any]]] = {}
        for name in self.objects:
            given = (fields or {}).get(name)
            if given is not None:
                self.describes[name] = [
                    {"name": f, "type": "string", "nillable": True} if isinstance(f, str) else dict(f) for f in given
                ]
            elif name in SALESFORCE_OBJECTS:
                self.describes[name] = describe_fields_from_contract(name)
            else:
                keys = dict.fromkeys(k for r in self.objects[name] for k in r)
                self.describes[name] = [{"name": k, "type": "string", "nillable": True} for k in keys]
            self.describes[name] += [dict(f) for f in (extra_fields or {}).get(name, [])]
        self.page_size = page_size
        self.bulk_page_size = bulk_page_size
        self.bulk_polls_before_complete = bulk_polls_before_complete
        self.username = username
        self.password = password
        self.security_token = security_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.preset_session_id = session_id
        self.api_max = api_max
        self.api_used = api_used
        self.valid_sessions: set[str] = {session_id}
        self.logins = 0
        self._ids = itertools.count(1)
        self._cursors: dict[str, list[dict[str, Any]]] = {}
        self._jobs: dict[str, dict[str, Any]] = {}

        self._tmp = tempfile.TemporaryDirectory(prefix="sf-stub-")
        self.ca = trustme.CA()
        self.ca_path = str(Path(self._tmp.name) / "ca.pem")
        self.ca.cert_pem.write_to_path(self.ca_path)
        context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
        self.ssl_context = context

    def stop(self) -> None:
        super().stop()
        self._tmp.cleanup()

    # --- test helpers ---------------------------------------------------------------------------

    def expire_sessions(self) -> None:
        """Every issued session (the preset one too) now answers 401 INVALID_SESSION_ID."""
        with self.lock:
            self.valid_sessions.clear()

    def soql_received(self) -> list[str]:
        """Every SOQL text received, in order (REST query/queryAll and Bulk job creation)."""
        with self.lock:
            return [r.info["soql"] for r in self.requests if "soql" in r.info]

    def upsert(self, object_name: str, *records: Mapping[str, Any]) -> None:
        """A change in the org: each record is a new version (queries then answer with it if newest)."""
        with self.lock:
            self.objects.setdefault(object_name, []).extend(dict(r) for r in records)

    def current_versions(self, object_name: str) -> list[dict[str, Any]]:
        """What the org holds now: one row per record, its latest version (later-listed wins a tie).

        ``objects`` may hold a record's whole change log (the sample generator's pages), but a real
        org's query/queryAll never returns an earlier version; history is in history objects.
        Versions stamped after the wall clock have not happened yet.
        """
        now = datetime.now(UTC)
        with self.lock:
            log = [dict(r) for r in self.objects[object_name]]
        current: dict[str, tuple[datetime, dict[str, Any]]] = {}
        for record in log:
            stamp = parse_sf_datetime(record["SystemModstamp"])
            seen = current.get(record["Id"])
            if stamp <= now and (seen is None or stamp >= seen[0]):
                current[record["Id"]] = (stamp, record)
        return [record for _, record in current.values()]

    # --- dispatch -------------------------------------------------------------------------------

    def record_body(self, request: StubRequest) -> str | None:
        if request.path.startswith("/services/Soap/") or request.path.startswith("/services/oauth2/"):
            return "<credentials withheld>"
        return super().record_body(request)

    def handle(self, request: StubRequest, record: RecordedRequest) -> StubResponse:
        if request.method == "POST" and request.path.startswith("/services/Soap/u/"):
            return self._soap_login(request)
        if request.method == "POST" and request.path == "/services/oauth2/token":
            return self._oauth_token(request)
        match = _DATA_PATH.match(request.path)
        if match is None:
            return self._error(404, "NOT_FOUND", f"no stub route for {request.path}")
        fault = self.take_fault(request)
        if fault is not None:
            record.info["fault"] = fault
            return self._fault(fault)
        if request.bearer_token not in self.valid_sessions:
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        with self.lock:
            self.api_used += 1
        rest = match.group("rest").rstrip("/")
        version = match.group("version")
        limit_header = {"Sforce-Limit-Info": f"api-usage={self.api_used}/{self.api_max}"}
        response = self._route(request, record, rest, version)
        if not rest.startswith("jobs/"):
            response.headers.update(limit_header)
        return response

    def _route(self, request: StubRequest, record: RecordedRequest, rest: str, version: str) -> StubResponse:
        parts = rest.split("/")
        if request.method == "GET" and len(parts) == 3 and parts[0] == "sobjects" and parts[2] == "describe":
            return self._describe(parts[1])
        if request.method == "GET" and parts[0] in ("query", "queryAll"):
            include_deleted = parts[0] == "queryAll"
            if len(parts) == 1:
                return self._query(request.param("q") or "", include_deleted, record, version)
            return self._next_page(parts[1], version, parts[0])
        if request.method == "GET" and rest == "limits":
            return StubResponse.json(
                {"DailyApiRequests": {"Max": self.api_max, "Remaining": self.api_max - self.api_used}}
            )
        if parts[:2] == ["jobs", "query"]:
            if request.method == "POST" and len(parts) == 2:
                return self._bulk_create(request, record)
            if request.method == "GET" and len(parts) == 3:
                return self._bulk_status(parts[2])
            if request.method == "GET" and len(parts) == 4 and parts[3] == "results":
                return self._bulk_results(parts[2], request)
        return self._error(404, "NOT_FOUND", f"The requested resource does not exist: {rest}")

    # --- auth -----------------------------------------------------------------------------------

    def _issue_session(self) -> str:
        with self.lock:
            session_id = f"00DSTUB!session-{next(self._ids)}"
            self.valid_sessions.add(session_id)
            self.logins += 1
            return session_id

    def _soap_login(self, request: StubRequest) -> StubResponse:
        root = ET.fromstring(request.body)
        username = root.findtext(".//urn:username", namespaces=_SOAP_NS) or ""
        password = root.findtext(".//urn:password", namespaces=_SOAP_NS) or ""
        # simple-salesforce HTML-escapes both, then sends password and token concatenated.
        if unescape(username) != self.username or unescape(password) != self.password + self.security_token:
            fault = (
                '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
                'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
                'xmlns:sf="urn:fault.partner.soap.sforce.com"><soapenv:Body><soapenv:Fault>'
                "<faultcode>INVALID_LOGIN</faultcode><faultstring>INVALID_LOGIN: Invalid username, "
                "password, security token; or user locked out.</faultstring><detail><sf:LoginFault>"
                "<sf:exceptionCode>INVALID_LOGIN</sf:exceptionCode><sf:exceptionMessage>Invalid "
                "username, password, security token; or user locked out.</sf:exceptionMessage>"
                "</sf:LoginFault></detail></soapenv:Fault></soapenv:Body></soapenv:Envelope>"
            )
            return StubResponse(500, fault.encode(), {"Content-Type": "text/xml;charset=UTF-8"})
        session_id = self._issue_session()
        version = request.path.rsplit("/", 1)[-1]
        body = (
            '<?xml version="1.0" encoding="UTF-8"?><soapenv:Envelope '
            'xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" '
            'xmlns="urn:partner.soap.sforce.com"><soapenv:Body><loginResponse><result>'
            f"<serverUrl>{self.url}/services/Soap/u/{version}/00DSTUB</serverUrl>"
            f"<sessionId>{session_id}</sessionId><userName>{self.username}</userName>"
            "</result></loginResponse></soapenv:Body></soapenv:Envelope>"
        )
        return StubResponse(200, body.encode(), {"Content-Type": "text/xml;charset=UTF-8"})

    def _oauth_token(self, request: StubRequest) -> StubResponse:
        form = {k: v[0] for k, v in parse_qs(request.body.decode()).items()}
        grant = form.get("grant_type")
        ok = False
        if grant == "client_credentials":
            auth = request.headers.get("authorization", "")
            if auth.startswith("Basic "):
                key, _, secret = base64.b64decode(auth[6:]).decode().partition(":")
                ok = key == self.consumer_key and secret == self.consumer_secret
        elif grant == "password":
            ok = (
                form.get("client_id") == self.consumer_key
                and form.get("client_secret") == self.consumer_secret
                and form.get("username") == self.username
                and form.get("password") in (self.password, self.password + self.security_token)
            )
        if not ok:
            return StubResponse.json(
                {"error": "invalid_client", "error_description": "invalid client credentials"}, status=400
            )
        return StubResponse.json(
            {
                "access_token": self._issue_session(),
                "instance_url": self.url,
                "id": f"{self.url}/id/00DSTUB/005STUB",
                "token_type": "Bearer",
                "issued_at": "1700000000000",
            }
        )

    # --- REST -----------------------------------------------------------------------------------

    @staticmethod
    def _error(status: int, code: str, message: str) -> StubResponse:
        return StubResponse.json([{"message": message, "errorCode": code}], status=status)

    def _fault(self, kind: str) -> StubResponse:
        if kind == "429":
            return self._error(429, "TOO_MANY_REQUESTS", "Too many requests")
        if kind in ("500", "503"):
            return self._error(int(kind), "SERVER_UNAVAILABLE", "Service temporarily unavailable")
        if kind == "request_limit":
            return self._error(403, "REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded.")
        if kind == "expired":
            return self._error(401, "INVALID_SESSION_ID", "Session expired or invalid")
        if kind == "malformed":
            return self._error(400, "MALFORMED_QUERY", "unexpected token: 'FROM'")
        if kind == "forbidden":
            return self._error(403, "INSUFFICIENT_ACCESS", "insufficient access rights on object id")
        if kind == "reset":
            return StubResponse(drop=True)
        raise ValueError(f"unknown Salesforce stub fault {kind!r}")

    def _describe(self, object_name: str) -> StubResponse:
        if object_name not in self.describes:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        return StubResponse.json(
            {
                "name": object_name,
                "queryable": True,
                "retrieveable": True,
                "fields": self.describes[object_name],
            }
        )

    def run_soql(self, soql: str, include_deleted: bool) -> tuple[list[dict[str, Any]] | int, dict[str, Any]]:
        """Evaluate SOQL: (records or COUNT() result, facts about the query); raises ValueError."""
        match = _SELECT.match(soql)
        if match is None:
            raise _SoqlError("MALFORMED_QUERY", f"unexpected token in: {soql[:80]}")
        object_name = match.group("object")
        if object_name not in self.objects:
            raise _SoqlError("INVALID_TYPE", f"sObject type '{object_name}' is not supported.")
        offered = {f["name"] for f in self.describes[object_name]}
        select = match.group("select").strip()
        count_only = select.upper() == "COUNT()"
        fields = [] if count_only else [f.strip() for f in select.split(",")]
        for name in fields:
            if name not in offered:
                raise _SoqlError("INVALID_FIELD", f"No such column '{name}' on entity '{object_name}'.")
        bounds: list[tuple[str, str, datetime]] = []
        if match.group("where"):
            for condition in re.split(r"\s+AND\s+", match.group("where"), flags=re.IGNORECASE):
                parsed = _CONDITION.match(condition)
                if parsed is None or parsed.group("field") != "SystemModstamp":
                    raise _SoqlError("MALFORMED_QUERY", f"stub understands SystemModstamp bounds only: {condition!r}")
                try:
                    bounds.append(("SystemModstamp", parsed.group("op"), parse_sf_datetime(parsed.group("value"))))
                except ValueError:
                    raise _SoqlError("MALFORMED_QUERY", f"invalid datetime literal {parsed.group('value')!r}") from None
        rows = self.current_versions(object_name)
        if not include_deleted:
            rows = [r for r in rows if not r.get("IsDeleted")]
        for _, op, bound in bounds:
            compare = {">=": bound.__le__, ">": bound.__lt__, "<=": bound.__ge__, "<": bound.__gt__, "=": bound.__eq__}[
                op
            ]
            rows = [r for r in rows if compare(parse_sf_datetime(r["SystemModstamp"]))]
        facts: dict[str, Any] = {
            "soql": soql,
            "object": object_name,
            "fields": fields,
            "count_only": count_only,
            "bounds": [(op, value) for _, op, value in bounds],
            "order_by": (match.group("order") or "").strip() or None,
        }
        if count_only:
            return len(rows), facts
        if facts["order_by"]:
            keys = [k.strip() for k in facts["order_by"].split(",")]
            rows.sort(
                key=lambda r: tuple(
                    str(r.get(k) or "") if k != "SystemModstamp" else parse_sf_datetime(r[k]) for k in keys
                )
            )
        if match.group("limit"):
            rows = rows[: int(match.group("limit"))]
        projected = [{name: row.get(name) for name in fields} for row in rows]
        return projected, facts

    def _query(self, soql: str, include_deleted: bool, record: RecordedRequest, version: str) -> StubResponse:
        record.info["soql"] = soql
        record.info["include_deleted"] = include_deleted
        try:
            result, facts = self.run_soql(soql, include_deleted)
        except _SoqlError as exc:
            return self._error(400, exc.code, exc.message)
        record.info.update(facts)
        if isinstance(result, int):
            return StubResponse.json({"totalSize": result, "done": True, "records": []})
        object_name = facts["object"]
        records = [
            {
                "attributes": {
                    "type": object_name,
                    "url": f"/services/data/v{version}/sobjects/{object_name}/{r.get('Id')}",
                },
                **r,
            }
            for r in result
        ]
        cursor = f"01gSTUB{next(self._ids):06d}"
        with self.lock:
            self._cursors[cursor] = records
        return self._page(cursor, 0, version, "queryAll" if include_deleted else "query")

    def _page(self, cursor: str, offset: int, version: str, endpoint: str) -> StubResponse:
        records = self._cursors[cursor]
        page = records[offset : offset + self.page_size]
        following = offset + len(page)
        body: dict[str, Any] = {"totalSize": len(records), "done": following >= len(records), "records": page}
        if following < len(records):
            body["nextRecordsUrl"] = f"/services/data/v{version}/{endpoint}/{cursor}-{following}"
        return StubResponse.json(body)

    def _next_page(self, locator: str, version: str, endpoint: str) -> StubResponse:
        cursor, _, offset = locator.rpartition("-")
        if cursor not in self._cursors or not offset.isdigit():
            return self._error(400, "INVALID_QUERY_LOCATOR", "invalid query locator")
        return self._page(cursor, int(offset), version, endpoint)

    # --- Bulk API 2.0 ---------------------------------------------------------------------------

    def _bulk_create(self, request: StubRequest, record: RecordedRequest) -> StubResponse:
        payload = request.json()
        operation = payload.get("operation")
        soql = payload.get("query") or ""
        record.info["soql"] = soql
        record.info["bulk_operation"] = operation
        if operation not in ("query", "queryAll"):
            return self._error(400, "INVALIDJOB", f"unsupported operation {operation}")
        if "COUNT()" in soql.upper():
            return self._error(400, "INVALIDJOB", "Aggregate Relationships not supported in Bulk Query")
        try:
            result, facts = self.run_soql(soql, include_deleted=operation == "queryAll")
        except _SoqlError as exc:
            return self._error(400, exc.code, exc.message)
        record.info.update(facts)
        types = {f["name"]: f.get("type") for f in self.describes[facts["object"]]}
        refused = [f for f in facts["fields"] if types.get(f) in _NOT_IN_BULK]
        if refused:
            # What a real org answers for compound fields; base64 is refused in Bulk the same way.
            return self._error(
                400, "FUNCTIONALITY_NOT_ENABLED", f"Selecting compound data not supported in Bulk Query: {refused[0]}"
            )
        assert isinstance(result, list)
        rows = [[_csv_value(r.get(f)) for f in facts["fields"]] for r in result]
        job_id = f"750STUB{next(self._ids):08d}"
        with self.lock:
            self._jobs[job_id] = {
                "header": facts["fields"],
                "rows": rows,
                "polls": 0,
                "operation": operation,
                "object": facts["object"],
            }
        return StubResponse.json(
            {
                "id": job_id,
                "operation": operation,
                "object": facts["object"],
                "state": "UploadComplete",
                "contentType": "CSV",
                "columnDelimiter": "COMMA",
                "lineEnding": "LF",
            }
        )

    def _bulk_status(self, job_id: str) -> StubResponse:
        job = self._jobs.get(job_id)
        if job is None:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        with self.lock:
            job["polls"] += 1
            done = job["polls"] > self.bulk_polls_before_complete
        return StubResponse.json(
            {
                "id": job_id,
                "operation": job["operation"],
                "object": job["object"],
                "state": "JobComplete" if done else "InProgress",
                "numberRecordsProcessed": len(job["rows"]) if done else 0,
            }
        )

    def _bulk_results(self, job_id: str, request: StubRequest) -> StubResponse:
        job = self._jobs.get(job_id)
        if job is None:
            return self._error(404, "NOT_FOUND", "The requested resource does not exist")
        size = min(int(request.param("maxRecords") or self.bulk_page_size), self.bulk_page_size)
        offset = int(request.param("locator") or 0)
        page = job["rows"][offset : offset + size]
        following = offset + len(page)
        buffer = io.StringIO(newline="")
        writer = csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="\n")
        writer.writerow(job["header"])
        writer.writerows(page)
        return StubResponse(
            200,
            buffer.getvalue().encode(),
            {
                "Content-Type": "text/csv",
                "Sforce-Locator": str(following) if following < len(job["rows"]) else "null",
                "Sforce-NumberOfRecords": str(len(page)),
            },
        )


class _SoqlError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
