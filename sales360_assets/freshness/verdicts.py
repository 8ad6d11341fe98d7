"""One asset, one due date, one region: what was observed and the verdict on it. Pure, no Dagster.

* **complete**: a partition counts only when a run that *started after its business day closed*
  (midnight UTC) materialized it; a write during the day itself is partial data;
* **re-runs**: once delivered, a partition stays delivered while it is re-run (or if a re-run
  fails: Delta writes are atomic, so the delivered data is still in place).

``StatusReader`` is what the evaluation needs to know (``reader.py`` reads it from an instance;
tests pass fixed observations), and ``evaluation.py`` rolls verdicts up into SLA states.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from typing import Protocol

ALL_REGIONS = "all regions"  # the "region" of an unpartitioned table's row


class PartitionState(StrEnum):
    OK = "ok"
    LATE = "late"
    IN_PROGRESS = "in progress"
    WAITING = "waiting for upstream"
    PARTIAL = "partial"
    FAILED = "failed"
    MISSING = "missing"


_SEVERITY = list(PartitionState)
DELIVERED = (PartitionState.OK, PartitionState.LATE)


@dataclass(frozen=True)
class Materialization:
    at: datetime
    # When the materializing run started; None for a runless report, whose own time counts.
    run_started_at: datetime | None = None

    @property
    def started_at(self) -> datetime:
        return self.run_started_at or self.at


@dataclass(frozen=True)
class PartitionObservation:
    status: str = "missing"  # the latest attempt: "materialized" | "failed" | "in_progress" | "missing"
    materializations: tuple[Materialization, ...] = ()


class StatusReader(Protocol):
    """What the evaluator needs to know about materializations (an instance or a test double)."""

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]: ...

    def materializations(self, asset: str, since: datetime) -> list[Materialization]: ...

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None: ...


class OneReadPerPartition:
    """A ``StatusReader`` that asks the one it wraps about each asset partition once per evaluation.

    Several SLAs judge the same partitions (the statements wait on the fact_sales days the facts SLA
    judges), and every question to an instance is a Dagster partition-status lookup whose cost grows
    with the history (~50 ms per asset after three years): ask once, answer the rest from memory.
    """

    def __init__(self, reader: StatusReader) -> None:
        self.reader = reader
        self.observed: dict[str, dict[str, PartitionObservation]] = {}

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
        known = self.observed.setdefault(asset, {})
        missing = [k for k in keys if k not in known]
        if missing:
            known.update(self.reader.partitions(asset, missing))
        return {k: known.get(k, PartitionObservation()) for k in keys}

    def materializations(self, asset: str, since: datetime) -> list[Materialization]:
        return self.reader.materializations(asset, since)

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None:
        return self.reader.last_materialized_at(asset, before)


def day_closes_at(day: date) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0, 0), tzinfo=UTC)


@dataclass(frozen=True)
class Verdict:
    """One asset for one due date (and region) at the evaluation time."""

    asset: str
    day: date
    region: str
    deadline: datetime
    state: PartitionState
    delivered_at: datetime | None = None
    written_at: datetime | None = None  # a partial write's time (PARTIAL)
    note: str = ""  # e.g. a re-run in progress, the upstream being waited for


def judge_partition(
    asset: str, day: date, region: str, deadline: datetime, observation: PartitionObservation, now: datetime
) -> Verdict:
    seen = [m for m in observation.materializations if m.at <= now]  # "as of" now
    complete = [m for m in seen if m.started_at >= day_closes_at(day)]
    if complete:
        delivered = min(m.at for m in complete)
        note = ""
        if observation.status == "in_progress":
            note = "being re-run now"
        elif observation.status == "failed":
            note = "latest re-run failed; the delivered data is still in place"
        state = PartitionState.OK if delivered <= deadline else PartitionState.LATE
        return Verdict(asset, day, region, deadline, state, delivered_at=delivered, note=note)
    if observation.status == "in_progress":
        return Verdict(asset, day, region, deadline, PartitionState.IN_PROGRESS)
    if observation.status == "failed":
        return Verdict(asset, day, region, deadline, PartitionState.FAILED)
    if seen:
        return Verdict(asset, day, region, deadline, PartitionState.PARTIAL, written_at=max(m.at for m in seen))
    return Verdict(asset, day, region, deadline, PartitionState.MISSING)


def worst(verdicts: Sequence[Verdict]) -> Verdict:
    """The most severe verdict (missing before failed before partial … before ok)."""
    return max(verdicts, key=lambda v: _SEVERITY.index(v.state))
