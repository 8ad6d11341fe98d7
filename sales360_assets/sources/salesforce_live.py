"""Live Salesforce backend: the ``CrmClient`` protocol over simple-salesforce.

simple-salesforce does the HTTP and the SOQL quoting; this module adds what a scheduled
extractor needs and the library leaves out: a login domain that cannot point anywhere but
Salesforce, object and field names checked before they reach SOQL (``soql.py``), a SystemModstamp
window read with queryAll (deleted rows arrive as ``IsDeleted`` tombstones), Bulk API 2.0 above a record count, retries with backoff on
transient failures, one re-authentication on an expired session, and error messages that say
what to fix without ever carrying a credential.
"""

from __future__ import annotations

import logging
import random
import time
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime
from typing import Any, TypeVar

import requests
from simple_salesforce import Salesforce, SalesforceLogin
from simple_salesforce.api import DEFAULT_API_VERSION
from simple_salesforce.util import Usage

from sales360_assets.sources.salesforce_auth import AuthMode, SalesforceCredentials, login_domain, maskable
from sales360_assets.sources.salesforce_bulk import BulkQuery
from sales360_assets.sources.salesforce_errors import (
    SalesforceLiveError,
    SalesforcePermanentError,
    SalesforceSessionExpiredError,
    SalesforceTransientError,
    classify,
)
from sales360_assets.sources.soql import build_window_soql, validate_object_name

__all__ = [
    "SalesforceLiveClient",
    "SalesforceLiveError",
    "SalesforcePermanentError",
    "SalesforceSessionExpiredError",
    "SalesforceTransientError",
    "build_window_soql",
    "login_domain",
]

logger = logging.getLogger(__name__)

T = TypeVar("T")

# What the client counts, reported by usage_metadata as salesforce_<count>.
USAGE_COUNTS = ("requests", "retries", "logins", "bulk_jobs", "records")


