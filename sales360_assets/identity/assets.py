"""Identity assets (group ``identity``): thin wrappers over the pure functions of this package.

They read every staged POS partition, so they run with the history-wide reporting assets, after
the daily partitions; mart_customer_360 reads fact_sales through the crosswalk.
"""

import dagster as dg
import polars as pl

from sales360_assets.core.assets import column_metadata, last_sale_date
from sales360_assets.frames import FrameBlocks
from sales360_assets.identity import crosswalk as xwalk
from sales360_assets.identity.columns import describe_columns, golden_record_docs
from sales360_assets.identity.customer360 import MART_CUSTOMER_360_SCHEMA, build_mart_customer_360
from sales360_assets.identity.decisions import DECISION_SCHEMA, latest_decisions, match_decisions
from sales360_assets.identity.golden import GOLDEN_SCHEMA, golden_record_blocks, load_survivorship, pii_columns
from sales360_assets.identity.matching import MatchSettings
from sales360_assets.identity.records import RECORD_SCHEMA, build_identity_records
from sales360_assets.lake.io_manager import LakeResource

GROUP = "identity"
OWNERS = ["team:sales-data-platform"]
KINDS = {"polars", "delta"}
PII_TAGS = {"sensitivity": "pii"}
_RECORD_PII = {
    c: "pii"
    for c in (
        "first_name",
        "last_name",
        "email",
        "phone",
        "first_key",
        "last_key",
        "email_key",
        "phone_key",
        "phone_e164",
    )
}
_POS_COLUMNS = ["loyalty_id", "customer_name", "customer_email", "customer_phone", "transaction_ts"]

MART_DESCRIPTIONS = {
    "lifetime_revenue_usd": "Net revenue in USD over every fact_sales line of the customer's source ids.",
    "lifetime_margin_usd": "Gross margin in USD over the same lines.",
    "orders": "Distinct orders (web orders, store transactions, CRM deals).",
    "orders_per_month": "Orders per 30.4-day month between first and last purchase (at least one month).",
    "recency_days": "Days from the last purchase to the newest sale date in fact_sales.",
    "recency_score": "1-5 by quintile among buyers, 5 = most recent.",
    "frequency_score": "1-5 by quintile of orders, 5 = most.",
    "monetary_score": "1-5 by quintile of lifetime revenue, 5 = most.",
    "rfm_segment": "champions | loyal | new | at risk | hibernating | needs attention (rules in customer360.py).",
    "preferred_categories": "Top three product categories by revenue.",
    "open_opportunities": "Open CRM deals of the customer's account.",
    "opportunity_owner": "Owner of the largest open deal.",
    "region": "Region with most of the customer's sales, else of their country.",
    "customer_id": "Golden customer id (customer_golden_record.customer_id), one row each.",
    "customer_type": "account when every source id is a CRM account (salesforce_account), else person.",
    "customer_name": "First and last name of the golden record joined by a space (the account name for accounts).",
    "segment": "Customer segment of the golden record (Consumer, Small Business, Corporate, Unknown; Enterprise for "
    "accounts).",
    "systems": "The distinct source systems of the customer's ids in the crosswalk (warehouse, pos, salesforce, "
    "salesforce_account), sorted.",
    "first_purchase_date": "Date of the customer's earliest fact_sales line; null without sales.",
    "last_purchase_date": "Date of the customer's latest fact_sales line; null without sales.",
    "web_revenue_share": "Share (0-1) of lifetime_revenue_usd from the web channel; null without sales.",
    "store_revenue_share": "Share (0-1) of lifetime_revenue_usd from store (pos) sales; null without sales.",
    "crm_revenue_share": "Share (0-1) of lifetime_revenue_usd from CRM (won deal) sales; null without sales.",
    "open_pipeline_usd": "Sum in USD of amount_usd over the open CRM deals of the customer's account; 0 when none.",
}


class IdentityConfig(dg.Config):
    """Match threshold of the Splink model (pairs at or above it are merged)."""

    threshold: float = MatchSettings().threshold


@dg.asset(
    metadata=column_metadata(RECORD_SCHEMA, describe_columns("customer_identity_records", RECORD_SCHEMA), _RECORD_PII),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    tags=PII_TAGS,
    description="Every web customer, CRM contact, CRM account and store loyalty member as one identity record: "
    "values as typed next to normalised match keys (email, national phone number, folded names).",
)
def customer_identity_records(
    stg_warehouse_customers: pl.DataFrame,
    stg_salesforce_contacts: pl.DataFrame,
    stg_salesforce_accounts: pl.DataFrame,
    stg_pos_transactions: pl.LazyFrame,
) -> pl.DataFrame:
    pos_lines = stg_pos_transactions.select(_POS_COLUMNS).collect()
    return build_identity_records(stg_warehouse_customers, stg_salesforce_contacts, pos_lines, stg_salesforce_accounts)


