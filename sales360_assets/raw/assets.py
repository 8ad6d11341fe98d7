"""Raw layer: each source table as delivered, plus ingestion columns (_source, _ingested_at, _run_id).

Partitioning, by source:

* Warehouse orders/order lines and POS logs have a business date and a region: date × region
  partitions, one query / one set of files per partition.
* Salesforce objects are extracted incrementally on ``SystemModstamp`` into unpartitioned,
  append-only tables: each extract adds the record versions not yet held (key ``Id`` +
  ``SystemModstamp``), because a real org returns only current versions and the platform's own
  snapshots are the only history of most objects. A CRM record is mutable (an opportunity changes stage, amount and close date), so a
  date partition of it would go stale; one org serves every region, and splitting extracts by
  region would multiply API calls against the daily limit. The high-water mark is the newest
  ``SystemModstamp`` already in the raw table, so it is durable and moves in the same Delta
  commit as the data it describes: a crash mid-write leaves both where they were.
* Warehouse reference tables (customers, products, FX rates) and the POS store registry are
  small full snapshots, unpartitioned.
"""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.lake.io_manager import LakeResource, table_schema
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.partitions import (
    DATE_REGION_PARTITIONED,
    partition_key,
    partition_selection,
)
from sales360_assets.raw.columns import SENSITIVITY, raw_asset_tags, raw_descriptions
from sales360_assets.retries import EXTRACTION_RETRY_POLICY, classified_extraction
from sales360_assets.sources.contract import POS_STORES, POS_TRANSACTIONS, WAREHOUSE_TABLES, SourceTable
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.sources.landing import LINEAGE_COLUMNS
from sales360_assets.sources.resources import LandingZoneResource, SalesforceResource, WarehouseResource
from sales360_assets.sources.salesforce import SwitchedOffCrmClient, extract_object, extraction_window

OWNERS = ["team:sales-data-platform"]
GROUP = "raw"

# Salesforce object -> raw asset name
SALESFORCE_RAW_ASSETS: dict[str, str] = {
    "User": "raw_salesforce_users",
    "Account": "raw_salesforce_accounts",
    "Contact": "raw_salesforce_contacts",
    "Product2": "raw_salesforce_products",
    "Campaign": "raw_salesforce_campaigns",
    "Opportunity": "raw_salesforce_opportunities",
    "OpportunityLineItem": "raw_salesforce_opportunity_line_items",
    "Quota__c": "raw_salesforce_quotas",
    "AccountTeamMember": "raw_salesforce_account_team_members",
    "OpportunityHistory": "raw_salesforce_opportunity_history",
}
# A raw Salesforce table holds each record version once: the snapshots the platform took.
SNAPSHOT_KEY = ("Id", "SystemModstamp")
INGESTION_COLUMNS = {"_source": pl.String, "_ingested_at": pl.Datetime("us", "UTC"), "_run_id": pl.String}


def with_ingestion_columns(frame: pl.DataFrame, source: str, run_id: str, ingested_at: datetime) -> pl.DataFrame:
    return frame.with_columns(
        pl.lit(source).alias("_source"),
        pl.lit(ingested_at, dtype=pl.Datetime("us", "UTC")).alias("_ingested_at"),
        pl.lit(run_id).alias("_run_id"),
    )


def report_partitions_without_rows(
    context: dg.AssetExecutionContext, frame: pl.DataFrame, selection: PartitionSelection, source: str
) -> dict[str, object]:
    """Say which of the run's partitions the source had no rows for: a green partition with 0 rows
    is more often a missing export than a quiet day, so it is a warning in the run log, not silence."""
    present = set(frame.select("date", "region").unique().iter_rows()) if frame.height else set()
    empty = [partition_key(d, r) for d in selection.dates for r in selection.regions if (d, r) not in present]
    if empty:
        shown = ", ".join(empty[:10]) + (f" … and {len(empty) - 10} more" if len(empty) > 10 else "")
        context.log.warning(f"{source} has no rows for {len(empty)} of this run's partitions: {shown}")
    # Small on purpose: one count and a short sample, whatever the range.
    return {"partitions_without_source_rows": len(empty), "partitions_without_source_rows_sample": ", ".join(empty[:5])}


def _switched_off(context: dg.AssetExecutionContext, reason: str | None, what: str) -> dict[str, object]:
    """Metadata (and a run-log warning) saying a source is off, so an empty table is not a mystery."""
    if reason is None:
        return {}
    context.log.warning(f"{what}: {reason}; writing no rows")
    return {"source_disabled": reason}


# Each raw asset's table schema, by asset name: staging derives its own declared schemas from these.
RAW_SCHEMAS: dict[str, pl.Schema] = {}


def _column_schema(asset_name: str, schema: pl.Schema, object_name: str | None = None) -> dg.TableSchema:
    """The table's columns with what each holds and its sensitivity (``raw/columns.py``)."""
    return table_schema(schema, raw_descriptions(asset_name, object_name), SENSITIVITY.get(asset_name))


