"""Issue 10's known answers through real Dagster materializations of the commission path on Delta.

The upstream tables (bookings ledger, account teams, quotas, FX, reps) are seeded as Delta
tables; the sales_reporting_job's commission assets then run as the nightly job runs them,
twice when the CRM changes in between, and the statements are read back from the lake.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest

from sales360_assets.commissions import periods
from sales360_assets.commissions.assets import commission_assets
from sales360_assets.core.dimensions import build_bridge_account_team, build_dim_sales_rep
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests.builders import FX_SCHEMA, QUOTAS_SCHEMA, TEAM_SCHEMA, booking_lines, dim_customer, frame, ts
from sales360_assets_tests.builders import users as user_rows
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration

JAN, MAR = date(2026, 1, 1), date(2026, 3, 1)
# The commission path as sales_reporting_job runs it: credit → attainment → ledger → statements.
COMMISSION_ASSETS = [a.key for a in commission_assets]


class Org:
    """A lake seeded with the commission path's inputs, and the job that reads them."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.lake_uri = str(root / "lake")
        self.lake = DeltaLake(self.lake_uri)
        self.defs = build_definitions(str(root / "no-sources"), self.lake_uri)
        self.instance = instance

    def seed(self, bookings: list[dict[str, Any]], quotas: list[tuple[str, date, float]]) -> None:
        self.lake.overwrite("fact_booking_line", booking_lines(bookings))
        self.lake.overwrite("bridge_account_team", build_bridge_account_team(frame([], TEAM_SCHEMA), dim_customer()))
        self.lake.overwrite(
            "stg_salesforce_quotas",
            frame(
                [
                    {"quota_id": f"Q{i}", "user_id": u, "month": m, "quota_amount": q, "currency": "USD",
                     "system_modstamp": ts(2025, 12, 1), "is_deleted": False}
                    for i, (u, m, q) in enumerate(quotas)
                ],
                QUOTAS_SCHEMA,
            ),
        )  # fmt: skip
        self.lake.overwrite(
            "stg_warehouse_fx_rates", frame([{"rate_date": date(2025, 12, 31), "currency": "EUR", "usd_per_unit": 1.1}], FX_SCHEMA)
        )  # fmt: skip
        self.lake.overwrite("dim_sales_rep", build_dim_sales_rep(user_rows([{"user_id": "U1", "name": "Una"}])))

    def run(self) -> None:
        result = self.defs.resolve_job_def("sales_reporting_job").execute_in_process(
            instance=self.instance, asset_selection=COMMISSION_ASSETS
        )
        assert result.success

    def statement(self, month: date) -> dict[str, Any]:
        rows = self.lake.read("commission_statements").filter(
            pl.col("statement_month") == month, pl.col("user_id") == "U1"
        )
        return rows.row(0, named=True)


@pytest.fixture
def org(tmp_path: Path) -> Iterator[Org]:
    with project_instance() as instance:
        yield Org(tmp_path, instance)


def booking(line_id: str, booked: date, usd: float, **extra: Any) -> dict[str, Any]:
    return {
        "booking_line_id": f"crm:{line_id}",
        "opportunity_id": f"OP-{line_id}",
        "sales_line_id": f"crm:{line_id}",
        "account_id": "A9",
        "owner_id": "U1",
        "booking_date": booked,
        "net_amount_usd": usd,
        **extra,
    }


def test_case_2_a_clawback_rebands_the_month(org: Org) -> None:
    """Quota 1,000; A 300 kept; B 1,000 cancelled on day 24: the rep keeps A's 15.00 (was 30.00)."""
    kept, cancelled = booking("A", date(2026, 1, 5), 300.0), booking("B", date(2026, 1, 10), 1000.0)
    org.seed([kept, cancelled], [("U1", JAN, 1000.0)])
    org.run()
    assert org.statement(JAN)["payout_usd"] == Decimal("130.00")  # 1,300 at 2× and 5 %
    org.seed([kept, {**cancelled, "is_cancelled": True, "cancelled_date": date(2026, 1, 24)}], [("U1", JAN, 1000.0)])
    org.run()
    january = org.statement(JAN)
    print(f"CASE 2 through Dagster: January clawback {january['clawback_usd']}, payout {january['payout_usd']}")
    assert (january["clawback_usd"], january["payout_usd"]) == (Decimal("-115.00"), Decimal("15.00"))


def test_case_5_a_mid_month_quota_counts_for_its_month(org: Org) -> None:
    """Month__c 2026-03-15 is March's quota: 1,000 credited against 1,000 is 100 % (1.5×), not 'no quota'."""
    org.seed([booking("L1", date(2026, 3, 10), 1000.0)], [("U1", date(2026, 3, 15), 1000.0)])
    org.run()
    march = org.statement(MAR)
    print(f"CASE 5 through Dagster: March attainment {march['attainment_pct']} %, payout {march['payout_usd']}")
    assert march["attainment_pct"] == pytest.approx(100.0)
    assert march["payout_usd"] == Decimal("75.00")


