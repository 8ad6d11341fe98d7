"""dead_letter_replay_sensor: reprocess partitions whose dead letters became fixable."""

import re
from dataclasses import dataclass

import dagster as dg
import polars as pl

from sales360_assets.jobs import partitioned_assets, reference_data_job
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.sensors.run_requests import (
    REPLAY_REASONS_TAG,
    REPLAY_ROWS_TAG,
    TRIGGER_TAG,
    partition_run_request,
    short_digest,
    stopped_sensor,
    truncate_tag,
)
from sales360_assets.staging.dead_letters import read_dead_letters

# Staging and everything after it for a partition; raw is already in the lake.
PARTITIONED_STAGING = ("stg_warehouse_orders", "stg_warehouse_order_lines", "stg_pos_transactions")
dead_letter_replay_job = dg.define_asset_job(
    "dead_letter_replay_job",
    selection=dg.AssetSelection.assets(*PARTITIONED_STAGING).downstream()
    & dg.AssetSelection.assets(*partitioned_assets),
    description="Re-stage a partition whose dead letters became fixable (FX rate or order arrived), then rebuild "
    "fact_sales and the marts.",
)
# Unpartitioned CRM rows that became fixable re-stage inside the reference job.
CRM_REPLAY_ASSETS = ("stg_salesforce_opportunities", "stg_salesforce_opportunity_line_items", "fact_opportunity")


# --- dead-letter replay --------------------------------------------------------------------------

FX_REASON = re.compile(
    r"^no (?P<currency>[A-Z]{3}) FX rate within (?P<days>\d+) days before (?P<day>\d{4}-\d{2}-\d{2})$"
)
ORDER_REASON = re.compile(r"^order (?P<order_id>.+) is not in stg_warehouse_orders")
OPPORTUNITY_REASON = re.compile(r"^opportunity (?P<opportunity_id>.+) is not in stg_salesforce_opportunities$")


@dataclass
class ReplayPlan:
    requests: list[dg.RunRequest]
    fixable_rows: int
    waiting_rows: int  # replayable, but the fix has not arrived
    permanent_rows: int  # can never be fixed by a replay (malformed, unknown currency, …)


def classify_dead_letters(letters: pl.DataFrame) -> pl.DataFrame:
    """Adds ``replay`` (fx | order | opportunity | null = permanent) and the parsed fields."""
    reason = pl.col("reason")
    return letters.with_columns(
        reason.str.extract(FX_REASON.pattern, 1).alias("_fx_currency"),
        reason.str.extract(FX_REASON.pattern, 2).cast(pl.Int64).alias("_fx_days"),
        reason.str.extract(FX_REASON.pattern, 3).str.to_date().alias("_fx_day"),
        reason.str.extract(ORDER_REASON.pattern, 1).alias("_order_id"),
        reason.str.extract(OPPORTUNITY_REASON.pattern, 1).alias("_opportunity_id"),
    ).with_columns(
        pl.when(pl.col("_fx_currency").is_not_null())
        .then(pl.lit("fx"))
        .when(pl.col("_order_id").is_not_null())
        .then(pl.lit("order"))
        .when(pl.col("_opportunity_id").is_not_null())
        .then(pl.lit("opportunity"))
        .otherwise(None)
        .alias("replay")
    )


