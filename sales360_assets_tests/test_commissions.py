"""Known answers for the commission engine: plan validation, split credit, every accelerator band,
quota currency conversion and the attainment mart (statements and clawbacks: test_commission_ledger.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest
import yaml

from sales360_assets.commissions import attainment as quota_attainment
from sales360_assets.commissions import credit
from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, PlanError, load_plan, parse_plan
from sales360_assets.core.dimensions import build_bridge_account_team, build_dim_sales_rep
from sales360_assets_tests.builders import (
    FX_SCHEMA,
    QUOTAS_SCHEMA,
    TEAM_SCHEMA,
    booking_lines,
    dim_customer,
    frame,
    ts,
    users,
)

JAN, FEB, MAR, APR = date(2024, 1, 1), date(2024, 2, 1), date(2024, 3, 1), date(2024, 4, 1)


def plan_dict(**changes: Any) -> dict[str, Any]:
    raw = yaml.safe_load(DEFAULT_PLAN_PATH.read_text())
    raw.update(changes)
    return raw


PLAN = parse_plan(plan_dict(monthly_cap_usd=None, base_rate_pct_by_product_family={"Home": 5.0, "Electronics": 4.0}))


# --- plan ---------------------------------------------------------------------------------------


def test_the_committed_plan_loads_and_reads_as_configured() -> None:
    plan = load_plan()
    assert plan.base_rate_pct("Apparel") == 6.0 and plan.base_rate_pct("Unmapped") == plan.default_base_rate_pct
    assert [(b.from_pct, b.to_pct, b.multiplier) for b in plan.accelerators] == [
        (0.0, 100.0, 1.0),
        (100.0, 125.0, 1.5),
        (125.0, None, 2.0),
    ]
    assert plan.clawback_window_days == 90 and plan.monthly_cap_usd == 40_000


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        (
            {"accelerators": [{"from_pct": 0, "to_pct": 100, "multiplier": 1}, {"from_pct": 110, "to_pct": None, "multiplier": 2}]},
            "accelerators[1].from_pct (110) must equal accelerators[0].to_pct (100): bands would gap",
        ),
        (
            {"accelerators": [{"from_pct": 0, "to_pct": 100, "multiplier": 1}, {"from_pct": 90, "to_pct": None, "multiplier": 2}]},
            "bands would overlap",
        ),
        ({"accelerators": [{"from_pct": 0, "to_pct": 100, "multiplier": 1}]}, "last accelerator band must be open-ended"),
        ({"accelerators": [{"from_pct": 10, "to_pct": None, "multiplier": 1}]}, "accelerators[0].from_pct must be 0"),
        ({"base_rate_pct_by_product_family": {"Home": -1}}, "base_rate_pct_by_product_family.Home must be between 0 and 100"),
        ({"clawback_window_days": "ninety"}, "clawback_window_days must be a whole number"),
        ({"bonus": 1}, "unknown setting(s) bonus"),
        ({"monthly_cap_usd": "lots"}, "monthly_cap_usd must be a number"),
    ],
)  # fmt: skip
def test_an_invalid_plan_is_refused_with_the_field_named(changes: dict[str, Any], message: str) -> None:
    with pytest.raises(PlanError) as raised:
        parse_plan(plan_dict(**changes), "plan.yaml")
    assert message in str(raised.value)
    assert str(raised.value).startswith("plan.yaml")


def test_a_missing_setting_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    raw = plan_dict()
    del raw["clawback_window_days"]
    with pytest.raises(PlanError, match="missing setting"):
        parse_plan(raw)
    broken = tmp_path / "plan.yaml"
    broken.write_text("accelerators: [unclosed")
    with pytest.raises(PlanError, match="not valid YAML"):
        load_plan(broken)


# --- credit -------------------------------------------------------------------------------------


def bridge() -> pl.DataFrame:
    """A1: U1 70 % / U2 30 % until 14 March, then U3 takes U1's 70 %. A9 has no team."""
    team = frame(
        [
            {"account_team_member_id": "T1", "account_id": "A1", "user_id": "U1", "credit_split_pct": 70.0, "effective_to": date(2024, 3, 14)},
            {"account_team_member_id": "T2", "account_id": "A1", "user_id": "U2", "credit_split_pct": 30.0},
            {"account_team_member_id": "T3", "account_id": "A1", "user_id": "U3", "credit_split_pct": 70.0, "effective_from": date(2024, 3, 15)},
        ],
        TEAM_SCHEMA,
        {"effective_from": date(2023, 1, 1), "is_deleted": False, "team_member_role": "Account Manager"},
    )  # fmt: skip
    return build_bridge_account_team(team, dim_customer())


