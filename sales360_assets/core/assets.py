"""Core star schema assets: conformed dimensions and the two facts. Thin wrappers over transforms.py."""

from datetime import UTC, datetime, timedelta

import dagster as dg
import polars as pl

from sales360_assets.core import transforms
from sales360_assets.partitions import date_region_partitions, selection_from_keys, single_run_backfill
from sales360_assets.settings import partitions_start_date

OWNERS = ["team:sales-data-platform"]
GROUP = "core"
KINDS = {"polars", "delta"}


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Calendar from the first partition date to a year ahead: ISO week, quarter, weekend and holiday flags.",
)
def dim_date() -> pl.DataFrame:
    return transforms.build_dim_date(partitions_start_date(), datetime.now(UTC).date() + timedelta(days=366))


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Sales regions with their currency, countries and the territories reps cover.",
)
def dim_region(stg_salesforce_users: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_dim_region(stg_salesforce_users)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="One row per real product, conformed across web, POS and CRM on SKU (CRM ProductCode), "
    "with the category → subcategory hierarchy from the master catalogue. CRM-only SKUs are "
    "'Unmapped'; an unknown member catches sales of SKUs no catalogue knows.",
)
def dim_product(stg_warehouse_products: pl.DataFrame, stg_salesforce_products: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_dim_product(stg_warehouse_products, stg_salesforce_products)


@dg.asset(
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
    return transforms.build_dim_customer(stg_warehouse_customers, stg_salesforce_accounts, stg_salesforce_contacts)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Sales reps and managers from Salesforce users: region, territory, manager.",
)
def dim_sales_rep(stg_salesforce_users: pl.DataFrame) -> pl.DataFrame:
    return transforms.build_dim_sales_rep(stg_salesforce_users)


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    partitions_def=date_region_partitions,
    backfill_policy=single_run_backfill,
    description="Sales at order-line grain across channels (web, POS, and CRM deals not fulfilled as web "
    "orders — a won deal carrying Web_Order_Id__c is already a web sale, so it is left out). Amounts in "
    "USD with the original amount, currency, rate and rate date kept for audit; cost and gross margin.",
    tags={"sensitivity": "confidential"},
)
def fact_sales(
    context: dg.AssetExecutionContext,
    stg_warehouse_order_lines: pl.DataFrame,
    stg_pos_transactions: pl.DataFrame,
    stg_salesforce_opportunities: pl.DataFrame,
    stg_salesforce_opportunity_line_items: pl.DataFrame,
    stg_salesforce_users: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
) -> pl.DataFrame:
    selection = selection_from_keys(context.partition_keys)
    return transforms.build_fact_sales(
        stg_warehouse_order_lines,
        stg_pos_transactions,
        stg_salesforce_opportunities,
        stg_salesforce_opportunity_line_items,
        stg_salesforce_users,
        dim_customer,
        dim_product,
        selection.start,
        selection.end,
        list(selection.regions),
    )


@dg.asset(
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Opportunities at deal grain (current state; deleted deals removed): stage, owner, amounts "
    "in original currency and USD, expected value and days to close.",
)
def fact_opportunity(
    stg_salesforce_opportunities: pl.DataFrame, stg_salesforce_users: pl.DataFrame, dim_customer: pl.DataFrame
) -> pl.DataFrame:
    return transforms.build_fact_opportunity(stg_salesforce_opportunities, stg_salesforce_users, dim_customer)


core_assets: list[dg.AssetsDefinition] = [
    dim_date,
    dim_region,
    dim_product,
    dim_customer,
    dim_sales_rep,
    fact_sales,
    fact_opportunity,
]
