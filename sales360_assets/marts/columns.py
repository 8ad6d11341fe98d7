"""What the marts' non-KPI columns mean: their grain keys, labels, flags and helper figures.

KPI columns (revenue, margin, win rate …) are described by the glossary
(``sales360_assets/kpis/glossary.py``); this table covers the rest, so every mart column has a
description in the catalogue. ``COLUMNS`` holds what a column means in every mart that has it;
``BY_MART`` what differs in one mart (the seasonality mart's ``region`` includes "all", for
instance). Declarative by design: one entry per column.
"""

from __future__ import annotations

COLUMNS: dict[str, str] = {
    # --- grain ----------------------------------------------------------------------------------
    "date": "Business date of the sales lines (fact_sales.date).",
    "month": "Month of the sales lines' business date, as its first day.",
    "region": "Sales region code (na, emea, uk, apac) of the sales lines' partition.",
    "channel": "Sales channel: web (e-commerce), pos (stores) or crm (sales-led deals).",
    "segment": "The buyer's customer segment (dim_customer.segment); Unknown when the buyer is not matched.",
    "category": "Product category (dim_product); Unmapped for SKUs in no catalogue.",
    "subcategory": "Product subcategory (dim_product); Unmapped for SKUs in no catalogue.",
    "product_key": "dim_product key; the unknown member's key for SKUs in no catalogue.",
    "sku": "The SKU sold (kept for unmapped products, so each gets its own row).",
    "product_name": "Product name (dim_product); 'Unmapped: <sku>' for SKUs in no catalogue.",
    # --- product ranks ------------------------------------------------------------------------------
    "margin_rank_desc": "Rank of gross_margin_usd within the date × region, highest first (ties share the "
    "best rank, like SQL RANK()).",
    "margin_rank_asc": "Rank of gross_margin_usd within the date × region, lowest (most negative) first "
    "(ties share the best rank).",
    "rank_most_profitable": "Rank of gross_margin_usd within the month and level, highest first (ties share "
    "the best rank).",
    "rank_least_profitable": "Rank of gross_margin_usd within the month and level, lowest (most negative) "
    "first (ties share the best rank).",
    # --- promotions ----------------------------------------------------------------------------------
    "is_promoted": "True for the lines that carried a discount (discount_amount_local > 0), false for "
    "full-price lines.",
    # --- pipeline and funnel -------------------------------------------------------------------------
    "opportunity_type": "The deals' opportunity type (the pipeline segment); Unknown when the deal has none.",
    "pipeline_created_usd": "Sum of amount_usd of the deals created in the month.",
    "won_amount_usd": "Sum of amount_usd of the deals booked in the month (cancelled ones included).",
    "open_pipeline_usd": "Sum of amount_usd of the deals still open whose expected close date falls in the month.",
    "win_rate_threshold_pct": "The win rate below which a month counts as under-performing (run config).",
    "below_threshold": "True when the month's win rate is below win_rate_threshold_pct; null without a "
    "win rate (no deal won or lost).",
    "months_below_threshold_running": "How many months in a row, up to this one, the win rate was below the "
    "threshold (0 when this month is not).",
    "created_month": "Month the deals were created (fact_opportunity.created_date), as its first day: the cohort.",
    "stage_order": "Ordinal of the standard funnel stage (core/funnel.py).",
    "stage": "Standard funnel stage the conversion is measured from.",
    "next_stage": "The next stage on the standard funnel (the last step leads to the won stage).",
    "deals_reached": "Deals of the cohort whose furthest stage is at or beyond this stage.",
    "deals_advanced": "Deals of the cohort whose furthest stage is at or beyond the next stage.",
    # --- campaigns ---------------------------------------------------------------------------------
    "campaign_id": "Salesforce Campaign Id; '(no campaign)' for the deals without a campaign.",
    "campaign_name": "Campaign name (Salesforce); '(no campaign)' for the deals without one.",
    "campaign_type": "Campaign type (Salesforce Type).",
    "status": "Campaign status (Salesforce Status).",
    "start_date": "Campaign start date.",
    "end_date": "Campaign end date.",
    "influenced_pipeline_usd": "Sum of amount_usd of every deal pointing at the campaign, open, won or lost.",
    "budgeted_cost_usd": "Budgeted cost of the campaign, in the org's corporate currency (USD).",
    # --- seasonality -------------------------------------------------------------------------------
    "index_type": "weekly (day of week) or yearly (month of year).",
    "period": "ISO weekday (1 = Monday … 7) for weekly rows, month (1 … 12) for yearly rows.",
    "period_name": "The weekday's or month's English name.",
    "days_observed": "Days from the first to the last sales day that fall on this weekday or month (days "
    "without sales count as 0 revenue).",
    "average_daily_revenue_usd": "Mean daily revenue over the days observed.",
    "rank": "Rank of seasonal_index within the region and index type; 1 is the peak.",
    "is_peak": "True for rank 1 (the highest index).",
    "is_trough": "True for the last rank (the lowest index).",
}

BY_MART: dict[str, dict[str, str]] = {
    "mart_product_profitability": {
        "level": "product (one row per product; unmapped SKUs one row each) or category (one row per category).",
        "product_key": "dim_product key (null on category rows).",
        "sku": "The SKU sold (null on category rows).",
        "product_name": "Product name; 'Unmapped: <sku>' for SKUs in no catalogue; null on category rows.",
    },
    "mart_pipeline": {
        "month": "Month of each deal event: creation (deals_created), booking (deals_won), close (deals_lost) "
        "and expected close (open_pipeline_usd), as its first day.",
        "region": "Sales region code of the deal (fact_opportunity.region); unknown when the deal has none.",
    },
    "mart_funnel_conversion": {
        "region": "Sales region code of the deal (fact_opportunity.region); unknown when the deal has none.",
    },
    "mart_seasonality": {
        "region": "Sales region code, or 'all' for the index over every region's daily revenue.",
        "revenue_usd": "Revenue over the days observed (sum of fact_sales.net_amount_usd).",
    },
}


def describe_columns(mart: str, columns: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Column -> description for the mart's non-KPI columns (its own wording first)."""
    own = BY_MART.get(mart, {})
    return {c: own.get(c) or COLUMNS[c] for c in columns if c in own or c in COLUMNS}
