"""Transient or permanent? One answer shared by step retries, extraction assets and sensors.

Three retry layers, each for a different kind of failure, so they never retry the same thing
twice over:

1. **Request level** (inside the live clients): a few quick retries of one HTTP call.
2. **Step level** (``EXTRACTION_RETRY_POLICY`` on every extraction asset): a transient failure
   that outlived the client's retries (HTTP 429/5xx, timeouts, API limit errors) re-runs the
   step with exponential backoff and jitter. A permanent failure (bad credentials, malformed
   query, missing object, lost column) is raised as ``dg.Failure(allow_retries=False)`` so it
   fails at once, with what to fix in the message.
3. **Partition level** (``sensors.failed_partition_retry_sensor``): a partition whose run still
   failed transiently is relaunched later with a growing delay and an attempt cap; permanent
   failures are left for a person. Dagster's run retries (``dagster.yaml``) only cover crashed
   run workers (``retry_on_asset_or_op_failure: false``), and the sensor skips runs Dagster will
   retry itself (``dagster/will_retry``).

Classification works on live exceptions (in the asset) and on Dagster's serialized errors (in
the sensor) with the same rules, so both layers agree about every failure.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, ClassVar

import dagster as dg


class FailureKind(StrEnum):
    TRANSIENT = "transient"
    PERMANENT = "permanent"


# Step-failure metadata key the sensors read first: the asset's own verdict beats any guess.
FAILURE_KIND_KEY = "sales360/failure_kind"

# Exponential backoff with jitter: ≈20 s, 40 s, 80 s (± jitter so parallel runs spread out).
# Together with the clients' request-level retries this rides out a few minutes of outage;
# anything longer is the partition-retry sensor's job.
EXTRACTION_RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=20, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)

# Class names (anywhere in an exception's MRO or cause chain) that mean "try again later".
# Names rather than classes: the sensor only sees serialized errors, and importing every
# client library here would load them for code paths that never use them.
TRANSIENT_CLASS_NAMES: frozenset[str] = frozenset(
    {
        # ours
        "SalesforceTransientError",
        "BigQueryTransientError",
        # Python and requests/urllib3/http.client
        "TimeoutError",
        "ConnectionError",
        "Timeout",
        "ConnectTimeout",
        "ReadTimeout",
        "ChunkedEncodingError",
        "RemoteDisconnected",
        "IncompleteRead",
        "ProtocolError",
        # google-api-core
        "TooManyRequests",
        "ServiceUnavailable",
        "InternalServerError",
        "BadGateway",
        "GatewayTimeout",
        "DeadlineExceeded",
        # delta-rs: another writer committed first (our writes already retry, this is the rest)
        "CommitFailedError",
    }
)

TRANSIENT_HTTP_STATUSES: frozenset[int] = frozenset({408, 429})

# For errors no class tells apart (object-store errors arrive as plain OSError text).
_TRANSIENT_TEXT = re.compile(
    r"\b(?:HTTP\s*)?(?:429|502|503|504)\b|too many requests|service unavailable|temporarily unavailable"
    r"|rate limit|request_limit_exceeded|timed out|connection reset",
    re.IGNORECASE,
)

# What to fix, for permanent errors whose own message does not already say it.
_HINTS: dict[str, str] = {
    "SchemaDriftError": "the source dropped a required column: restore it at the source, or change "
    "sales360_assets/sources/contract.py (contract_salesforce.py for a Salesforce object) if the column is really gone",
    "FileNotFoundError": "a source file, table or object is missing: check SALES360_SOURCES_DIR (or the live "
    "source's object/table names) and that the export for this date exists",
    "PermissionError": "the platform may not read or write here: fix file permissions, the IAM role or the "
    "integration user's profile",
    "SalesforcePermanentError": "see the Salesforce message above (credentials, permissions or query)",
    "SalesforceSessionExpiredError": "configure login credentials so the session can be renewed",
    "BigQueryPermanentError": "see the BigQuery message above (SQL, table name, permissions or credentials)",
    "BigQueryCostLimitError": "the query would scan more than BIGQUERY_MAXIMUM_BYTES_BILLED allows: narrow the "
    "run's partitions or raise the limit",
}
_DEFAULT_HINT = "this error is not transient, so retrying will not help: fix the cause above, then re-run the partition"


class SourceError(RuntimeError):
    """Base of the errors a live source client raises: it says itself whether it is transient."""

    #: Whether running the same extraction again later may succeed (``classify_exception`` reads
    #: this rather than matching class names).
    retryable: ClassVar[bool] = False


class TransientSourceError(SourceError):
    """The source kept failing in a way that clears by itself (rate limit, outage, network)."""

    retryable = True


@dataclass(frozen=True)
class Classification:
    kind: FailureKind
    reason: str  # one line: the deciding class / status / text

    @property
    def retryable(self) -> bool:
        return self.kind is FailureKind.TRANSIENT


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen and len(seen) < 20:
        seen.add(id(current))
        yield current
        # An explicit cause always counts; an implicit context only when not suppressed
        # (``raise ... from None`` says the earlier error is not the story).
        current = current.__cause__ or (None if current.__suppress_context__ else current.__context__)


def _http_status(exc: BaseException) -> int | None:
    for attr in ("status_code", "status", "code"):
        value = getattr(exc, attr, None)
        if isinstance(value, int) and not isinstance(value, bool) and 100 <= value <= 599:
            return value
    response = getattr(exc, "response", None)
    value = getattr(response, "status_code", None)
    return value if isinstance(value, int) and 100 <= value <= 599 else None


def _status_kind(status: int) -> FailureKind:
    return FailureKind.TRANSIENT if status in TRANSIENT_HTTP_STATUSES or status >= 500 else FailureKind.PERMANENT


def classify_exception(exc: BaseException) -> Classification:
    """Transient (worth retrying later) or permanent (fix something first). Unknown means permanent:
    retrying a bug or a bad configuration only burns API quota and hides the real error."""
    for error in _chain(exc):
        name = type(error).__name__
        retryable = getattr(type(error), "retryable", None)
        if isinstance(retryable, bool):
            return Classification(FailureKind.TRANSIENT if retryable else FailureKind.PERMANENT, name)
        status = _http_status(error)
        if status is not None:
            return Classification(_status_kind(status), f"{name} (HTTP {status})")
        names = {cls.__name__ for cls in type(error).__mro__}
        if names & TRANSIENT_CLASS_NAMES:
            return Classification(FailureKind.TRANSIENT, name)
    if _TRANSIENT_TEXT.search(str(exc)):
        return Classification(FailureKind.TRANSIENT, f"{type(exc).__name__} message")
    return Classification(FailureKind.PERMANENT, type(exc).__name__)


def classify_error_info(error: Any) -> Classification:
    """The same rules over Dagster's ``SerializableErrorInfo`` (cls_name, message, cause, context)."""
    chain: list[Any] = []
    current = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        current = getattr(current, "cause", None) or getattr(current, "context", None)
    for info in chain:
        name = getattr(info, "cls_name", None) or ""
        if name in TRANSIENT_CLASS_NAMES:
            return Classification(FailureKind.TRANSIENT, name)
    for info in chain:
        if _TRANSIENT_TEXT.search(getattr(info, "message", "") or ""):
            return Classification(FailureKind.TRANSIENT, f"{getattr(info, 'cls_name', '?')} message")
    deepest = chain[-1] if chain else None
    return Classification(FailureKind.PERMANENT, getattr(deepest, "cls_name", None) or "unknown error")


