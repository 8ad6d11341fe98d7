"""Core star schema assets: conformed dimensions and the two facts. Thin wrappers over dimensions.py, sales.py and deals.py."""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.checks import validate_before_write, validated_blocks
from sales360_assets.core import deals, dimensions, product_cost, sales, schemas
from sales360_assets.core.columns import SENSITIVITY, TABLE_DESCRIPTIONS, TABLE_SENSITIVITY, core_descriptions
from sales360_assets.frames import FrameBlocks
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource, table_schema
from sales360_assets.partitions import (
    DATE_REGION_PARTITIONED,
    partition_selection,
)
from sales360_assets.settings import partitions_start_date

OWNERS = ["team:sales-data-platform"]
GROUP = "core"
KINDS = {"polars", "delta"}


def column_metadata(
    schema: dict[str, pl.DataType],
    descriptions: dict[str, str] | None = None,
    sensitivity: dict[str, str] | None = None,
) -> dict[str, object]:
    return {"dagster/column_schema": table_schema(schema, descriptions, sensitivity)}


def lineage(columns: dict[str, list[tuple[str, str]]]) -> dict[str, object]:
    """Column lineage for the UI: output column -> [(upstream asset, upstream column)]."""
    return {
        "dagster/column_lineage": dg.TableColumnLineage(
            deps_by_column={
                column: [dg.TableColumnDep(asset_key=dg.AssetKey(asset), column_name=up) for asset, up in deps]
                for column, deps in columns.items()
            }
        )
    }