def test_case_6_every_amount_is_decimal_cents(org: Org) -> None:
    org.seed([booking("L1", date(2026, 3, 10), 333.333), booking("L2", date(2026, 3, 11), 0.1)], [])
    org.run()
    lines = org.lake.read("commission_statement_lines")
    assert lines.schema["commission_usd"] == pl.Decimal(18, 2)
    # 333.33 × 5 % = 16.6665 → 16.67; 0.10 × 5 % = 0.005 → 0.01 (half-up at the line).
    assert sorted(lines["commission_usd"].to_list()) == [Decimal("0.01"), Decimal("16.67")]
    assert org.statement(MAR)["payout_usd"] == Decimal("16.68")


FEB = date(2026, 2, 1)
JAN_10 = date(2026, 1, 10)


def january_deal(**extra: Any) -> list[dict[str, Any]]:
    """Deal OP-1 booked 10 Jan: two lines × 500 USD (25.00 commission each at the 5 % base rate)."""
    return [{**booking(line, JAN_10, 500.0), "opportunity_id": "OP-1", **extra} for line in ("L1", "L2")]


def close_january(org: Org) -> pl.DataFrame:
    org.seed(january_deal(), [])
    org.run()
    statement_lines = org.lake.read("commission_statement_lines").filter(pl.col("statement_month") == JAN)
    assert statement_lines["commission_usd"].sum() == Decimal("50.00")
    periods.close_month(org.lake, JAN, "sales ops")
    return statement_lines


@pytest.mark.parametrize(
    ("change", "february_total"),
    [
        ("deal deleted", "-50.00"),
        ("one line deleted", "-25.00"),
        ("close date moved to 3 Feb", "0.00"),  # −50.00 for January's booking, +50.00 booked in February
        ("cancelled then won again", "0.00"),  # −50.00 clawback, then +50.00 reinstated
    ],
)
def test_case_1_crm_changes_after_close_post_into_february_and_january_stays_as_issued(
    org: Org, change: str, february_total: str
) -> None:
    issued = close_january(org)
    if change == "deal deleted":
        org.seed([], [])
    elif change == "one line deleted":
        org.seed(january_deal()[:1], [])
    elif change == "close date moved to 3 Feb":
        org.seed([{**line, "booking_date": date(2026, 2, 3)} for line in january_deal()], [])
    else:
        cancelled = [{**january_deal()[0], "is_cancelled": True, "cancelled_date": date(2026, 2, 1)}, january_deal()[1]]
        org.seed(cancelled, [])
        org.run()
        org.seed(january_deal(), [])
    org.run()
    lines = org.lake.read("commission_statement_lines")
    assert lines.filter(pl.col("statement_month") == JAN).equals(issued), "a closed month changed"
    february = lines.filter(pl.col("statement_month") == FEB)
    print(f"CASE 1 through Dagster, {change}: January 50.00 as issued; February {february['commission_usd'].sum()}")
    assert february["commission_usd"].sum() == Decimal(february_total)
    assert february["booking_line_id"].is_not_null().all() and february["event_key"].is_not_null().all()


def test_case_3_a_back_dated_cancellation_claws_back_in_the_first_open_month_once(org: Org) -> None:
    """Cancelled_Date__c back-dated to 20 Jan (closed): the clawback posts in February, frozen on its date."""
    issued = close_january(org)
    org.seed([{**january_deal()[0], "is_cancelled": True, "cancelled_date": date(2026, 1, 20)}, january_deal()[1]], [])
    org.run()
    # A later edit of the cancellation date in the CRM moves nothing: the ledger froze the first one.
    org.seed([{**january_deal()[0], "is_cancelled": True, "cancelled_date": date(2026, 6, 30)}, january_deal()[1]], [])
    org.run()
    lines = org.lake.read("commission_statement_lines")
    assert lines.filter(pl.col("statement_month") == JAN).equals(issued)
    clawbacks = lines.filter(pl.col("commission_usd") < 0)
    print(
        f"CASE 3 through Dagster: clawback {clawbacks['commission_usd'].to_list()} in {clawbacks['statement_month'].to_list()}"
    )
    assert clawbacks.select("statement_month", "commission_usd", "booking_line_id").rows() == [
        (FEB, Decimal("-25.00"), "crm:L1")
    ]
    ledger = org.lake.read("commission_ledger").filter(pl.col("cancelled_date").is_not_null())
    assert ledger["cancelled_date"].unique().to_list() == [date(2026, 1, 20)]
