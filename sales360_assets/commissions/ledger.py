"""The commission ledger: every credited booking line's history as append-only events. Pure, no I/O.

The CRM only knows its current state; commissions need what was known when. Each run compares
the current credit lines (``commission_credit_lines``: a booked deal line × credited rep) with the
ledger's latest state of each line and records one event per difference, once:

======================  ===================================================================
``booked``              first seen
``changed``             credited amount, booking date, split or product family changed
``cancelled``           the deal was cancelled within the plan's clawback window: the line
                        stops earning (the clawback is computed by ``statements.py``)
``cancelled_late``      cancelled after the clawback window: recorded, keeps earning
``reinstated``          a cancelled deal was won again
``removed``             the deal or the line item was deleted in the CRM
``restored``            a removed line came back (undeleted)
======================  ===================================================================

Each event carries the line's full state after it and a ``posting_month``: the first **open**
commission month at or after the month the change belongs to — the booking month for a booking
or a correction, the cancellation month for a cancellation — and never before the line's
previous event. It is fixed when the event is
recorded, so closing a month later never moves an event, and no event is ever posted into a
closed month. The cancellation date is frozen at the first cancellation: a later edit of
``Cancelled_Date__c`` cannot move a clawback. Amounts are Decimal USD rounded half-up to cents
at the line (the only rounding of a credited amount).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from sales360_assets.money import CENT, MONEY
from sales360_assets.months import month_start, next_month

BOOKED, CHANGED, CANCELLED, CANCELLED_LATE = "booked", "changed", "cancelled", "cancelled_late"
REINSTATED, REMOVED, RESTORED = "reinstated", "removed", "restored"

# The state of a credit line after an event; compared field by field to detect changes.
STATE_FIELDS: dict[str, pl.DataType] = {
    "user_id": pl.String(),
    "booking_line_id": pl.String(),
    "opportunity_id": pl.String(),
    "sales_line_id": pl.String(),
    "web_order_id": pl.String(),
    "account_id": pl.String(),
    "product_family": pl.String(),
    "credit_split_pct": pl.Float64(),
    "booking_date": pl.Date(),
    "booking_month": pl.Date(),
    "booking_amount_usd": MONEY,
    "credited_amount_usd": MONEY,
}
LEDGER_SCHEMA: dict[str, pl.DataType] = {
    "credit_line_id": pl.String(),
    "event_seq": pl.Int64(),
    "event_type": pl.String(),
    "posting_month": pl.Date(),
    "recorded_at": pl.Datetime("us", "UTC"),
    "reason": pl.String(),
    **STATE_FIELDS,
    "is_present": pl.Boolean(),  # the line exists in the CRM
    "is_cancelled": pl.Boolean(),
    "cancelled_date": pl.Date(),  # frozen at the first cancellation
    "earns_commission": pl.Boolean(),  # present and not cancelled within the clawback window
}
EVENT_KEY = ("credit_line_id", "event_seq")
# Fields whose change is a correction of the booking (posted as ``changed``).
_CORRECTED = ("credited_amount_usd", "booking_amount_usd", "booking_date", "credit_split_pct", "product_family")


def to_cents(value: Any) -> Decimal | None:
    """A float or Decimal amount as Decimal cents, half-up (floats through their shortest repr)."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(CENT, rounding=ROUND_HALF_UP)


def first_open_month(month: date, closed_months: Iterable[date]) -> date:
    """The first month at or after ``month`` that is not closed."""
    closed = set(closed_months)
    while month in closed:
        month = next_month(month)
    return month


