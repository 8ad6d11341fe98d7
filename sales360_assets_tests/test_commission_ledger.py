"""Known answers for the commission ledger and statements: exact clawbacks, closed months, Decimal cents.

Each case runs the real pure functions in sequence, as successive runs would: credit lines as
the CRM shows them → new ledger events (with the closed months of that moment) → statements.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
import yaml

from sales360_assets.commissions import credit as engine
from sales360_assets.commissions import ledger, statements
from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, CommissionPlan, parse_plan
from sales360_assets.core.dimensions import build_bridge_account_team, build_dim_sales_rep
from sales360_assets_tests.builders import TEAM_SCHEMA, booking_lines, dim_customer, frame, users

JAN, FEB, MAR, APR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)
NO_TEAM = frame([], TEAM_SCHEMA)


def plan(**changes: Any) -> CommissionPlan:
    raw = yaml.safe_load(DEFAULT_PLAN_PATH.read_text())
    raw.update({"monthly_cap_usd": None, "base_rate_pct_by_product_family": {"Home": 5.0, "Electronics": 4.0}})
    raw.update(changes)
    return parse_plan(raw)


PLAN = plan()


def credit(rows: list[tuple[str, date, float]], **extra: Any) -> pl.DataFrame:
    """Booking lines owned by U1 on an account without a team: each credited 100 % to U1."""
    lines = [
        {
            "booking_line_id": f"crm:{lid}",
            "opportunity_id": extra.get("opportunity_id", f"OP-{lid}"),
            "sales_line_id": f"crm:{lid}",
            "account_id": "A9",
            "owner_id": "U1",
            "booking_date": booked,
            "net_amount_usd": usd,
            **{k: v for k, v in extra.items() if k != "opportunity_id"},
        }
        for lid, booked, usd in rows
    ]
    return engine.build_credit_lines(booking_lines(lines), build_bridge_account_team(NO_TEAM, dim_customer()))


def cancel(credits: pl.DataFrame, line_id: str, on: date) -> pl.DataFrame:
    hit = pl.col("booking_line_id") == f"crm:{line_id}"
    return credits.with_columns(
        pl.when(hit).then(True).otherwise("is_cancelled").alias("is_cancelled"),
        pl.when(hit).then(pl.lit(on)).otherwise("cancelled_date").alias("cancelled_date"),
    )


class Books:
    """A ledger fed run by run, with months closed in between, and the statements it yields."""

    def __init__(self, plan: CommissionPlan = PLAN, quotas: dict[tuple[str, date], float] | None = None) -> None:
        self.plan = plan
        self.quotas = quotas or {}
        self.ledger = pl.DataFrame(schema=ledger.LEDGER_SCHEMA)
        self.closed: set[date] = set()
        self.runs = 0

    def run(self, credits: pl.DataFrame) -> pl.DataFrame:
        self.runs += 1
        events = ledger.new_ledger_events(
            self.ledger,
            credits,
            self.closed,
            datetime(2024, 6, 1, self.runs, tzinfo=UTC),
            self.plan.clawback_window_days,
        )
        self.ledger = pl.concat([self.ledger, events])
        return events

    def lines(self) -> pl.DataFrame:
        return statements.build_statement_lines(self.ledger, self.quotas, self.plan)

    def statements(self) -> dict[date, dict[str, Any]]:
        table = statements.build_statements(
            self.lines(), self.quotas, build_dim_sales_rep(users([{"user_id": "U1"}])), self.plan
        )
        return {r["statement_month"]: r for r in table.filter(pl.col("user_id") == "U1").to_dicts()}

    def month(self, month: date) -> pl.DataFrame:
        return self.lines().filter(pl.col("statement_month") == month)


def usd(text: str) -> Decimal:
    return Decimal(text)


# --- bands, rounding -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("credited", "band", "multiplier", "commission"),
    [
        (500.0, "0–100 %: 1×", 1.0, "25.00"),
        (999.99, "0–100 %: 1×", 1.0, "50.00"),  # 49.9995 rounds half-up to 50.00
        (1000.0, "100–125 %: 1.5×", 1.5, "75.00"),  # the lower bound is inclusive
        (1250.0, "125–∞: 2×", 2.0, "125.00"),
        (1333.33, "125–∞: 2×", 2.0, "133.33"),
    ],
)
def test_each_band_sets_the_rate_and_money_is_decimal_cents(
    credited: float, band: str, multiplier: float, commission: str
) -> None:
    books = Books(quotas={("U1", MAR): 1000.0})
    books.run(credit([("L1", date(2024, 3, 5), credited)]))
    march = books.statements()[MAR]
    assert (march["accelerator_band"], march["accelerator_multiplier"]) == (band, multiplier)
    assert march["commission_usd"] == march["payout_usd"] == usd(commission)
    assert isinstance(march["payout_usd"], Decimal)


def test_lines_round_half_up_and_the_total_is_the_sum_of_rounded_lines() -> None:
    # 3 lines of 0.10 USD at 5 %: each 0.005 → 0.01 (half-up); the statement pays 0.03, not round(0.015).
    books = Books()
    books.run(credit([("L1", date(2024, 3, 1), 0.10), ("L2", date(2024, 3, 2), 0.10), ("L3", date(2024, 3, 3), 0.10)]))
    assert books.month(MAR)["commission_usd"].to_list() == [usd("0.01")] * 3
    assert books.statements()[MAR]["payout_usd"] == usd("0.03")


# --- case 2: exact clawbacks -------------------------------------------------------------------


def test_a_clawback_rebands_the_month_case_2() -> None:
    """Quota 1,000; A 300 kept, B 1,000 cancelled on day 24: the rep keeps what A alone earns (15)."""
    books = Books(quotas={("U1", JAN): 1000.0})
    booked = credit([("A", date(2024, 1, 5), 300.0), ("B", date(2024, 1, 10), 1000.0)])
    books.run(booked)
    books.run(cancel(booked, "B", date(2024, 1, 24)))
    jan = books.statements()[JAN]
    # Paid 2× on 1,300 (130.00), then B's exact effect: 130.00 − 15.00 (A alone, 30 % → 1×).
    assert jan["commission_usd"] == usd("130.00")
    assert jan["clawback_usd"] == usd("-115.00")
    assert jan["payout_usd"] == usd("15.00")
    print(f"CASE 2 band: payout {jan['payout_usd']} (proportional clawback used to leave 30.00)")


def test_a_clawback_recaps_the_month_case_2() -> None:
    """Cap 100, two lines earning 60 each: paid 100; cancelling one leaves the other's 60."""
    books = Books(plan=plan(monthly_cap_usd=100.0))
    booked = credit([("L1", date(2024, 1, 5), 1200.0), ("L2", date(2024, 1, 6), 1200.0)])
    books.run(booked)
    books.run(cancel(booked, "L2", date(2024, 2, 5)))
    months = books.statements()
    assert (months[JAN]["commission_usd"], months[JAN]["cap_adjustment_usd"]) == (usd("120.00"), usd("-20.00"))
    assert months[JAN]["payout_usd"] == usd("100.00")
    assert months[FEB]["clawback_usd"] == usd("-40.00")
    assert months[JAN]["payout_usd"] + months[FEB]["payout_usd"] == usd("60.00")
    print("CASE 2 cap: net 60.00 (proportional clawback used to leave 50.00)")