def line(line_id: str, booked: date, usd: float, **extra: Any) -> dict[str, Any]:
    return {
        "booking_line_id": f"crm:{line_id}",
        "opportunity_id": extra.pop("opportunity_id", f"OP-{line_id}"),
        "sales_line_id": f"crm:{line_id}",
        "account_id": "A1",
        "owner_id": "U1",
        "booking_date": booked,
        "net_amount_usd": usd,
        **extra,
    }


def test_credit_is_split_through_the_account_team_valid_on_the_booking_date() -> None:
    lines = booking_lines(
        [
            line("L1", date(2024, 3, 10), 1000.0),
            line("L2", date(2024, 3, 15), 1000.0),  # the day U3 takes over
            line("L3", date(2024, 3, 20), 200.0, account_id="A9", owner_id="U7"),  # no team: the owner
        ]
    )
    credits = credit.build_credit_lines(lines, bridge())
    got = credits.select(
        "booking_line_id", "user_id", "credit_split_pct", "credited_amount_usd", "credit_source"
    ).rows()
    assert got == [
        ("crm:L1", "U1", 70.0, 700.0, credit.ACCOUNT_TEAM),
        ("crm:L1", "U2", 30.0, 300.0, credit.ACCOUNT_TEAM),
        ("crm:L2", "U2", 30.0, 300.0, credit.ACCOUNT_TEAM),
        ("crm:L2", "U3", 70.0, 700.0, credit.ACCOUNT_TEAM),
        ("crm:L3", "U7", 100.0, 200.0, credit.DEAL_OWNER),
    ]
    # Splits sum to 100: the credited amounts of each line add back to the line.
    assert credits["credited_amount_usd"].sum() == pytest.approx(lines["net_amount_usd"].sum())
    assert credits["credit_line_id"].is_unique().all()


# --- quota in USD -------------------------------------------------------------------------------


def test_quotas_convert_at_the_rate_of_the_quota_month() -> None:
    quotas = frame(
        [
            {"user_id": "U1", "month": MAR, "quota_amount": 10_000_000.0, "currency": "JPY"},
            {"user_id": "U2", "month": date(2024, 6, 1), "quota_amount": 50_000.0, "currency": "EUR"},
            {"user_id": "U3", "month": date(2024, 7, 1), "quota_amount": 10_000.0, "currency": "GBP"},
            {"user_id": "U4", "month": MAR, "quota_amount": 70_000.0, "currency": "USD"},
            {"user_id": "U5", "month": MAR, "quota_amount": 1.0, "currency": "CHF"},
            {"user_id": "U6", "month": MAR, "quota_amount": 5.0, "currency": "USD", "is_deleted": True},
        ],
        QUOTAS_SCHEMA,
        {"is_deleted": False, "system_modstamp": ts(2024, 1, 1)},
    )
    fx = frame(
        [
            {"rate_date": date(2024, 2, 29), "currency": "JPY", "usd_per_unit": 0.0067},
            {"rate_date": date(2024, 3, 1), "currency": "JPY", "usd_per_unit": 0.0068},  # on the 1st: this one
            {"rate_date": date(2024, 3, 15), "currency": "JPY", "usd_per_unit": 0.0099},
            {"rate_date": date(2024, 5, 31), "currency": "EUR", "usd_per_unit": 1.08},  # Friday before Sat 1 June
            {"rate_date": date(2024, 6, 3), "currency": "EUR", "usd_per_unit": 1.50},
            {"rate_date": date(2024, 7, 3), "currency": "GBP", "usd_per_unit": 1.25},  # none before: the month's first
            {"rate_date": date(2024, 3, 1), "currency": "USD", "usd_per_unit": 1.0},
        ],
        FX_SCHEMA,
    )
    usd = {r["user_id"]: r for r in quota_attainment.quotas_in_usd(quotas, fx).to_dicts()}
    assert set(usd) == {"U1", "U2", "U3", "U4", "U5"}
    assert (usd["U1"]["fx_rate_date"], usd["U1"]["quota_usd"]) == (date(2024, 3, 1), pytest.approx(68_000.0))
    assert (usd["U2"]["fx_rate_date"], usd["U2"]["quota_usd"]) == (date(2024, 5, 31), pytest.approx(54_000.0))
    assert (usd["U3"]["fx_rate_date"], usd["U3"]["quota_usd"]) == (date(2024, 7, 3), pytest.approx(12_500.0))
    assert usd["U4"]["quota_usd"] == 70_000.0
    assert usd["U5"]["quota_usd"] is None  # no rate at all: unknown, not zero
    # Attainment is in USD on both sides: 34,000 USD credited against 10 M JPY.
    credits = credit.build_credit_lines(
        booking_lines([line("L1", date(2024, 3, 5), 34_000.0, account_id="A9")]), bridge()
    )
    attainment = quota_attainment.build_monthly_attainment(credits, quota_attainment.quotas_in_usd(quotas, fx))
    assert attainment.filter(pl.col("user_id") == "U1")["attainment_pct"].item() == pytest.approx(50.0)


