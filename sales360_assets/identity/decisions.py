"""The decision log: every pair a rule or the model looked at, its score and what was decided.

It answers "why were these two merged?" (and "why not?") for one run: a rule's name, or the
model's match weight and probability against the threshold of that run.
"""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.identity.matching import MatchSettings, score_pairs
from sales360_assets.identity.records import PERSON_SYSTEMS
from sales360_assets.identity.rules import rule_pairs

MATCH, NO_MATCH = "match", "no match"

DECISION_SCHEMA: dict[str, pl.DataType] = {
    "run_id": pl.String(),
    "record_id_l": pl.String(),
    "record_id_r": pl.String(),
    "method": pl.String(),  # "rule:<name>" or "model"
    "match_weight": pl.Float64(),  # Splink's log2 Bayes factor; null for a rule
    "match_probability": pl.Float64(),
    "threshold": pl.Float64(),
    "decision": pl.String(),  # match | no match
    "decided_at": pl.Datetime("us", "UTC"),
}


def match_decisions(
    records: pl.DataFrame, match: MatchSettings, run_id: str, decided_at: datetime | None = None
) -> pl.DataFrame:
    """Rule pairs first (probability 1), then the model's pairs no rule settled, above the log floor.

    Only people are matched: CRM accounts are companies and stay customers of their own.
    """
    records = records.filter(pl.col("system").is_in(PERSON_SYSTEMS))
    rules = rule_pairs(records).select(
        "record_id_l",
        "record_id_r",
        pl.concat_str(pl.lit("rule:"), "rule").alias("method"),
        pl.lit(None, pl.Float64).alias("match_weight"),
        pl.lit(1.0).alias("match_probability"),
    )
    model = (
        score_pairs(records, match)
        .join(rules, on=["record_id_l", "record_id_r"], how="anti")
        .filter(pl.col("match_probability") >= match.log_floor)
        .select("record_id_l", "record_id_r", pl.lit("model").alias("method"), "match_weight", "match_probability")
    )
    decided = pl.concat([rules, model]).with_columns(
        pl.lit(run_id).alias("run_id"),
        pl.lit(decided_at or datetime.now(UTC), pl.Datetime("us", "UTC")).alias("decided_at"),
        pl.lit(match.threshold).alias("threshold"),
        pl.when(pl.col("match_probability") >= match.threshold)
        .then(pl.lit(MATCH))
        .otherwise(pl.lit(NO_MATCH))
        .alias("decision"),
    )
    return conform(decided, DECISION_SCHEMA).sort("record_id_l", "record_id_r")


def latest_decisions(log: pl.DataFrame) -> pl.DataFrame:
    """The decisions of the most recent run in the log: what the current crosswalk follows."""
    if log.is_empty():
        return log
    latest = log.sort("decided_at").select(pl.col("run_id").last()).item()
    return log.filter(pl.col("run_id") == latest)
