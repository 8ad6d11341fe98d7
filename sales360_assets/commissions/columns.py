"""What the commission tables' columns mean: keys, the credited line's state, ledger events, statement lines.

KPI columns (commission_usd, clawback_usd, payout_usd …) are described by the glossary
(``kpis/glossary.py``); this table covers the rest, so every column of ``commission_credit_lines``,
``commission_ledger``, ``commission_statement_lines`` and ``commission_statements`` has a
description in the catalogue. ``COLUMN_DOCS`` holds what a column means in every commission table
that has it; ``BY_TABLE`` what differs in one table (float USD in the credit lines, Decimal cents
from the ledger on), and where a KPI column means something narrower there (a statement line's
``commission_usd`` is that line's amount, not the month's). The columns are computed in
``credit.py``, ``ledger.py`` and ``statements.py``. Declarative by design: one entry per column.
"""

from __future__ import annotations

COLUMN_DOCS: dict[str, str] = {
    # --- the booked deal line --------------------------------------------------------------------
    "credit_line_id": "The credited line: booking_line_id|user_id, with |remainder appended for an owner-remainder "
    "line (commission_credit_lines.credit_line_id).",
    "booking_line_id": "The booked deal line (fact_booking_line.booking_line_id: crm:<OpportunityLineItem Id>).",
    "opportunity_id": "Salesforce Opportunity Id of the deal (fact_opportunity.opportunity_id).",
    "sales_line_id": "The fact_sales line that counts the booking as revenue (crm:<OpportunityLineItem Id>); null "
    "for a web-fulfilled deal, whose web order lines count it.",
    "web_order_id": "The e-commerce order that fulfilled the deal (Web_Order_Id__c); null when none.",
    "account_id": "Salesforce Account Id of the deal's account, whose team (bridge_account_team) shares the credit.",
    "user_id": "Salesforce User Id of the credited rep (dim_sales_rep.user_id): an account team member or the "
    "deal owner.",
    "product_family": "Product family of the line (dim_product.product_family; Unmapped when unknown): it selects "
    "the commission base rate in plan.yaml.",
    "credit_split_pct": "The rep's share of the line's credit, in percent (0–100).",
    "booking_date": "The deal's booking date: the close date of the won deal (also when cancelled later).",
    "booking_month": "First day of booking_date's month: the month the line counts towards attainment and earns in.",
    "is_cancelled": "True when the won deal was cancelled after booking (the booking stays).",
    "cancelled_date": "Day of the cancellation (fact_booking_line.cancelled_date); null when not cancelled.",
    "days_booked_to_cancelled": "Days from booking_date to cancelled_date; null when not cancelled.",
    # --- statements ------------------------------------------------------------------------------
    "statement_month": "First day of the statement's month: the posting_month of the ledger events it pays.",
}