# --- attainment roll-ups (statements: test_commission_ledger.py) -------------------------------------------------------------------


def owner_lines(rows: list[tuple[str, str, date, float]], **extra: Any) -> pl.DataFrame:
    """Booking lines on accounts without a team: each credited 100 % to its owner."""
    lines = booking_lines([line(lid, d, usd, owner_id=user, account_id="A9", **extra) for lid, user, d, usd in rows])
    return credit.build_credit_lines(lines, bridge())


def attainment(rows: list[tuple[str, date, float | None, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"user_id": u, "month": m, "quota_usd": q, "credited_bookings_usd": c, "attainment_pct": c / q * 100 if q else None}
            for u, m, q, c in rows
        ],
        schema={"user_id": pl.String, "month": pl.Date, "quota_usd": pl.Float64, "credited_bookings_usd": pl.Float64, "attainment_pct": pl.Float64},
    )  # fmt: skip


def test_rep_attainment_by_month_and_quarter_with_the_manager_roll_up() -> None:
    """U2 moves from Max's team to Eva's on 10 March: January and February roll up to Max, March and Q1 to Eva."""
    history = users(
        [
            {"user_id": "M1", "name": "Max", "region": "na", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "M2", "name": "Eva", "region": "na", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "U1", "name": "Una", "region": "na", "manager_id": "M1", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "U2", "name": "Udo", "region": "na", "manager_id": "M1", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "U2", "name": "Udo", "region": "na", "manager_id": "M2", "system_modstamp": ts(2024, 3, 10)},
        ]
    )
    months = attainment(
        [
            ("U1", JAN, 1000.0, 500.0),
            ("U1", FEB, 1000.0, 1500.0),
            ("U1", MAR, 1000.0, 1000.0),
            ("U2", JAN, 2000.0, 2000.0),
            ("U2", FEB, 2000.0, 0.0),
            ("U2", MAR, 2000.0, 3000.0),
        ]
    ).with_columns(pl.lit(0.0).alias("bookings_usd"))
    mart = quota_attainment.build_mart_rep_quota_attainment(months, build_dim_sales_rep(history))

    def pick(period_type: str, start: date, level: str, user: str) -> dict[str, Any]:
        return _pick(mart, period_type, start, level, user)

    assert pick("month", JAN, "rep", "U1")["attainment_pct"] == 50.0
    q1 = pick("quarter", JAN, "rep", "U1")
    assert (q1["period_end"], q1["quota_usd"], q1["credited_bookings_usd"], q1["attainment_pct"]) == (
        date(2024, 3, 31),
        3000.0,
        3000.0,
        100.0,
    )
    assert pick("month", FEB, "rep", "U2")["manager_name"] == "Max"
    assert pick("month", MAR, "rep", "U2")["manager_name"] == "Eva"
    jan_max = pick("month", JAN, "manager", "M1")
    assert (jan_max["reps"], jan_max["quota_usd"], jan_max["credited_bookings_usd"], jan_max["attainment_pct"]) == (
        2,
        3000.0,
        2500.0,
        pytest.approx(250000 / 3000),
    )
    assert pick("month", MAR, "manager", "M2")["credited_bookings_usd"] == 3000.0
    q1_eva = pick("quarter", JAN, "manager", "M2")  # Q1 follows the assignment on 31 March
    assert (q1_eva["quota_usd"], q1_eva["credited_bookings_usd"]) == (6000.0, 5000.0)
    # Reconciliation: rep rows of a month add up to the credited bookings of that month.
    for month in (JAN, FEB, MAR):
        reps = mart.filter(pl.col("period_type") == "month", pl.col("period_start") == month, pl.col("level") == "rep")
        assert (
            reps["credited_bookings_usd"].sum()
            == months.filter(pl.col("month") == month)["credited_bookings_usd"].sum()
        )


# --- issue #10: splits that do not add up to 100 ------------------------------------------------


