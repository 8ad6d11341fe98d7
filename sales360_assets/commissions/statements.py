"""Monthly commission statements from the ledger: exact, in Decimal cents. Pure, no I/O.

**What a month earns** (``entitled``): a rep's lines that earn commission and were booked in the
month; attainment = their credited sum / the month's quota; each line earns credited × base rate
of its product family × the band multiplier, **rounded half-up to the cent at the line**; the
month's total is the sum of the rounded lines, capped at the plan's monthly cap.

**What a statement pays** (month P): the ledger's events posted to P, in order —

1. bookings of month P: one line each at P's band, plus a ``cap_adjustment`` line if over the cap;
2. every other event (cancellation, deletion, correction, re-win, a late booking into a closed
   month): the difference it makes to the month it affects, ``entitled(month with the event) −
   entitled(month without it)`` — re-banded and re-capped, so a clawback takes back exactly what
   the cancelled lines added, never a proportional guess. A line points at the booking line and
   the ledger event (``event_key``) that caused it.

Totals are sums of rounded lines, so a statement's payout equals the sum of its lines exactly.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import polars as pl

from sales360_assets.commissions import ledger as ledger_events
from sales360_assets.commissions.plan import CommissionPlan
from sales360_assets.core.scd import attribute_to_version
from sales360_assets.money import CENT, MONEY

BOOKING, CLAWBACK, NO_CLAWBACK, CAP, ADJUSTMENT = (
    "booking",
    "clawback",
    "cancellation_outside_clawback_window",
    "cap_adjustment",
    "adjustment",
)
_LINE_TYPE = {
    ledger_events.CANCELLED: CLAWBACK,
    ledger_events.CANCELLED_LATE: NO_CLAWBACK,
}

STATEMENT_LINE_SCHEMA: dict[str, pl.DataType] = {
    "statement_month": pl.Date(),
    "user_id": pl.String(),
    "line_type": pl.String(),
    "event_key": pl.String(),  # credit_line_id#event_seq in commission_ledger
    "event_type": pl.String(),
    "opportunity_id": pl.String(),
    "booking_line_id": pl.String(),
    "sales_line_id": pl.String(),
    "web_order_id": pl.String(),
    "account_id": pl.String(),
    "booking_date": pl.Date(),
    "cancelled_date": pl.Date(),
    "days_booked_to_cancelled": pl.Int64(),
    "product_family": pl.String(),
    "credit_split_pct": pl.Float64(),
    "booking_amount_usd": MONEY,
    "credited_amount_usd": MONEY,
    "base_rate_pct": pl.Float64(),
    "rate_month": pl.Date(),  # the booking month whose band and cap this line was computed in
    "attainment_pct": pl.Float64(),
    "accelerator_multiplier": pl.Float64(),
    "commission_usd": MONEY,
    "note": pl.String(),
}

STATEMENT_SCHEMA: dict[str, pl.DataType] = {
    "statement_month": pl.Date(),
    "user_id": pl.String(),
    "name": pl.String(),
    "title": pl.String(),
    "region": pl.String(),
    "manager_name": pl.String(),
    "plan_name": pl.String(),
    "bookings_usd": MONEY,
    "credited_bookings_usd": MONEY,
    "quota_usd": pl.Float64(),
    "attainment_pct": pl.Float64(),
    "accelerator_band": pl.String(),
    "accelerator_multiplier": pl.Float64(),
    "commission_usd": MONEY,
    "effective_rate_pct": pl.Float64(),
    "cap_adjustment_usd": MONEY,
    "clawback_usd": MONEY,
    "adjustment_usd": MONEY,
    "payout_usd": MONEY,
    "booking_lines": pl.Int64(),
    "clawback_lines": pl.Int64(),
    "adjustment_lines": pl.Int64(),
}


def _cents(value: Decimal) -> Decimal:
    return value.quantize(CENT, rounding=ROUND_HALF_UP)


@dataclass(frozen=True)
class MonthResult:
    attainment_pct: float | None
    multiplier: float
    line_commission: dict[str, Decimal]  # credit_line_id -> rounded commission
    total: Decimal  # after the cap
    cap_adjustment: Decimal


class StatementEngine:
    """Computes what a set of ledger lines earns in a month for one rep under one plan."""

    def __init__(self, plan: CommissionPlan, quotas: dict[tuple[str, date], float]) -> None:
        self.plan = plan
        self.quotas = quotas
        self.cap = None if plan.monthly_cap_usd is None else _cents(Decimal(str(plan.monthly_cap_usd)))

    def attainment(self, user_id: str, month: date, credited: Decimal) -> float | None:
        quota = self.quotas.get((user_id, month))
        if quota is None or quota <= 0:
            return None
        return float(credited / Decimal(str(quota)) * 100)

    def month(self, user_id: str, month: date, lines: dict[str, dict[str, Any]]) -> MonthResult:
        earning = {k: v for k, v in lines.items() if v["earns_commission"] and v["booking_month"] == month}
        credited = sum((v["credited_amount_usd"] for v in earning.values()), Decimal(0))
        attainment = self.attainment(user_id, month, credited)
        band = self.plan.band(attainment)
        multiplier = band.multiplier if band is not None else self.plan.no_quota_multiplier
        per_line = {
            k: _cents(
                v["credited_amount_usd"]
                * Decimal(str(self.plan.base_rate_pct(v["product_family"])))
                / 100
                * Decimal(str(multiplier))
            )
            for k, v in earning.items()
        }
        earned = sum(per_line.values(), Decimal(0))
        total = min(earned, self.cap) if self.cap is not None else earned
        return MonthResult(attainment, multiplier, per_line, total, total - earned)


def _line(statement_month: date, user_id: str, line_type: str, **values: Any) -> dict[str, Any]:
    row = dict.fromkeys(STATEMENT_LINE_SCHEMA)
    row.update(statement_month=statement_month, user_id=user_id, line_type=line_type, **values)
    return row


def _from_state(state: dict[str, Any], event: dict[str, Any] | None) -> dict[str, Any]:
    cancelled = state.get("cancelled_date")
    return {
        "event_key": f"{event['credit_line_id']}#{event['event_seq']}" if event else None,
        "event_type": event["event_type"] if event else None,
        "opportunity_id": state["opportunity_id"],
        "booking_line_id": state["booking_line_id"],
        "sales_line_id": state["sales_line_id"],
        "web_order_id": state["web_order_id"],
        "account_id": state["account_id"],
        "booking_date": state["booking_date"],
        "cancelled_date": cancelled,
        "days_booked_to_cancelled": (cancelled - state["booking_date"]).days if cancelled else None,
        "product_family": state["product_family"],
        "credit_split_pct": state["credit_split_pct"],
        "booking_amount_usd": state["booking_amount_usd"],
        "credited_amount_usd": state["credited_amount_usd"],
    }


def build_statement_lines(
    ledger: pl.DataFrame, quotas: dict[tuple[str, date], float], plan: CommissionPlan
) -> pl.DataFrame:
    """Every line of every monthly statement from the ledger's events (module docstring)."""
    engine = StatementEngine(plan, quotas)
    rows: list[dict[str, Any]] = []
    ordered = ledger.sort("user_id", "posting_month", "recorded_at", "credit_line_id", "event_seq")
    by_user: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for event in ordered.iter_rows(named=True):
        by_user[event["user_id"]].append(event)
    for user_id, events in by_user.items():
        state: dict[str, dict[str, Any]] = {}
        by_month: dict[date, list[dict[str, Any]]] = defaultdict(list)
        for event in events:
            by_month[event["posting_month"]].append(event)
        for posting in sorted(by_month):
            posted = by_month[posting]
            own = [e for e in posted if e["event_type"] == ledger_events.BOOKED and e["booking_month"] == posting]
            if own:
                for e in own:
                    state[e["credit_line_id"]] = e
                result = engine.month(user_id, posting, state)
                for e in own:
                    rows.append(
                        _line(
                            posting,
                            user_id,
                            BOOKING,
                            **_from_state(e, e),
                            base_rate_pct=plan.base_rate_pct(e["product_family"]),
                            rate_month=posting,
                            attainment_pct=result.attainment_pct,
                            accelerator_multiplier=result.multiplier,
                            commission_usd=result.line_commission[e["credit_line_id"]],
                        )
                    )
                if result.cap_adjustment:
                    rows.append(
                        _line(
                            posting,
                            user_id,
                            CAP,
                            rate_month=posting,
                            attainment_pct=result.attainment_pct,
                            accelerator_multiplier=result.multiplier,
                            commission_usd=result.cap_adjustment,
                            note=f"monthly cap {engine.cap} USD",
                        )
                    )
            own_keys = {(e["credit_line_id"], e["event_seq"]) for e in own}
            for e in posted:
                if (e["credit_line_id"], e["event_seq"]) not in own_keys:
                    rows.extend(_apply_change(engine, user_id, posting, state, e))
    lines = pl.DataFrame(rows, schema=STATEMENT_LINE_SCHEMA)
    order = {BOOKING: 0, CAP: 1, CLAWBACK: 2, NO_CLAWBACK: 3, ADJUSTMENT: 4}
    return (
        lines.with_columns(pl.col("line_type").replace_strict(order, return_dtype=pl.Int8).alias("_order"))
        .with_row_index("_seq")
        .sort("statement_month", "user_id", "_order", "_seq")
        .drop("_order", "_seq")
    )


