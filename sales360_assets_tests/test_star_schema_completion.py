"""Known answers for the star-schema completion: SCD2 reps, account-team bridge, funnel, bookings ledger."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest

from sales360_assets.core.deals import build_fact_booking_line, build_fact_opportunity
from sales360_assets.core.dimensions import build_bridge_account_team, build_dim_product, build_dim_sales_rep
from sales360_assets.core.funnel import STAGE_MAPPING, UNMAPPED_STAGE, map_stages
from sales360_assets.core.keys import NO_SALES_REP_KEY, surrogate_key_value
from sales360_assets.core.sales import build_fact_sales
from sales360_assets.core.scd import BEGINNING_OF_TIME, END_OF_TIME
from sales360_assets.sample_sources.parameters import REGION_STAGE_NAMES, stage_names
from sales360_assets_tests.builders import (
    OPPORTUNITIES_SCHEMA,
    OPPORTUNITY_LINES_SCHEMA,
    TEAM_SCHEMA,
    dim_customer,
    frame,
    ts,
    users,
)

MOVE_DAY = date(2024, 3, 15)


def user_history() -> pl.DataFrame:
    """Rita moves from na/West (manager Max) to emea on 15 March; two edits that day, the last wins;
    a later version only changes her surname (type 1); Del's latest version is a tombstone."""
    return users(
        [
            {"user_id": "M1", "name": "Max Manager", "region": "na", "title": "RSM", "system_modstamp": ts(2024, 1, 1)},
            {
                "user_id": "M2",
                "name": "Eva Manager",
                "region": "emea",
                "title": "RSM",
                "system_modstamp": ts(2024, 1, 1),
            },
            {
                "user_id": "U1",
                "name": "Rita Rep",
                "title": "AE",
                "region": "na",
                "territory": "West",
                "manager_id": "M1",
                "system_modstamp": ts(2024, 1, 10),
            },
            {
                "user_id": "U1",
                "name": "Rita Rep",
                "title": "AE",
                "region": "emea",
                "territory": "DACH",
                "manager_id": "M2",
                "system_modstamp": ts(2024, 3, 15, 9),
            },
            {
                "user_id": "U1",
                "name": "Rita Rep",
                "title": "AE",
                "region": "emea",
                "territory": "Benelux",
                "manager_id": "M2",
                "system_modstamp": ts(2024, 3, 15, 17),
            },
            {
                "user_id": "U1",
                "name": "Rita Rep-Smith",
                "title": "AE",
                "region": "emea",
                "territory": "Benelux",
                "manager_id": "M2",
                "system_modstamp": ts(2024, 4, 2),
            },
            {"user_id": "U9", "name": "Del", "region": "na", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "U9", "name": "Del", "region": "na", "system_modstamp": ts(2024, 2, 1), "is_deleted": True},
        ]
    )


# --- SCD2 ---------------------------------------------------------------------------------------


def test_dim_sales_rep_keeps_assignment_history_with_validity() -> None:
    dim = build_dim_sales_rep(user_history())
    rita = dim.filter(pl.col("user_id") == "U1").sort("version").to_dicts()
    assert [(r["valid_from"], r["valid_to"], r["region"], r["territory"], r["manager_name"]) for r in rita] == [
        (BEGINNING_OF_TIME, MOVE_DAY, "na", "West", "Max Manager"),
        (MOVE_DAY, END_OF_TIME, "emea", "Benelux", "Eva Manager"),  # the day's last edit wins
    ]
    # Type 1: the surname change shows on every version and opens none.
    assert {r["name"] for r in rita} == {"Rita Rep-Smith"}
    assert [r["is_current"] for r in rita] == [False, True]
    # The first version keeps the type 1 key, so fact partitions written before history still join.
    assert rita[0]["sales_rep_key"] == surrogate_key_value("sales_rep", "U1")
    assert rita[1]["sales_rep_key"] == surrogate_key_value("sales_rep", "U1", "2024-03-15")
    assert dim["sales_rep_key"].is_unique().all()
    assert "U9" not in dim["user_id"].to_list()  # tombstoned
    assert dim.filter(pl.col("is_unknown_member"))["sales_rep_key"].to_list() == [NO_SALES_REP_KEY]