def lopsided_bridge() -> pl.DataFrame:
    """A1: U1 70 % + U2 40 % (110 %); A2: U1 covers 80 % alone."""
    team = frame(
        [
            {"account_team_member_id": "T1", "account_id": "A1", "user_id": "U1", "credit_split_pct": 70.0},
            {"account_team_member_id": "T2", "account_id": "A1", "user_id": "U2", "credit_split_pct": 40.0},
            {"account_team_member_id": "T3", "account_id": "A2", "user_id": "U1", "credit_split_pct": 80.0},
        ],
        TEAM_SCHEMA,
        {"effective_from": date(2023, 1, 1), "is_deleted": False, "team_member_role": "Account Manager"},
    )
    return build_bridge_account_team(team, dim_customer())


def test_a_team_covering_less_than_100_credits_the_remainder_to_the_owner() -> None:
    """Issue #10 case 4: an 80 % team used to credit 800 of a 1,000 USD deal to anyone; the owner gets the 200."""
    lines = booking_lines([line("L2", date(2024, 3, 10), 1000.0, account_id="A2", owner_id="U7")])
    credits = credit.build_credit_lines(lines, lopsided_bridge())
    print(f"CASE 4: 80 % team credits {credits['credited_amount_usd'].sum():.2f} on a 1000.00 booking")
    assert credits.select("user_id", "team_member_role", "credit_split_pct", "credited_amount_usd", "credit_source").rows() == [
        ("U1", "Account Manager", 80.0, 800.0, credit.ACCOUNT_TEAM),
        ("U7", "Opportunity Owner", 20.0, 200.0, credit.OWNER_REMAINDER),
    ]  # fmt: skip
    assert credits["credit_line_id"].is_unique().all()


def test_an_owner_on_the_team_gets_the_remainder_as_a_line_of_its_own() -> None:
    lines = booking_lines([line("L2", date(2024, 3, 10), 1000.0, account_id="A2", owner_id="U1")])
    credits = credit.build_credit_lines(lines, lopsided_bridge())
    assert credits.select("user_id", "credited_amount_usd", "credit_source").rows() == [
        ("U1", 800.0, credit.ACCOUNT_TEAM),
        ("U1", 200.0, credit.OWNER_REMAINDER),
    ]
    assert credits["credit_line_id"].is_unique().all()


def test_a_team_over_100_is_not_scaled_and_is_reported() -> None:
    """Issue #10 case 4: 70 % + 40 % credit 1,100 on a 1,000 USD deal; that stays visible, never scaled away."""
    lines = booking_lines(
        [
            line("L1", date(2024, 3, 10), 1000.0, account_id="A1"),
            line("L2", date(2024, 3, 10), 1000.0, account_id="A2", owner_id="U7"),
        ]
    )
    credits = credit.build_credit_lines(lines, lopsided_bridge())
    l1 = credits.filter(pl.col("booking_line_id") == "crm:L1")
    print(f"CASE 4: 70 % + 40 % team credits {l1['credited_amount_usd'].sum():.2f} on a 1000.00 booking")
    assert l1["credited_amount_usd"].sum() == pytest.approx(1100.0)
    off = credit.unreconciled_booking_lines(credits)
    assert off.rows() == [("crm:L1", 1000.0, pytest.approx(1100.0), pytest.approx(110.0))]
    assert off.columns == ["booking_line_id", "booking_amount_usd", "credited_amount_usd", "split_sum_pct"]
    periods = credit.unbalanced_team_periods(lopsided_bridge())
    assert periods.select("account_id", "valid_from", "split_sum_pct").rows() == [
        ("A1", date(2023, 1, 1), 110.0),
        ("A2", date(2023, 1, 1), 80.0),
    ]


# --- issue #10: quota months and roll-ups -------------------------------------------------------


def test_a_quota_dated_mid_month_counts_for_its_month_and_the_latest_record_wins() -> None:
    """Issue #10 case 5: Month__c 2024-03-15 used to match no March at all (attainment null)."""
    quotas = frame(
        [
            {"quota_id": "Q1", "user_id": "U1", "month": date(2024, 3, 15), "quota_amount": 2000.0, "system_modstamp": ts(2024, 1, 1)},
            {"quota_id": "Q2", "user_id": "U1", "month": MAR, "quota_amount": 1000.0, "system_modstamp": ts(2024, 2, 1)},
            {"quota_id": "Q3", "user_id": "U2", "month": date(2024, 3, 31), "quota_amount": 500.0, "system_modstamp": ts(2024, 1, 1)},
        ],
        QUOTAS_SCHEMA,
        {"is_deleted": False, "currency": "USD"},
    )  # fmt: skip
    fx = frame([{"rate_date": date(2024, 2, 29), "currency": "USD", "usd_per_unit": 1.0}], FX_SCHEMA)
    usd = quota_attainment.quotas_in_usd(quotas, fx)
    assert usd.select("user_id", "month", "quota_usd").rows() == [("U1", MAR, 1000.0), ("U2", MAR, 500.0)]
    credits = owner_lines([("L1", "U2", date(2024, 3, 5), 500.0)])
    months = quota_attainment.build_monthly_attainment(credits, usd)
    u2 = months.filter(pl.col("user_id") == "U2").rows(named=True)
    print(f"CASE 5: U2 March rows {[(r['month'], r['quota_usd'], r['attainment_pct']) for r in u2]}")
    assert [(r["month"], r["attainment_pct"]) for r in u2] == [(MAR, 100.0)]


