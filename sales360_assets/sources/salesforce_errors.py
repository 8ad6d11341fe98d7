"""Errors of the live Salesforce client, and how each library failure maps onto them.

Kept apart from the client so SOQL building (``soql.py``) and the client raise the same classes,
and so the retry/re-login loop reads as a loop rather than a catalogue of HTTP statuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import requests
from simple_salesforce.exceptions import (
    SalesforceAuthenticationFailed,
    SalesforceError,
    SalesforceExpiredSession,
    SalesforceGeneralError,
    SalesforceMalformedRequest,
    SalesforceOperationError,
    SalesforceRefusedRequest,
    SalesforceResourceNotFound,
)

from sales360_assets.retries import SourceError, TransientSourceError

# OAuth token endpoint errors worth retrying; everything else there is a credential problem.
_TRANSIENT_OAUTH_ERRORS = frozenset({"server_error", "temporarily_unavailable"})

Verdict = Literal["transient", "expired", "permanent"]


class SalesforceLiveError(SourceError):
    """Base of every error the live Salesforce client raises."""


class SalesforceTransientError(SalesforceLiveError, TransientSourceError):
    """Salesforce kept failing in a way that clears by itself (rate limit, outage, network)."""


class SalesforcePermanentError(SalesforceLiveError):
    """A failure that repeats until someone fixes configuration, permissions or the query."""


class SalesforceSessionExpiredError(SalesforcePermanentError):
    """The session expired and could not be renewed (no login credentials, or renewal failed)."""


def error_details(content: Any) -> tuple[str | None, str]:
    """(errorCode, "CODE: message; ...") from a Salesforce error body (list of dicts, dict or text)."""
    items = content if isinstance(content, list) else [content]
    codes: list[str] = []
    parts: list[str] = []
    for item in items:
        if isinstance(item, Mapping):
            code = item.get("errorCode") or item.get("error")
            message = item.get("message") or item.get("error_description") or ""
            if code:
                codes.append(str(code))
            parts.append(f"{code}: {message}" if code else str(message))
        elif isinstance(item, bytes):
            parts.append(item.decode("utf-8", "replace"))
        elif item is not None:
            parts.append(str(item))
    text = "; ".join(p for p in parts if p)[:500]
    return (codes[0] if codes else None), text


def classify(exc: BaseException, *, password_login: bool) -> tuple[Verdict, str] | None:
    """How to react to a failure, with a one-line description (None: not ours; redact before use).

    ``password_login`` picks which settings an authentication failure points at.
    """
    if isinstance(exc, SalesforceExpiredSession):
        return "expired", "HTTP 401 " + error_details(exc.content)[1]
    if isinstance(exc, SalesforceAuthenticationFailed):
        code = exc.code
        if (isinstance(code, int) and (code >= 500 or code == 429)) or code in _TRANSIENT_OAUTH_ERRORS:
            return "transient", f"login failed with {code}"
        hint = (
            "check SALESFORCE_USERNAME, SALESFORCE_PASSWORD and SALESFORCE_SECURITY_TOKEN "
            "(a password reset issues a new token) and SALESFORCE_DOMAIN (login/test/My Domain)"
            if password_login
            else "check SALESFORCE_CONSUMER_KEY, SALESFORCE_CONSUMER_SECRET, SALESFORCE_DOMAIN and "
            "that the connected app enables the client credentials flow with a run-as user"
        )
        return "permanent", f"authentication failed ({code}: {exc.auth_message}); {hint}"
    if isinstance(exc, SalesforceRefusedRequest):
        code, text = error_details(exc.content)
        if code == "REQUEST_LIMIT_EXCEEDED":
            return "transient", f"HTTP 403 {text}"
        return "permanent", (
            f"HTTP 403 {text}; the integration user lacks a permission (API Enabled, read access "
            "to the object/fields) or the org blocks this client"
        )
    if isinstance(exc, SalesforceMalformedRequest):
        return "permanent", (
            f"HTTP 400 {error_details(exc.content)[1]}; the query or request was rejected — "
            "check the object/field names against describe() and the API version"
        )
    if isinstance(exc, SalesforceResourceNotFound):
        return "permanent", (
            f"HTTP 404 {error_details(exc.content)[1]}; the object or endpoint does not exist "
            "for this org/user/API version (check the object API name and SALESFORCE_INSTANCE_URL)"
        )
    if isinstance(exc, SalesforceGeneralError):
        status = exc.status
        text = error_details(exc.content)[1]
        if status == 429 or status >= 500:
            return "transient", f"HTTP {status} {text}"
        return "permanent", f"HTTP {status} {text}"
    if isinstance(exc, SalesforceError):
        return "permanent", f"HTTP {exc.status} {error_details(exc.content)[1]}"
    if isinstance(exc, SalesforceOperationError):
        return "permanent", f"Bulk API 2.0 job failed: {exc}"
    if isinstance(exc, requests.exceptions.SSLError):
        return "permanent", (
            f"TLS verification failed ({type(exc).__name__}); if a proxy re-signs traffic, "
            "point REQUESTS_CA_BUNDLE at its CA bundle"
        )
    if isinstance(
        exc,
        requests.exceptions.ConnectionError | requests.exceptions.Timeout | requests.exceptions.ChunkedEncodingError,
    ):
        return "transient", f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.exceptions.JSONDecodeError):
        return "permanent", (
            "Salesforce answered with something that is not JSON; check SALESFORCE_INSTANCE_URL / "
            "SALESFORCE_DOMAIN point at a Salesforce org"
        )
    return None