def _apply_change(
    engine: StatementEngine, user_id: str, posting: date, state: dict[str, dict[str, Any]], event: dict[str, Any]
) -> list[dict[str, Any]]:
    """Lines for one non-booking event: its exact effect on every booking month it touches."""
    line_id = event["credit_line_id"]
    previous = state.get(line_id)
    months = sorted({m for m in (previous["booking_month"] if previous else None, event["booking_month"]) if m})
    before = {m: engine.month(user_id, m, state) for m in months}
    state[line_id] = event
    lines = []
    for month in months:
        after = engine.month(user_id, month, state)
        line_type = _LINE_TYPE.get(event["event_type"], ADJUSTMENT)
        credited = event["credited_amount_usd"]
        if line_type == CLAWBACK:
            credited = -credited
        note = event["reason"]
        if event["event_type"] == ledger_events.BOOKED:
            note = f"late booking for {event['booking_month']:%Y-%m}, a closed month"
        lines.append(
            _line(
                posting,
                user_id,
                line_type,
                **{**_from_state(event, event), "credited_amount_usd": credited},
                base_rate_pct=engine.plan.base_rate_pct(event["product_family"]),
                rate_month=month,
                attainment_pct=after.attainment_pct,
                accelerator_multiplier=after.multiplier,
                commission_usd=after.total - before[month].total,
                note=f"{note}; {month:%Y-%m} re-banded and re-capped",
            )
        )
    return lines