def _schema_metadata(
    asset_name: str, columns: dict[str, pl.DataType], object_name: str | None = None
) -> dict[str, object]:
    RAW_SCHEMAS[asset_name] = pl.Schema({**columns, **INGESTION_COLUMNS})
    return {"dagster/column_schema": _column_schema(asset_name, RAW_SCHEMAS[asset_name], object_name)}


def _raw_asset(
    asset_name: str,
    source: str,
    description: str,
    columns: dict[str, pl.DataType],
    *,
    object_name: str | None = None,
    retry_policy: dg.RetryPolicy = EXTRACTION_RETRY_POLICY,
    **asset_args: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``dg.asset`` for a raw table: the raw group and owner, kinds naming its source system, the source's
    columns with the ingestion columns as its schema, the sensitivity tag for personal data, and
    retries for transient extraction errors."""
    return dg.asset(
        name=asset_name,
        group_name=GROUP,
        owners=OWNERS,
        kinds={source, "polars", "delta"},
        description=description,
        metadata=_schema_metadata(asset_name, columns, object_name),
        tags=raw_asset_tags(asset_name),
        retry_policy=retry_policy,
        **asset_args,
    )


def build_salesforce_raw_asset(
    object_name: str, asset_name: str, retry_policy: dg.RetryPolicy = EXTRACTION_RETRY_POLICY
) -> dg.AssetsDefinition:
    table = SALESFORCE_OBJECTS[object_name]

    @_raw_asset(
        asset_name,
        "salesforce",
        f"Salesforce {object_name}: every record version an extract has seen (append-only "
        f"snapshots keyed on Id + SystemModstamp; deleted records as tombstones), extracted incrementally "
        f"on SystemModstamp. {table.description}",
        table.columns,
        object_name=object_name,
        # Transient errors only: classified_extraction raises permanent ones with allow_retries=False.
        retry_policy=retry_policy,
        # Caps concurrent Salesforce work across runs (API limits are per org).
        pool="salesforce",
    )
    def _raw_salesforce(
        context: dg.AssetExecutionContext, salesforce: SalesforceResource, lake: LakeResource
    ) -> dg.MaterializeResult:
        with classified_extraction(f"Salesforce {object_name}"):
            return _extract_salesforce(context, salesforce, lake)

    def _extract_salesforce(
        context: dg.AssetExecutionContext, salesforce: SalesforceResource, lake: LakeResource
    ) -> dg.MaterializeResult:
        delta = lake.get_lake()
        watermark: datetime | None = None
        if delta.exists(asset_name):
            watermark = delta.scan(asset_name).select(pl.col("SystemModstamp").max()).collect().item()
        run_start = datetime.now(UTC)
        since, until = extraction_window(watermark, run_start, timedelta(minutes=salesforce.lookback_minutes))
        client = salesforce.get_client()
        if isinstance(client, SwitchedOffCrmClient):
            # Empty, with the contract schema: downstream runs as for an org with no records.
            context.log.warning(f"Salesforce {object_name}: {client.reason}; writing no records")
        frame, added = extract_object(client, table, since, until)
        delivered = frame.height
        # One row per record version: a version the platform already holds keeps its first
        # ingestion, and a page re-sent in one delivery (a retried request) adds nothing.
        frame = frame.unique(subset=list(SNAPSHOT_KEY), keep="first", maintain_order=True)
        frame = with_ingestion_columns(frame, f"salesforce:{object_name}", context.run.run_id, run_start)
        # Append-only snapshots: a real org answers with each record's current version only, so the
        # versions earlier extracts saw exist nowhere else. Replacing the look-back window with the
        # current answer would delete them; inserting new (Id, SystemModstamp) keys never does.
        inserted = delta.insert_new(asset_name, frame, SNAPSHOT_KEY)
        result_version = delta.version(asset_name)
        # The window never reaches below the old watermark's look-back, so the new mark is derivable.
        new_watermark = max((m for m in (watermark, frame["SystemModstamp"].max()) if m is not None), default=None)
        return dg.MaterializeResult(
            metadata={
                "dagster/row_count": delta.row_count(asset_name),
                "dagster/column_schema": _column_schema(asset_name, frame.schema, object_name),
                "dagster/table_name": asset_name,
                "records_extracted": delivered,
                "versions_new": inserted,
                "deleted_records_extracted": int(frame["IsDeleted"].fill_null(False).sum()) if frame.height else 0,
                "window_start": since.isoformat() if since else "beginning",
                "window_end": until.isoformat(),
                "watermark_before": watermark.isoformat() if watermark else "none",
                "watermark_after": new_watermark.isoformat() if new_watermark else "none",
                "added_fields": ", ".join(added) or "none",
                "delta_version": result_version,
                **client.usage_metadata(),
            }
        )

    return _raw_salesforce


def _raw_warehouse_asset(
    table: SourceTable, extract: str, extra_columns: dict[str, pl.DataType] | None = None, **asset_args: Any
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``_raw_asset`` for a warehouse (BigQuery) table: ``raw_warehouse_<table>``, described by how it is
    extracted and by the contract; ``extra_columns`` are the ones extraction adds."""
    return _raw_asset(
        f"raw_warehouse_{table.name}",
        "bigquery",
        f"Warehouse table `{table.name}`{extract}. {table.description}",
        {**table.columns, **(extra_columns or {})},
        **asset_args,
    )


def build_warehouse_snapshot_asset(
    table_name: str, retry_policy: dg.RetryPolicy = EXTRACTION_RETRY_POLICY
) -> dg.AssetsDefinition:
    table = WAREHOUSE_TABLES[table_name]

    @_raw_warehouse_asset(table, ", full snapshot", retry_policy=retry_policy)
    def _raw_warehouse_snapshot(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pl.DataFrame:
        with classified_extraction(f"warehouse table {table_name}"):
            client = warehouse.get_client()
            frame = client.read_full(table)
        context.add_output_metadata(client.usage_metadata())
        return with_ingestion_columns(frame, f"warehouse:{table_name}", context.run.run_id, datetime.now(UTC))

    return _raw_warehouse_snapshot


def build_warehouse_partitioned_asset(
    table_name: str, retry_policy: dg.RetryPolicy = EXTRACTION_RETRY_POLICY
) -> dg.AssetsDefinition:
    table = WAREHOUSE_TABLES[table_name]
    assert table.date_column and table.region_column

    @_raw_warehouse_asset(
        table,
        f" for the run's dates × regions (one parameterized query filtered on `{table.date_column}`)",
        {"date": pl.Date},
        retry_policy=retry_policy,
        **DATE_REGION_PARTITIONED,
    )
    def _raw_warehouse_partitioned(context: dg.AssetExecutionContext, warehouse: WarehouseResource) -> pl.DataFrame:
        selection = partition_selection(context)
        with classified_extraction(f"warehouse table {table_name} {selection}"):
            client = warehouse.get_client()
            frame = client.read_partitioned(table, selection.start, selection.end, selection.regions)
        frame = frame.with_columns(pl.col(table.date_column).alias("date"))
        context.add_output_metadata(
            {
                **client.usage_metadata(),
                **report_partitions_without_rows(context, frame, selection, f"warehouse {table_name}"),
            }
        )
        return with_ingestion_columns(frame, f"warehouse:{table_name}", context.run.run_id, datetime.now(UTC))

    return _raw_warehouse_partitioned


@_raw_asset(
    "raw_pos_stores", "csv", f"POS store registry from the landing zone. {POS_STORES.description}", POS_STORES.columns
)
def raw_pos_stores(context: dg.AssetExecutionContext, landing: LandingZoneResource) -> pl.DataFrame:
    with classified_extraction("POS store registry"):
        zone = landing.get_landing_zone()
        frame = zone.read_pos_stores()
    context.add_output_metadata(_switched_off(context, zone.disabled_reason, "POS store registry"))
    return with_ingestion_columns(frame, "landing:pos/stores.csv", context.run.run_id, datetime.now(UTC))


@_raw_asset(
    "raw_pos_transactions",
    "csv",
    "POS/ERP transaction lines dropped as CSV per store and day, every line kept as text "
    "(malformed lines too, with their original text and parse error) for staging to validate.",
    {**POS_TRANSACTIONS.columns, **LINEAGE_COLUMNS, "date": pl.Date, "region": pl.String},
    **DATE_REGION_PARTITIONED,
)
def raw_pos_transactions(context: dg.AssetExecutionContext, landing: LandingZoneResource) -> pl.DataFrame:
    selection = partition_selection(context)
    with classified_extraction(f"POS landing files {selection}"):
        zone = landing.get_landing_zone()
        frame = zone.read_pos_transactions(selection.start, selection.end, selection.regions)
    off = zone.disabled_reason
    context.add_output_metadata(
        {
            "files_read": frame["_source_file"].n_unique() if frame.height else 0,
            # With POS off, days without rows are expected: only say it is off.
            **(
                _switched_off(context, off, "POS transactions")
                if off is not None
                else report_partitions_without_rows(context, frame, selection, "POS landing zone")
            ),
        }
    )
    return with_ingestion_columns(frame, "landing:pos", context.run.run_id, datetime.now(UTC))


raw_assets: list[dg.AssetsDefinition] = [
    *[build_salesforce_raw_asset(obj, name) for obj, name in SALESFORCE_RAW_ASSETS.items()],
    *[build_warehouse_snapshot_asset(t) for t in ("customers", "products", "fx_rates")],
    *[build_warehouse_partitioned_asset(t) for t in ("orders", "order_lines")],
    raw_pos_stores,
    raw_pos_transactions,
]