def _core_asset(
    name: str,
    schema: dict[str, pl.DataType],
    *,
    metadata: dict[str, object] | None = None,
    **asset_args: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``dg.asset`` for a core table, its catalogue docs from core/columns.py: the table's description and
    sensitivity tag, its column schema with every column described and personal data and cost tagged; the
    core group, owner and kinds.

    ``metadata`` adds to the column schema (lineage, for instance); ``asset_args`` go to ``dg.asset``.
    """
    sensitivity = TABLE_SENSITIVITY.get(name)
    return dg.asset(
        name=name,
        metadata={**column_metadata(schema, core_descriptions(name), SENSITIVITY.get(name)), **(metadata or {})},
        group_name=GROUP,
        owners=OWNERS,
        kinds=KINDS,
        description=TABLE_DESCRIPTIONS[name],
        tags={"sensitivity": sensitivity} if sensitivity else None,
        **asset_args,
    )


@_core_asset("dim_date", schemas.DIM_DATE_SCHEMA)
def dim_date() -> pl.DataFrame:
    return dimensions.build_dim_date(partitions_start_date(), datetime.now(UTC).date() + timedelta(days=366))


@_core_asset("dim_region", schemas.DIM_REGION_SCHEMA)
def dim_region(stg_salesforce_users: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_region(stg_salesforce_users)


@_core_asset("dim_product", schemas.DIM_PRODUCT_SCHEMA)
def dim_product(stg_warehouse_products: pl.DataFrame, stg_salesforce_products: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_product(stg_warehouse_products, stg_salesforce_products)


@_core_asset("dim_product_cost", product_cost.DIM_PRODUCT_COST_SCHEMA)
def dim_product_cost(stg_warehouse_product_cost_history: pl.DataFrame) -> pl.DataFrame:
    return product_cost.build_dim_product_cost(stg_warehouse_product_cost_history)


@_core_asset("dim_customer", schemas.DIM_CUSTOMER_SCHEMA)
def dim_customer(
    stg_warehouse_customers: pl.DataFrame, stg_salesforce_accounts: pl.DataFrame, stg_salesforce_contacts: pl.DataFrame
) -> pl.DataFrame:
    return dimensions.build_dim_customer(stg_warehouse_customers, stg_salesforce_accounts, stg_salesforce_contacts)


@_core_asset("dim_sales_rep", schemas.DIM_SALES_REP_SCHEMA)
def dim_sales_rep(stg_salesforce_user_history: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_sales_rep(stg_salesforce_user_history)


@_core_asset("bridge_account_team", schemas.BRIDGE_ACCOUNT_TEAM_SCHEMA)
def bridge_account_team(stg_salesforce_account_team_members: pl.DataFrame, dim_customer: pl.DataFrame) -> dg.Output:
    bridge = dimensions.build_bridge_account_team(stg_salesforce_account_team_members, dim_customer)
    unbalanced = bridge.filter(~pl.col("is_balanced")).select("account_id", "valid_from").unique().height
    return dg.Output(bridge, metadata={"unbalanced_account_periods": unbalanced})


def known_web_orders(lake: DeltaLake) -> pl.DataFrame:
    """Every web order id staged so far (any date, any status): a deal's Web_Order_Id__c is left
    to the web channel only when its order exists (a cancelled one is no sale in either channel).
    One narrow column, so the scan stays cheap."""
    if not lake.exists("stg_warehouse_orders"):
        return pl.DataFrame(schema={"order_id": pl.String})
    return lake.scan("stg_warehouse_orders").select("order_id").unique().collect()


@_core_asset(
    "fact_sales",
    schemas.FACT_SALES_SCHEMA,
    metadata=lineage(
        {
            "net_amount_usd": [
                ("stg_warehouse_order_lines", "net_amount_usd"),
                ("stg_pos_transactions", "net_amount_usd"),
                ("stg_salesforce_opportunity_line_items", "total_price_usd"),
            ],
            "cost_usd": [("dim_product_cost", "standard_cost_usd")],
            "customer_key": [("dim_customer", "customer_key")],
            "product_key": [("dim_product", "product_key")],
            "sales_rep_key": [("dim_sales_rep", "sales_rep_key")],
        }
    ),
    **DATE_REGION_PARTITIONED,
)
def fact_sales(
    context: dg.AssetExecutionContext,
    stg_warehouse_order_lines: pl.LazyFrame,
    stg_pos_transactions: pl.LazyFrame,
    stg_salesforce_opportunities: pl.DataFrame,
    stg_salesforce_opportunity_line_items: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    dim_product_cost: pl.DataFrame,
    lake: LakeResource,
) -> FrameBlocks:
    selection = partition_selection(context)
    web_orders = known_web_orders(lake.get_lake())

    def spans() -> Iterator[pl.DataFrame]:
        # Made as the lake writes them, a span of months at a time, in one commit for the run's partitions.
        by_span = sales.staged_lines_in_month_spans(
            stg_warehouse_order_lines, stg_pos_transactions, selection.start, selection.end
        )
        for first, last, web_lines, pos_lines in by_span:
            span = sales.build_fact_sales(
                web_lines,
                pos_lines,
                stg_salesforce_opportunities,
                stg_salesforce_opportunity_line_items,
                dim_sales_rep,
                dim_customer,
                dim_product,
                first,
                last,
                list(selection.regions),
                web_orders=web_orders,
                product_costs=dim_product_cost,
            )
            yield span

    # Commission is paid from these rows: duplicates (within a span or across spans), null keys or
    # negative quantities never land; a refused span fails the whole commit.
    return FrameBlocks(pl.Schema(schemas.FACT_SALES_SCHEMA), lambda: validated_blocks("fact_sales", spans()))


@_core_asset("fact_opportunity", schemas.FACT_OPPORTUNITY_SCHEMA)
def fact_opportunity(
    stg_salesforce_opportunities: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    stg_salesforce_opportunity_history: pl.DataFrame,
    dim_customer: pl.DataFrame,
) -> pl.DataFrame:
    fact = deals.build_fact_opportunity(
        stg_salesforce_opportunities, dim_sales_rep, dim_customer, stg_salesforce_opportunity_history
    )
    validate_before_write("fact_opportunity", fact)
    return fact


@_core_asset("fact_booking_line", schemas.FACT_BOOKING_LINE_SCHEMA)
def fact_booking_line(
    stg_salesforce_opportunities: pl.DataFrame,
    stg_salesforce_opportunity_line_items: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    stg_salesforce_opportunity_history: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
) -> pl.DataFrame:
    # The stage history dates each cancellation by its first change to the Cancelled stage: without
    # it, a deal lacking Cancelled_Date__c is dated by its last edit (SystemModstamp), so an
    # unrelated edit months later would move the cancellation, and the clawback with it.
    return deals.build_fact_booking_line(
        stg_salesforce_opportunities,
        stg_salesforce_opportunity_line_items,
        dim_sales_rep,
        dim_customer,
        dim_product,
        stg_salesforce_opportunity_history,
    )


core_assets: list[dg.AssetsDefinition] = [
    dim_date,
    dim_region,
    dim_product,
    dim_product_cost,
    dim_customer,
    dim_sales_rep,
    bridge_account_team,
    fact_sales,
    fact_opportunity,
    fact_booking_line,
]


def last_sale_date(lake: LakeResource) -> date | None:
    """The latest day in ``fact_sales``, from its Delta log: the history-wide assets' "as of" date.

    A max over the scan would open every fact_sales file, a cost that grows with history.
    """
    return lake.get_lake().last_date("fact_sales")