def build_statements(
    statement_lines: pl.DataFrame,
    quotas: dict[tuple[str, date], float],
    dim_sales_rep: pl.DataFrame,
    plan: CommissionPlan,
) -> pl.DataFrame:
    """One statement per rep and month (a month with a quota and no lines pays 0)."""
    kind = pl.col("line_type")
    money = pl.col("commission_usd")
    zero = pl.lit(Decimal(0), dtype=MONEY)

    def total(expr: pl.Expr) -> pl.Expr:
        return expr.sum().cast(MONEY)

    booking = kind == BOOKING
    totals = statement_lines.group_by("user_id", "statement_month").agg(
        total(pl.col("booking_amount_usd").filter(booking)).alias("bookings_usd"),
        total(pl.col("credited_amount_usd").filter(booking)).alias("credited_bookings_usd"),
        total(money.filter(booking)).alias("commission_usd"),
        total(money.filter(kind == CAP)).alias("cap_adjustment_usd"),
        total(money.filter(kind == CLAWBACK)).alias("clawback_usd"),
        total(money.filter(kind == ADJUSTMENT)).alias("adjustment_usd"),
        total(money).alias("payout_usd"),
        booking.sum().cast(pl.Int64).alias("booking_lines"),
        kind.is_in([CLAWBACK, NO_CLAWBACK]).sum().cast(pl.Int64).alias("clawback_lines"),
        (kind == ADJUSTMENT).sum().cast(pl.Int64).alias("adjustment_lines"),
    )
    quota_rows = pl.DataFrame(
        [{"user_id": u, "statement_month": m, "quota_usd": q} for (u, m), q in quotas.items()],
        schema={"user_id": pl.String, "statement_month": pl.Date, "quota_usd": pl.Float64},
    )
    statements = (
        quota_rows.join(totals, on=["user_id", "statement_month"], how="full", coalesce=True)
        .with_columns(
            *(
                pl.col(c).fill_null(zero)
                for c in (
                    "bookings_usd",
                    "credited_bookings_usd",
                    "commission_usd",
                    "cap_adjustment_usd",
                    "clawback_usd",
                    "adjustment_usd",
                    "payout_usd",
                )
            ),
            pl.col("booking_lines", "clawback_lines", "adjustment_lines").fill_null(0),
            pl.lit(plan.name).alias("plan_name"),
        )
        .with_columns(
            pl.when(pl.col("quota_usd") > 0)
            .then(pl.col("credited_bookings_usd").cast(pl.Float64) / pl.col("quota_usd") * 100.0)
            .alias("attainment_pct")
        )
        .with_columns(
            plan.band_label_expr(pl.col("attainment_pct")).alias("accelerator_band"),
            plan.multiplier_expr(pl.col("attainment_pct")).alias("accelerator_multiplier"),
            pl.when(pl.col("credited_bookings_usd") != 0)
            .then(pl.col("commission_usd").cast(pl.Float64) / pl.col("credited_bookings_usd").cast(pl.Float64) * 100)
            .alias("effective_rate_pct"),
            pl.col("statement_month").dt.month_end().alias("_month_end"),
        )
    )
    statements = attribute_to_version(
        statements, dim_sales_rep, "user_id", pl.col("_month_end"), ["name", "title", "region", "manager_name"]
    )
    return statements.select([pl.col(c).cast(t) for c, t in STATEMENT_SCHEMA.items()]).sort(
        "statement_month", "region", "user_id", nulls_last=True
    )


def quota_lookup(monthly_attainment: pl.DataFrame) -> dict[tuple[str, date], float]:
    """(user_id, month) -> quota in USD, from rows with a quota."""
    known = monthly_attainment.filter(pl.col("quota_usd").is_not_null())
    return {(u, m): q for u, m, q in known.select("user_id", "month", "quota_usd").iter_rows()}
