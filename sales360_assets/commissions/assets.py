"""Commission and quota-attainment assets: thin wrappers over the pure functions in ``credit.py``,
``attainment.py``, ``ledger.py`` and ``statements.py`` (closing months: ``periods.py``).

Everything here is confidential: the assets carry ``sensitivity: confidential`` and so does each
money, rate and attainment column in their column schema.
"""

from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime
from typing import Any, NamedTuple

import dagster as dg
import polars as pl

from sales360_assets.catalogue import kpi_asset, kpi_metadata
from sales360_assets.commissions import attainment, credit, ledger, periods, statements
from sales360_assets.commissions.columns import STATEMENT_PII, describe_columns
from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, CommissionPlan, load_plan
from sales360_assets.core.assets import lineage
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource, last_recorded_write

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
        "adjustment_usd",
        "payout_usd",
    }
)


def _confidential(schema: dict[str, pl.DataType]) -> dict[str, str]:
    return {c: "confidential" for c in schema if c in CONFIDENTIAL_COLUMNS}


def _metadata(name: str, schema: dict[str, pl.DataType]) -> dict[str, object]:
    """Column schema of a commission table without KPIs of its own: its columns described (``columns.py``),
    money and pay tagged confidential."""
    return kpi_metadata(schema, describe_columns(name, schema), sensitivity=_confidential(schema))


