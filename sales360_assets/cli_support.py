"""What the ``sales360`` command says when something is wrong: short, with what to do.

A user who typed ``--days 0`` or pointed the lake at a read-only disk needs one line naming the
argument or the path, not a Dagster traceback; ``--debug`` brings the traceback back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import dagster as dg


class CliError(Exception):
    """A mistake in the command's arguments or environment; the message says what to change."""


@dataclass(frozen=True)
class RunSummary:
    run: str  # e.g. "daily_sales_job 2026-03-02..2026-03-08 × emea"
    ok: bool
    seconds: float
    error: str | None = None

    def line(self) -> str:
        status = "ok" if self.ok else "FAILED"
        detail = f" — {self.error}" if self.error else ""
        return f"{self.run}: {status} in {self.seconds:.1f}s{detail}"


class WindowFailedError(RuntimeError):
    """Some runs of a window failed; every other run still ran. The message lists each run."""

    def __init__(self, summaries: Sequence[RunSummary]) -> None:
        self.summaries = list(summaries)
        failed = [s for s in self.summaries if not s.ok]
        super().__init__(
            f"{len(failed)} of {len(self.summaries)} run(s) failed:\n" + "\n".join(f"  {s.line()}" for s in failed)
        )


def short_error(exc: BaseException) -> str:
    """``Type: first line`` of the error Dagster wrapped: what went wrong, not how it was wrapped.

    Our own errors already say what to do (a ``Failure`` from a classified extraction, a
    ``PermissionError`` naming the lake); only Dagster's wrappers around them are peeled off.
    """
    inner = exc
    while isinstance(inner, dg.DagsterError) and not isinstance(inner, dg.Failure) and inner.__cause__ is not None:
        inner = inner.__cause__
    text = str(getattr(inner, "description", None) or inner).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(inner).__name__}: {first}" if first else type(inner).__name__


def validate_window(days: int, end_text: str | None, today: date, partitions_start: date) -> tuple[date, date]:
    """(start, end) of a ``materialize`` window, or a ``CliError`` saying which argument to change.

    Checked before any run: a window outside the partitions used to run (and write)
    ``reference_data_job`` first and only then fail.
    """
    if days < 1:
        raise CliError(f"--days must be at least 1 (got {days}): it is the number of days up to --end to materialize")
    yesterday = today - timedelta(days=1)
    if end_text is None:
        end = yesterday
    else:
        try:
            end = date.fromisoformat(end_text)
        except ValueError:
            raise CliError(f"--end must be a date as YYYY-MM-DD (got {end_text!r})") from None
    start = end - timedelta(days=days - 1)
    if start < partitions_start:
        raise CliError(
            f"the window {start}..{end} starts before the first partition ({partitions_start}); use a later --end "
            f"or fewer --days, or set SALES360_PARTITIONS_START to an earlier date"
        )
    if end > yesterday:
        raise CliError(f"--end {end} is not a complete day yet (today is {today} UTC); the latest is {yesterday}")
    return start, end
