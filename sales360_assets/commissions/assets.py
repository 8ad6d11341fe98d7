"""Commission and quota-attainment assets. Thin wrappers over commissions/transforms.py.

Everything here is confidential: the assets carry ``sensitivity: confidential`` and so does each
money, rate and attainment column in their column schema.
"""

import dagster as dg
import polars as pl

from sales360_assets import kpis
from sales360_assets.commissions import attainment, credit, transforms
from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, CommissionPlan, load_plan
from sales360_assets.core.assets import column_metadata, lineage

OWNERS = ["team:sales-comp"]
GROUP = "commissions"
KINDS = {"polars", "delta"}
CONFIDENTIAL = {"sensitivity": "confidential"}
CONFIDENTIAL_COLUMNS = frozenset(
    {
        "booking_amount_usd",
        "credited_amount_usd",
        "credit_split_pct",
        "base_rate_pct",
        "attainment_pct",
        "accelerator_multiplier",
        "accelerator_band",
        "commission_usd",
        "effective_rate_pct",
        "quota_usd",
        "bookings_usd",
        "credited_bookings_usd",
        "cap_adjustment_usd",
        "clawback_usd",
        "payout_usd",
    }
)


def _metadata(schema: dict[str, pl.DataType]) -> dict[str, object]:
    columns = list(schema)
    sensitivity = {c: "confidential" for c in columns if c in CONFIDENTIAL_COLUMNS}
    return column_metadata(schema, kpis.column_descriptions(columns), sensitivity)


class CommissionPlanConfig(dg.Config):
    """Which plan file to apply (default: sales360_assets/commissions/plan.yaml)."""

    plan_path: str = ""

    def load(self) -> CommissionPlan:
        return load_plan(self.plan_path or DEFAULT_PLAN_PATH)


@dg.asset(
    metadata={
        **_metadata(credit.CREDIT_LINE_SCHEMA),
        **lineage(
            {
                "booking_amount_usd": [("fact_booking_line", "net_amount_usd")],
                "credit_split_pct": [("bridge_account_team", "credit_split_pct")],
            }
        ),
    },
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="Sales credit: every booked deal line (fact_booking_line) split between the account's team "
    "members valid on the booking date (bridge_account_team), by credit split; the deal owner gets what the team "
    "does not cover (100 % when the account has no team; credit_source 'owner remainder' under 100 %). A team "
    "over 100 % is not scaled: the blocking check credits_add_back_to_booking fails and lists the lines.",
    tags=CONFIDENTIAL,
)
def commission_credit_lines(fact_booking_line: pl.DataFrame, bridge_account_team: pl.DataFrame) -> dg.Output:
    credits = credit.build_credit_lines(fact_booking_line, bridge_account_team)
    return dg.Output(
        credits,
        metadata={
            "booked_usd": float(fact_booking_line["net_amount_usd"].sum()),
            "credited_usd": float(credits["credited_amount_usd"].sum()),
            "lines_credited_to_deal_owner": credits.filter(pl.col("credit_source") == credit.DEAL_OWNER).height,
            "owner_remainder_lines": credits.filter(pl.col("credit_source") == credit.OWNER_REMAINDER).height,
        },
    )


@dg.asset(
    metadata=_metadata(attainment.MART_REP_ATTAINMENT_SCHEMA),
    group_name="marts",
    owners=["team:sales-ops"],
    kinds=KINDS,
    description=kpis.describe(
        "mart_rep_quota_attainment",
        "Rep performance against quota by month and quarter (period_type), with the manager roll-up "
        "(level = manager). Quotas converted to USD at the FX rate of the quota month. A quarter has a quota only "
        "when all three months do; a manager is measured over the reps with a quota (reps_with_quota of reps; "
        "team_credited_bookings_usd is the whole team's); is_complete says every rep had a quota for the period.",
    ),
    tags=CONFIDENTIAL,
)
def mart_rep_quota_attainment(
    commission_credit_lines: pl.DataFrame,
    stg_salesforce_quotas: pl.DataFrame,
    stg_warehouse_fx_rates: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
) -> pl.DataFrame:
    quotas = attainment.quotas_in_usd(stg_salesforce_quotas, stg_warehouse_fx_rates)
    monthly = attainment.build_monthly_attainment(commission_credit_lines, quotas)
    return attainment.build_mart_rep_quota_attainment(monthly, dim_sales_rep)


def monthly_rep_attainment(mart: pl.DataFrame) -> pl.DataFrame:
    """The mart's month × rep rows in the shape the statement engine reads."""
    return mart.filter(pl.col("period_type") == "month", pl.col("level") == "rep").select(
        "user_id", pl.col("period_start").alias("month"), "quota_usd", "credited_bookings_usd", "attainment_pct"
    )


@dg.asset(
    metadata=_metadata(transforms.STATEMENT_LINE_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description=kpis.describe(
        "commission_statement_lines",
        "Every line of every monthly commission statement, traceable to the deal (opportunity_id, "
        "booking_line_id, and sales_line_id in fact_sales or web_order_id): bookings at base rate × the "
        "month's accelerator, cap adjustments, and clawbacks in the month of a cancellation within the "
        "clawback window. Plan: sales360_assets/commissions/plan.yaml.",
    ),
    tags=CONFIDENTIAL,
)
def commission_statement_lines(
    config: CommissionPlanConfig, commission_credit_lines: pl.DataFrame, mart_rep_quota_attainment: pl.DataFrame
) -> dg.Output:
    plan = config.load()
    lines = transforms.build_statement_lines(
        commission_credit_lines, monthly_rep_attainment(mart_rep_quota_attainment), plan
    )
    return dg.Output(lines, metadata={"plan": plan.summary()})


@dg.asset(
    metadata=_metadata(transforms.STATEMENT_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description=kpis.describe(
        "commission_statements",
        "Monthly commission statement per rep: bookings, credited amount, quota, attainment, rate applied "
        "(accelerator band and multiplier), commission, cap and clawback adjustments, payout. The lines are in "
        "commission_statement_lines.",
    ),
    tags=CONFIDENTIAL,
)
def commission_statements(
    config: CommissionPlanConfig,
    commission_statement_lines: pl.DataFrame,
    mart_rep_quota_attainment: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
) -> dg.Output:
    plan = config.load()
    statements = transforms.build_statements(
        commission_statement_lines, monthly_rep_attainment(mart_rep_quota_attainment), dim_sales_rep, plan
    )
    return dg.Output(
        statements,
        metadata={"plan": plan.summary(), "total_payout_usd": float(statements["payout_usd"].sum())},
    )


commission_assets: list[dg.AssetsDefinition] = [
    commission_credit_lines,
    mart_rep_quota_attainment,
    commission_statement_lines,
    commission_statements,
]
