"""One sales funnel for every region: CRM stage names mapped to standard stages with an ordinal.

Regions run their own sales processes and name stages their own way (EMEA qualifies a "Lead",
APAC holds a "Discovery" call). Funnel metrics only compare across regions once every stage
name maps to the same ladder, so the mapping lives here, in code, reviewed like code.

Lookup order for a deal's stage: the deal region's own entry, then the Salesforce default names
(region ``*``), then — when a name means one thing in every region that uses it — that meaning.
A name nobody mapped becomes ``UNMAPPED_STAGE`` with no ordinal: visible, never dropped.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl


@dataclass(frozen=True)
class FunnelStage:
    name: str
    order: int  # position on the ladder; Closed Won and Closed Lost share the closing rung
    is_closed: bool
    is_won: bool
    description: str


FUNNEL: tuple[FunnelStage, ...] = (
    FunnelStage("Prospecting", 1, False, False, "A potential deal is identified; no contact qualified yet."),
    FunnelStage("Qualification", 2, False, False, "Budget, authority, need and timing are being confirmed."),
    FunnelStage("Needs Analysis", 3, False, False, "The customer's requirements are mapped to products."),
    FunnelStage("Proposal", 4, False, False, "A priced proposal or quote is with the customer."),
    FunnelStage("Negotiation", 5, False, False, "Terms and price are being negotiated."),
    FunnelStage("Closed Won", 6, True, True, "The customer signed: the deal is booked."),
    FunnelStage("Closed Lost", 6, True, False, "The customer declined or the deal was abandoned."),
    FunnelStage("Cancelled", 7, True, False, "A booked deal the customer cancelled afterwards."),
)
FUNNEL_BY_NAME: dict[str, FunnelStage] = {stage.name: stage for stage in FUNNEL}
OPEN_STAGES: tuple[FunnelStage, ...] = tuple(s for s in FUNNEL if not s.is_closed)
WON_STAGE, LOST_STAGE, CANCELLED_STAGE = "Closed Won", "Closed Lost", "Cancelled"
UNMAPPED_STAGE = "Unmapped stage"
ANY_REGION = "*"

# (region, CRM stage name) -> funnel stage. Region "*" holds the Salesforce default stage names.
STAGE_MAPPING: dict[tuple[str, str], str] = {
    (ANY_REGION, "Prospecting"): "Prospecting",
    (ANY_REGION, "Qualification"): "Qualification",
    (ANY_REGION, "Needs Analysis"): "Needs Analysis",
    (ANY_REGION, "Value Proposition"): "Needs Analysis",
    (ANY_REGION, "Id. Decision Makers"): "Needs Analysis",
    (ANY_REGION, "Perception Analysis"): "Needs Analysis",
    (ANY_REGION, "Proposal/Price Quote"): "Proposal",
    (ANY_REGION, "Negotiation/Review"): "Negotiation",
    (ANY_REGION, "Closed Won"): "Closed Won",
    (ANY_REGION, "Closed Lost"): "Closed Lost",
    (ANY_REGION, "Cancelled"): "Cancelled",
    ("emea", "Lead"): "Prospecting",
    ("emea", "Qualified"): "Qualification",
    ("emea", "Proposal"): "Proposal",
    ("emea", "Negotiation"): "Negotiation",
    ("uk", "Solution Design"): "Needs Analysis",
    ("uk", "Quote Sent"): "Proposal",
    ("apac", "Discovery"): "Qualification",
    ("apac", "Solution Fit"): "Needs Analysis",
    ("apac", "Commercials"): "Negotiation",
}


def mapping_table() -> pl.DataFrame:
    """The mapping as a table (region, stage_name, funnel_stage, funnel_stage_order), for docs and joins."""
    return pl.DataFrame(
        [
            {
                "region": region,
                "stage_name": name,
                "funnel_stage": stage,
                "funnel_stage_order": FUNNEL_BY_NAME[stage].order,
            }
            for (region, name), stage in STAGE_MAPPING.items()
        ],
        schema={"region": pl.String, "stage_name": pl.String, "funnel_stage": pl.String, "funnel_stage_order": pl.Int8},
    )


def map_stages(frame: pl.DataFrame, region: str = "region", stage_name: str = "stage_name") -> pl.DataFrame:
    """Add ``funnel_stage`` and ``funnel_stage_order`` (null for unmapped names) to each row."""
    table = mapping_table()
    own = table.filter(pl.col("region") != ANY_REGION).select(
        pl.col("region").alias("_region"), pl.col("stage_name").alias("_stage"), pl.col("funnel_stage").alias("_own")
    )
    default = table.filter(pl.col("region") == ANY_REGION).select(
        pl.col("stage_name").alias("_stage"), pl.col("funnel_stage").alias("_default")
    )
    # A regional name that means the same stage wherever it is used is safe to apply elsewhere
    # (a rep who moved region keeps their old vocabulary for a while).
    unambiguous = (
        table.filter(pl.col("region") != ANY_REGION)
        .group_by(pl.col("stage_name").alias("_stage"))
        .agg(pl.col("funnel_stage").unique().alias("_meanings"))
        .filter(pl.col("_meanings").list.len() == 1)
        .select("_stage", pl.col("_meanings").list.first().alias("_elsewhere"))
    )
    orders = pl.DataFrame(
        {"funnel_stage": [s.name for s in FUNNEL], "funnel_stage_order": [s.order for s in FUNNEL]},
        schema={"funnel_stage": pl.String, "funnel_stage_order": pl.Int8},
    )
    mapped = (
        frame.with_columns(pl.col(region).alias("_region"), pl.col(stage_name).alias("_stage"))
        .join(own, on=["_region", "_stage"], how="left", maintain_order="left")
        .join(default, on="_stage", how="left", maintain_order="left")
        .join(unambiguous, on="_stage", how="left", maintain_order="left")
        .with_columns(
            pl.coalesce("_own", "_default", "_elsewhere", pl.lit(UNMAPPED_STAGE)).alias("funnel_stage"),
        )
        .drop("_region", "_stage", "_own", "_default", "_elsewhere")
    )
    return mapped.join(orders, on="funnel_stage", how="left", maintain_order="left")