@pytest.mark.parametrize(("days", "clawed"), [(89, True), (90, True), (91, False)])
def test_a_cancellation_within_the_window_claws_back_in_its_month(days: int, clawed: bool) -> None:
    booked_on = date(2024, 1, 15)
    cancelled_on = date.fromordinal(booked_on.toordinal() + days)
    books = Books(quotas={("U1", JAN): 2000.0, ("U1", APR): 2000.0})
    booked = credit([("L1", booked_on, 1000.0)])
    books.run(booked)
    january_before = books.month(JAN)
    books.run(cancel(booked, "L1", cancelled_on))
    assert books.month(JAN).equals(january_before)
    april = books.month(APR)
    assert april["line_type"].to_list() == [statements.CLAWBACK if clawed else statements.NO_CLAWBACK]
    assert april["commission_usd"].to_list() == [usd("-50.00") if clawed else usd("0.00")]
    assert april["rate_month"].to_list() == [JAN] and april["opportunity_id"].to_list() == ["OP-L1"]
    assert april["event_key"].item().endswith("#2")


# --- case 1: a closed month never changes ------------------------------------------------------


def booked_in_january() -> pl.DataFrame:
    return credit([("L1", date(2024, 1, 10), 500.0), ("L2", date(2024, 1, 10), 500.0)], opportunity_id="OP-1")


def closed_january(books: Books) -> pl.DataFrame:
    books.run(booked_in_january())
    january = books.month(JAN)
    assert january["commission_usd"].sum() == usd("50.00")
    books.closed.add(JAN)
    return january


@pytest.mark.parametrize(
    ("change", "february_adjustment"),
    [
        ("deal deleted", "-50.00"),
        ("one line deleted", "-25.00"),
        ("close date moved to 3 Feb", "0.00"),  # −50 for January, +50 booked into February
        ("cancelled then won again", "0.00"),  # −50 clawback, +50 reinstated
    ],
)
def test_later_crm_changes_post_adjustments_and_never_rewrite_a_closed_month_case_1(
    change: str, february_adjustment: str
) -> None:
    books = Books()
    january = closed_january(books)
    current = booked_in_january()
    if change == "deal deleted":
        books.run(current.clear())
    elif change == "one line deleted":
        books.run(current.filter(pl.col("booking_line_id") == "crm:L1"))
    elif change == "close date moved to 3 Feb":
        books.run(current.with_columns(pl.lit(date(2024, 2, 3)).alias("booking_date")))
    else:
        books.run(cancel(current, "L1", date(2024, 2, 1)))
        books.run(current)
    assert books.month(JAN).equals(january), "a closed month changed"
    assert (books.ledger["posting_month"] != JAN).sum() == books.ledger.height - 2, "an event posted into January"
    february = books.month(FEB)
    assert february["commission_usd"].sum() == usd(february_adjustment), february
    assert february["booking_line_id"].is_not_null().all() and february["event_key"].is_not_null().all()
    print(f"CASE 1 {change}: January stays 50.00, February {february_adjustment} in {february.height} line(s)")


