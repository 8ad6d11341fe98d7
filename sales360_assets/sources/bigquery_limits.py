"""Errors, limits and retries of the live BigQuery client.

The settings that bound a read (``BIGQUERY_MAXIMUM_BYTES_BILLED``, ``BIGQUERY_RETRY_DEADLINE_SECONDS``)
are checked here, by the client and by the resource when the definitions load; the retry wrapper
logs every retried failure so an unreachable endpoint is never a silent wait.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from google.api_core import exceptions as api_exceptions
from google.api_core.retry import Retry

from sales360_assets.retries import SourceError, TransientSourceError

logger = logging.getLogger(__name__)

T = TypeVar("T")

GIB = 1024**3
# BigQuery refuses an on-demand job whose maximum_bytes_billed is smaller ("10485760 or higher
# required"), and a dry run does not check it: a smaller cap would pass the guard, then always fail.
MINIMUM_BYTES_BILLED = 10 * 1024**2
# How long one failing request is retried. The library's own 600 s hid an outage for ten minutes.
DEFAULT_RETRY_DEADLINE = 120.0
MAXIMUM_RETRY_DEADLINE = 3600.0


class BigQueryLiveError(SourceError):
    """Base of every error the live BigQuery client raises."""


class BigQueryTransientError(BigQueryLiveError, TransientSourceError):
    """BigQuery kept failing in a way that clears by itself (5xx, rate limits, network)."""


class BigQueryPermanentError(BigQueryLiveError):
    """Bad SQL, a missing table, missing permissions or credentials: fix, then run again."""


class BigQueryCostLimitError(BigQueryPermanentError):
    """The query would scan (or did try to bill) more bytes than ``maximum_bytes_billed`` allows."""


def reason_of(exc: api_exceptions.GoogleAPICallError) -> str | None:
    try:
        return str(exc.errors[0]["reason"])
    except (AttributeError, IndexError, KeyError, TypeError):
        return None


def message_of(exc: api_exceptions.GoogleAPICallError) -> str:
    """BigQuery's own one-line explanation (the library's text adds the URL and job id lines)."""
    try:
        text = str(exc.errors[0]["message"])
    except (AttributeError, IndexError, KeyError, TypeError):
        text = str(exc.message)
    return " ".join(text.split())[:500]


def _setting(value: float | str, variable: str, unit: str, example: int) -> float:
    """A number from code, or the text of an environment variable (whole numbers only there)."""
    if not isinstance(value, str):
        return value
    try:
        return int(value.strip())
    except ValueError:
        raise BigQueryPermanentError(
            f"{variable}={value[:40]!r} is not a whole number of {unit}; set e.g. {variable}={example}"
        ) from None


def check_maximum_bytes_billed(value: int | str) -> int:
    """BIGQUERY_MAXIMUM_BYTES_BILLED, refused below the 10 MiB BigQuery requires."""
    number = int(_setting(value, "BIGQUERY_MAXIMUM_BYTES_BILLED", "bytes", 10 * GIB))
    if number < MINIMUM_BYTES_BILLED:
        raise BigQueryPermanentError(
            f"BIGQUERY_MAXIMUM_BYTES_BILLED={number} is below BigQuery's minimum of {MINIMUM_BYTES_BILLED} "
            "bytes (10 MiB): the dry run would pass it and BigQuery would then refuse every query. Set "
            f"at least {MINIMUM_BYTES_BILLED} (default {10 * GIB}, 10 GiB)"
        )
    return number


def check_retry_deadline(value: float | str) -> float:
    """BIGQUERY_RETRY_DEADLINE_SECONDS: how long a failing request is retried, (0, 3600] seconds."""
    seconds = float(_setting(value, "BIGQUERY_RETRY_DEADLINE_SECONDS", "seconds", 120))
    if not 0 < seconds <= MAXIMUM_RETRY_DEADLINE:
        raise BigQueryPermanentError(
            f"BIGQUERY_RETRY_DEADLINE_SECONDS={seconds:g} is out of range: set 1 to "
            f"{MAXIMUM_RETRY_DEADLINE:g} seconds (default {DEFAULT_RETRY_DEADLINE:g}); past it a step "
            "fails as transient and the run's retry policy tries again later"
        )
    return seconds


def failure_of(exc: BaseException) -> str:
    """One line saying why a call failed (for retry logs and errors)."""
    if isinstance(exc, api_exceptions.RetryError) and exc.cause is not None:
        exc = exc.cause
    if isinstance(exc, api_exceptions.GoogleAPICallError):
        return f"{reason_of(exc) or exc.code}: {message_of(exc)}"
    # requests wraps urllib3's MaxRetryError, whose reason ("Connection refused") is the point.
    inner = exc.args[0] if exc.args else None
    text = str(getattr(inner, "reason", None) or exc)
    return f"{type(exc).__name__}: {' '.join(text.split())}"[:300]


class _LoggedRetry(Retry):
    """A Retry that logs every failure it retries, with the reason and the time left.

    The library retries without a word, so an unreachable endpoint looked like a hung step. Each
    wrapped call has its own deadline (the library starts the clock per call), so the time left
    is measured from when the wrapped function is called, not from when this object was made.
    """

    def __call__(self, func: Callable[..., T], on_error: Callable[[Exception], Any] | None = None) -> Callable[..., T]:
        wrap = super().__call__

        @functools.wraps(func)
        def retried(*args: Any, **kwargs: Any) -> T:
            started = time.monotonic()
            deadline = self.timeout

            def log(exc: Exception) -> None:
                # Called before the library draws the next backoff, so it cannot tell whether one
                # more attempt fits: it reports the time left; the final error says it gave up.
                if deadline is None:
                    logger.warning("BigQuery request failed (%s); retrying", failure_of(exc))
                else:
                    left = max(0.0, deadline - (time.monotonic() - started))
                    logger.warning(
                        "BigQuery request failed (%s); %.1fs of the %gs retry deadline left",
                        failure_of(exc),
                        left,
                        deadline,
                    )
                if on_error is not None:
                    on_error(exc)

            return wrap(func, on_error=log)(*args, **kwargs)

        return retried


def logged_retry(base: Retry, deadline: float, initial: float, maximum: float) -> _LoggedRetry:
    # api-core has no public getter for a Retry's predicate; reuse BigQuery's own so exactly the
    # failures the library would retry are retried.
    return _LoggedRetry(predicate=base._predicate, initial=initial, maximum=maximum, timeout=deadline)
