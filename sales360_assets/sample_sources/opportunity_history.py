"""The sample org's ``OpportunityHistory``: what Salesforce records for every opportunity change.

A real org writes one OpportunityHistory row whenever an opportunity is created or its stage,
amount, close date or probability changes, and never edits it; deleting the opportunity deletes
its history rows (``queryAll`` returns them with ``IsDeleted = true``). Query and queryAll return
only each Opportunity's current version, so this object is where the platform finds the stages a
deal went through and when it was cancelled. Pure Polars, used by the sample generator.
"""

from __future__ import annotations

import polars as pl

TRACKED_FIELDS = ("StageName", "Amount", "CloseDate", "Probability")
_BOOKED_AT_HOUR = 12


def opportunity_history_rows(
    versions: pl.DataFrame, cancelled_stages: set[str], won_stage: pl.DataFrame, deleted: pl.DataFrame
) -> pl.DataFrame:
    """History rows (without their own Id) from an opportunity change log.

    ``versions``: ``Id`` (the opportunity), the tracked fields and ``SystemModstamp``, one row per
    record version. ``won_stage``: ``Id``, ``won_stage_name`` per opportunity. ``deleted``: ``Id``,
    ``SystemModstamp`` of each deletion.

    A deal whose known versions start with its cancellation was booked before the change log
    begins; the org's history still holds that booking, so it gets a won row on its close date.
    Returns ``history_number`` (the same for a row and its tombstone), ``OpportunityId``, the tracked fields, ``CreatedDate``, ``SystemModstamp`` and
    ``IsDeleted``, ordered by opportunity and time (live rows, then deletion tombstones).
    """
    ordered = versions.select("Id", *TRACKED_FIELDS, "SystemModstamp").sort("Id", "SystemModstamp", maintain_order=True)
    changed = pl.any_horizontal([pl.col(f).ne_missing(pl.col(f).shift(1).over("Id")) for f in TRACKED_FIELDS])
    changes = ordered.filter(changed)
    first = ordered.group_by("Id", maintain_order=True).first()
    booked_before = (
        first.filter(pl.col("StageName").is_in(sorted(cancelled_stages)))
        .join(won_stage, on="Id", how="inner")
        .select(
            "Id",
            pl.col("won_stage_name").alias("StageName"),
            "Amount",
            "CloseDate",
            pl.lit(100.0).alias("Probability"),
            (pl.col("CloseDate").cast(pl.Datetime("us", "UTC")) + pl.duration(hours=_BOOKED_AT_HOUR)).alias(
                "SystemModstamp"
            ),
        )
    )
    rows = (
        pl.concat([booked_before, changes.select(booked_before.columns)])
        .sort("Id", "SystemModstamp", maintain_order=True)
        .select(
            pl.col("Id").alias("OpportunityId"),
            *TRACKED_FIELDS,
            pl.col("SystemModstamp").alias("CreatedDate"),
            "SystemModstamp",
            pl.lit(False).alias("IsDeleted"),
        )
        .with_row_index("history_number", offset=1)
    )
    tombstones = (
        rows.drop("SystemModstamp")
        .join(deleted.rename({"Id": "OpportunityId"}), on="OpportunityId", how="inner", maintain_order="left")
        .with_columns(pl.lit(True).alias("IsDeleted"))
        .select(rows.columns)
    )
    return pl.concat([rows, tombstones])