BY_TABLE: dict[str, dict[str, str]] = {
    "commission_credit_lines": {
        "credit_line_id": "Key of the row: booking_line_id|user_id (<none> for a null user), with |remainder "
        "appended for an owner-remainder line; the commission_ledger's line key.",
        "team_member_role": "The member's role on the account team (bridge_account_team); 'Opportunity Owner' on "
        "lines credited to the deal owner.",
        "credit_split_pct": "Percent of the line credited to the rep: the team member's split on the booking date, "
        "100 for the deal owner when the account has no team, 100 minus the team's total for an owner remainder.",
        "credit_source": "account team | deal owner (account has no team) | owner remainder (the team's splits sum "
        "to less than 100, the owner gets the rest).",
        "booking_amount_usd": "The whole line's net amount in USD at the deal's close-date FX rate "
        "(fact_booking_line.net_amount_usd), float, not rounded.",
        "credited_amount_usd": "booking_amount_usd × credit_split_pct / 100 in USD, float, not rounded (the ledger "
        "rounds it half-up to the cent).",
        "cancellation_month": "First day of cancelled_date's month; null when not cancelled.",
    },
    "commission_ledger": {
        "event_seq": "1, 2 … per credit_line_id in the order the events were recorded; with credit_line_id the "
        "event's key.",
        "event_type": "booked (first seen) | changed (amount, booking date, split or product family) | cancelled "
        "(within the clawback window) | cancelled_late (after it) | reinstated | removed (deleted in the CRM) | "
        "restored.",
        "posting_month": "First day of the first open (not closed) month at or after the month the change belongs "
        "to (the booking month, the earlier of old and new for a correction, the cancellation month for a "
        "cancellation) and not before the line's previous posting; fixed when recorded.",
        "recorded_at": "UTC time of the run that recorded the event (one value per run).",
        "reason": "Why the event was recorded: 'first seen', the corrected fields as old → new, the days from "
        "booking to cancellation against the clawback window, 'cancelled deal won again', or the CRM deletion or "
        "undeletion.",
        "user_id": "Salesforce User Id of the credited rep (dim_sales_rep.user_id): the rep whose statements the "
        "event reaches.",
        "credit_split_pct": "The rep's share of the line's credit after the event, in percent.",
        "booking_date": "The deal's booking date after the event (close date of the won deal).",
        "booking_amount_usd": "The whole line's net amount in USD after the event, Decimal rounded half-up to the cent.",
        "credited_amount_usd": "The rep's credited amount in USD after the event: the credit line's float amount "
        "rounded half-up to the cent, the only rounding of a credited amount.",
        "is_present": "False after a removed event (deal or line item deleted in the CRM), true otherwise.",
        "is_cancelled": "True when the deal is cancelled as of this event (set by cancelled or cancelled_late, "
        "cleared by reinstated).",
        "cancelled_date": "Day of the cancellation, kept from the event that cancelled the line (a later edit of "
        "Cancelled_Date__c does not move it); null when not cancelled.",
        "earns_commission": "True when the line is present and not cancelled within the plan's clawback window "
        "(cancelled_date − booking_date ≤ clawback_window_days, 90 in plan.yaml).",
    },
    "commission_statement_lines": {
        "user_id": "Salesforce User Id of the rep whose statement the line is on (dim_sales_rep.user_id).",
        "line_type": "booking (the month's own booking) | cap_adjustment (excess over the monthly cap, no booking "
        "fields) | clawback (cancelled within the window) | cancellation_outside_clawback_window | adjustment "
        "(correction, deletion, restoration, re-win or late booking into a closed month).",
        "event_key": "The ledger event behind the line: credit_line_id#event_seq in commission_ledger; null on "
        "cap_adjustment lines.",
        "event_type": "The ledger event's type (booked, changed, cancelled, cancelled_late, reinstated, removed, "
        "restored); null on cap_adjustment lines.",
        "booking_line_id": "The booked deal line (fact_booking_line.booking_line_id: crm:<OpportunityLineItem Id>); "
        "null on cap_adjustment lines.",
        "cancelled_date": "Day of the cancellation as the ledger froze it; null when not cancelled.",
        "credit_split_pct": "The rep's share of the line's credit after the event, in percent.",
        "booking_amount_usd": "The whole booking line's net amount in USD after the event, Decimal cents; null on "
        "cap_adjustment lines.",
        "credited_amount_usd": "The rep's credited amount in USD after the event (Decimal, rounded half-up to the "
        "cent in the ledger), negated on clawback lines; null on cap_adjustment lines.",
        "base_rate_pct": "Commission base rate of the product family in percent (plan.yaml "
        "base_rate_pct_by_product_family, else default_base_rate_pct); null on cap_adjustment lines.",
        "rate_month": "First day of the booking month whose accelerator band and cap the line was computed in: "
        "statement_month for the month's own bookings, the affected booking month for later changes.",
        "attainment_pct": "The rep's attainment in rate_month after the event: the credited amounts still earning "
        "commission there / the month's quota_usd × 100; null without a quota.",
        "accelerator_multiplier": "Multiplier of the plan band containing attainment_pct in rate_month (lower bound "
        "inclusive); the plan's no_quota_multiplier without a quota.",
        "commission_usd": "The line's amount in USD, Decimal: on a booking line credited × base rate / 100 × "
        "multiplier rounded half-up to the cent, on a cap_adjustment line minus the month's excess over the cap, "
        "on other lines the event's change to rate_month's capped total (negative for a clawback).",
        "note": "Why a non-booking line exists: the monthly cap on a cap_adjustment line, else the ledger event's "
        "reason and the month re-banded and re-capped; null on booking lines.",
    },
    "commission_statements": {
        "user_id": "Salesforce User Id of the rep (dim_sales_rep.user_id); one statement per rep and month with a "
        "quota or statement lines.",
        "name": "The rep's name (dim_sales_rep.name, the user's current name); null when the user is not in "
        "dim_sales_rep.",
        "title": "The rep's job title on the statement month's last day (dim_sales_rep).",
        "region": "The rep's sales region code on the statement month's last day (dim_sales_rep).",
        "manager_name": "Name of the rep's manager on the statement month's last day (dim_sales_rep.manager_name).",
        "plan_name": "Name of the commission plan applied (plan.yaml name, e.g. FY2026 Account Executive plan).",
        "accelerator_band": "The plan band attainment_pct falls in, as 'from–to %: multiplier×' (e.g. "
        "'100–125 %: 1.5×'), or 'no quota'.",
        "effective_rate_pct": "commission_usd / credited_bookings_usd × 100, before cap and adjustments; null when "
        "nothing was credited.",
        "cap_adjustment_usd": "Sum of the month's cap_adjustment lines in USD (Decimal, zero or negative): minus what "
        "the month's own bookings earned above the plan's monthly cap (40,000 USD in plan.yaml).",
        "adjustment_usd": "Sum of the month's adjustment lines in USD (Decimal): corrections, deletions, "
        "restorations, re-wins and late bookings, each the exact change to the booking month it affects.",
        "booking_lines": "Number of booking lines on the statement.",
        "clawback_lines": "Number of clawback and cancellation_outside_clawback_window lines on the statement.",
        "adjustment_lines": "Number of adjustment lines on the statement.",
    },
}

# Personal data in the statements: the rep's and the manager's name (as in mart_rep_quota_attainment).
STATEMENT_PII: dict[str, str] = {"name": "pii", "manager_name": "pii"}


def describe_columns(table: str, columns: list[str] | tuple[str, ...] | dict[str, object]) -> dict[str, str]:
    """Column -> description for the table's columns (its own wording first)."""
    own = BY_TABLE.get(table, {})
    return {c: own.get(c) or COLUMN_DOCS[c] for c in columns if c in own or c in COLUMN_DOCS}