def _fix_evidence(lake: DeltaLake, letters: pl.DataFrame) -> pl.DataFrame:
    """Adds ``evidence``: what now exists that fixes the row (null while nothing does)."""
    evidence = pl.lit(None, dtype=pl.String)
    frame = letters.with_row_index("_row")
    found: list[pl.DataFrame] = []
    fx = frame.filter(pl.col("replay") == "fx")
    if fx.height and lake.exists("stg_warehouse_fx_rates"):
        rates = lake.read("stg_warehouse_fx_rates").select(pl.col("currency").alias("_fx_currency"), "rate_date")
        found.append(
            fx.join(rates, on="_fx_currency")
            # The staging join's window: the latest rate at most N days before the date.
            .filter(
                pl.col("rate_date").is_between(
                    pl.col("_fx_day") - pl.duration(days=pl.col("_fx_days")), pl.col("_fx_day")
                )
            )
            .group_by("_row")
            .agg(
                pl.format("{} rate of {}", pl.col("_fx_currency").first(), pl.col("rate_date").max()).alias("evidence")
            )
        )
    orders = frame.filter(pl.col("replay") == "order")
    if orders.height and lake.exists("stg_warehouse_orders"):
        present = lake.read(
            "stg_warehouse_orders",
            PartitionSelection(
                orders["date"].min(), orders["date"].max(), tuple(sorted(set(orders["region"].drop_nulls())))
            ),
        ).select(pl.col("order_id").alias("_order_id"), "date", "region")
        found.append(
            orders.join(present, on=["_order_id", "date", "region"])
            .group_by("_row")
            .agg(pl.format("order {} staged", pl.col("_order_id").first()).alias("evidence"))
        )
    opportunities = frame.filter(pl.col("replay") == "opportunity")
    if opportunities.height and lake.exists("stg_salesforce_opportunities"):
        present = lake.read("stg_salesforce_opportunities").select(pl.col("opportunity_id").alias("_opportunity_id"))
        found.append(
            opportunities.join(present, on="_opportunity_id")
            .group_by("_row")
            .agg(pl.format("opportunity {} staged", pl.col("_opportunity_id").first()).alias("evidence"))
        )
    if not found:
        return frame.with_columns(evidence.alias("evidence")).drop("_row")
    return frame.join(pl.concat(found), on="_row", how="left").drop("_row")


def plan_dead_letter_replays(
    lake: DeltaLake,
    partition_job: str = dead_letter_replay_job.name,
    crm_job: str = reference_data_job.name,
) -> ReplayPlan:
    letters = read_dead_letters(lake)
    if letters.is_empty():
        return ReplayPlan([], 0, 0, 0)
    judged = _fix_evidence(lake, classify_dead_letters(letters))
    fixable = judged.filter(pl.col("evidence").is_not_null())
    waiting = judged.filter(pl.col("replay").is_not_null() & pl.col("evidence").is_null())
    permanent = judged.filter(pl.col("replay").is_null())
    requests: list[dg.RunRequest] = []

    partitioned = fixable.filter(pl.col("date").is_not_null() & pl.col("region").is_not_null())
    for (day, region), rows in sorted(partitioned.group_by("date", "region"), key=lambda g: (g[0][0], g[0][1])):
        identity = sorted(rows.select("source_table", "source_key", "reason", "evidence").iter_rows())
        requests.append(
            partition_run_request(
                partition_job,
                region,
                day,
                day,
                run_key=f"replay:{day}|{region}:{short_digest(identity)}",
                tags={
                    TRIGGER_TAG: "dead_letter_replay",
                    REPLAY_ROWS_TAG: str(rows.height),
                    REPLAY_REASONS_TAG: truncate_tag(", ".join(sorted(set(rows["evidence"])))),
                },
            )
        )
    unpartitioned = fixable.filter(pl.col("date").is_null() | pl.col("region").is_null())
    if unpartitioned.height:
        identity = sorted(unpartitioned.select("source_table", "source_key", "reason", "evidence").iter_rows())
        requests.append(
            dg.RunRequest(
                run_key=f"replay:crm:{short_digest(identity)}",
                job_name=crm_job,
                asset_selection=[dg.AssetKey(a) for a in CRM_REPLAY_ASSETS],
                tags={
                    TRIGGER_TAG: "dead_letter_replay",
                    REPLAY_ROWS_TAG: str(unpartitioned.height),
                    REPLAY_REASONS_TAG: truncate_tag(", ".join(sorted(set(unpartitioned["evidence"])))),
                },
            )
        )
    return ReplayPlan(requests, fixable.height, waiting.height, permanent.height)


def build_dead_letter_replay_sensor(name: str = "dead_letter_replay_sensor") -> dg.SensorDefinition:
    @stopped_sensor(
        name,
        "Reprocesses partitions whose dead letters became fixable (a missing FX rate, order or "
        "opportunity now exists); the run key changes only when the fix does, so each fix replays once.",
        minimum_interval_seconds=300,
        jobs=[dead_letter_replay_job, reference_data_job],
    )
    def _sensor(context: dg.SensorEvaluationContext, lake: LakeResource) -> dg.SensorResult:
        plan = plan_dead_letter_replays(lake.get_lake())
        summary = (
            f"{plan.fixable_rows} fixable, {plan.waiting_rows} waiting for their fix, "
            f"{plan.permanent_rows} permanent dead letter(s)"
        )
        context.log.info(summary)
        return dg.SensorResult(run_requests=plan.requests, skip_reason=None if plan.requests else summary)

    return _sensor