def hint_for(exc: BaseException) -> str:
    for error in _chain(exc):
        for cls in type(error).__mro__:
            if cls.__name__ in _HINTS:
                return _HINTS[cls.__name__]
    return _DEFAULT_HINT


@contextmanager
def classified_extraction(source: str) -> Iterator[None]:
    """Turn any extraction error into a ``dg.Failure`` that says whether Dagster may retry it.

    Transient: ``allow_retries=True`` so the asset's RetryPolicy backs off and tries again.
    Permanent: ``allow_retries=False`` so the step fails at once, with what to fix.
    Either way the verdict is in the failure's metadata for the partition-retry sensor.
    """
    try:
        yield
    except dg.Failure:
        raise
    except Exception as exc:
        verdict = classify_exception(exc)
        error = f"{type(exc).__name__}: {exc}"
        if verdict.retryable:
            raise dg.Failure(
                description=f"{source}: transient error ({verdict.reason}), retrying with backoff — {error}",
                metadata={FAILURE_KIND_KEY: verdict.kind.value, "error_class": type(exc).__name__},
                allow_retries=True,
            ) from exc
        hint = hint_for(exc)
        raise dg.Failure(
            description=f"{source}: permanent error, not retried — {error}\nWhat to fix: {hint}",
            metadata={FAILURE_KIND_KEY: verdict.kind.value, "error_class": type(exc).__name__, "what_to_fix": hint},
            allow_retries=False,
        ) from exc


def failure_kind_of_step(step_failure_data: Any) -> Classification:
    """Verdict for one STEP_FAILURE: the asset's own metadata if it set one, else the error chain."""
    user = getattr(step_failure_data, "user_failure_data", None)
    if user is not None:
        value = (user.metadata or {}).get(FAILURE_KIND_KEY)
        text = getattr(value, "value", value)
        if text in (FailureKind.TRANSIENT.value, FailureKind.PERMANENT.value):
            return Classification(FailureKind(text), user.description or user.label or "asset verdict")
    error = getattr(step_failure_data, "error", None)
    if error is None:
        return Classification(FailureKind.PERMANENT, "step failed without an error")
    return classify_error_info(error)
