"""The crosswalk: every source id ever seen -> its golden customer_id, kept stable across runs.

Keys survive merges and splits: a person keeps the customer_id most of their records already
had; when two persons merge, the id held by more records survives (ties: the smaller id) and
the other records move to it, with their old id kept in previous_customer_id; when a person
splits, the part holding most of the old id's records keeps it and the rest gets a new one. A
source id missing from a run (a deleted contact, a lapsed loyalty card) keeps its last row, so
facts recorded under it still resolve; if its person merged into another meanwhile, it follows
the surviving id.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.core.keys import surrogate_key
from sales360_assets.frames import conform
from sales360_assets.identity.clustering import connected_components
from sales360_assets.identity.decisions import MATCH

CROSSWALK_SCHEMA: dict[str, pl.DataType] = {
    "system": pl.String(),
    "source_key": pl.String(),
    "customer_id": pl.String(),
    "match_probability": pl.Float64(),  # strongest accepted link of this record; 1.0 for a rule
    "rule": pl.String(),  # how it joined its person: rule:<name>, model, or "singleton"
    "first_seen_run": pl.String(),
    "last_changed_run": pl.String(),
    "previous_customer_id": pl.String(),  # the customer_id before the last change (merge/split)
}


def _record_id() -> pl.Expr:
    return pl.concat_str("system", pl.lit(":"), "source_key")


def _strongest_link(accepted: pl.DataFrame) -> pl.DataFrame:
    ends = pl.concat(
        [
            accepted.select(pl.col("record_id_l").alias("record_id"), "match_probability", "method"),
            accepted.select(pl.col("record_id_r").alias("record_id"), "match_probability", "method"),
        ]
    )
    return ends.sort("match_probability", "method", descending=[True, False]).group_by("record_id").first()


def _assign_ids(components: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """component -> customer_id: the previous id with most holders in it, unless another component owns it."""
    claims = (
        components.filter(pl.col("old_id").is_not_null())
        .group_by("component", "old_id")
        .agg(pl.len().alias("holders"))
        .sort(["holders", "old_id", "component"], descending=[True, False, False])
    )
    # Each old id goes to the component with most of its holders; each component keeps its best id.
    owner = claims.group_by("old_id", maintain_order=True).first().select("old_id", pl.col("component").alias("owner"))
    kept = (
        claims.join(owner, on="old_id")
        .filter(pl.col("component") == pl.col("owner"))
        .group_by("component", maintain_order=True)
        .first()
        .select("component", pl.col("old_id").alias("customer_id"))
    )
    # A component with no id of its own: a new key from its smallest record id (the component
    # label), salted with the run when a split left that key with the other part.
    fresh = surrogate_key(pl.lit("person"), pl.col("component"))
    salted = surrogate_key(pl.lit("person"), pl.col("component"), pl.lit(run_id))
    return (
        components.select("component")
        .unique()
        .join(kept, on="component", how="left")
        .with_columns(
            pl.coalesce(
                "customer_id", pl.when(fresh.is_in(kept["customer_id"].implode())).then(salted).otherwise(fresh)
            )
        )
    )


def _follow_retired_ids(unseen: pl.DataFrame, current: pl.DataFrame, run_id: str) -> pl.DataFrame:
    """Records missing from this run follow their id when a merge retired it.

    An unseen record keeps its last row, but if no current record holds its customer_id any more
    (its person merged into another this run), the id it held would resolve to nobody: it moves
    to the id most of that person's current records now hold, the old one kept as previous.
    """
    live = current["customer_id"].unique().implode()
    successors = (
        current.filter(pl.col("old_id").is_not_null(), pl.col("old_id") != pl.col("customer_id"))
        .group_by("old_id", "customer_id")
        .agg(pl.len().alias("holders"))
        .sort(["holders", "customer_id"], descending=[True, False])
        .group_by("old_id", maintain_order=True)
        .first()
        .select(pl.col("old_id").alias("customer_id"), pl.col("customer_id").alias("_successor"))
    )
    moved = (~pl.col("customer_id").is_in(live)) & pl.col("_successor").is_not_null()
    return (
        unseen.join(successors, on="customer_id", how="left")
        .with_columns(
            pl.when(moved)
            .then(pl.col("customer_id"))
            .otherwise(pl.col("previous_customer_id"))
            .alias("previous_customer_id"),
            pl.when(moved).then(pl.lit(run_id)).otherwise(pl.col("last_changed_run")).alias("last_changed_run"),
            pl.when(moved).then(pl.col("_successor")).otherwise(pl.col("customer_id")).alias("customer_id"),
        )
        .drop("_successor")
    )


def update_crosswalk(
    previous: pl.DataFrame, records: pl.DataFrame, decisions: pl.DataFrame, run_id: str
) -> pl.DataFrame:
    """The crosswalk after this run's records and decisions (CROSSWALK_SCHEMA, sorted)."""
    previous = previous.with_columns(_record_id().alias("record_id"))
    accepted = decisions.filter(pl.col("decision") == MATCH)
    components = connected_components(records["record_id"], accepted).join(
        previous.select(
            "record_id",
            pl.col("customer_id").alias("old_id"),
            "first_seen_run",
            "last_changed_run",
            "previous_customer_id",
        ),
        on="record_id",
        how="left",
    )
    ids = _assign_ids(components, run_id)
    changed = pl.col("old_id").is_null() | (pl.col("old_id") != pl.col("customer_id"))
    current = (
        components.join(ids, on="component")
        .join(_strongest_link(accepted), on="record_id", how="left")
        .join(records.select("record_id", "system", "source_key"), on="record_id")
        .with_columns(
            pl.col("method").fill_null("singleton").alias("rule"),
            pl.col("first_seen_run").fill_null(pl.lit(run_id)),
            pl.when(changed).then(pl.lit(run_id)).otherwise(pl.col("last_changed_run")).alias("last_changed_run"),
            pl.when(changed)
            .then(pl.col("old_id"))
            .otherwise(pl.col("previous_customer_id"))
            .alias("previous_customer_id"),
        )
    )
    unseen = _follow_retired_ids(
        previous.join(current.select("record_id"), on="record_id", how="anti"), current, run_id
    )
    return pl.concat([conform(current, CROSSWALK_SCHEMA), conform(unseen, CROSSWALK_SCHEMA)]).sort(
        "system", "source_key"
    )


def empty_crosswalk() -> pl.DataFrame:
    return pl.DataFrame(schema=CROSSWALK_SCHEMA)
