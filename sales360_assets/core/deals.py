"""CRM deals in the star schema: who a deal is attributed to, ``fact_opportunity`` and ``fact_booking_line``.

Every CRM-derived row goes through ``crm_attribution``: the live opportunity, its customer, the
owner's rep version valid on the attribution date, the region that follows from it and the
standard funnel stage. ``fact_sales`` (core/sales.py) takes its CRM lines from ``booked_deals``,
so a deal is booked, dated and placed the same way in every fact.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.core.column_rules import blank_to_null, live, valid_region
from sales360_assets.core.funnel import CANCELLED_STAGE, FUNNEL_BY_NAME, LOST_STAGE, WON_STAGE, map_stages
from sales360_assets.core.keys import NO_SALES_REP_KEY, UNKNOWN_CUSTOMER_KEY, UNMAPPED_PRODUCT_KEY
from sales360_assets.core.scd import attribute_to_version
from sales360_assets.core.schemas import FACT_BOOKING_LINE_SCHEMA, FACT_OPPORTUNITY_SCHEMA, UNMAPPED_CATEGORY
from sales360_assets.frames import conform
from sales360_assets.settings import REGION_BY_CURRENCY

FUNNEL_ORDER = {name: stage.order for name, stage in FUNNEL_BY_NAME.items()}


def _live_changes(stage_history: pl.DataFrame) -> pl.DataFrame:
    """Stage changes the org still holds (a history row deleted in Salesforce proves nothing)."""
    if "is_deleted" not in stage_history.columns:
        return stage_history
    return live(stage_history)


def _first_cancellation(deals: pl.DataFrame, stage_history: pl.DataFrame) -> pl.DataFrame:
    """(opportunity_id, _history_cancelled): the UTC date of each deal's first change to the Cancelled stage.

    Stage names are mapped in the deal's region vocabulary, like the deal's current stage. The
    first change wins: a deal cancelled, reopened and cancelled again was cancelled the first time
    (that is when the clawback window was measured from).
    """
    changes = _live_changes(stage_history).select("opportunity_id", "stage_name", "changed_at")
    mapped = map_stages(changes.join(deals.select("opportunity_id", "region"), on="opportunity_id", how="inner"))
    return (
        mapped.filter(pl.col("funnel_stage") == CANCELLED_STAGE)
        .group_by("opportunity_id")
        .agg(pl.col("changed_at").min().dt.convert_time_zone("UTC").dt.date().alias("_history_cancelled"))
    )


def crm_attribution(
    opportunities: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    on_date: pl.Expr,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Live opportunities with customer_key, sales_rep_key, region and funnel stage.

    The rep is the owner's version in ``dim_sales_rep`` (type 2) valid on ``on_date`` (null: the
    current one): read from the dimension, not rebuilt from the User history, so every fact
    attributes to the same versions the dimension publishes (and the lineage graph shows it). A deal
    counts for the territory and manager the owner had when it closed. Region is that
    assignment's region; when the owner is unknown or has none, the account's region, so that a
    deal is not silently dropped from every region partition. Stages map to the standard funnel
    by that region's vocabulary.

    A cancelled deal's ``cancelled_date`` is the first change to the Cancelled stage in
    ``stage_history`` (staged ``OpportunityHistory``), else ``Cancelled_Date__c``, else the day of
    the current version (``SystemModstamp``) — the last is a guess: any later edit of the deal
    moves it, which is why the history comes first when it is available.
    """
    accounts = dim_customer.filter(pl.col("customer_source") == "crm").select(
        pl.col("source_customer_id").alias("account_id"), "customer_key", pl.col("region").alias("_account_region")
    )
    current = live(opportunities)
    if "cancelled_date" not in current.columns:  # a source without the custom field
        current = current.with_columns(pl.lit(None, dtype=pl.Date).alias("cancelled_date"))
    attributed = attribute_to_version(
        current.with_columns(on_date.alias("_attributed_on")),
        dim_sales_rep,
        "owner_id",
        pl.col("_attributed_on"),
        ["sales_rep_key", pl.col("region").alias("_owner_region")],
    )
    deals = (
        attributed.join(accounts, on="account_id", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("sales_rep_key").fill_null(pl.lit(NO_SALES_REP_KEY)),
            pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)),
            # Owner's region, else the account's; when neither resolves (owner or account gone),
            # the deal's currency names the booking region, so a won deal never falls out of
            # every date × region partition unnoticed.
            pl.coalesce(
                valid_region(pl.col("_owner_region")),
                "_account_region",
                pl.col("currency").replace_strict(REGION_BY_CURRENCY, default=None),
            ).alias("region"),
        )
        .drop("_owner_region", "_account_region", "_attributed_on")
    )
    deals = map_stages(deals, "region", "stage_name")
    if stage_history is not None:
        deals = deals.join(
            _first_cancellation(deals, stage_history), on="opportunity_id", how="left", maintain_order="left"
        )
    else:
        deals = deals.with_columns(pl.lit(None, dtype=pl.Date).alias("_history_cancelled"))
    cancelled = pl.col("funnel_stage") == CANCELLED_STAGE
    return deals.with_columns(
        cancelled.alias("is_cancelled"),
        pl.when(cancelled)
        .then(pl.coalesce("_history_cancelled", "cancelled_date", pl.col("system_modstamp").dt.date()))
        .alias("cancelled_date"),
        pl.when(pl.col("is_won").fill_null(False) | cancelled).then(pl.col("close_date")).alias("booking_date"),
    ).drop("_history_cancelled")


