"""Which events of a buffer must update their asset's row in the event-log index (both storages)."""

from __future__ import annotations

from collections.abc import Sequence

import dagster._check as check
from dagster import EventLogEntry


def last_of_each_kind(events: Sequence[EventLogEntry]) -> list[int]:
    """Positions of the last event of each (asset, event type) in the buffer, in buffer order.

    An asset's index row keeps its latest materialization, run and event time; each event type sets
    a fixed set of those columns, so applying only the last event of each type, in order, leaves
    the row as applying every event would. Dagster's SQLite storage applies every one (an insert,
    a failed insert and an update per event: a third of a range run's time); dagster-postgres
    applies only a buffer's last event, which is right only for a buffer of one asset.
    """
    last: dict[tuple[str, str], int] = {}
    for i, event in enumerate(events):
        dagster_event = check.not_none(event.dagster_event)
        last[(check.not_none(dagster_event.asset_key).to_string(), dagster_event.event_type_value)] = i
    return sorted(last.values())
