"""Persons as connected components of the accepted match edges."""

from __future__ import annotations

import polars as pl


def connected_components(record_ids: pl.Series, edges: pl.DataFrame) -> pl.DataFrame:
    """record_id -> component (the smallest record_id in its component), for every record.

    Label propagation: each record takes the smallest label among itself and its neighbours until
    nothing changes. Components are small (one person's handful of records), so it converges in
    a few rounds whatever the number of records.
    """
    labels = pl.DataFrame({"record_id": record_ids.unique().sort()}).with_columns(
        pl.col("record_id").alias("component")
    )
    both_ways = pl.concat(
        [
            edges.select(pl.col("record_id_l").alias("a"), pl.col("record_id_r").alias("b")),
            edges.select(pl.col("record_id_r").alias("a"), pl.col("record_id_l").alias("b")),
        ]
    ).unique()
    while True:
        neighbour = (
            both_ways.join(labels, left_on="b", right_on="record_id")
            .group_by("a")
            .agg(pl.col("component").min().alias("neighbour"))
        )
        updated = (
            labels.join(neighbour, left_on="record_id", right_on="a", how="left")
            .with_columns(pl.min_horizontal("component", "neighbour").alias("component"))
            .drop("neighbour")
        )
        if updated.join(labels, on=["record_id", "component"], how="anti").is_empty():
            return updated.sort("record_id")
        labels = updated
