"""``InstanceStatusReader``: what the evaluator needs, read from a Dagster instance (the one the UI shows)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import dagster as dg

from sales360_assets.freshness.config import SlaConfig, load_sla_config
from sales360_assets.freshness.evaluation import SlaStatus, evaluate_config
from sales360_assets.freshness.verdicts import Materialization, PartitionObservation, StatusReader
from sales360_assets.partitions import date_region_partitions
from sales360_assets.settings import partitions_start_date


class InstanceStatusReader:
    """Partition statuses, materializations and the start time of the runs that wrote them."""

    def __init__(self, instance: dg.DagsterInstance, partitions_def: dg.PartitionsDefinition | None = None) -> None:
        self.instance = instance
        self.partitions_def = partitions_def or date_region_partitions
        self._run_starts: dict[str, datetime | None] = {}

    def _started(self, run_ids: set[str]) -> dict[str, datetime | None]:
        # Completeness is judged on when the run *started* (what it could read), not when it wrote.
        wanted = [r for r in run_ids if r and r not in self._run_starts]
        for chunk in (wanted[i : i + 500] for i in range(0, len(wanted), 500)):
            for record in self.instance.get_run_records(dg.RunsFilter(run_ids=chunk)):
                start = record.start_time or record.create_timestamp.timestamp()
                self._run_starts[record.dagster_run.run_id] = datetime.fromtimestamp(start, UTC)
        return {r: self._run_starts.get(r) for r in run_ids}

    def _records(self, records_filter: dg.AssetRecordsFilter) -> list[dg.EventLogRecord]:
        records, cursor = [], None
        while True:
            page = self.instance.fetch_materializations(records_filter, limit=1000, cursor=cursor, ascending=True)
            records.extend(page.records)
            if not page.has_more:
                return records
            cursor = page.cursor

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
        key = dg.AssetKey(asset)
        statuses = self.instance.get_status_by_partition(key, list(keys), self.partitions_def) or {}
        records = self._records(dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(keys)))
        starts = self._started({r.run_id for r in records if r.run_id})
        by_key: dict[str, list[Materialization]] = {}
        for record in records:
            if record.partition_key is None:
                continue
            at = datetime.fromtimestamp(record.timestamp, UTC)
            by_key.setdefault(record.partition_key, []).append(Materialization(at, starts.get(record.run_id)))
        result = {}
        for k in keys:
            status = statuses.get(k)
            name = status.value.lower() if status is not None else "missing"
            result[k] = PartitionObservation(name, tuple(by_key.get(k, ())))
        return result

    def materializations(self, asset: str, since: datetime) -> list[Materialization]:
        records = self._records(dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), after_timestamp=since.timestamp()))
        starts = self._started({r.run_id for r in records if r.run_id})
        return [Materialization(datetime.fromtimestamp(r.timestamp, UTC), starts.get(r.run_id)) for r in records]

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None:
        # "As of" ``before``, so evaluating a past moment ignores what happened after it.
        page = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), before_timestamp=before.timestamp()), limit=1
        )
        return datetime.fromtimestamp(page.records[0].timestamp, UTC) if page.records else None


def evaluate_slas(
    source: dg.DagsterInstance | StatusReader,
    now: datetime,
    config: SlaConfig | None = None,
    start: date | None = None,
) -> list[SlaStatus]:
    """Where every SLA stands at ``now`` (aware UTC): the one evaluation the checks, CLI and alerts use.

    ``start`` is the first date of the partitions (default: ``SALES360_PARTITIONS_START``); no
    date before it is ever due.
    """
    config = config or load_sla_config()
    reader: StatusReader = InstanceStatusReader(source) if isinstance(source, dg.DagsterInstance) else source
    return evaluate_config(config, reader, now, start or partitions_start_date())