def booked_deals(
    opportunities: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Booked deals (won, or won and later cancelled), attributed to the owner's assignment on the close date."""
    return crm_attribution(opportunities, dim_sales_rep, dim_customer, pl.col("close_date"), stage_history).filter(
        pl.col("booking_date").is_not_null()
    )


def crm_sale_partitions(
    opportunities: pl.DataFrame, dim_sales_rep: pl.DataFrame, dim_customer: pl.DataFrame
) -> pl.DataFrame:
    """(opportunity_id, date, region) where each booked deal's lines sit in ``fact_sales`` (its close
    date, the owner's region on that date), whatever its status: the partitions a change to the deal
    touches. The same attribution ``fact_sales`` (core/sales.py) uses, so a re-run lands where this says."""
    return booked_deals(opportunities, dim_sales_rep, dim_customer).select(
        "opportunity_id", pl.col("close_date").alias("date"), "region"
    )


def build_fact_opportunity(
    opportunities: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per live opportunity (open, won, lost and cancelled), for pipeline and win-rate analysis.

    Closed deals are attributed to the owner's assignment on the close date, open deals to the
    current one. ``stage_history`` (staged ``OpportunityHistory``: one row per stage change) gives
    the furthest funnel stage each deal reached; without it, the current stage stands in (unknown
    for lost deals).
    """
    created_date = pl.col("created_at").dt.date()
    closed = pl.col("is_closed").fill_null(False)
    deals = crm_attribution(
        opportunities, dim_sales_rep, dim_customer, pl.when(closed).then(pl.col("close_date")), stage_history
    ).with_columns(
        created_date.alias("created_date"),
        pl.col("amount").alias("amount_local"),
        (pl.col("amount_usd") * pl.col("probability") / 100.0).alias("expected_amount_usd"),
        pl.when(closed).then((pl.col("close_date") - created_date).dt.total_days()).alias("days_to_close"),
        blank_to_null(pl.col("web_order_id")).alias("web_order_id"),
    )
    reached = _stage_rung(pl.col("funnel_stage"), pl.col("funnel_stage_order"))
    # The current stage counts too: a history the org purged or the extract has not reached yet
    # must not make a deal look less advanced than it is.
    history = deals.select("opportunity_id", "stage_name")
    if stage_history is not None:
        history = pl.concat([_live_changes(stage_history).select("opportunity_id", "stage_name"), history])
    furthest = (
        map_stages(history.join(deals.select("opportunity_id", "region"), on="opportunity_id", how="inner"))
        .group_by("opportunity_id")
        .agg(reached.max().alias("furthest_stage_order"))
    )
    fact = deals.join(furthest, on="opportunity_id", how="left").with_columns(
        pl.col("owner_id"), pl.col("opportunity_type"), pl.col("lead_source")
    )
    return conform(fact, FACT_OPPORTUNITY_SCHEMA).sort("opportunity_id")


def _stage_rung(stage: pl.Expr, order: pl.Expr) -> pl.Expr:
    """The funnel rung a version proves the deal reached: a loss proves nothing, a cancellation a win."""
    won_order = FUNNEL_ORDER[WON_STAGE]
    return (
        pl.when(stage == LOST_STAGE)
        .then(None)
        .when(stage == CANCELLED_STAGE)
        .then(pl.lit(won_order))
        .otherwise(order)
        .cast(pl.Int8)
    )


def build_fact_booking_line(
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    stage_history: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Every line item of every booked deal — won, or won and later cancelled — at booking.

    The bookings ledger sales commissions are paid from. Unlike ``fact_sales`` (the deal's
    current state), a cancellation never removes a booking here: it sets ``is_cancelled`` and
    ``cancelled_date`` on the lines, so the period of the booking never changes and the
    cancellation can be settled in its own period. Web-fulfilled deals are included (the rep
    sold them), with ``web_order_id`` pointing at the web order that carries their revenue.
    Amounts are in USD at the deal's close-date rate (staging); the rep is the owner's
    assignment on the booking date.

    ``stage_history`` (staged ``OpportunityHistory``) dates each cancellation by its first change
    to the Cancelled stage; without it (None) the date falls back to ``Cancelled_Date__c``, then to
    the current version's ``SystemModstamp`` (see ``crm_attribution``).
    """
    deals = booked_deals(opportunities, dim_sales_rep, dim_customer, stage_history).select(
        "opportunity_id",
        "account_id",
        "customer_key",
        blank_to_null(pl.col("campaign_id")).alias("campaign_id"),
        "owner_id",
        "sales_rep_key",
        "region",
        "booking_date",
        "is_cancelled",
        "cancelled_date",
        blank_to_null(pl.col("web_order_id")).alias("web_order_id"),
    )
    products = dim_product.filter(~pl.col("is_unknown_member")).select("sku", "product_key", "product_family")
    lines = (
        live(opportunity_lines)
        .join(deals, on="opportunity_id", how="inner", validate="m:1", maintain_order="left")
        .join(products, on="sku", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":").alias("booking_line_id"),
            pl.col("product_key").fill_null(pl.lit(UNMAPPED_PRODUCT_KEY)),
            pl.col("product_family").fill_null(pl.lit(UNMAPPED_CATEGORY)),
            pl.col("total_price").alias("net_amount_local"),
            pl.col("total_price_usd").alias("net_amount_usd"),
            (pl.col("cancelled_date") - pl.col("booking_date")).dt.total_days().alias("days_booked_to_cancelled"),
            pl.when(pl.col("web_order_id").is_null())
            .then(pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":"))
            .alias("sales_line_id"),
        )
    )
    return conform(lines, FACT_BOOKING_LINE_SCHEMA).sort("booking_date", "booking_line_id")
