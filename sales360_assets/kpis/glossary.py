"""The KPI glossary data: every sales KPI defined once — name, business definition, formula, grain, owner.

A declarative table (long by design: one entry per KPI) and which mart carries which KPIs. How
the marts compute with it, and how asset descriptions quote it, is in ``sales360_assets.kpis``;
``docs/kpi_glossary.md`` is rendered from it by ``sales360_assets.kpis.document``. Change a
definition here and every mart, description and the glossary follow.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import polars as pl

from sales360_assets.money import exact_sum

SALES_ANALYTICS = "Sales Analytics (team:sales-analytics)"
SALES_OPS = "Sales Operations (team:sales-ops)"
SALES_COMP = "Sales Compensation (team:sales-comp)"
MARKETING = "Marketing Analytics (team:marketing-analytics)"
FINANCE = "Finance (team:finance)"


@dataclass(frozen=True)
class KPI:
    name: str  # the column name in every mart that carries it
    label: str
    definition: str  # for a sales leader: what it means
    formula: str  # for an analyst: how it is computed
    grain: str  # the finest level at which it is meaningful
    owner: str
    unit: str
    # Aggregation over fact rows (a measure), or an expression over aggregated columns (a ratio).
    aggregate: Callable[[], pl.Expr] | None = field(default=None, compare=False, repr=False)
    derive: Callable[[], pl.Expr] | None = field(default=None, compare=False, repr=False)
    confidential: bool = False  # margin, cost and commission figures: tagged "confidential"


def _div(numerator: str, denominator: str, scale: float = 1.0) -> Callable[[], pl.Expr]:
    # A ratio over nothing is unknown, not zero: null when the denominator is 0 or missing.
    return lambda: pl.when(pl.col(denominator) != 0).then(pl.col(numerator) / pl.col(denominator) * scale)


def _order_ref() -> pl.Expr:
    # A web order and a POS transaction may share an id; the channel makes orders distinct.
    return pl.concat_str([pl.col("channel"), pl.col("order_id")], separator=":")


GLOSSARY: list[KPI] = [
    # --- sales ------------------------------------------------------------------------------------
    KPI(
        "revenue_usd",
        "Revenue",
        "Net sales value after discounts, in US dollars, across web, stores and sales-led deals.",
        "sum(fact_sales.net_amount_usd); each line converted at ingestion at the FX rate of its business date",
        "sales line",
        FINANCE,
        "USD",
        aggregate=lambda: exact_sum("net_amount_usd"),
    ),
    KPI(
        "units",
        "Units",
        "Number of items sold.",
        "sum(fact_sales.quantity)",
        "sales line",
        SALES_ANALYTICS,
        "items",
        aggregate=lambda: pl.col("quantity").sum(),  # whole numbers (staging rejects fractions): exact in any order
    ),
    KPI(
        "orders",
        "Orders",
        "Number of distinct orders: a web order, a store receipt or a won deal each count once.",
        "count distinct (channel, order_id) over fact_sales",
        "order",
        SALES_ANALYTICS,
        "orders",
        aggregate=lambda: _order_ref().n_unique(),
    ),
    KPI(
        "average_order_value_usd",
        "Average order value (AOV)",
        "What an order is worth on average.",
        "revenue_usd / orders (null when there are no orders)",
        "any slice with orders",
        SALES_ANALYTICS,
        "USD",
        derive=_div("revenue_usd", "orders"),
    ),
    KPI(
        "average_selling_price_usd",
        "Average selling price",
        "Average price paid per item.",
        "revenue_usd / units (null when no units)",
        "any slice with units",
        SALES_ANALYTICS,
        "USD",
        derive=_div("revenue_usd", "units"),
    ),
    KPI(
        "cost_usd",
        "Cost of goods",
        "What the items sold cost us, at catalogue standard cost.",
        "sum(quantity × the dim_product_cost standard cost valid on the sale date); 0 for products without a "
        "known cost (flagged is_unmapped_product)",
        "sales line",
        FINANCE,
        "USD",
        aggregate=lambda: exact_sum("cost_usd"),
        confidential=True,
    ),
    KPI(
        "gross_margin_usd",
        "Gross margin",
        "Revenue left after the cost of the goods sold.",
        "sum(fact_sales.net_amount_usd − cost_usd)",
        "sales line",
        FINANCE,
        "USD",
        aggregate=lambda: exact_sum("gross_margin_usd"),
        confidential=True,
    ),
    KPI(
        "gross_margin_pct",
        "Gross margin %",
        "Share of revenue kept as gross margin.",
        "gross_margin_usd / revenue_usd × 100 (null when revenue is 0)",
        "any slice with revenue",
        FINANCE,
        "%",
        derive=_div("gross_margin_usd", "revenue_usd", 100.0),
        confidential=True,
    ),
    KPI(
        "margin_rank",
        "Profitability rank",
        "Position in the list of most (rank 1 = highest gross margin) or least profitable items of a period.",
        "competition rank (SQL RANK()) of gross_margin_usd within the period, descending for "
        "rank_most_profitable, ascending for rank_least_profitable",
        "month × product or category",
        SALES_ANALYTICS,
        "rank",
        confidential=True,
    ),
    # --- customers ----------------------------------------------------------------------------------
    KPI(
        "customers",
        "Customers",
        "Number of distinct buying customers. One shopper buying online and in store counts once.",
        "count distinct conformed customer_key; lines on an unknown member fall back to the channel's "
        "own reference (loyalty id), else (an anonymous walk-in) count once per order",
        "customer",
        SALES_ANALYTICS,
        "customers",
    ),
    KPI(
        "order_frequency",
        "Order frequency",
        "How many orders a buying customer placed in the period.",
        "orders / customers",
        "segment × period",
        SALES_ANALYTICS,
        "orders per customer",
        derive=_div("orders", "customers"),
    ),
    KPI(
        "repeat_customers",
        "Repeat customers",
        "Customers who ordered more than once in the period.",
        "count of customers with orders ≥ 2 in the period",
        "segment × month",
        SALES_ANALYTICS,
        "customers",
    ),
    KPI(
        "repeat_purchase_rate_pct",
        "Repeat-purchase rate",
        "Share of the period's buying customers who came back and ordered again within it.",
        "repeat_customers / customers × 100",
        "segment × month",
        SALES_ANALYTICS,
        "%",
        derive=_div("repeat_customers", "customers", 100.0),
    ),
    # --- sales team ---------------------------------------------------------------------------------
    KPI(
        "quota_usd",
        "Quota",
        "The booking target a rep (or a manager's team) is measured against.",
        "Quota__c.Amount__c in the rep's region currency × the FX rate of the quota month (the latest rate "
        "published on or before the month's first day, else the month's first rate; Month__c counts for the month "
        "it falls in); a quarter sums its three months and is null unless all three have a quota (is_complete); a "
        "manager sums the reps with a quota for the period (reps_with_quota of reps)",
        "rep × month",
        SALES_OPS,
        "USD",
    ),
    KPI(
        "credited_bookings_usd",
        "Credited bookings",
        "The value of deals booked in the period that counts towards a rep, after the account team's credit split.",
        "sum(fact_booking_line.net_amount_usd × credit_split_pct / 100) over lines booked in the period; the "
        "split is the account team's on the booking date (the deal owner gets 100 % when the account has no team, "
        "and the remainder when the team's splits sum to less than 100 — credit_source 'owner remainder'; a team "
        "over 100 % is never scaled: the blocking check credits_add_back_to_booking fails); later cancellations "
        "do not reduce it (they are settled as commission clawbacks)",
        "rep × booking line",
        SALES_OPS,
        "USD",
        confidential=True,
    ),
    KPI(
        "attainment_pct",
        "Quota attainment",
        "How much of the quota a rep (or team) achieved.",
        "credited_bookings_usd / quota_usd × 100 (null without a complete quota); a manager's credited bookings "
        "and quota are those of the reps with a quota for the period, so a rep without one cannot inflate it",
        "rep × month or quarter; manager roll-up",
        SALES_OPS,
        "%",
        derive=_div("credited_bookings_usd", "quota_usd", 100.0),
        confidential=True,
    ),
    # --- pipeline -----------------------------------------------------------------------------------
    KPI(
        "deals_created",
        "Deals created",
        "New opportunities opened in the period (new pipeline).",
        "count of fact_opportunity with created_date in the period",
        "region × opportunity type × month",
        SALES_OPS,
        "deals",
    ),
    KPI(
        "deals_won",
        "Deals won",
        "Deals booked in the period (including those cancelled afterwards: they were won).",
        "count of fact_opportunity with booking_date in the period",
        "region × opportunity type × month",
        SALES_OPS,
        "deals",
    ),
    KPI(
        "deals_lost",
        "Deals lost",
        "Deals closed as lost in the period.",
        "count of fact_opportunity in the funnel stage Closed Lost with close_date in the period",
        "region × opportunity type × month",
        SALES_OPS,
        "deals",
    ),
    KPI(
        "win_rate_pct",
        "Win rate",
        "Share of the deals decided in the period that were won.",
        "deals_won / (deals_won + deals_lost) × 100 (null when no deal was decided)",
        "region × opportunity type × month",
        SALES_OPS,
        "%",
    ),
    KPI(
        "average_deal_size_usd",
        "Average deal size",
        "The average value of a won deal.",
        "sum(amount_usd of deals won in the period) / deals_won",
        "region × opportunity type × month",
        SALES_OPS,
        "USD",
        derive=_div("won_amount_usd", "deals_won"),
    ),
    KPI(
        "sales_cycle_days",
        "Sales-cycle length",
        "How long a won deal took from creation to close, on average.",
        "mean(close_date − created_date) in days over deals won in the period",
        "region × opportunity type × month",
        SALES_OPS,
        "days",
    ),
    KPI(
        "pipeline_velocity_usd_per_day",
        "Pipeline velocity",
        "How much won revenue the pipeline generates per day at the current pace.",
        "deals_created × win_rate_pct / 100 × average_deal_size_usd / sales_cycle_days",
        "region × opportunity type × month",
        SALES_OPS,
        "USD per day",
    ),
    KPI(
        "stage_conversion_pct",
        "Stage-to-stage conversion",
        "Share of the deals that reached a funnel stage and went on to reach the next one.",
        "deals whose furthest stage ≥ next stage / deals whose furthest stage ≥ stage × 100, on the standard "
        "funnel (core/funnel.py) so regions compare; deals still open count as not (yet) converted",
        "region × creation month × stage",
        SALES_OPS,
        "%",
        derive=_div("deals_advanced", "deals_reached", 100.0),
    ),
    KPI(
        "low_win_rate_alert",
        "Low win-rate alert",
        "Raised for a region and opportunity type whose win rate stayed below the alert threshold for "
        "the configured number of months running.",
        "win_rate_pct < threshold (default 20 %) in this month and each of the previous months_running − 1 "
        "months (default 3 months in all); months without decided deals break the run",
        "region × opportunity type × month",
        SALES_OPS,
        "flag",
    ),
    # --- marketing ----------------------------------------------------------------------------------
    KPI(
        "influenced_deals",
        "Influenced deals",
        "Opportunities the campaign is recorded on (Opportunity.CampaignId).",
        "count of fact_opportunity with the campaign_id",
        "campaign",
        MARKETING,
        "deals",
    ),
    KPI(
        "influenced_revenue_usd",
        "Influenced revenue",
        "Revenue from won deals the campaign influenced.",
        "sum(fact_sales.net_amount_usd) of the deals' lines (CRM lines; web order lines for deals fulfilled "
        "online), by the deal's campaign",
        "campaign",
        MARKETING,
        "USD",
    ),
    KPI(
        "campaign_cost_usd",
        "Campaign cost",
        "What the campaign actually cost; unknown until it has been spent.",
        "Campaign.ActualCost (the org's corporate currency, USD); null when not recorded",
        "campaign",
        MARKETING,
        "USD",
    ),
    KPI(
        "campaign_roi_pct",
        "Campaign ROI",
        "Return on the campaign's cost: influenced revenue beyond the cost, as a share of the cost.",
        "(influenced_revenue_usd − campaign_cost_usd) / campaign_cost_usd × 100; null when the cost is unknown or 0",
        "campaign",
        MARKETING,
        "%",
    ),
    KPI(
        "discount_usd",
        "Discount given",
        "Price reductions granted on the lines (promotions, coupons, deal discounts), in US dollars.",
        "sum(fact_sales.discount_amount_local × fx_rate)",
        "sales line",
        MARKETING,
        "USD",
        aggregate=lambda: exact_sum(pl.col("discount_amount_local") * pl.col("fx_rate")),
    ),
    KPI(
        "discount_rate_pct",
        "Discount rate",
        "Share of the list value given away as discount.",
        "discount_usd / (revenue_usd + discount_usd) × 100",
        "any slice",
        MARKETING,
        "%",
        derive=lambda: pl.when((pl.col("revenue_usd") + pl.col("discount_usd")) != 0).then(
            pl.col("discount_usd") / (pl.col("revenue_usd") + pl.col("discount_usd")) * 100.0
        ),
    ),
    # --- seasonality --------------------------------------------------------------------------------
    KPI(
        "seasonal_index",
        "Seasonal index",
        "How busy a weekday (weekly index) or a calendar month (yearly index) is compared with an average "
        "day: 1.2 means 20 % above average. The highest index is the peak.",
        "mean daily revenue on the weekday (or in the month) / mean daily revenue over all days observed in "
        "the region; days without sales count as 0",
        "region × weekday, region × month of year",
        SALES_ANALYTICS,
        "index (1 = average day)",
    ),
    # --- commissions --------------------------------------------------------------------------------
    KPI(
        "bookings_usd",
        "Bookings",
        "Value of the deals booked in the period on the accounts a rep sells to, before any split.",
        "sum(fact_booking_line.net_amount_usd) over the rep's credit lines booked in the period",
        "rep × month",
        SALES_COMP,
        "USD",
        confidential=True,
    ),
    KPI(
        "accelerator_multiplier",
        "Rate applied (accelerator)",
        "The multiplier the month's attainment earns on the base commission rates.",
        "the multiplier of the plan band containing attainment_pct (lower bound inclusive), "
        "from sales360_assets/commissions/plan.yaml; without a quota the plan's no-quota multiplier",
        "rep × month",
        SALES_COMP,
        "×",
        confidential=True,
    ),
    KPI(
        "commission_usd",
        "Commission",
        "Commission earned on the month's credited bookings.",
        "sum(credited amount × base rate of the product family / 100 × accelerator_multiplier), then "
        "capped at the plan's monthly cap (the excess appears as cap_adjustment_usd)",
        "rep × booking line",
        SALES_COMP,
        "USD",
        confidential=True,
    ),
    KPI(
        "clawback_usd",
        "Clawback",
        "Commission taken back because a deal was cancelled within the clawback window (90 days) of its "
        "booking: exactly what the cancelled lines added to the month that paid them. It lands in the first open "
        "month at or after the cancellation; a closed month never changes.",
        "entitled(booking month without the cancelled lines) − entitled(booking month with them), where "
        "entitled re-applies the accelerator band and the monthly cap (Decimal, lines rounded half-up to the cent)",
        "rep × cancelled booking line",
        SALES_COMP,
        "USD",
        confidential=True,
    ),
    KPI(
        "payout_usd",
        "Payout",
        "What the monthly statement pays: commission plus adjustments (cap, clawbacks, corrections of earlier "
        "months from later CRM changes).",
        "commission_usd + cap_adjustment_usd + clawback_usd + adjustment_usd (each the sum of its rounded lines)",
        "rep × month",
        SALES_COMP,
        "USD",
        confidential=True,
    ),
    # --- market basket, cross-sell, recommendations (sales360_assets/recommendations/) --------------
    KPI(
        "support",
        "Support",
        "How common a pair is: the share of orders that contain both products (or categories).",
        "orders with A and B / orders, over the rolling window (default 365 days)",
        "product or category pair × window",
        SALES_ANALYTICS,
        "share of orders",
    ),
    KPI(
        "confidence",
        "Confidence",
        "How often buying A comes with buying B: of the orders with A, the share that also have B.",
        "orders with A and B / orders with A",
        "ordered pair A → B × window",
        SALES_ANALYTICS,
        "share of orders",
    ),
    KPI(
        "lift",
        "Lift",
        "How much A makes B more likely than B is anyway; above 1, they sell together more than by chance.",
        "confidence(A → B) / (orders with B / orders)",
        "ordered pair A → B × window",
        SALES_ANALYTICS,
        "ratio",
    ),
    KPI(
        "cross_sell_score",
        "Cross-sell score",
        "How likely a customer is to want a product they do not own, given what they already bought.",
        "1 − Π over the customer's products A with lift(A → P) > 1 of (1 − confidence(A → P))",
        "customer × product not owned",
        SALES_ANALYTICS,
        "0–1",
    ),
    KPI(
        "price_step_usd",
        "Upsell price step",
        "How much more the suggested upgrade costs than the dearest product the customer bought in the category.",
        "list price of the cheapest dearer product (same subcategory first) − list price of the customer's dearest",
        "customer × category",
        SALES_ANALYTICS,
        "USD",
    ),
    KPI(
        "purchase_frequency_30d",
        "Purchase frequency (per 30 days)",
        "How often a customer buys in a category: orders containing it per customer per 30 days.",
        "orders / customers × 30 / days of the window the data covers",
        "customer or segment × category × window",
        SALES_ANALYTICS,
        "orders per customer per 30 days",
    ),
    KPI(
        "category_spend_per_customer_usd",
        "Category spend per customer",
        "What a buying customer spends in a category over the window.",
        "revenue_usd / customers (null when no customers)",
        "customer or segment × category × window",
        SALES_ANALYTICS,
        "USD",
        derive=_div("revenue_usd", "customers"),
    ),
    # --- forecast and team vs target (sales360_assets/forecast/) -----------------------------------
    KPI(
        "forecast_usd",
        "Revenue forecast",
        "Expected weekly revenue, with 80 % and 95 % prediction intervals.",
        "per series, the lowest-MAPE of: statsforecast MSTL (yearly season) + AutoETS (≥ 2 years of weekly history; "
        "else AutoETS, else naive), seasonal naive, and their average, over up to four 8-week validation windows at "
        "the end of the history it is fitted on",
        "region or segment × week",
        FINANCE,
        "USD",
    ),
    KPI(
        "variance_usd",
        "Forecast variance",
        "How far actual revenue landed from the forecast; positive: above forecast.",
        "actual_usd − forecast_usd",
        "region or segment × week",
        FINANCE,
        "USD",
    ),
    KPI(
        "ape_pct",
        "Absolute percentage error",
        "Forecast error as a share of what was sold; its mean over weeks and series is the MAPE.",
        "|actual_usd − forecast_usd| / actual_usd × 100 (null when actual is 0)",
        "region or segment × week",
        FINANCE,
        "%",
    ),
    KPI(
        "projected_attainment_pct",
        "Projected month-end attainment",
        "Where quota attainment lands at month end if bookings keep the month's pace so far.",
        "credited_bookings_usd × days_in_month / days_elapsed / quota_usd × 100; a closed month: its attainment",
        "region or team × month",
        SALES_OPS,
        "%",
        confidential=True,
    ),
]

KPIS: dict[str, KPI] = {k.name: k for k in GLOSSARY}
if len(KPIS) != len(GLOSSARY):  # pragma: no cover - a duplicate would silently hide a definition
    raise ValueError("duplicate KPI names in the glossary")

# Which mart carries which KPIs: the descriptions and the glossary's "used by" come from here.
MART_KPIS: dict[str, tuple[str, ...]] = {
    "mart_daily_sales": (
        "revenue_usd",
        "units",
        "orders",
        "average_order_value_usd",
        "cost_usd",
        "gross_margin_usd",
        "gross_margin_pct",
    ),
    "mart_customer_segment_performance": (
        "revenue_usd",
        "units",
        "orders",
        "customers",
        "average_order_value_usd",
        "order_frequency",
    ),
    "mart_product_performance": ("revenue_usd", "units", "cost_usd", "gross_margin_usd", "gross_margin_pct"),
    "mart_sales_performance": (
        "revenue_usd",
        "units",
        "orders",
        "average_order_value_usd",
        "average_selling_price_usd",
        "cost_usd",
        "gross_margin_usd",
        "gross_margin_pct",
    ),
    "mart_product_profitability": (
        "revenue_usd",
        "units",
        "cost_usd",
        "gross_margin_usd",
        "gross_margin_pct",
        "margin_rank",
    ),
    "mart_customer_segment_monthly": (
        "revenue_usd",
        "units",
        "orders",
        "customers",
        "average_order_value_usd",
        "average_selling_price_usd",
        "order_frequency",
        "repeat_customers",
        "repeat_purchase_rate_pct",
    ),
    "mart_rep_quota_attainment": ("quota_usd", "credited_bookings_usd", "attainment_pct"),
    "mart_pipeline": (
        "deals_created",
        "deals_won",
        "deals_lost",
        "win_rate_pct",
        "average_deal_size_usd",
        "sales_cycle_days",
        "pipeline_velocity_usd_per_day",
        "low_win_rate_alert",
    ),
    "mart_funnel_conversion": ("stage_conversion_pct",),
    "mart_campaign_effectiveness": (
        "influenced_deals",
        "deals_won",
        "influenced_revenue_usd",
        "campaign_cost_usd",
        "campaign_roi_pct",
    ),
    "mart_promotion_effectiveness": (
        "revenue_usd",
        "units",
        "orders",
        "average_order_value_usd",
        "discount_usd",
        "discount_rate_pct",
    ),
    "mart_seasonality": ("revenue_usd", "seasonal_index"),
    "commission_statement_lines": ("attainment_pct", "accelerator_multiplier", "commission_usd"),
    "commission_statements": (
        "bookings_usd",
        "credited_bookings_usd",
        "quota_usd",
        "attainment_pct",
        "accelerator_multiplier",
        "commission_usd",
        "clawback_usd",
        "payout_usd",
    ),
    "mart_product_affinity": ("support", "confidence", "lift"),
    "mart_cross_sell_opportunities": ("cross_sell_score",),
    "mart_upsell_candidates": ("price_step_usd",),
    "mart_customer_recommendations": (),
    "mart_customer_category_spend": (
        "customers",
        "orders",
        "units",
        "revenue_usd",
        "purchase_frequency_30d",
        "category_spend_per_customer_usd",
    ),
    "mart_revenue_forecast": ("forecast_usd",),
    "mart_forecast_vs_actual": ("forecast_usd", "variance_usd", "ape_pct"),
    "mart_team_vs_target": ("quota_usd", "credited_bookings_usd", "attainment_pct", "projected_attainment_pct"),
    "sales_team_report": (
        "revenue_usd",
        "orders",
        "average_order_value_usd",
        "units",
        "average_selling_price_usd",
        "gross_margin_pct",
        "attainment_pct",
        "win_rate_pct",
        "seasonal_index",
    ),
}
