"""Staging layer assets: thin wrappers over the pure transforms in this package.

Each asset stages its raw table, writes rejects to ``dead_letter`` for exactly the slice it
owns, refuses to publish when the counts do not reconcile, and reports the counts.
"""

from collections import Counter
from collections.abc import Callable
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.checks import validate_before_write
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource, table_schema
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.partitions import (
    DATE_REGION_PARTITIONED,
    partition_selection,
)
from sales360_assets.raw.assets import RAW_SCHEMAS, SALESFORCE_RAW_ASSETS
from sales360_assets.staging import pos, salesforce, warehouse
from sales360_assets.staging.columns import staged_asset_tags, staged_descriptions, staged_sensitivity
from sales360_assets.staging.dead_letters import write_dead_letters
from sales360_assets.staging.quality import StagingResult

OWNERS = ["team:sales-data-platform"]
GROUP = "staging"
KINDS = {"polars", "delta"}


class ReconciliationError(RuntimeError):
    pass


def staged_output(result: StagingResult) -> dg.Output[pl.DataFrame]:
    """The staged rows with their reconciliation counts and the commonest rejection reasons."""
    reasons = Counter(result.rejected["reason"].to_list())
    return dg.Output(
        result.staged,
        metadata={
            **result.counts(),
            "reconciles": result.reconciles,
            "rejected_by_reason": dg.MetadataValue.json(dict(reasons.most_common(20))),
        },
    )


def publish(
    context: dg.AssetExecutionContext, lake: LakeResource, source_table: str, result: StagingResult
) -> dg.Output[pl.DataFrame]:
    """Dead-letter the rejects, check raw = staged + rejected + duplicates, hand the staged rows on."""
    selection = partition_selection(context) if context.assets_def.partitions_def else None
    dead_letter_and_reconcile(
        lake.get_lake(), context.asset_key.to_user_string(), source_table, result, context.run.run_id, selection
    )
    return staged_output(result)


def dead_letter_and_reconcile(
    lake: DeltaLake,
    asset: str,
    source_table: str,
    result: StagingResult,
    run_id: str,
    selection: PartitionSelection | None,
) -> None:
    """What staging does before its rows are written, without Dagster (the bare-Polars benchmark
    calls it too): refuse counts that do not reconcile or rows that break the table's rules, then
    write the rejects' dead letters."""
    if not result.reconciles:
        raise ReconciliationError(f"{source_table}: counts do not reconcile: {result.counts()}")
    # Bad rows must never reach the table (nor their dead letters a half-done slice): check first.
    validate_before_write(asset, result.staged)
    write_dead_letters(lake, source_table, result.rejected, run_id, selection)


LakeInputs = Callable[[DeltaLake, PartitionSelection], dict[str, pl.DataFrame]]

# Each staging asset's output schema, by asset name, filled as the assets are defined (upstream first).
STAGED_SCHEMAS: dict[str, pl.Schema] = {}


def _declared_schema(name: str, ins: dict[str, str], stage: Callable[..., StagingResult]) -> dict[str, object]:
    """The column schema the asset writes, for its definition: the stage function run on empty inputs.

    The schema is then declared once, visible in the UI before the first run, and never copied
    onto each partition's materialization (see ``table_metadata``). It cannot drift from the
    transform, since it is the transform's own output.
    """
    known = {**RAW_SCHEMAS, **STAGED_SCHEMAS}
    if any(upstream not in known for upstream in ins.values()):
        return {}
    empty = {param: pl.DataFrame(schema=known[upstream]) for param, upstream in ins.items()}
    STAGED_SCHEMAS[name] = stage(**empty).staged.schema
    schema = table_schema(STAGED_SCHEMAS[name], staged_descriptions(name), staged_sensitivity(name))
    return {"dagster/column_schema": schema}


def pos_lines_staged_elsewhere(lake: DeltaLake, selection: PartitionSelection) -> dict[str, pl.DataFrame]:
    """Keys of POS lines already staged outside this run: a copy re-sent into another day is a dead letter."""
    table = "stg_pos_transactions"
    if not lake.exists(table):
        return {
            "staged_elsewhere": pl.DataFrame(schema={"transaction_id": pl.String, "line_no": pl.Int64, "date": pl.Date})
        }
    keys = lake.scan(table).filter(~selection.filter_expr()).select("transaction_id", "line_no", "date")
    return {"staged_elsewhere": keys.collect()}