class SalesforceLiveClient:
    """Reads a Salesforce org through simple-salesforce; implements ``CrmClient``.

    Authentication, in order of preference: username + password (+ security token) over the
    SOAP login, OAuth client credentials (consumer key + secret; needs the My Domain in
    ``domain``), or a ready ``instance_url`` + ``session_id`` (cannot be renewed). ``domain`` is
    ``login`` (production), ``test`` (sandbox) or the My Domain prefix (``acme.my``).
    """

    def __init__(
        self,
        *,
        username: str | None = None,
        password: str | None = None,
        security_token: str | None = None,
        domain: str = "login",
        consumer_key: str | None = None,
        consumer_secret: str | None = None,
        instance_url: str | None = None,
        session_id: str | None = None,
        api_version: str | None = None,
        session: requests.Session | None = None,
        bulk_threshold: int | None = 10_000,
        bulk_page_size: int = 50_000,
        bulk_poll_interval: float = 2.0,
        bulk_timeout: float = 3600.0,
        max_retries: int = 5,
        backoff_base: float = 1.0,
        backoff_max: float = 60.0,
        request_timeout: float = 120.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        # Checked first: the domain decides where credentials are sent.
        domain = login_domain(domain)
        self._credentials = SalesforceCredentials(
            username, password, security_token, consumer_key, consumer_secret, instance_url, session_id
        )
        self._mode: AuthMode = self._credentials.mode(domain)
        if max_retries < 0:
            raise ValueError("max_retries must be >= 0")
        self.domain = domain
        self.api_version = api_version or DEFAULT_API_VERSION
        self._http = session or requests.Session()
        self.bulk_threshold = bulk_threshold
        self.bulk_page_size = bulk_page_size
        self.bulk_poll_interval = bulk_poll_interval
        self.bulk_timeout = bulk_timeout
        self.max_retries = max_retries
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self.request_timeout = request_timeout
        self._sleep = sleep

        self._sf: Salesforce | None = None
        # Every session id this client held, so an expired one is still masked in messages.
        self._issued_sessions: set[str] = set()
        self._describes: dict[str, dict[str, Any]] = {}
        self._api_usage: Usage | None = None
        self._counts: Counter[str] = Counter()
        self._last_path: str | None = None

    def __repr__(self) -> str:
        # Never show credentials, whatever prints the client.
        return f"SalesforceLiveClient(auth={self._mode!r}, domain={self.domain!r}, api={self.api_version})"

    # --- connection and error handling ---------------------------------------------------------

    def _secrets(self) -> list[str]:
        return maskable([*self._credentials.secrets(), *self._issued_sessions])

    def _login_target(self) -> dict[str, Any]:
        """Where and how a login goes: the checked domain, the API version and our HTTP session."""
        return {"domain": self.domain, "sf_version": self.api_version, "session": self._http}

    def _redact(self, text: str) -> str:
        for secret in self._secrets():
            text = text.replace(secret, "***")
        return text

    def _connect(self) -> Salesforce:
        credentials = self._credentials
        if self._mode == "session":
            assert credentials.instance_url and credentials.session_id
            return Salesforce(
                instance_url=credentials.instance_url,
                session_id=credentials.session_id,
                session=self._http,
                version=self.api_version,
            )
        # Log in ourselves and hand simple-salesforce a plain session: its own silent re-login on
        # 401 would retry up to four times, hiding the "re-authenticate once" rule we enforce.
        self._counts["logins"] += 1
        self._counts["requests"] += 1
        if self._mode == "password":
            session_id, instance = SalesforceLogin(
                username=credentials.username,
                password=credentials.password,
                security_token=credentials.security_token or "",
                **self._login_target(),
            )
        else:
            session_id, instance = SalesforceLogin(
                consumer_key=credentials.consumer_key,
                consumer_secret=credentials.consumer_secret,
                **self._login_target(),
            )
        self._issued_sessions.add(session_id)
        return Salesforce(
            instance=instance.rstrip("/"),
            session_id=session_id,
            session=self._http,
            version=self.api_version,
        )

    def _backoff(self, attempt: int) -> float:
        cap = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        # Jitter spreads retries from parallel runs so they do not hit the org in lockstep.
        return cap * random.uniform(0.5, 1.0)

    def _call(self, operation: str, fn: Callable[[Salesforce], T]) -> T:
        """Run one Salesforce request with retries, one re-login on expiry, and clean errors."""
        attempt = 0
        renewed = False
        while True:
            try:
                if self._sf is None:
                    self._sf = self._connect()
                sf = self._sf
                self._counts["requests"] += 1
                result = fn(sf)
            except Exception as exc:
                verdict = classify(exc, password_login=self._mode == "password")
                if verdict is None:
                    raise
                kind, detail = verdict
                detail = self._redact(detail)
                if kind == "expired":
                    self._renew_session(operation, detail, renewed)
                    renewed = True
                    continue
                if kind == "transient":
                    attempt += 1
                    self._wait_to_retry(operation, detail, attempt)
                    continue
                raise SalesforcePermanentError(f"Salesforce {operation} failed: {detail}") from None
            usage = sf.api_usage.get("api-usage")
            if isinstance(usage, Usage):
                self._api_usage = usage
            return result

    def _renew_session(self, operation: str, detail: str, renewed: bool) -> None:
        """Drop the expired session so the next attempt logs in again: once, and never for a given session id.

        Called while the request's exception is handled: ``from None`` keeps its text (which may
        quote the request) out of the error, as in ``_call``.
        """
        if self._mode == "session":
            raise SalesforceSessionExpiredError(
                f"Salesforce session expired during {operation} ({detail}); a session id "
                "cannot be renewed: set a fresh SALESFORCE_SESSION_ID, or configure "
                "username/password or client credentials so the platform can log in again"
            ) from None
        if renewed:
            raise SalesforceSessionExpiredError(
                f"Salesforce rejected the session again right after re-authenticating "
                f"during {operation} ({detail}); check the integration user's session "
                "settings (IP restrictions, session timeout, 'Lock sessions to the IP')"
            ) from None
        self._sf = None
        logger.info("Salesforce session expired during %s; re-authenticating once", operation)

    def _wait_to_retry(self, operation: str, detail: str, attempt: int) -> None:
        """Back off before retry ``attempt`` of a transient failure; give up past ``max_retries``."""
        if attempt > self.max_retries:
            raise SalesforceTransientError(
                f"Salesforce {operation} still failing after {attempt} attempts ({detail}); "
                "this is transient (rate limit, outage or network): run again later, "
                "REQUEST_LIMIT_EXCEEDED clears as the 24-hour API window rolls"
            ) from None
        delay = self._backoff(attempt)
        self._counts["retries"] += 1
        logger.warning(
            "Salesforce %s failed transiently (%s); retry %d/%d in %.2fs",
            operation,
            detail,
            attempt,
            self.max_retries,
            delay,
        )
        self._sleep(delay)

    # --- CrmClient ------------------------------------------------------------------------------

    def describe(self, object_name: str) -> dict[str, Any]:
        validate_object_name(object_name)
        if object_name not in self._describes:
            described = self._call(
                f"describe of {object_name}",
                lambda sf: sf.restful(f"sobjects/{object_name}/describe/", timeout=self.request_timeout),
            )
            if not isinstance(described, Mapping):
                raise SalesforcePermanentError(f"describe() of {object_name} returned no description")
            if described.get("queryable") is False:
                raise SalesforcePermanentError(
                    f"Salesforce object {object_name} is not queryable for this user; grant read access"
                )
            self._describes[object_name] = _plain(described)
        return self._describes[object_name]

    def count(self, object_name: str, since: datetime | None, until: datetime) -> int:
        """Records (deleted ones included) a window holds: decides REST versus Bulk API 2.0."""
        soql = build_window_soql(object_name, [], self.describe(object_name), since, until, count_only=True)
        result = self._call(
            f"count of {object_name}",
            lambda sf: sf.query(soql, include_deleted=True, timeout=self.request_timeout),
        )
        return int(result["totalSize"])

    def extract(
        self, object_name: str, fields: list[str], since: datetime | None, until: datetime
    ) -> Iterator[dict[str, Any]]:
        describe = self.describe(object_name)
        # Build (and so validate) before any record request goes out.
        soql = build_window_soql(object_name, fields, describe, since, until)
        if self.bulk_threshold is not None and self.count(object_name, since, until) > self.bulk_threshold:
            self._last_path = "bulk2"
            # Unordered: ORDER BY switches off PK chunking in Bulk API 2.0 (see soql.py).
            unordered = build_window_soql(object_name, fields, describe, since, until, order_by=False)
            records = self._extract_bulk(object_name, unordered)
        else:
            self._last_path = "rest"
            records = self._extract_rest(object_name, soql)
        for record in records:
            self._counts["records"] += 1
            yield record

    def _extract_rest(self, object_name: str, soql: str) -> Iterator[dict[str, Any]]:
        # Page by page rather than query_all_iter: a failed page is retried alone, so the pages
        # already yielded are never fetched (and yielded) again.
        page = self._call(
            f"queryAll of {object_name}",
            lambda sf: sf.query(soql, include_deleted=True, timeout=self.request_timeout),
        )
        while True:
            for record in page.get("records", []):
                yield _plain(record)
            if page.get("done", True):
                return
            next_url = page["nextRecordsUrl"]
            page = self._call(
                f"queryAll of {object_name} (next page)",
                lambda sf, url=next_url: sf.query_more(url, identifier_is_url=True, timeout=self.request_timeout),
            )

    def _extract_bulk(self, object_name: str, soql: str) -> Iterator[dict[str, Any]]:
        query = BulkQuery(
            self._call,
            object_name,
            self.bulk_page_size,
            self.bulk_poll_interval,
            self.bulk_timeout,
            self._sleep,
            self._redact,
        )
        job_id = query.create(soql)
        self._counts["bulk_jobs"] += 1
        query.await_completion(job_id)
        yield from query.results(job_id)

    def usage_metadata(self) -> dict[str, Any]:
        """API usage for asset metadata; reads /limits/ only if no response carried the header."""
        if self._api_usage is None and self._sf is not None:
            try:
                limits = self._call("limits", lambda sf: sf.limits(timeout=self.request_timeout))
                daily = limits.get("DailyApiRequests", {})
                if "Max" in daily and "Remaining" in daily:
                    self._api_usage = Usage(used=int(daily["Max"]) - int(daily["Remaining"]), total=int(daily["Max"]))
            except SalesforceLiveError as exc:
                # Usage is informative: never fail an asset because it could not be read.
                logger.warning("could not read Salesforce limits: %s", exc)
        meta: dict[str, Any] = {
            "crm_backend": "salesforce",
            "salesforce_auth": self._mode,
            **{f"salesforce_{name}": self._counts[name] for name in USAGE_COUNTS},
        }
        if self._last_path is not None:
            meta["salesforce_api_path"] = self._last_path
        if self._api_usage is not None:
            meta["salesforce_api_requests_used"] = self._api_usage.used
            meta["salesforce_api_requests_max"] = self._api_usage.total
        return meta


def _plain(value: Any) -> Any:
    """OrderedDicts from simple-salesforce to plain dicts (lighter, and compare as equal)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
