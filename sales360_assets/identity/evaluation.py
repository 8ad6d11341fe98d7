"""Pairwise precision, recall and F1 of a clustering against the generator's ground truth.

A pair of source records is a true match when the ground truth gives them one person_id. Only
records the resolver saw are scored: a loyalty member who never bought in the window cannot be
matched and is not a miss.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class IdentityScore:
    precision: float
    recall: float
    f1: float
    true_pairs: int
    predicted_pairs: int
    correct_pairs: int
    records: int
    persons: int
    persons_split: int  # true persons spread over more than one customer_id
    customers_over_merged: int  # customer_ids holding more than one true person

    def lines(self) -> list[str]:
        return [
            f"records scored      {self.records} ({self.persons} true persons)",
            f"pairwise precision  {self.precision:.4f}  ({self.correct_pairs} of {self.predicted_pairs} predicted pairs)",
            f"pairwise recall     {self.recall:.4f}  ({self.correct_pairs} of {self.true_pairs} true pairs)",
            f"pairwise F1         {self.f1:.4f}",
            f"persons split       {self.persons_split}",
            f"customers over-merged {self.customers_over_merged}",
        ]


def _pairs(frame: pl.DataFrame, group: str) -> pl.DataFrame:
    members = frame.select(group, "record_id")
    return (
        members.join(members, on=group, suffix="_r")
        .filter(pl.col("record_id") < pl.col("record_id_r"))
        .select("record_id", "record_id_r")
    )


def score_clusters(crosswalk: pl.DataFrame, truth: pl.DataFrame) -> IdentityScore:
    """crosswalk: system, source_key, customer_id; truth: person_id, system, source_key."""
    keyed = crosswalk.select(pl.concat_str("system", pl.lit(":"), "source_key").alias("record_id"), "customer_id").join(
        truth.select(pl.concat_str("system", pl.lit(":"), "source_key").alias("record_id"), "person_id"),
        on="record_id",
        how="inner",
    )
    predicted, true = _pairs(keyed, "customer_id"), _pairs(keyed, "person_id")
    correct = predicted.join(true, on=["record_id", "record_id_r"], how="semi").height
    precision = correct / predicted.height if predicted.height else 1.0
    recall = correct / true.height if true.height else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    split = keyed.group_by("person_id").agg(pl.col("customer_id").n_unique()).filter(pl.col("customer_id") > 1).height
    merged = keyed.group_by("customer_id").agg(pl.col("person_id").n_unique()).filter(pl.col("person_id") > 1).height
    return IdentityScore(
        precision=precision,
        recall=recall,
        f1=f1,
        true_pairs=true.height,
        predicted_pairs=predicted.height,
        correct_pairs=correct,
        records=keyed.height,
        persons=keyed["person_id"].n_unique(),
        persons_split=split,
        customers_over_merged=merged,
    )