def _asset(
    name: str,
    schema: dict[str, pl.DataType],
    summary: str,
    *,
    group: str = GROUP,
    owners: list[str] = OWNERS,
    docs: dict[str, str] | None = None,
    pii: dict[str, str] | None = None,
    **asset_args: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``kpi_asset`` for a confidential commission table: money, rate and attainment columns tagged too."""
    sensitivity = _confidential(schema) | (pii or {})
    asset_args |= {"kinds": KINDS, "tags": CONFIDENTIAL}
    return kpi_asset(
        name, schema, summary, group=group, owners=owners, docs=docs, sensitivity=sensitivity, **asset_args
    )


def _blocking_check(name: str, asset: str, description: str) -> list[dg.AssetCheckSpec]:
    """A check that stops the run before anything downstream reads a table that broke it."""
    return [dg.AssetCheckSpec(name, asset=asset, blocking=True, description=description)]


def _as_issued(
    computed: pl.DataFrame, frozen: pl.DataFrame | None, closed: list[date], *sort_by: str, **sort_options: Any
) -> pl.DataFrame:
    """Statement rows as issued: recomputed for the open months, each closed month its frozen copy. A closed
    month is what was issued, whatever a recomputation says (the asset's check reports a difference)."""
    open_months = computed.filter(~pl.col("statement_month").is_in(closed))
    if frozen is None:
        return open_months
    return pl.concat([frozen.select(open_months.columns), open_months]).sort(*sort_by, **sort_options)


class CommissionPlanConfig(dg.Config):
    """Which plan file to apply (default: sales360_assets/commissions/plan.yaml)."""

    plan_path: str = ""

    def load(self) -> CommissionPlan:
        return load_plan(self.plan_path or DEFAULT_PLAN_PATH)


class _StatementRun(NamedTuple):
    """What both statement assets work from."""

    plan: CommissionPlan
    lake: DeltaLake
    quotas: dict[tuple[str, date], float]  # (user_id, month) -> quota in USD, to band attainment against
    closed: list[date]  # the closed (frozen) months


def _statement_run(
    config: CommissionPlanConfig, lake: LakeResource, mart_rep_quota_attainment: pl.DataFrame
) -> _StatementRun:
    delta = lake.get_lake()
    quotas = statements.quota_lookup(monthly_rep_attainment(mart_rep_quota_attainment))
    return _StatementRun(config.load(), delta, quotas, periods.closed_months(delta))


@dg.asset(
    metadata={
        **_metadata("commission_credit_lines", credit.CREDIT_LINE_SCHEMA),
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


# A mart (the UI's marts group), kept with the commission code: it is computed from
# commission_credit_lines and the statements read it, so placing it in marts/ would make the two
# packages import each other.
@_asset(
    "mart_rep_quota_attainment",
    attainment.MART_REP_ATTAINMENT_SCHEMA,
    "Rep performance against quota by month and quarter (period_type), with the manager roll-up "
    "(level = manager). Quotas converted to USD at the FX rate of the quota month. A quarter has a quota only "
    "when all three months do; a manager is measured over the reps with a quota (reps_with_quota of reps; "
    "team_credited_bookings_usd is the whole team's); is_complete says every rep had a quota for the period.",
    group="marts",
    owners=["team:sales-ops"],
    docs=attainment.MART_REP_ATTAINMENT_COLUMNS,
    pii=attainment.MART_REP_ATTAINMENT_PII,
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
    metadata=_metadata("commission_ledger", ledger.LEDGER_SCHEMA),
    group_name=GROUP,
    owners=OWNERS,
    kinds=KINDS,
    description="The commission ledger, append-only: one event per change of a credited booking line (booked, "
    "changed, cancelled, cancelled_late, reinstated, removed, restored), each with the line's state after it and "
    "the open month it posts to. Recorded once (key credit_line_id + event_seq), never rewritten: the single "
    "source of commission statements. See sales360_assets/commissions/ledger.py.",
    tags=CONFIDENTIAL,
    check_specs=_blocking_check(
        "ledger_keeps_every_event",
        "commission_ledger",
        "Every event the previous materialization left is still there, unchanged.",
    ),
)
def commission_ledger(
    context: dg.AssetExecutionContext,
    config: CommissionPlanConfig,
    lake: LakeResource,
    commission_credit_lines: pl.DataFrame,
) -> Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
    plan = config.load()
    delta = lake.get_lake()
    name = "commission_ledger"
    existing = delta.read_if_exists(name)
    if existing is None:
        existing = pl.DataFrame(schema=ledger.LEDGER_SCHEMA)
    # The version the last materialization left: anything lost since (an overwrite, a vacuum of
    # the wrong files, a manual delete) shows up against it.
    recorded = last_recorded_write(context).get("delta_version")
    version_before = recorded.value if recorded is not None else None
    events = ledger.new_ledger_events(
        existing, commission_credit_lines, periods.closed_months(delta), datetime.now(UTC), plan.clawback_window_days
    )
    inserted = delta.insert_new(name, events, ledger.EVENT_KEY)
    yield dg.MaterializeResult(
        metadata={
            "dagster/row_count": delta.row_count(name),
            "delta_version": delta.version(name),
            "events_recorded": inserted,
            **{f"new_{kind}": count for kind, count in ledger.ledger_totals(events).items()},
        }
    )
    lost = 0
    if version_before is not None:
        before = delta.read_version(name, version_before)
        after = delta.read(name).select(before.columns)
        lost = before.join(after, on=before.columns, how="anti", nulls_equal=True).height
    yield dg.AssetCheckResult(
        check_name="ledger_keeps_every_event",
        passed=lost == 0,
        metadata={"events_lost_or_changed": lost},
    )


def _closed_month_differences(computed: pl.DataFrame, frozen: pl.DataFrame | None, months: list) -> list[str]:
    """Closed months whose recomputed lines differ from the frozen copy."""
    if frozen is None:
        return []
    differing = []
    for month in months:
        now = computed.filter(pl.col("statement_month") == month)
        then = frozen.filter(pl.col("statement_month") == month).select(now.columns)
        if periods.content_hash(now) != periods.content_hash(then):
            differing.append(f"{month:%Y-%m}")
    return differing


@_asset(
    "commission_statement_lines",
    statements.STATEMENT_LINE_SCHEMA,
    "Every line of every monthly commission statement, computed from commission_ledger: bookings at base "
    "rate × the month's accelerator (rounded half-up to the cent per line), the cap adjustment, and for each "
    "later change (cancellation within the clawback window, deletion, correction, re-win) the exact "
    "difference it makes to the month it affects, re-banded and re-capped, posted in the first open month "
    "and linked to the booking line and ledger event. Closed months are served from their frozen copy. "
    "Plan: sales360_assets/commissions/plan.yaml.",
    docs=describe_columns("commission_statement_lines", statements.STATEMENT_LINE_SCHEMA),
    check_specs=_blocking_check(
        "closed_months_unchanged",
        "commission_statement_lines",
        "Recomputing a closed month from the ledger gives exactly its frozen lines.",
    ),
)
def commission_statement_lines(
    config: CommissionPlanConfig,
    lake: LakeResource,
    commission_ledger: pl.DataFrame,
    mart_rep_quota_attainment: pl.DataFrame,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    plan, delta, quotas, closed = _statement_run(config, lake, mart_rep_quota_attainment)
    computed = statements.build_statement_lines(commission_ledger, quotas, plan)
    frozen = periods.frozen_lines(delta)
    differing = _closed_month_differences(computed, frozen, closed)
    lines = _as_issued(computed, frozen, closed, "statement_month", "user_id", maintain_order=True)
    yield dg.Output(
        lines, metadata={"plan": plan.summary(), "closed_months": ", ".join(f"{m:%Y-%m}" for m in closed) or "none"}
    )
    yield dg.AssetCheckResult(
        check_name="closed_months_unchanged",
        passed=not differing,
        description=(
            f"recomputation would change closed month(s) {', '.join(differing)}: their frozen lines were kept; "
            "find the ledger event posted into a closed month"
            if differing
            else "every closed month recomputes to its frozen lines"
        ),
        metadata={"closed_months": len(closed), "closed_months_differing": ", ".join(differing) or "none"},
    )


@_asset(
    "commission_statements",
    statements.STATEMENT_SCHEMA,
    "Monthly commission statement per rep: bookings, credited amount, quota, attainment, rate applied "
    "(accelerator band and multiplier), commission, cap, clawback and other adjustments, payout — Decimal "
    "USD, each total the sum of its rounded lines (commission_statement_lines). Closed months are frozen.",
    docs=describe_columns("commission_statements", statements.STATEMENT_SCHEMA),
    pii=STATEMENT_PII,
    check_specs=_blocking_check(
        "payout_equals_lines",
        "commission_statements",
        "Each statement's payout equals the sum of its lines, to the cent.",
    ),
)
def commission_statements(
    config: CommissionPlanConfig,
    lake: LakeResource,
    commission_statement_lines: pl.DataFrame,
    mart_rep_quota_attainment: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
) -> Iterator[dg.Output | dg.AssetCheckResult]:
    plan, delta, quotas, closed = _statement_run(config, lake, mart_rep_quota_attainment)
    computed = statements.build_statements(commission_statement_lines, quotas, dim_sales_rep, plan)
    frozen = periods.frozen_statements(delta)
    result = _as_issued(computed, frozen, closed, "statement_month", "region", "user_id", nulls_last=True)
    by_lines = commission_statement_lines.group_by("user_id", "statement_month").agg(
        pl.col("commission_usd").sum().alias("_lines")
    )
    mismatched = (
        result.join(by_lines, on=["user_id", "statement_month"], how="left")
        .filter(pl.col("payout_usd") != pl.col("_lines").fill_null(0))
        .height
    )
    yield dg.Output(
        result,
        metadata={"plan": plan.summary(), "total_payout_usd": str(result["payout_usd"].sum())},
    )
    yield dg.AssetCheckResult(
        check_name="payout_equals_lines",
        passed=mismatched == 0,
        metadata={"statements_not_matching_their_lines": mismatched},
    )


commission_assets: list[dg.AssetsDefinition] = [
    commission_credit_lines,
    mart_rep_quota_attainment,
    commission_ledger,
    commission_statement_lines,
    commission_statements,
]