@dg.asset(
    metadata=column_metadata(DECISION_SCHEMA, describe_columns("customer_match_decisions", DECISION_SCHEMA)),
    group_name=GROUP,
    owners=OWNERS,
    kinds={"polars", "delta", "duckdb"},
    description="Decision log, append-only per run: every pair a deterministic rule settled or the Splink "
    "model scored (above the log floor), with its weight, probability, threshold and decision: why two "
    "records were merged, or not.",
)
def customer_match_decisions(
    context: dg.AssetExecutionContext,
    config: IdentityConfig,
    lake: LakeResource,
    customer_identity_records: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    delta = lake.get_lake()
    earlier = delta.read_if_exists("customer_match_decisions")
    decided = match_decisions(customer_identity_records, MatchSettings(threshold=config.threshold), context.run.run_id)
    log = decided if earlier is None else pl.concat([earlier.select(list(DECISION_SCHEMA)), decided])
    counts = decided.group_by("method", "decision").len().sort("method", "decision")
    return dg.Output(
        log,
        metadata={f"{m} {d}": n for m, d, n in counts.iter_rows()} | {"threshold": config.threshold},
    )


@dg.asset(
    metadata=column_metadata(
        xwalk.CROSSWALK_SCHEMA, describe_columns("customer_identity_crosswalk", xwalk.CROSSWALK_SCHEMA)
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Every source id ever seen (web customer, loyalty id, CRM contact, CRM account) -> golden "
    "customer_id, with how it was linked and the runs it was first seen and last changed. Keys are stable: "
    "a merge keeps the id most records had, a split leaves it with the larger part, a source id missing "
    "from a run keeps its row. Facts join through it at read time.",
)
def customer_identity_crosswalk(
    context: dg.AssetExecutionContext,
    lake: LakeResource,
    customer_identity_records: pl.DataFrame,
    customer_match_decisions: pl.DataFrame,
) -> dg.Output[pl.DataFrame]:
    delta = lake.get_lake()
    name = "customer_identity_crosswalk"
    previous = delta.read_if_exists(name)
    if previous is None:
        previous = xwalk.empty_crosswalk()
    crosswalk = xwalk.update_crosswalk(
        previous, customer_identity_records, latest_decisions(customer_match_decisions), context.run.run_id
    )
    changed = crosswalk.filter(pl.col("last_changed_run") == context.run.run_id).height
    return dg.Output(
        crosswalk,
        metadata={"customers": crosswalk["customer_id"].n_unique(), "source_ids_changed_this_run": changed},
    )


_SURVIVORSHIP = load_survivorship()


@dg.asset(
    metadata=column_metadata(
        GOLDEN_SCHEMA, golden_record_docs(GOLDEN_SCHEMA, _SURVIVORSHIP), pii_columns(_SURVIVORSHIP)
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    tags=PII_TAGS,
    description="Golden customer record, one row per customer_id: each attribute from its most trusted "
    "source, then the most recent (sales360_assets/identity/survivorship.yaml).",
)
def customer_golden_record(
    customer_identity_records: pl.LazyFrame, customer_identity_crosswalk: pl.LazyFrame
) -> FrameBlocks:
    return golden_record_blocks(customer_identity_records, customer_identity_crosswalk, _SURVIVORSHIP)


@dg.asset(
    metadata=column_metadata(
        MART_CUSTOMER_360_SCHEMA, MART_DESCRIPTIONS, {"customer_name": "pii", "lifetime_margin_usd": "confidential"}
    ),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    tags=PII_TAGS,
    description="Customer 360, one row per golden customer: lifetime revenue and margin, first and last "
    "purchase, orders and frequency, RFM scores and segment, channel mix, preferred categories, open "
    "opportunities and their owner, region. fact_sales joins through the crosswalk when this is built.",
)
def mart_customer_360(
    lake: LakeResource,
    customer_golden_record: pl.DataFrame,
    customer_identity_crosswalk: pl.DataFrame,
    fact_sales: pl.LazyFrame,
    dim_product: pl.DataFrame,
    fact_opportunity: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
) -> pl.DataFrame:
    columns = [
        "channel",
        "date",
        "region",
        "order_id",
        "customer_ref",
        "product_key",
        "net_amount_usd",
        "gross_margin_usd",
    ]
    # The scan, not its rows: the mart's aggregations read it a batch at a time (customer360._purchases).
    return build_mart_customer_360(
        customer_golden_record,
        customer_identity_crosswalk,
        fact_sales.select(columns),
        dim_product,
        fact_opportunity,
        dim_sales_rep,
        as_of=last_sale_date(lake),
    )


identity_assets: list[dg.AssetsDefinition] = [
    customer_identity_records,
    customer_match_decisions,
    customer_identity_crosswalk,
    customer_golden_record,
    mart_customer_360,
]
