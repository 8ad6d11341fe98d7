"""late_change_sensor: re-run exactly the business dates that changed after they were materialized.

Two kinds of change move money between partitions that already ran:

* **Late warehouse rows**: an order dated D whose ``_loaded_at`` is days later (the source
  contract's late arrival). Found by asking the warehouse which rows were loaded since the last
  tick (three narrow columns; one parameterized query on ``_loaded_at``).
* **CRM edits**: an opportunity cancelled, deleted, re-dated or given a ``Web_Order_Id__c`` after its
  close-date partition ran. Found in the lake: the opportunity versions the hourly reference job
  extracted since the last tick. Both the partition its lines sit in now (``fact_sales``) and the
  one its current state belongs to (close date × owner's region, the attribution ``fact_sales``
  uses) are touched.

A touched partition is re-run only if it was materialized *before* the change arrived; partitions
never materialized belong to the schedule or a backfill. Requests are one range run per region
and contiguous dates, tagged with why. The cursor holds two timestamps, so each change is
handled once; the first tick starts watching from "now" and requests nothing.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import dagster as dg
import polars as pl

from sales360_assets.core.deals import crm_sale_partitions
from sales360_assets.jobs import daily_sales_job
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.partitions import partition_key
from sales360_assets.sensors.run_requests import (
    TRIGGER_TAG,
    contiguous_ranges,
    partition_run_request,
    short_digest,
    stopped_sensor,
    truncate_tag,
)
from sales360_assets.settings import partitions_start_date
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.resources import WarehouseResource
from sales360_assets.sources.warehouse import WarehouseClient

CHANGE_REASONS_TAG = "sales360/change_reasons"
WATCHED_WAREHOUSE_TABLES = ("orders", "order_lines")
# A load committed a little after its _loaded_at stamp must not slip between two ticks; looking
# back costs nothing because partitions re-run since the change are skipped.
ARRIVAL_LOOKBACK = timedelta(minutes=15)
# The partition whose materialization time says whether a change was already picked up.
JUDGED_ASSET = dg.AssetKey("fact_sales")
CHANGE_COLUMNS = {"date": pl.Date, "region": pl.String, "changed_at": pl.Datetime("us", "UTC"), "reason": pl.String}


@dataclass(frozen=True)
class ChangeCursor:
    warehouse_loaded_until: datetime
    crm_ingested_until: datetime | None

    def dump(self) -> str:
        crm = self.crm_ingested_until.isoformat() if self.crm_ingested_until else None
        return json.dumps({"v": 1, "warehouse": self.warehouse_loaded_until.isoformat(), "crm": crm})

    @classmethod
    def load(cls, raw: str | None) -> ChangeCursor | None:
        if not raw:
            return None
        data = json.loads(raw)
        crm = data.get("crm")
        return cls(datetime.fromisoformat(data["warehouse"]), datetime.fromisoformat(crm) if crm else None)


@dataclass
class ChangePlan:
    requests: list[dg.RunRequest]
    cursor: ChangeCursor
    notes: list[str] = field(default_factory=list)


def _empty_changes() -> pl.DataFrame:
    return pl.DataFrame(schema=CHANGE_COLUMNS)


def warehouse_arrivals(client: WarehouseClient, since: datetime, until: datetime) -> pl.DataFrame:
    """Partitions that received warehouse rows loaded in (since, until], with the latest load time."""
    frames = []
    for name in WATCHED_WAREHOUSE_TABLES:
        table = WAREHOUSE_TABLES[name]
        assert table.date_column and table.region_column and table.modified_column
        loaded = client.read_loaded_between(table, since, until)
        frames.append(
            loaded.filter(pl.col(table.modified_column) > since).select(
                pl.col(table.date_column).alias("date"),
                pl.col(table.region_column).alias("region"),
                pl.col(table.modified_column).cast(pl.Datetime("us", "UTC")).alias("changed_at"),
                pl.lit(f"warehouse {name} loaded late").alias("reason"),
            )
        )
    return pl.concat(frames) if frames else _empty_changes()


def crm_changes(lake: DeltaLake, since: datetime | None) -> tuple[pl.DataFrame, datetime | None]:
    """Partitions touched by opportunity versions extracted after ``since``; and the new high-water mark."""
    if not lake.exists("raw_salesforce_opportunities"):
        return _empty_changes(), since
    raw = lake.scan("raw_salesforce_opportunities").select("Id", "_ingested_at")
    if since is not None:
        raw = raw.filter(pl.col("_ingested_at") > since)
    versions = raw.group_by("Id").agg(pl.col("_ingested_at").max().alias("changed_at")).collect()
    if versions.is_empty():
        return _empty_changes(), since
    ids = versions["Id"].to_list()
    touched = []
    if all(lake.exists(t) for t in ("stg_salesforce_opportunities", "dim_sales_rep", "dim_customer")):
        current = lake.scan("stg_salesforce_opportunities").filter(pl.col("opportunity_id").is_in(ids)).collect()
        touched.append(
            crm_sale_partitions(current, lake.read("dim_sales_rep"), lake.read("dim_customer")).select(
                "opportunity_id",
                "date",
                "region",
                pl.lit("crm opportunity changed: its current close date").alias("reason"),
            )
        )
    if lake.exists("fact_sales"):
        touched.append(
            lake.scan("fact_sales")
            .filter((pl.col("channel") == "crm") & pl.col("order_id").is_in(ids))
            .select(
                pl.col("order_id").alias("opportunity_id"),
                "date",
                "region",
                pl.lit("crm opportunity changed: where its lines are now").alias("reason"),
            )
            .unique()
            .collect()
        )
    if not touched:
        return _empty_changes(), versions["changed_at"].max()  # type: ignore[return-value]
    changes = (
        pl.concat(touched)
        .join(versions.rename({"Id": "opportunity_id"}), on="opportunity_id")
        .select(list(CHANGE_COLUMNS))
        .cast(CHANGE_COLUMNS)  # type: ignore[arg-type]
    )
    return changes, versions["changed_at"].max()  # type: ignore[return-value]


def plan_change_reruns(
    changes: pl.DataFrame,
    last_materialized: Callable[[Sequence[str]], dict[str, datetime]],
    job_name: str,
    start: date,
) -> tuple[list[dg.RunRequest], list[str]]:
    """Range requests for the touched partitions that were materialized before their change arrived."""
    notes: list[str] = []
    if changes.is_empty():
        return [], notes
    per_partition = (
        changes.filter(pl.col("date") >= start)
        .group_by("date", "region")
        .agg(pl.col("changed_at").max(), pl.col("reason").unique().sort())
    )
    keys = [partition_key(d, r) for d, r in per_partition.select("date", "region").iter_rows()]
    materialized = last_materialized(keys)
    stale: dict[str, list[date]] = defaultdict(list)
    reasons: dict[str, set[str]] = defaultdict(set)
    identity: dict[str, list[str]] = defaultdict(list)
    for day, region, changed_at, why in per_partition.iter_rows():
        key = partition_key(day, region)
        written = materialized.get(key)
        if written is None:
            notes.append(f"{key}: changed but never materialized; the schedule or a backfill covers it")
            continue
        if written >= changed_at:
            continue  # a run since the change already picked it up
        stale[region].append(day)
        reasons[region].update(why)
        identity[region].append(f"{key}@{changed_at.isoformat()}")
    requests = []
    for region, days in sorted(stale.items()):
        for first, last in contiguous_ranges(days):
            requests.append(
                partition_run_request(
                    job_name,
                    region,
                    first,
                    last,
                    run_key=f"change:{region}:{first}:{last}:{short_digest(sorted(identity[region]))}",
                    tags={
                        TRIGGER_TAG: "late_change",
                        CHANGE_REASONS_TAG: truncate_tag("; ".join(sorted(reasons[region]))),
                    },
                )
            )
    return requests, notes


def last_materialized_from(instance: dg.DagsterInstance) -> Callable[[Sequence[str]], dict[str, datetime]]:
    def lookup(keys: Sequence[str]) -> dict[str, datetime]:
        found: dict[str, datetime] = {}
        if not keys:
            return found
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=JUDGED_ASSET, asset_partitions=list(keys)), limit=10 * len(keys)
        )
        for record in result.records:
            key = record.partition_key
            when = datetime.fromtimestamp(record.timestamp, UTC)
            if key is not None and (key not in found or when > found[key]):
                found[key] = when
        return found

    return lookup


def plan_late_changes(
    client: WarehouseClient,
    lake: DeltaLake,
    last_materialized: Callable[[Sequence[str]], dict[str, datetime]],
    cursor: ChangeCursor | None,
    now: datetime,
    job_name: str = daily_sales_job.name,
) -> ChangePlan:
    if cursor is None:
        # First tick: start from now. What the lake already holds was loaded by the runs that
        # wrote it; replaying history here would re-run every partition at once.
        _, crm_mark = crm_changes(lake, None)
        return ChangePlan(
            [], ChangeCursor(now, crm_mark), [f"started watching for changes at {now:%Y-%m-%d %H:%M} UTC"]
        )
    arrivals = warehouse_arrivals(client, cursor.warehouse_loaded_until - ARRIVAL_LOOKBACK, now)
    crm, crm_mark = crm_changes(lake, cursor.crm_ingested_until)
    requests, notes = plan_change_reruns(
        pl.concat([arrivals, crm]), last_materialized, job_name, partitions_start_date()
    )
    return ChangePlan(requests, ChangeCursor(now, crm_mark), notes)


def build_late_change_sensor(name: str = "late_change_sensor") -> dg.SensorDefinition:
    @stopped_sensor(
        name,
        "Re-runs the date × region partitions that changed after they were materialized: warehouse rows "
        "loaded late (by _loaded_at) and CRM opportunities changed since (old and new close-date partitions). One "
        "range run per region; run tags say why. Starts watching from the moment it is turned on.",
        minimum_interval_seconds=300,
        job=daily_sales_job,
    )
    def _sensor(
        context: dg.SensorEvaluationContext, warehouse: WarehouseResource, lake: LakeResource
    ) -> dg.SensorResult:
        plan = plan_late_changes(
            warehouse.get_client(),
            lake.get_lake(),
            last_materialized_from(context.instance),
            ChangeCursor.load(context.cursor),
            datetime.now(UTC),
        )
        for note in plan.notes:
            context.log.info(note)
        skip = None if plan.requests else ("; ".join(plan.notes[:3]) or "no changes to materialized partitions")
        return dg.SensorResult(run_requests=plan.requests, cursor=plan.cursor.dump(), skip_reason=skip)

    return _sensor
