"""``dead_letter`` in the asset graph: its lineage from every staging asset and its counts.

The table itself is written by the staging assets (each replaces exactly its own slice, in the
same step that stages the rows, so a row is never staged and dead-lettered by different runs).
This asset does not write it: it depends on every staging asset that dead-letters, so the UI
draws that lineage, and each materialization records the table's rows by source and by reason.
It runs with the history-wide reporting assets, after the daily job.
"""

from __future__ import annotations

import dagster as dg
import polars as pl

from sales360_assets.lake.io_manager import LakeResource, table_schema
from sales360_assets.staging.assets import GROUP, OWNERS, staging_assets
from sales360_assets.staging.dead_letters import DEAD_LETTER_TABLE, read_dead_letters
from sales360_assets.staging.quality import DEAD_LETTER_SCHEMA

# The history assets re-read what the latest-version staging assets already dead-letter.
WRITERS = [a.key for a in staging_assets if not a.key.to_user_string().endswith("_history")]
# The table as the staging assets write it: the rejected rows plus the run that rejected them.
COLUMNS: dict[str, tuple[pl.DataType, str]] = {
    "source_table": (pl.String(), "The raw table the record came from."),
    "source_key": (pl.String(), "The record's key in that table, its parts joined by '|' (<null> for a missing part)."),
    "reason": (pl.String(), "The first staging rule the record broke."),
    "raw_record": (pl.String(), "The raw record as JSON, without the ingestion run columns."),
    "date": (pl.Date(), "The record's partition date (null for unpartitioned tables)."),
    "region": (pl.String(), "The record's partition region (null for unpartitioned tables)."),
    "run_id": (pl.String(), "The run that rejected the record."),
    "rejected_at": (pl.Datetime("us", "UTC"), "When the record was rejected (UTC)."),
}
assert list(COLUMNS)[: len(DEAD_LETTER_SCHEMA)] == list(DEAD_LETTER_SCHEMA)


@dg.asset(
    name=DEAD_LETTER_TABLE,
    group_name=GROUP,
    owners=OWNERS,
    kinds={"polars", "delta"},
    deps=WRITERS,
    # A rejected record is kept whole, so a contact's or shopper's name, email and phone are in raw_record.
    metadata={
        "dagster/column_schema": table_schema(
            {name: dtype for name, (dtype, _) in COLUMNS.items()},
            {name: text for name, (_, text) in COLUMNS.items()},
            {"raw_record": "pii"},
        )
    },
    tags={"sensitivity": "pii"},
    description="Every rejected record with its source table, key, raw record (JSON) and the first rule it "
    "broke; written by the staging assets, slice by slice. Materializing it records the rows by source "
    "table and by reason (docs/operations.md §5 says what to do about each reason).",
)
def dead_letter(lake: LakeResource) -> dg.MaterializeResult:
    letters = read_dead_letters(lake.get_lake())
    if letters.is_empty():
        return dg.MaterializeResult(metadata={"dagster/row_count": 0, "dagster/table_name": DEAD_LETTER_TABLE})
    by_source = letters.group_by("source_table").len().sort("len", "source_table", descending=[True, False])
    by_reason = (
        letters.with_columns(pl.col("reason").str.slice(0, 80))
        .group_by("source_table", "reason")
        .len()
        .sort("len", "source_table", "reason", descending=[True, False, False])
        .head(50)
    )
    table = "| source table | reason | rows |\n| --- | --- | --- |\n" + "\n".join(
        f"| {s} | {r.replace('|', '/')} | {n:,} |" for s, r, n in by_reason.iter_rows()
    )
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": letters.height,
            "dagster/table_name": DEAD_LETTER_TABLE,
            "rows_by_source": dg.MetadataValue.json(dict(by_source.iter_rows())),
            "rows_by_reason": dg.MetadataValue.md(table),
        }
    )