def test_promotion_opens_a_version_and_an_unchanged_record_does_not() -> None:
    history = users(
        [
            {"user_id": "U2", "title": "AE", "region": "uk", "system_modstamp": ts(2024, 1, 1)},
            {"user_id": "U2", "title": "AE", "region": "uk", "system_modstamp": ts(2024, 2, 1)},  # touched only
            {"user_id": "U2", "title": "Senior AE", "region": "uk", "system_modstamp": ts(2024, 5, 6)},
        ]
    )
    versions = build_dim_sales_rep(history).filter(pl.col("user_id") == "U2").sort("version")
    assert versions.select("title", "valid_from").rows() == [("AE", BEGINNING_OF_TIME), ("Senior AE", date(2024, 5, 6))]


def _deal(opportunity_id: str, close: date, **extra: object) -> dict[str, object]:
    return {
        "opportunity_id": opportunity_id,
        "account_id": "A1",
        "owner_id": "U1",
        "stage_name": "Closed Won",
        "is_closed": True,
        "is_won": True,
        "probability": 100.0,
        "close_date": close,
        "currency": "USD",
        "fx_rate": 1.0,
        "fx_rate_date": close,
        "amount": 100.0,
        "amount_usd": 100.0,
        "created_at": ts(2024, 2, 1),
        "system_modstamp": ts(2024, 3, 20),
        "is_deleted": False,
        "opportunity_type": "New Business",
        **extra,
    }


def _lines(*opportunity_ids: str, usd: float = 100.0) -> pl.DataFrame:
    return frame(
        [
            {
                "line_item_id": f"LI-{o}",
                "opportunity_id": o,
                "sku": "SKU-1",
                "quantity": 1.0,
                "unit_price": usd,
                "total_price": usd,
                "fx_rate": 1.0,
                "total_price_usd": usd,
            }
            for o in opportunity_ids
        ],
        OPPORTUNITY_LINES_SCHEMA,
        {"is_deleted": False, "currency": "USD"},
    )