def _team_of_max() -> pl.DataFrame:
    return build_dim_sales_rep(
        users(
            [
                {"user_id": "M1", "name": "Max", "region": "na", "system_modstamp": ts(2024, 1, 1)},
                {"user_id": "U1", "name": "Una", "region": "na", "manager_id": "M1", "system_modstamp": ts(2024, 1, 1)},
                {"user_id": "U2", "name": "Udo", "region": "na", "manager_id": "M1", "system_modstamp": ts(2024, 1, 1)},
            ]
        )
    )


def _pick(mart: pl.DataFrame, period_type: str, start: date, level: str, user: str) -> dict[str, Any]:
    rows = mart.filter(
        pl.col("period_type") == period_type,
        pl.col("period_start") == start,
        pl.col("level") == level,
        pl.col("user_id") == user,
    ).to_dicts()
    assert len(rows) == 1, (period_type, start, level, user)
    return rows[0]


def test_a_manager_is_measured_only_over_reps_with_a_quota() -> None:
    """Issue #10 case 5: one rep at 100 %, one without quota used to make the manager 200 %."""
    months = attainment([("U1", MAR, 1000.0, 1000.0), ("U2", MAR, None, 1000.0)])
    mart = quota_attainment.build_mart_rep_quota_attainment(months, _team_of_max())
    max_ = _pick(mart, "month", MAR, "manager", "M1")
    print(f"CASE 5: manager attainment with one rep without quota: {max_['attainment_pct']} %")
    assert (max_["reps"], max_["reps_with_quota"], max_["is_complete"]) == (2, 1, False)
    assert (max_["quota_usd"], max_["credited_bookings_usd"], max_["attainment_pct"]) == (1000.0, 1000.0, 100.0)
    assert max_["team_credited_bookings_usd"] == 2000.0  # everything the team was credited, measured or not
    una, udo = _pick(mart, "month", MAR, "rep", "U1"), _pick(mart, "month", MAR, "rep", "U2")
    assert (una["is_complete"], una["reps_with_quota"], una["attainment_pct"]) == (True, 1, 100.0)
    assert (udo["is_complete"], udo["reps_with_quota"], udo["attainment_pct"]) == (False, 0, None)
    assert udo["credited_bookings_usd"] == 1000.0  # a rep's own bookings stay on their row (statements read it)


def test_a_quarter_is_complete_only_with_a_quota_for_each_of_its_three_months() -> None:
    """Issue #10 case 5: quotas for January and February only used to report Q1 as a 2,000 USD quota."""
    months = attainment(
        [("U1", JAN, 1000.0, 1000.0), ("U1", FEB, 1000.0, 1000.0), ("U2", JAN, 1000.0, 0.0), ("U2", FEB, 1000.0, 0.0), ("U2", MAR, 1000.0, 3000.0)]
    )  # fmt: skip
    mart = quota_attainment.build_mart_rep_quota_attainment(months, _team_of_max())
    q1 = _pick(mart, "quarter", JAN, "rep", "U1")
    print(f"CASE 5: Q1 with two months of quota: quota {q1['quota_usd']}, attainment {q1['attainment_pct']}")
    assert (q1["is_complete"], q1["quota_usd"], q1["credited_bookings_usd"], q1["attainment_pct"]) == (
        False,
        None,
        2000.0,
        None,
    )
    assert _pick(mart, "quarter", JAN, "rep", "U2")["is_complete"] is True
    max_q1 = _pick(mart, "quarter", JAN, "manager", "M1")
    assert (max_q1["reps"], max_q1["reps_with_quota"], max_q1["is_complete"]) == (2, 1, False)
    assert (max_q1["quota_usd"], max_q1["credited_bookings_usd"], max_q1["attainment_pct"]) == (3000.0, 3000.0, 100.0)
    assert _pick(mart, "month", FEB, "manager", "M1")["is_complete"] is True
