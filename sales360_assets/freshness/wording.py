"""The SLA status in words: one line sales ops can act on, and the short technical form of a problem.

E.g. "Yesterday's sales data for emea is missing: no run has loaded fact_sales 2026-03-09|emea
yet (due 2026-03-10 06:00 UTC)." and "2026-03-09|emea: fact_sales missing".
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from sales360_assets.freshness.config import Sla, hours_text
from sales360_assets.freshness.verdicts import ALL_REGIONS, DELIVERED, PartitionState, Verdict
from sales360_assets.partitions import partition_key


def problem(v: Verdict) -> str:
    text = f"{partition_key(v.day, v.region) if v.region != ALL_REGIONS else v.day}: {v.asset} {v.state.value}"
    if v.state is PartitionState.LATE and v.delivered_at is not None:
        text += f", landed {v.delivered_at:%Y-%m-%d %H:%M} UTC"
    if v.state is PartitionState.PARTIAL and v.written_at is not None:
        text += f", written {v.written_at:%Y-%m-%d %H:%M} UTC before the day closed"
    if v.note and v.state not in DELIVERED:
        text += f" ({v.note})"
    return text


def _what(sla: Sla, day: date, now: datetime) -> str:
    subject = sla.subject
    if day == now.astimezone(UTC).date() - timedelta(days=1):
        return f"Yesterday's {subject}"
    return f"{subject[:1].upper()}{subject[1:]} of {day:%a %Y-%m-%d}"


def sentence(sla: Sla, v: Verdict, now: datetime, more_gaps: int) -> str:
    """One line sales ops can act on, e.g. "Yesterday's sales data for emea is missing: ..."."""
    what = _what(sla, v.day, now)
    where = "" if v.region == ALL_REGIONS else f" for {v.region}"
    key = v.asset if v.region == ALL_REGIONS else f"{v.asset} {partition_key(v.day, v.region)}"
    due = f"due {v.deadline:%Y-%m-%d %H:%M} UTC"
    if v.state is PartitionState.OK:
        text = f"{what}{where} is complete ({v.asset} landed {v.delivered_at:%Y-%m-%d %H:%M} UTC, on time)"
        return text + (f"; {v.note}" if v.note else "") + "."
    if v.state is PartitionState.LATE:
        late = hours_text(v.delivered_at - v.deadline)  # type: ignore[operator]
        return (
            f"{what}{where} arrived late: {v.asset} landed {v.delivered_at:%Y-%m-%d %H:%M} UTC, {late} after the {due}."
        )
    if v.state is PartitionState.FAILED:
        reason = f"is missing: the last run for {key} failed; fix it and re-run the partition ({due})"
    elif v.state is PartitionState.IN_PROGRESS:
        reason = f"is still loading: a run for {key} is in progress ({due})"
    elif v.state is PartitionState.PARTIAL:
        written = f"{v.written_at:%Y-%m-%d %H:%M} UTC" if v.written_at else "during the day"
        reason = (
            f"is incomplete: {key} was only written at {written}, before the day was over; re-run the partition ({due})"
        )
    elif v.state is PartitionState.WAITING:
        reason = f"is not ready: {v.asset} has not been rebuilt — {v.note or 'since the data was complete'} ({due})"
    else:
        reason = f"is missing: no run has loaded {key} yet ({due})"
    text = f"{what}{where} {reason}"
    if more_gaps:
        text += f"; {more_gaps} later day(s) are not delivered either"
    return text + "."