def _staged_table_args(
    name: str,
    description: str,
    ins: dict[str, str],
    stage: Callable[..., StagingResult],
    scans: tuple[str, ...] = (),
) -> dict[str, Any]:
    """What every staged table declares (latest version or history): group, owner, kinds, its declared
    column schema and tags, and its upstream tables as the transform's keyword arguments (those
    named in ``scans`` as scans, ``pl.LazyFrame``: the transform reads them a part at a time)."""
    return {
        "name": name,
        "group_name": GROUP,
        "owners": OWNERS,
        "kinds": KINDS,
        "description": description,
        "metadata": _declared_schema(name, ins, stage),
        "tags": staged_asset_tags(name),
        "ins": {
            param: dg.AssetIn(key=upstream, dagster_type=pl.LazyFrame) if param in scans else dg.AssetIn(key=upstream)
            for param, upstream in ins.items()
        },
    }


def _staging_asset(
    name: str,
    description: str,
    ins: dict[str, str],
    stage: Callable[..., StagingResult],
    source_table: str,
    partitioned: bool = False,
    lake_inputs: LakeInputs | None = None,
    scans: tuple[str, ...] = (),
) -> dg.AssetsDefinition:
    """A staging asset whose transform takes the named upstream tables as keyword arguments.

    ``lake_inputs`` adds tables read from the lake for the run's partitions (not graph
    dependencies: the asset's own earlier output, for instance).
    """

    @dg.asset(
        **_staged_table_args(name, description, ins, stage, scans),
        **(DATE_REGION_PARTITIONED if partitioned else {}),
    )
    def _stage(context: dg.AssetExecutionContext, lake: LakeResource, **inputs: pl.DataFrame) -> dg.Output:
        if lake_inputs is not None:
            inputs = {**inputs, **lake_inputs(lake.get_lake(), partition_selection(context))}
        return publish(context, lake, source_table, stage(**inputs))

    return _stage


def _history_asset(
    name: str, description: str, ins: dict[str, str], stage: Callable[..., StagingResult]
) -> dg.AssetsDefinition:
    """Every valid record version of a source table (a Salesforce object, the product cost history).

    Its rules are the latest-version staging asset's, which already dead-letters the rejected
    versions; writing them again from here would only race that asset for the same slice.
    """

    @dg.asset(**_staged_table_args(name, description, ins, stage))
    def _history(**inputs: pl.DataFrame) -> dg.Output:
        result = stage(**inputs)
        if not result.reconciles:
            raise ReconciliationError(f"{name}: counts do not reconcile: {result.counts()}")
        return staged_output(result)

    return _history


def _salesforce_history_assets() -> list[dg.AssetsDefinition]:
    return [
        _history_asset(
            "stg_salesforce_user_history",
            "Salesforce User: every valid record version the platform's extracts have seen (oldest first), "
            "snake_case columns — the history "
            "behind the type 2 sales-rep dimension (territory, region, manager and title changes). Rejected "
            "versions are the ones stg_salesforce_users dead-letters.",
            {"raw": "raw_salesforce_users"},
            lambda raw: salesforce.stage_salesforce_history(raw, "User"),
        ),
    ]