def test_a_rerun_records_nothing_new() -> None:
    books = Books()
    books.run(booked_in_january())
    assert books.run(booked_in_january()).is_empty()


def test_a_back_dated_cancellation_posts_into_the_first_open_month_case_3() -> None:
    books = Books()
    closed_january(books)
    events = books.run(cancel(booked_in_january(), "L1", date(2024, 1, 20)))
    assert events["posting_month"].to_list() == [FEB]
    assert events["cancelled_date"].to_list() == [date(2024, 1, 20)]
    # The cancellation date is frozen: a later edit of the date in the CRM records nothing.
    assert books.run(cancel(booked_in_january(), "L1", date(2024, 5, 30))).is_empty()


def test_no_quota_earns_the_no_quota_multiplier() -> None:
    books = Books()
    books.run(credit([("L1", date(2024, 3, 5), 1000.0)]))
    assert books.month(MAR)["accelerator_multiplier"].to_list() == [PLAN.no_quota_multiplier]


def test_split_lines_are_traceable_and_statements_add_up_to_the_cent() -> None:
    team = frame(
        [
            {"account_team_member_id": "T1", "account_id": "A1", "user_id": "U1", "credit_split_pct": 70.0},
            {"account_team_member_id": "T2", "account_id": "A1", "user_id": "U2", "credit_split_pct": 30.0},
        ],
        TEAM_SCHEMA,
        {"effective_from": date(2023, 1, 1), "is_deleted": False, "team_member_role": "Account Manager"},
    )
    rows = [
        {"booking_line_id": "crm:L1", "opportunity_id": "OP-1", "sales_line_id": "crm:L1", "account_id": "A1",
         "owner_id": "U1", "booking_date": date(2024, 3, 10), "net_amount_usd": 1000.0, "product_family": "Electronics"},
        {"booking_line_id": "crm:L2", "opportunity_id": "OP-1", "sales_line_id": "crm:L2", "account_id": "A1",
         "owner_id": "U1", "booking_date": date(2024, 3, 10), "net_amount_usd": 500.0},
    ]  # fmt: skip
    credits = engine.build_credit_lines(booking_lines(rows), build_bridge_account_team(team, dim_customer()))
    books = Books(quotas={("U1", MAR): 1000.0, ("U2", MAR): 2000.0})
    books.run(credits)
    lines = books.lines()
    assert (
        lines.select("opportunity_id", "booking_line_id", "sales_line_id", "event_key")
        .null_count()
        .sum_horizontal()
        .item()
        == 0
    )
    u1 = lines.filter(pl.col("user_id") == "U1").select(
        "booking_line_id", "base_rate_pct", "accelerator_multiplier", "commission_usd"
    )
    # U1: 700 + 350 = 1,050 credited against 1,000 → 1.5×.
    assert u1.rows() == [("crm:L1", 4.0, 1.5, usd("42.00")), ("crm:L2", 5.0, 1.5, usd("26.25"))]
    reps = build_dim_sales_rep(users([{"user_id": "U1", "name": "Una"}, {"user_id": "U2", "name": "Udo"}]))
    table = statements.build_statements(lines, books.quotas, reps, PLAN)
    by_user = {r["user_id"]: r for r in table.to_dicts()}
    assert (by_user["U1"]["name"], by_user["U1"]["bookings_usd"], by_user["U1"]["credited_bookings_usd"]) == (
        "Una", usd("1500.00"), usd("1050.00"))  # fmt: skip
    assert (
        by_user["U1"]["payout_usd"] == usd("68.25") == lines.filter(pl.col("user_id") == "U1")["commission_usd"].sum()
    )
    assert by_user["U2"]["accelerator_multiplier"] == 1.0  # 450 / 2,000 = 22.5 %


def test_a_close_date_moved_into_an_earlier_month_posts_no_earlier_than_the_booking() -> None:
    books = Books()
    books.run(credit([("L1", date(2024, 3, 10), 1000.0)]))
    books.closed.add(MAR)
    moved = books.run(credit([("L1", date(2024, 2, 27), 1000.0)]))
    assert moved["posting_month"].to_list() == [APR]
    april = books.month(APR)
    assert april["rate_month"].to_list() == [FEB, MAR]
    assert april["commission_usd"].to_list() == [usd("50.00"), usd("-50.00")]
