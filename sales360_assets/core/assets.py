"""Core star schema assets: conformed dimensions and the two facts. Thin wrappers over dimensions.py, sales.py and deals.py."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl

from sales360_assets.checks import validate_before_write
from sales360_assets.core import deals, dimensions, product_cost, sales, schemas
from sales360_assets.core.columns import SENSITIVITY, core_descriptions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource, table_schema
from sales360_assets.partitions import (
    date_region_partitions,
    partition_selection,
    single_run_backfill,
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


def _metadata(table: str, schema: dict[str, pl.DataType]) -> dict[str, object]:
    """The core table's column schema: every column described, personal data and cost tagged (core/columns.py)."""
    return column_metadata(schema, core_descriptions(table), SENSITIVITY.get(table))


@dg.asset(
    metadata=_metadata("dim_date", schemas.DIM_DATE_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Calendar from the first partition date to a year ahead: ISO week, quarter, weekend and holiday flags.",
)
def dim_date() -> pl.DataFrame:
    return dimensions.build_dim_date(partitions_start_date(), datetime.now(UTC).date() + timedelta(days=366))


@dg.asset(
    metadata=_metadata("dim_region", schemas.DIM_REGION_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Sales regions with their currency, countries and the territories reps cover.",
)
def dim_region(stg_salesforce_users: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_region(stg_salesforce_users)


@dg.asset(
    metadata=_metadata("dim_product", schemas.DIM_PRODUCT_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="One row per real product, conformed across web, POS and CRM on SKU (CRM ProductCode), "
    "with the category → subcategory hierarchy from the master catalogue. CRM-only SKUs are "
    "'Unmapped'; an unknown member catches sales of SKUs no catalogue knows.",
)
def dim_product(stg_warehouse_products: pl.DataFrame, stg_salesforce_products: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_product(stg_warehouse_products, stg_salesforce_products)


@dg.asset(
    metadata=_metadata("dim_product_cost", product_cost.DIM_PRODUCT_COST_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Product cost as a type 2 dimension: one row per SKU and standard-cost version with its validity "
    "[valid_from, valid_to). fact_sales takes the cost valid on each sale's date, so margin on old sales uses "
    "the cost of their day, not today's.",
    tags={"sensitivity": "confidential"},
)
def dim_product_cost(stg_warehouse_product_cost_history: pl.DataFrame) -> pl.DataFrame:
    return product_cost.build_dim_product_cost(stg_warehouse_product_cost_history)


@dg.asset(
    metadata=_metadata("dim_customer", schemas.DIM_CUSTOMER_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Customers conformed across channels (web customers by normalized email, CRM accounts as "
    "B2B customers) with segment, country and region; unknown members for unidentified buyers.",
    tags={"sensitivity": "pii"},
)
def dim_customer(
    stg_warehouse_customers: pl.DataFrame, stg_salesforce_accounts: pl.DataFrame, stg_salesforce_contacts: pl.DataFrame
) -> pl.DataFrame:
    return dimensions.build_dim_customer(stg_warehouse_customers, stg_salesforce_accounts, stg_salesforce_contacts)


@dg.asset(
    metadata=_metadata("dim_sales_rep", schemas.DIM_SALES_REP_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Sales reps and managers as a type 2 slowly changing dimension: one row per rep and "
    "assignment period (title, region, territory, manager) valid from valid_from (inclusive) to valid_to "
    "(exclusive), built from every Salesforce User record version. Facts carry the key of the version "
    "valid on the sale date.",
    tags={"sensitivity": "pii"},
)
def dim_sales_rep(stg_salesforce_user_history: pl.DataFrame) -> pl.DataFrame:
    return dimensions.build_dim_sales_rep(stg_salesforce_user_history)


@dg.asset(
    metadata=_metadata("bridge_account_team", schemas.BRIDGE_ACCOUNT_TEAM_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Bridge between accounts and sales team members (many-to-many): per account and period "
    "[valid_from, valid_to) the members, their role and credit split, which sum to 100 (is_balanced). "
    "Commission credit flows through it.",
)
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


@dg.asset(
    metadata={
        **_metadata("fact_sales", schemas.FACT_SALES_SCHEMA),
        **lineage(
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
    },
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    partitions_def=date_region_partitions,
    backfill_policy=single_run_backfill,
    description="Sales at order-line grain across channels (web, POS, and CRM deals not fulfilled as web "
    "orders — a won deal whose Web_Order_Id__c names a staged web order is already a web sale, so it is left "
    "out; one naming no web order stays a CRM sale). CRM deals are "
    "attributed to the rep assignment valid on the close date (type 2 dim_sales_rep). Amounts in USD with the "
    "original amount, currency, rate and rate date kept for audit; cost and gross margin.",
    tags={"sensitivity": "confidential"},
)
def fact_sales(
    context: dg.AssetExecutionContext,
    stg_warehouse_order_lines: pl.DataFrame,
    stg_pos_transactions: pl.DataFrame,
    stg_salesforce_opportunities: pl.DataFrame,
    stg_salesforce_opportunity_line_items: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    dim_product_cost: pl.DataFrame,
    lake: LakeResource,
) -> pl.DataFrame:
    selection = partition_selection(context)
    fact = sales.build_fact_sales(
        stg_warehouse_order_lines,
        stg_pos_transactions,
        stg_salesforce_opportunities,
        stg_salesforce_opportunity_line_items,
        dim_sales_rep,
        dim_customer,
        dim_product,
        selection.start,
        selection.end,
        list(selection.regions),
        web_orders=known_web_orders(lake.get_lake()),
        product_costs=dim_product_cost,
    )
    # Commission is paid from these rows: duplicates, null keys or negative quantities never land.
    validate_before_write("fact_sales", fact)
    return fact


@dg.asset(
    metadata=_metadata("fact_opportunity", schemas.FACT_OPPORTUNITY_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Opportunities at deal grain (current state; deleted deals removed): stage and its standard "
    "funnel stage and ordinal (regional stage names mapped in core/funnel.py), the furthest stage reached, the "
    "owner's assignment on the close date, amounts in original currency and USD, expected value, days to "
    "close, booking and cancellation dates.",
)
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


@dg.asset(
    metadata=_metadata("fact_booking_line", schemas.FACT_BOOKING_LINE_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="The bookings ledger: every line item of every booked deal (won, or won and later cancelled) "
    "on its booking date, in USD, with the owner's assignment then, the product family, the campaign and — "
    "for cancelled deals — the cancellation date (the first change to the Cancelled stage in "
    "stg_salesforce_opportunity_history, else Cancelled_Date__c). A cancellation never removes a booking, so a "
    "paid period never changes; commissions and quota attainment are computed from it.",
    tags={"sensitivity": "confidential"},
)
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