def _salesforce_staging_assets() -> list[dg.AssetsDefinition]:
    assets = []
    for object_name, raw_name in SALESFORCE_RAW_ASSETS.items():
        stg_name = raw_name.replace("raw_", "stg_", 1)
        if object_name == "Opportunity":
            ins = {"raw": raw_name, "fx_rates": "stg_warehouse_fx_rates"}
            stage = lambda raw, fx_rates: salesforce.stage_opportunities(raw, fx_rates)  # noqa: E731
            extra = " Amounts converted to USD at the close date's rate (latest published rate for open deals)."
        elif object_name == "OpportunityLineItem":
            ins = {"raw": raw_name, "opportunities": "stg_salesforce_opportunities"}
            stage = lambda raw, opportunities: salesforce.stage_opportunity_line_items(raw, opportunities)  # noqa: E731
            extra = " Converted to USD at their opportunity's rate."
        elif object_name == "OpportunityHistory":
            ins = {"raw": raw_name}
            stage = lambda raw: salesforce.stage_salesforce_object(raw, "OpportunityHistory")  # noqa: E731
            extra = (
                " One row per change of an opportunity's stage, amount, close date or probability, as the org "
                "records it (changed_at): the stage progression behind the funnel and the cancellation dates."
            )
        else:
            ins = {"raw": raw_name}
            stage = (lambda obj: lambda raw: salesforce.stage_salesforce_object(raw, obj))(object_name)
            extra = ""
        assets.append(
            _staging_asset(
                stg_name,
                f"Salesforce {object_name}: latest version per Id, snake_case columns, is_deleted for "
                f"tombstones; invalid records dead-lettered.{extra}",
                ins,
                stage,
                raw_name,
            )
        )
    return assets


staging_assets: list[dg.AssetsDefinition] = [
    _staging_asset(
        "stg_warehouse_fx_rates",
        "Daily FX rates to USD (business days), validated and deduplicated.",
        {"raw": "raw_warehouse_fx_rates"},
        warehouse.stage_fx_rates,
        "raw_warehouse_fx_rates",
    ),
    _staging_asset(
        "stg_warehouse_customers",
        "E-commerce customers: latest version per customer_id, normalized email for matching.",
        {"raw": "raw_warehouse_customers"},
        warehouse.stage_customers,
        "raw_warehouse_customers",
    ),
    _staging_asset(
        "stg_warehouse_products",
        "Master product catalogue: latest version per SKU, validated costs and prices.",
        {"raw": "raw_warehouse_products"},
        warehouse.stage_products,
        "raw_warehouse_products",
    ),
    _staging_asset(
        "stg_pos_stores",
        "POS store registry with region and currency validated.",
        {"raw": "raw_pos_stores"},
        pos.stage_pos_stores,
        "raw_pos_stores",
    ),
    _staging_asset(
        "stg_warehouse_orders",
        "E-commerce orders: validated (currency, status, region), retry duplicates collapsed to the "
        "latest load, late arrivals flagged.",
        {"raw": "raw_warehouse_orders"},
        warehouse.stage_orders,
        "raw_warehouse_orders",
        partitioned=True,
    ),
    _staging_asset(
        "stg_warehouse_order_lines",
        "E-commerce order lines: validated against their staged order, duplicates collapsed, amounts "
        "converted to USD at the order date's rate (original amount, currency, rate and rate date kept).",
        {"raw": "raw_warehouse_order_lines", "orders": "stg_warehouse_orders", "fx_rates": "stg_warehouse_fx_rates"},
        warehouse.stage_order_lines,
        "raw_warehouse_order_lines",
        partitioned=True,
    ),
    _staging_asset(
        "stg_pos_transactions",
        "POS lines cast from text and validated (malformed lines, unknown currencies or regions, negative "
        "or fractional quantities, discounts outside [0, gross], a date other than the folder's, lines "
        "already staged for another date: dead-lettered with the offending value), retry duplicates "
        "collapsed, amounts in USD.",
        {"raw": "raw_pos_transactions", "fx_rates": "stg_warehouse_fx_rates"},
        pos.stage_pos_transactions,
        "raw_pos_transactions",
        partitioned=True,
        lake_inputs=pos_lines_staged_elsewhere,
        scans=("raw",),
    ),
    *_salesforce_staging_assets(),
    *_salesforce_history_assets(),
    _history_asset(
        "stg_warehouse_product_cost_history",
        "Product cost history: every valid (SKU, cost_valid_from) version of the catalogue's standard cost, "
        "the latest load of each — behind the type 2 dim_product_cost. Rejected rows are the ones "
        "stg_warehouse_products dead-letters.",
        {"raw": "raw_warehouse_products"},
        warehouse.stage_product_cost_history,
    ),
]
