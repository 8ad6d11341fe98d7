"""Which buffered events update their asset's index row: the last of each (asset, event type), in order."""

from __future__ import annotations

import time

import dagster as dg
from dagster._core.events import (
    AssetMaterializationPlannedData,
    DagsterEvent,
    DagsterEventType,
    StepMaterializationData,
)

from sales360_assets.instance.asset_rows import last_of_each_kind


def _event(asset: str, kind: DagsterEventType) -> dg.EventLogEntry:
    key = dg.AssetKey(asset)
    data = (
        StepMaterializationData(dg.AssetMaterialization(key))
        if kind == DagsterEventType.ASSET_MATERIALIZATION
        else AssetMaterializationPlannedData(key)
    )
    event = DagsterEvent(event_type_value=kind.value, job_name="job", event_specific_data=data)
    return dg.EventLogEntry(
        error_info=None, level=20, user_message="", run_id="run", timestamp=time.time(), dagster_event=event
    )


def test_the_last_event_of_each_asset_and_kind_is_kept_in_buffer_order() -> None:
    planned, done = DagsterEventType.ASSET_MATERIALIZATION_PLANNED, DagsterEventType.ASSET_MATERIALIZATION
    events = [
        _event("a", planned),  # 0: a later planned event of a replaces it
        _event("b", planned),  # 1: kept, b's only planned event
        _event("a", done),  # 2: replaced by 5
        _event("a", planned),  # 3: kept
        _event("b", done),  # 4: kept
        _event("a", done),  # 5: kept
        _event("c", done),  # 6: kept
    ]
    assert last_of_each_kind(events) == [1, 3, 4, 5, 6]
    assert last_of_each_kind([]) == []