def observed_states(credit_lines: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """Current credit lines as ledger states keyed by credit_line_id (money to cents)."""
    states: dict[str, dict[str, Any]] = {}
    for row in credit_lines.iter_rows(named=True):
        state = {name: row.get(name) for name in STATE_FIELDS}
        state["booking_month"] = month_start(row["booking_date"])
        state["booking_amount_usd"] = to_cents(row["booking_amount_usd"])
        state["credited_amount_usd"] = to_cents(row["credited_amount_usd"])
        state["is_cancelled"] = bool(row.get("is_cancelled")) and row.get("cancelled_date") is not None
        state["cancelled_date"] = row.get("cancelled_date") if state["is_cancelled"] else None
        states[row["credit_line_id"]] = state
    return states


def latest_states(ledger: pl.DataFrame) -> dict[str, dict[str, Any]]:
    """The ledger's latest event per credit line (its current state and sequence)."""
    if ledger.is_empty():
        return {}
    latest = ledger.sort("credit_line_id", "event_seq").group_by("credit_line_id", maintain_order=True).last()
    return {row["credit_line_id"]: row for row in latest.iter_rows(named=True)}


def new_ledger_events(
    ledger: pl.DataFrame,
    credit_lines: pl.DataFrame,
    closed_months: Iterable[date],
    recorded_at: datetime,
    clawback_window_days: int,
) -> pl.DataFrame:
    """The events that bring the ledger to the current credit lines (empty when nothing changed)."""
    closed = sorted(set(closed_months))
    observed = observed_states(credit_lines)
    latest = latest_states(ledger)
    events: list[dict[str, Any]] = []

    def post(line_id: str, kind: str, state: dict[str, Any], month: date, reason: str, previous: dict | None) -> None:
        seq = (previous["event_seq"] if previous else 0) + 1
        # Never before the line's previous posting: a statement applies a line's events in order,
        # so a close date moved into an earlier month posts where the booking did, or later.
        if previous is not None:
            month = max(month, previous["posting_month"])
        row = {
            "credit_line_id": line_id,
            "event_seq": seq,
            "event_type": kind,
            "posting_month": first_open_month(month, closed),
            "recorded_at": recorded_at,
            "reason": reason,
            **{k: state[k] for k in STATE_FIELDS},
            "is_present": state["is_present"],
            "is_cancelled": state["is_cancelled"],
            "cancelled_date": state["cancelled_date"],
            "earns_commission": state["is_present"]
            and not (
                state["is_cancelled"] and (state["cancelled_date"] - state["booking_date"]).days <= clawback_window_days
            ),
        }
        events.append(row)
        latest[line_id] = row

    for line_id in sorted(set(observed) | set(latest)):
        now = observed.get(line_id)
        before = latest.get(line_id)
        if before is None:
            assert now is not None
            booked = {**now, "is_present": True, "is_cancelled": False, "cancelled_date": None}
            post(line_id, BOOKED, booked, now["booking_month"], "first seen", None)
            before = latest[line_id]
        if now is None:
            if before["is_present"]:
                gone = {**before, "is_present": False}
                post(line_id, REMOVED, gone, before["booking_month"], "deal or line item deleted in the CRM", before)
            continue
        state = {**now, "is_present": True, "is_cancelled": before["is_cancelled"]}
        state["cancelled_date"] = before["cancelled_date"]
        if not before["is_present"]:
            post(line_id, RESTORED, state, now["booking_month"], "deleted line is back in the CRM", before)
            before = latest[line_id]
        corrected = [f for f in _CORRECTED if now[f] != before[f]]
        if corrected:
            changes = ", ".join(f"{f} {before[f]} → {now[f]}" for f in corrected)
            # A correction belongs to the earlier of the two booking months (the one it rewrites).
            month = min(before["booking_month"], now["booking_month"])
            post(line_id, CHANGED, state, month, changes, before)
            before = latest[line_id]
        if now["is_cancelled"] and not before["is_cancelled"]:
            cancelled = {**state, "is_cancelled": True, "cancelled_date": now["cancelled_date"]}
            days = (now["cancelled_date"] - now["booking_date"]).days
            inside = days <= clawback_window_days
            kind = CANCELLED if inside else CANCELLED_LATE
            reason = f"cancelled {days} days after booking; clawback window {clawback_window_days} days"
            post(line_id, kind, cancelled, month_start(now["cancelled_date"]), reason, before)
        elif not now["is_cancelled"] and before["is_cancelled"]:
            won = {**state, "is_cancelled": False, "cancelled_date": None}
            post(line_id, REINSTATED, won, month_start(now["booking_date"]), "cancelled deal won again", before)
    return pl.DataFrame(events, schema=LEDGER_SCHEMA)


def ledger_totals(ledger: pl.DataFrame) -> dict[str, int]:
    """Events per type (materialization metadata)."""
    if ledger.is_empty():
        return {}
    return dict(ledger.group_by("event_type").len().sort("event_type").iter_rows())
