"""What the ``sales360`` command says when something is wrong: short, with what to do.

A user who typed ``--days 0`` or pointed the lake at a read-only disk needs one line naming the
argument or the path, not a Dagster traceback; ``--debug`` brings the traceback back. The
commands that read the lake open it here (``--lake``, ``existing_lake``), so a mistyped path
says so the same way everywhere.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import dagster as dg

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import PARTITIONS_START_ENV, default_lake_uri


class CliError(Exception):
    """A mistake in the command's arguments or environment; the message says what to change."""


def use_dagster_home() -> Path:
    """The Dagster instance a command records its runs in (or reads, for freshness): ``$DAGSTER_HOME``,
    made absolute. Dagster insists on an absolute path; the README's ``DAGSTER_HOME=.dagster_home``
    is relative to where the command runs, so it is resolved here rather than refused."""
    home = os.environ.get("DAGSTER_HOME", "").strip()
    if not home:
        raise CliError(
            "set DAGSTER_HOME to the Dagster instance the UI shows (./dev uses .dagster_home: "
            "export DAGSTER_HOME=$PWD/.dagster_home from the project root)"
        )
    resolved = Path(home).expanduser().resolve()
    if not resolved.is_dir():
        raise CliError(
            f"DAGSTER_HOME={home} is not a directory ({resolved}); point it at the instance the UI uses, "
            "e.g. DAGSTER_HOME=$PWD/.dagster_home from the project root after ./dev up"
        )
    os.environ["DAGSTER_HOME"] = str(resolved)
    return resolved


def command_group(sub: argparse._SubParsersAction, name: str, help: str) -> argparse._SubParsersAction:
    """``sales360 <name> <command>``: a group whose commands are added to the returned subparsers."""
    return sub.add_parser(name, help=help).add_subparsers(dest=f"{name}_command", required=True)


def lake_command(
    commands: argparse._SubParsersAction, name: str, help: str, run: Callable[[argparse.Namespace], int]
) -> argparse.ArgumentParser:
    """``sales360 <group> <name>``, run by ``run``: a command that reads the lake the runs wrote (``--lake``)."""
    parser = commands.add_parser(name, help=help)
    parser.add_argument("--lake", default=None, help="lake root (default: $SALES360_LAKE_URI or data/lake)")
    parser.set_defaults(func=run)
    return parser


def existing_lake(lake_arg: str | None, tables: Sequence[str] = ()) -> DeltaLake:
    """The lake a command reads, holding ``tables``; a local path that does not exist is a typo, not an empty lake."""
    uri = lake_arg or default_lake_uri()
    lake = DeltaLake(uri)
    if lake.is_local and not Path(uri.removeprefix("file://")).is_dir():
        raise CliError(f"no lake at {uri}: pass --lake or set SALES360_LAKE_URI to the lake the runs write")
    for table in tables:
        if not lake.exists(table):
            raise CliError(f"{table} is not in the lake at {uri}: run `sales360 materialize` first")
    return lake


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


class RunFailedInChildError(Exception):
    """A run in its own process (``--executor process_per_run``) failed; the message is already short."""


def short_error(exc: BaseException) -> str:
    """``Type: first line`` of the error Dagster wrapped: what went wrong, not how it was wrapped.

    Our own errors already say what to do (a ``Failure`` from a classified extraction, a
    ``PermissionError`` naming the lake); only Dagster's wrappers around them are peeled off.
    """
    if isinstance(exc, RunFailedInChildError):
        return str(exc)
    inner = exc
    while isinstance(inner, dg.DagsterError) and not isinstance(inner, dg.Failure) and inner.__cause__ is not None:
        inner = inner.__cause__
    text = str(getattr(inner, "description", None) or inner).strip()
    first = text.splitlines()[0] if text else ""
    return f"{type(inner).__name__}: {first}" if first else type(inner).__name__


DEFAULT_DAYS = 30


def _parse_day(flag: str, text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise CliError(f"{flag} must be a date as YYYY-MM-DD (got {text!r})") from None


def validate_window(
    days: int | None,
    end_text: str | None,
    today: date,
    partitions_start: date,
    start_text: str | None = None,
) -> tuple[date, date]:
    """(start, end) of a ``materialize`` window, or a ``CliError`` saying which argument to change.

    ``--start``/``--end`` name the window directly, so loading three years of history needs no
    day count worked out by hand; ``--days`` counts back from ``--end`` (default yesterday) or
    forward from ``--start``. All three given must agree. Checked before any run: a window
    outside the partitions used to run (and write) ``reference_data_job`` first and only then fail.
    """
    if days is not None and days < 1:
        raise CliError(f"--days must be at least 1 (got {days}): it is the number of days up to --end to materialize")
    yesterday = today - timedelta(days=1)
    start = _parse_day("--start", start_text) if start_text is not None else None
    end = _parse_day("--end", end_text) if end_text is not None else None
    if start is not None and end is None:
        end = start + timedelta(days=days - 1) if days is not None else yesterday
    end = end if end is not None else yesterday
    if start is None:
        start = end - timedelta(days=(days or DEFAULT_DAYS) - 1)
    elif days is not None and (end - start).days + 1 != days:
        raise CliError(
            f"--days {days} disagrees with --start {start} --end {end} ({(end - start).days + 1} days); "
            "give two of the three"
        )
    if start > end:
        raise CliError(f"--start {start} is after --end {end}")
    if start < partitions_start:
        raise CliError(
            f"the window {start}..{end} starts before the first partition ({partitions_start}, "
            f"{PARTITIONS_START_ENV}={partitions_start}); set {PARTITIONS_START_ENV}={start} (or earlier) for this "
            "deployment, or start the window later"
        )
    if end > yesterday:
        raise CliError(f"--end {end} is not a complete day yet (today is {today} UTC); the latest is {yesterday}")
    return start, end
