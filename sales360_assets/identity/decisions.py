"""The decision log: every pair a rule or the model looked at, its score and what was decided.

It answers "why were these two merged?" (and "why not?") for one run: a rule's name, or the
model's match weight and probability against the threshold of that run.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.identity.matching import MatchSettings, score_pairs
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
}


def match_decisions(records: pl.DataFrame, match: MatchSettings, run_id: str) -> pl.DataFrame:
    """Rule pairs first (probability 1), then the model's pairs no rule settled, above the log floor."""
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
        pl.lit(match.threshold).alias("threshold"),
        pl.when(pl.col("match_probability") >= match.threshold)
        .then(pl.lit(MATCH))
        .otherwise(pl.lit(NO_MATCH))
        .alias("decision"),
    )
    return conform(decided, DECISION_SCHEMA).sort("record_id_l", "record_id_r")