def _empty(schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def test_facts_attribute_each_sale_to_the_assignment_valid_on_the_sale_date() -> None:
    """A deal closed the day before the reassignment stays in na under Max; one closed on the day goes to emea."""
    from sales360_assets_tests.builders import dim_product
    from sales360_assets_tests.test_core_transforms import POS_LINES_SCHEMA, WEB_LINES_SCHEMA

    deals = frame([_deal("OP-BEFORE", date(2024, 3, 14)), _deal("OP-ON", MOVE_DAY)], OPPORTUNITIES_SCHEMA)
    history = user_history()
    fact = build_fact_sales(
        _empty(WEB_LINES_SCHEMA),
        _empty(POS_LINES_SCHEMA),
        deals,
        _lines("OP-BEFORE", "OP-ON"),
        build_dim_sales_rep(history),
        dim_customer(),
        dim_product(),
        date(2024, 3, 1),
        date(2024, 3, 31),
        ["na", "emea"],
    )
    dim = build_dim_sales_rep(history)
    key = dict(zip(dim["valid_from"].cast(pl.String) + dim["user_id"].fill_null(""), dim["sales_rep_key"], strict=True))
    rows = {r["order_id"]: r for r in fact.to_dicts()}
    assert (rows["OP-BEFORE"]["region"], rows["OP-BEFORE"]["sales_rep_key"]) == ("na", key["1900-01-01U1"])
    assert (rows["OP-ON"]["region"], rows["OP-ON"]["sales_rep_key"]) == ("emea", key["2024-03-15U1"])


def test_fact_opportunity_attributes_closed_deals_at_close_and_open_deals_now() -> None:
    deals = frame(
        [
            _deal("OP-CLOSED", date(2024, 3, 1)),
            _deal(
                "OP-OPEN",
                date(2024, 6, 30),
                stage_name="Qualified",
                is_closed=False,
                is_won=False,
                probability=20.0,
            ),
        ],
        OPPORTUNITIES_SCHEMA,
    )
    fact = build_fact_opportunity(deals, build_dim_sales_rep(user_history()), dim_customer())
    rows = {r["opportunity_id"]: r for r in fact.to_dicts()}
    assert rows["OP-CLOSED"]["region"] == "na"
    assert rows["OP-OPEN"]["region"] == "emea"  # Rita's current assignment
    # "Qualified" is EMEA's name for Qualification: rung 2 of the standard funnel.
    assert (rows["OP-OPEN"]["funnel_stage"], rows["OP-OPEN"]["funnel_stage_order"]) == ("Qualification", 2)
    assert rows["OP-CLOSED"]["booking_date"] == date(2024, 3, 1)
    assert rows["OP-OPEN"]["booking_date"] is None


# --- funnel -------------------------------------------------------------------------------------


def test_every_regional_stage_maps_to_one_funnel_and_unknown_names_stay_visible() -> None:
    stages = pl.DataFrame(
        {
            "region": ["na", "emea", "apac", "uk", "apac", "na", "na"],
            "stage_name": [
                "Qualification",
                "Qualified",
                "Discovery",
                "Quote Sent",
                "Commercials",
                "Cancelled",
                "Haggling",
            ],
        }
    )
    mapped = map_stages(stages)
    assert mapped.select("funnel_stage", "funnel_stage_order").rows() == [
        ("Qualification", 2),
        ("Qualification", 2),
        ("Qualification", 2),
        ("Proposal", 4),
        ("Negotiation", 5),
        ("Cancelled", 7),
        (UNMAPPED_STAGE, None),
    ]


def test_the_mapping_covers_every_stage_name_the_generator_uses() -> None:
    for region in ("na", *REGION_STAGE_NAMES):
        names = pl.DataFrame({"region": region, "stage_name": list(stage_names(region))})
        mapped = map_stages(names)
        assert UNMAPPED_STAGE not in mapped["funnel_stage"].to_list(), region
        # Same ladder everywhere: the ordinals follow the canonical stage order.
        assert mapped["funnel_stage_order"].to_list() == [1, 2, 3, 4, 5, 6, 6, 7], region
    assert all(region in {"*", "emea", "uk", "apac"} for region, _ in STAGE_MAPPING)


def test_furthest_stage_comes_from_the_stage_history() -> None:
    deals = frame(
        [
            _deal("OP-LOST", date(2024, 3, 10), stage_name="Closed Lost", is_won=False, probability=0.0),
            _deal("OP-WON", date(2024, 3, 10)),
        ],
        OPPORTUNITIES_SCHEMA,
    )
    history = pl.DataFrame(
        {
            "opportunity_id": ["OP-LOST", "OP-LOST", "OP-LOST", "OP-WON", "OP-WON"],
            "stage_name": ["Prospecting", "Proposal/Price Quote", "Closed Lost", "Prospecting", "Closed Won"],
            "changed_at": [ts(2024, 2, 1), ts(2024, 2, 20), ts(2024, 3, 10), ts(2024, 2, 1), ts(2024, 3, 10)],
        }
    )
    fact = build_fact_opportunity(deals, build_dim_sales_rep(user_history()), dim_customer(), history)
    assert dict(fact.select("opportunity_id", "furthest_stage_order").rows()) == {"OP-LOST": 4, "OP-WON": 6}


# --- bridge -------------------------------------------------------------------------------------


def team() -> pl.DataFrame:
    """A1: Rita 70 / Sam 30 until 14 March, then Tom takes Rita's 70; A2: Sam alone; A3 broken (110 %)."""
    return frame(
        [
            {
                "account_team_member_id": "T1",
                "account_id": "A1",
                "user_id": "U1",
                "credit_split_pct": 70.0,
                "effective_from": date(2024, 1, 1),
                "effective_to": date(2024, 3, 14),
            },
            {
                "account_team_member_id": "T2",
                "account_id": "A1",
                "user_id": "U2",
                "credit_split_pct": 30.0,
                "effective_from": date(2024, 1, 1),
            },
            {
                "account_team_member_id": "T3",
                "account_id": "A1",
                "user_id": "U3",
                "credit_split_pct": 70.0,
                "effective_from": MOVE_DAY,
            },
            {
                "account_team_member_id": "T4",
                "account_id": "A2",
                "user_id": "U2",
                "credit_split_pct": 100.0,
                "effective_from": date(2024, 1, 1),
            },
            {
                "account_team_member_id": "T5",
                "account_id": "A3",
                "user_id": "U2",
                "credit_split_pct": 60.0,
                "effective_from": date(2024, 1, 1),
            },
            {
                "account_team_member_id": "T6",
                "account_id": "A3",
                "user_id": "U3",
                "credit_split_pct": 50.0,
                "effective_from": date(2024, 1, 1),
            },
            {
                "account_team_member_id": "T7",
                "account_id": "A2",
                "user_id": "U9",
                "credit_split_pct": 100.0,
                "effective_from": date(2024, 1, 1),
                "is_deleted": True,
            },
        ],
        TEAM_SCHEMA,
        {"team_member_role": "Account Manager", "is_deleted": False},
    )


def test_bridge_cuts_each_account_into_periods_whose_splits_sum_to_100() -> None:
    bridge = build_bridge_account_team(team(), dim_customer())
    a1 = bridge.filter(pl.col("account_id") == "A1").select("valid_from", "valid_to", "user_id", "credit_split_pct")
    assert a1.rows() == [
        (date(2024, 1, 1), MOVE_DAY, "U1", 70.0),
        (date(2024, 1, 1), MOVE_DAY, "U2", 30.0),
        (MOVE_DAY, END_OF_TIME, "U2", 30.0),
        (MOVE_DAY, END_OF_TIME, "U3", 70.0),
    ]
    totals = (
        bridge.group_by("account_id", "valid_from")
        .agg(pl.col("credit_split_pct").sum())
        .sort("account_id", "valid_from")
    )
    assert totals.filter(pl.col("account_id") != "A3")["credit_split_pct"].to_list() == [100.0, 100.0, 100.0]
    assert not bridge.filter(pl.col("account_id") == "A3")["is_balanced"].any()  # 110 %: flagged, kept
    assert bridge.filter(pl.col("account_id") != "A3")["is_balanced"].all()
    assert "U9" not in bridge["user_id"].to_list()  # deleted membership
    assert bridge.filter(pl.col("account_id") == "A1")["customer_key"].unique().to_list() == ["k-acme"]


# --- bookings ledger and product family ---------------------------------------------------------


def test_booking_ledger_keeps_cancelled_deals_and_fact_sales_keeps_current_state() -> None:
    from sales360_assets_tests.builders import dim_product
    from sales360_assets_tests.test_core_transforms import POS_LINES_SCHEMA, WEB_LINES_SCHEMA

    deals = frame(
        [
            _deal("OP-KEPT", date(2024, 3, 1)),
            _deal(
                "OP-CANCELLED",
                date(2024, 3, 2),
                stage_name="Cancelled",
                is_won=False,
                probability=0.0,
                cancelled_date=date(2024, 5, 30),
            ),
            _deal("OP-WEB", date(2024, 3, 3), web_order_id="WO-1"),
        ],
        OPPORTUNITIES_SCHEMA,
    )
    lines = _lines("OP-KEPT", "OP-CANCELLED", "OP-WEB")
    ledger = build_fact_booking_line(deals, lines, build_dim_sales_rep(user_history()), dim_customer(), dim_product())
    rows = {r["opportunity_id"]: r for r in ledger.to_dicts()}
    assert set(rows) == {"OP-KEPT", "OP-CANCELLED", "OP-WEB"}
    cancelled = rows["OP-CANCELLED"]
    assert (cancelled["booking_date"], cancelled["cancelled_date"], cancelled["days_booked_to_cancelled"]) == (
        date(2024, 3, 2),
        date(2024, 5, 30),
        89,
    )
    assert rows["OP-KEPT"]["sales_line_id"] == "crm:LI-OP-KEPT" and rows["OP-WEB"]["sales_line_id"] is None
    assert rows["OP-WEB"]["web_order_id"] == "WO-1"
    assert rows["OP-KEPT"]["product_family"] == "Home"  # catalogue category when the CRM has no family
    fact = build_fact_sales(
        _empty(WEB_LINES_SCHEMA),
        _empty(POS_LINES_SCHEMA),
        deals,
        lines,
        build_dim_sales_rep(user_history()),
        dim_customer(),
        dim_product(),
        date(2024, 3, 1),
        date(2024, 5, 31),
        ["na"],
    )
    assert fact["order_id"].to_list() == ["OP-KEPT"]  # cancelled: no longer a sale; web-fulfilled: web channel


def test_dim_product_conforms_the_family_and_flags_systems() -> None:
    from sales360_assets_tests.test_core_transforms import crm_products, products

    dim = build_dim_product(products(), crm_products())
    rows = {r["sku"]: r for r in dim.to_dicts()}
    assert (rows["SKU-1"]["product_family"], rows["SKU-1"]["in_crm"]) == ("Devices", True)  # CRM family wins
    assert (rows["SKU-CRM"]["product_family"], rows["SKU-CRM"]["in_catalogue"]) == ("Services", False)
    unknown = dim.filter(pl.col("is_unknown_member")).row(0, named=True)
    assert unknown["product_family"] == "Unmapped"


@pytest.mark.parametrize("region", ["emea", "uk", "apac"])
def test_regional_stage_names_differ_from_the_salesforce_defaults(region: str) -> None:
    assert set(stage_names(region)) != set(stage_names("na"))


def test_cancellation_date_is_the_first_cancelled_stage_change_not_the_last_edit() -> None:
    """Issue #10 case 3: an edit months after a cancellation must not move it.

    OP-HIST: cancelled on 10 May (history), reopened, cancelled again on 20 June; no
    Cancelled_Date__c; a clerk edits the deal on 1 September (SystemModstamp). OP-FIELD: no
    history, Cancelled_Date__c 30 May. OP-NONE: neither, so the current version's modstamp.
    """
    from sales360_assets_tests.builders import dim_product

    cancelled = {"stage_name": "Cancelled", "is_won": False, "probability": 0.0, "system_modstamp": ts(2024, 9, 1)}
    deals = frame(
        [
            _deal("OP-HIST", date(2024, 3, 2), **cancelled),
            _deal("OP-FIELD", date(2024, 3, 2), **cancelled, cancelled_date=date(2024, 5, 30)),
            _deal("OP-NONE", date(2024, 3, 2), **cancelled),
        ],
        OPPORTUNITIES_SCHEMA,
    )
    history = pl.DataFrame(
        {
            "opportunity_history_id": ["H1", "H2", "H3", "H4", "H5", "H6"],
            "opportunity_id": ["OP-HIST"] * 4 + ["OP-FIELD", "OP-HIST"],
            "stage_name": ["Closed Won", "Cancelled", "Closed Won", "Cancelled", "Closed Won", "Cancelled"],
            # 23:30 in UTC on 10 May: the cancellation is dated 10 May (UTC), not the local 11 May.
            "changed_at": [ts(2024, 3, 2), ts(2024, 5, 10, 23), ts(2024, 6, 1), ts(2024, 6, 20), ts(2024, 3, 2), ts(2024, 4, 1)],
            "is_deleted": [False, False, False, False, False, True],  # H6 was deleted in the org: ignored
        }
    )  # fmt: skip
    lines = _lines("OP-HIST", "OP-FIELD", "OP-NONE")
    old = build_fact_booking_line(deals, lines, build_dim_sales_rep(user_history()), dim_customer(), dim_product())
    new = build_fact_booking_line(
        deals, lines, build_dim_sales_rep(user_history()), dim_customer(), dim_product(), history
    )
    before = dict(old.select("opportunity_id", "cancelled_date").rows())
    after = dict(new.select("opportunity_id", "cancelled_date").rows())
    print(f"CASE 3: OP-HIST cancelled_date without history {before['OP-HIST']}, with history {after['OP-HIST']}")
    assert before["OP-HIST"] == date(2024, 9, 1)  # the old rule: the unrelated September edit
    assert after == {"OP-HIST": date(2024, 5, 10), "OP-FIELD": date(2024, 5, 30), "OP-NONE": date(2024, 9, 1)}
    assert new.filter(pl.col("opportunity_id") == "OP-HIST")["days_booked_to_cancelled"].item() == 69
    # fact_opportunity reads the same history and must tell the same story.
    opportunity = build_fact_opportunity(deals, build_dim_sales_rep(user_history()), dim_customer(), history)
    assert dict(opportunity.select("opportunity_id", "cancelled_date").rows()) == after
