"""Known answers and reconciliation for the sales performance marts on tiny hand-made facts."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.marts.assets import partitioned_mart_assets
from sales360_assets.marts.campaigns import NO_CAMPAIGN, build_mart_campaign_effectiveness
from sales360_assets.marts.customers import build_mart_customer_segment_monthly, build_mart_customer_segment_performance
from sales360_assets.marts.pipeline import build_mart_funnel_conversion, build_mart_pipeline
from sales360_assets.marts.products import build_mart_product_performance, build_mart_product_profitability
from sales360_assets.marts.sales import (
    build_mart_daily_sales,
    build_mart_promotion_effectiveness,
    build_mart_sales_performance,
)
from sales360_assets.marts.seasonality import ALL_REGIONS, build_mart_seasonality
from sales360_assets_tests.builders import (
    CAMPAIGNS_SCHEMA,
    dim_customer,
    dim_product,
    fact_opportunity,
    fact_sales,
    frame,
    sale,
)

D1, D2, D3 = date(2024, 3, 4), date(2024, 3, 9), date(2024, 4, 2)  # Monday, Saturday, April
MARCH, APRIL = date(2024, 3, 1), date(2024, 4, 1)


@pytest.fixture(scope="module")
def fact() -> pl.DataFrame:
    return fact_sales(
        [
            # Ann: two web orders in March (a repeat customer); W1 spans two categories, one line at a loss.
            sale("web:W1:1", D1, 100.0, quantity=2, cost_usd=40.0, discount_local=10.0),
            sale("web:W1:2", D1, 50.0, product_key="k-sku2", sku="SKU-2", cost_usd=60.0),
            sale("web:W2:1", D2, 30.0, cost_usd=10.0),
            # Unidentified store buyers: one with a loyalty id, one anonymous; an unmapped SKU.
            sale("pos:P1:1", D2, 20.0, channel="pos", region="uk", customer_key="k-unidentified", customer_ref="L9",
                 product_key="k-unmapped", sku="SKU-X"),
            sale("pos:P2:1", D2, 10.0, channel="pos", region="uk", customer_key="k-unidentified", customer_ref=None,
                 cost_usd=4.0),
            # A won deal and, in April, a discounted web order in GBP.
            sale("crm:LI1", D1, 400.0, channel="crm", order_id="OP1", customer_key="k-acme", customer_ref="A1",
                 product_key="k-sku2", sku="SKU-2", quantity=4, cost_usd=200.0),
            sale("web:W3:1", D3, 80.0, customer_key="k-bo", customer_ref="C3", product_key="k-sku2", sku="SKU-2",
                 cost_usd=30.0, discount_local=16.0, fx_rate=1.25),
        ]
    )  # fmt: skip


def _row(frame_: pl.DataFrame, **keys: object) -> dict[str, object]:
    rows = frame_.filter(*[pl.col(k) == v for k, v in keys.items()]).to_dicts()
    assert len(rows) == 1, keys
    return rows[0]


def test_sales_performance_by_date_region_channel_category_segment(fact: pl.DataFrame) -> None:
    mart = build_mart_sales_performance(fact, dim_customer(), dim_product())
    home = _row(mart, date=D1, region="na", channel="web", category="Home", segment="Consumer")
    assert (home["revenue_usd"], home["units"], home["orders"], home["average_order_value_usd"]) == (
        100.0,
        2.0,
        1,
        100.0,
    )
    assert (home["average_selling_price_usd"], home["gross_margin_pct"]) == (50.0, 60.0)
    loss = _row(mart, date=D1, region="na", channel="web", category="Electronics", segment="Consumer")
    assert (loss["gross_margin_usd"], loss["gross_margin_pct"], loss["orders"]) == (-10.0, -20.0, 1)
    unmapped = _row(mart, date=D2, region="uk", channel="pos", category="Unmapped")
    assert (unmapped["segment"], unmapped["revenue_usd"]) == ("In-store (unidentified)", 20.0)
    assert mart["revenue_usd"].sum() == pytest.approx(fact["net_amount_usd"].sum())


def test_product_profitability_ranks_products_and_categories_per_month(fact: pl.DataFrame) -> None:
    mart = build_mart_product_profitability(fact, dim_product())
    march = mart.filter(pl.col("month") == MARCH)
    products = march.filter(pl.col("level") == "product").select(
        "sku", "product_name", "revenue_usd", "gross_margin_usd", "rank_most_profitable", "rank_least_profitable"
    )
    assert products.rows() == [
        ("SKU-2", "Phone", 450.0, 190.0, 1, 3),
        ("SKU-1", "Widget", 140.0, 86.0, 2, 2),
        ("SKU-X", "Unmapped: SKU-X", 20.0, 20.0, 3, 1),
    ]
    categories = march.filter(pl.col("level") == "category").select(
        "category", "gross_margin_usd", "rank_most_profitable"
    )
    assert categories.rows() == [("Electronics", 190.0, 1), ("Home", 86.0, 2), ("Unmapped", 20.0, 3)]
    # Each level reconciles with fact_sales for the month.
    for level in ("product", "category"):
        assert march.filter(pl.col("level") == level)["revenue_usd"].sum() == pytest.approx(610.0)
    assert mart.filter(pl.col("month") == APRIL, pl.col("level") == "product")["revenue_usd"].to_list() == [80.0]


def test_customer_segment_monthly_counts_repeat_buyers(fact: pl.DataFrame) -> None:
    mart = build_mart_customer_segment_monthly(fact, dim_customer())
    consumer = _row(mart, month=MARCH, segment="Consumer")
    assert (consumer["revenue_usd"], consumer["units"], consumer["orders"], consumer["customers"]) == (180.0, 4.0, 2, 1)
    assert (consumer["average_order_value_usd"], consumer["average_selling_price_usd"]) == (90.0, 45.0)
    assert (consumer["order_frequency"], consumer["repeat_customers"], consumer["repeat_purchase_rate_pct"]) == (
        2.0,
        1,
        100.0,
    )
    in_store = _row(mart, month=MARCH, segment="In-store (unidentified)")
    assert (in_store["customers"], in_store["repeat_customers"], in_store["repeat_purchase_rate_pct"]) == (2, 0, 0.0)
    assert _row(mart, month=APRIL, segment="Small Business")["orders"] == 1
    for month in (MARCH, APRIL):
        assert mart.filter(pl.col("month") == month)["revenue_usd"].sum() == pytest.approx(
            fact.filter(pl.col("date").dt.month_start() == month)["net_amount_usd"].sum()
        )


def test_promotion_effectiveness_splits_discounted_lines_and_converts_discounts(fact: pl.DataFrame) -> None:
    mart = build_mart_promotion_effectiveness(fact)
    promoted = _row(mart, month=MARCH, region="na", channel="web", is_promoted=True)
    assert (promoted["revenue_usd"], promoted["orders"], promoted["discount_usd"]) == (100.0, 1, 10.0)
    assert promoted["discount_rate_pct"] == pytest.approx(10.0 / 110.0 * 100.0)
    full_price = _row(mart, month=MARCH, region="na", channel="web", is_promoted=False)
    assert (full_price["revenue_usd"], full_price["orders"], full_price["average_order_value_usd"]) == (80.0, 2, 40.0)
    # 16 GBP of discount at 1.25 USD per GBP.
    assert _row(mart, month=APRIL, region="na", channel="web", is_promoted=True)["discount_usd"] == 20.0
    assert mart["revenue_usd"].sum() == pytest.approx(fact["net_amount_usd"].sum())


def _deals(month: date, won: int, lost: int, *, region: str = "na", kind: str = "New Business") -> list[dict]:
    day = month + timedelta(days=9)
    base = {"region": region, "opportunity_type": kind, "created_date": day, "close_date": day, "is_closed": True}
    return [
        {**base, "booking_date": day, "amount_usd": 100.0, "days_to_close": 10, "funnel_stage": "Closed Won"}
    ] * won + [{**base, "funnel_stage": "Closed Lost", "amount_usd": 100.0}] * lost


def test_pipeline_kpis_and_the_three_months_running_alert() -> None:
    months = [date(2024, m, 1) for m in (1, 2, 3, 4)]
    rows = [
        # na New Business: 10 %, 0 %, 15 %, 50 % -> below 20 % three months running in March, not in April.
        *_deals(months[0], 1, 9),
        *_deals(months[1], 0, 2),
        *_deals(months[2], 3, 17),
        *_deals(months[3], 1, 1),
        # na Existing Business: 0 %, nothing decided, 0 %, 0 % -> the empty month breaks the run.
        *_deals(months[0], 0, 1, kind="Existing Business"),
        *_deals(months[2], 0, 1, kind="Existing Business"),
        *_deals(months[3], 0, 1, kind="Existing Business"),
        # uk: two wins (300 and 500, 10 and 30 days), two losses, all four created in March.
        {"region": "uk", "created_date": date(2024, 3, 2), "close_date": date(2024, 3, 12), "booking_date": date(2024, 3, 12),
         "amount_usd": 300.0, "days_to_close": 10, "funnel_stage": "Closed Won", "is_closed": True},
        {"region": "uk", "created_date": date(2024, 3, 1), "close_date": date(2024, 3, 31), "booking_date": date(2024, 3, 31),
         "amount_usd": 500.0, "days_to_close": 30, "funnel_stage": "Cancelled", "is_closed": True},
        *[{"region": "uk", "created_date": date(2024, 3, 5), "close_date": date(2024, 3, 20), "amount_usd": 50.0,
           "funnel_stage": "Closed Lost", "is_closed": True}] * 2,
        # still open, expected to close in May
        {"region": "uk", "created_date": date(2024, 2, 5), "close_date": date(2024, 5, 20), "amount_usd": 700.0,
         "funnel_stage": "Proposal", "is_closed": False},
    ]  # fmt: skip
    mart = build_mart_pipeline(fact_opportunity(rows), win_rate_threshold_pct=20.0, months_running=3)
    new = mart.filter(pl.col("region") == "na", pl.col("opportunity_type") == "New Business").sort("month")
    assert new.filter(pl.col("month") <= months[3]).select(
        "win_rate_pct", "months_below_threshold_running", "low_win_rate_alert"
    ).rows() == [(10.0, 1, False), (0.0, 2, False), (15.0, 3, True), (50.0, 0, False)]
    existing = mart.filter(pl.col("region") == "na", pl.col("opportunity_type") == "Existing Business").sort("month")
    assert existing.filter(pl.col("month") <= months[3])["months_below_threshold_running"].to_list() == [1, 0, 1, 2]
    assert not existing["low_win_rate_alert"].any()
    uk = _row(mart, region="uk", month=date(2024, 3, 1))
    assert (uk["deals_created"], uk["deals_won"], uk["deals_lost"], uk["win_rate_pct"]) == (4, 2, 2, 50.0)
    assert (uk["average_deal_size_usd"], uk["sales_cycle_days"]) == (400.0, 20.0)
    assert uk["pipeline_velocity_usd_per_day"] == pytest.approx(4 * 0.5 * 400.0 / 20.0)
    assert _row(mart, region="uk", month=date(2024, 5, 1))["open_pipeline_usd"] == 700.0


def test_funnel_conversion_from_the_furthest_stage_reached() -> None:
    rows = [{"created_date": date(2024, 3, 3), "furthest_stage_order": s} for s in (1, 1, 2, 3, 6, 6)]
    mart = build_mart_funnel_conversion(fact_opportunity(rows))
    assert mart.select("stage", "next_stage", "deals_reached", "deals_advanced").rows() == [
        ("Prospecting", "Qualification", 6, 4),
        ("Qualification", "Needs Analysis", 4, 3),
        ("Needs Analysis", "Proposal", 3, 2),
        ("Proposal", "Negotiation", 2, 2),
        ("Negotiation", "Closed Won", 2, 2),
    ]
    assert mart["stage_conversion_pct"].to_list() == pytest.approx([400 / 6, 75.0, 200 / 3, 100.0, 100.0])


def test_campaign_effectiveness_revenue_deals_cost_and_roi(fact: pl.DataFrame) -> None:
    deals = fact_opportunity(
        [
            {"opportunity_id": "OP1", "campaign_id": "C1", "booking_date": D1, "amount_usd": 400.0},
            {
                "opportunity_id": "OP2",
                "campaign_id": "C1",
                "booking_date": D3,
                "amount_usd": 80.0,
                "web_order_id": "W3",
            },
            {"opportunity_id": "OP3", "campaign_id": "C2", "amount_usd": 900.0},
            {"opportunity_id": "OP4", "booking_date": D1, "amount_usd": 10.0},
        ]
    )
    campaigns = frame(
        [
            {"campaign_id": "C1", "campaign_name": "Spring", "actual_cost": 240.0, "budgeted_cost": 300.0},
            {"campaign_id": "C2", "campaign_name": "Planned", "budgeted_cost": 500.0},
            {"campaign_id": "C3", "campaign_name": "Deleted", "is_deleted": True},
        ],
        CAMPAIGNS_SCHEMA,
        {"is_deleted": False},
    )
    mart = build_mart_campaign_effectiveness(fact, deals, campaigns)
    c1 = _row(mart, campaign_id="C1")
    assert (c1["influenced_deals"], c1["deals_won"], c1["influenced_revenue_usd"]) == (2, 2, 480.0)  # CRM + web order
    assert (c1["campaign_cost_usd"], c1["campaign_roi_pct"]) == (240.0, 100.0)
    c2 = _row(mart, campaign_id="C2")
    assert (c2["influenced_deals"], c2["deals_won"], c2["influenced_revenue_usd"], c2["campaign_roi_pct"]) == (
        1,
        0,
        0.0,
        None,
    )
    none = _row(mart, campaign_id=NO_CAMPAIGN)
    assert (none["influenced_deals"], none["influenced_revenue_usd"]) == (1, 0.0)
    assert "C3" not in mart["campaign_id"].to_list()
    # Reconciliation: the rows add up to every deal line in fact_sales.
    deal_lines = fact.filter((pl.col("channel") == "crm") | (pl.col("order_id") == "W3"))
    assert mart["influenced_revenue_usd"].sum() == pytest.approx(deal_lines["net_amount_usd"].sum())


def test_seasonality_indices_and_peaks() -> None:
    profile = {0: 70.0, 1: 0.0, 2: 35.0, 3: 35.0, 4: 35.0, 5: 210.0, 6: 35.0}  # Monday .. Sunday; Tuesdays empty
    days = [date(2024, 3, 4) + timedelta(days=i) for i in range(14)]
    lines = fact_sales(
        [sale(f"web:S{i}:1", d, profile[d.weekday()]) for i, d in enumerate(days) if profile[d.weekday()]]
    )
    mart = build_mart_seasonality(lines)
    weekly = mart.filter(pl.col("region") == "na", pl.col("index_type") == "weekly").sort("period")
    assert weekly["seasonal_index"].to_list() == pytest.approx([70 / 60, 0.0, 35 / 60, 35 / 60, 35 / 60, 3.5, 35 / 60])
    assert weekly.filter(pl.col("is_peak"))["period_name"].to_list() == ["Saturday"]
    assert weekly.filter(pl.col("is_trough"))["period_name"].to_list() == ["Tuesday"]
    assert weekly["days_observed"].to_list() == [2] * 7
    yearly = mart.filter(pl.col("region") == "na", pl.col("index_type") == "yearly")
    assert yearly.select("period_name", "days_observed", "seasonal_index").rows() == [("March", 14, 1.0)]
    for index_type in ("weekly", "yearly"):
        part = mart.filter(pl.col("index_type") == index_type)
        assert part.filter(pl.col("region") == "na")["revenue_usd"].sum() == pytest.approx(840.0)
        assert part.filter(pl.col("region") == ALL_REGIONS)["revenue_usd"].sum() == pytest.approx(840.0)


def test_daily_marts_read_scans_of_their_inputs() -> None:
    """The daily marts take fact_sales and their dimensions as scans, so only the columns they use
    are read: read as frames, a region-year of fact_sales (every column) and all of dim_customer
    took each of these steps 1.5-2 GiB over its start at 10 M order lines (benchmarks/README.md)."""
    for mart in partitioned_mart_assets:
        inputs = {name: put.dagster_type.typing_type for name, put in mart.op.ins.items()}
        assert "fact_sales" in inputs, mart.key
        assert set(inputs.values()) == {pl.LazyFrame}, f"{mart.key.to_user_string()} reads whole frames: {inputs}"


def test_margin_ranks_tie_to_the_cent() -> None:
    """Two products with 30 cents of margin share a rank, however their lines summed: 0.1 + 0.2 is
    0.30000000000000004 in floating point, and the order lines are summed in changes with how the
    facts were read (a range run, one run per partition), so ranks compare the margin to the cent."""
    facts = fact_sales(
        [
            sale("web:W1:1", D1, 0.1),
            sale("web:W1:2", D1, 0.2),
            sale("web:W2:1", D1, 0.3, product_key="k-sku2", sku="SKU-2"),
        ]
    )
    daily = build_mart_product_performance(facts, dim_product())
    assert daily["margin_rank_desc"].to_list() == [1, 1]
    assert daily["margin_rank_asc"].to_list() == [1, 1]
    monthly = build_mart_product_profitability(facts, dim_product()).filter(pl.col("level") == "product")
    assert monthly["rank_most_profitable"].to_list() == [1, 1]


def test_daily_mart_sums_do_not_depend_on_the_order_of_the_lines(fact: pl.DataFrame) -> None:
    """A re-run must write the same mart, bit for bit. Polars adds a group's floats in parallel
    partial sums whose order changes from one collect to the next, and a range run reads lines in
    another order than one run per partition; a float sum then differs in its last bits (a CI run
    saw a re-run's mart_product_performance differ). Sums of money are exact, so any order of the
    same lines gives the same mart."""
    rng = np.random.default_rng(7)
    lines = (
        fact.sample(200_000, with_replacement=True, seed=7)
        .with_columns(
            pl.Series("net_amount_usd", rng.random(200_000) * 1_000),
            pl.Series("cost_usd", rng.random(200_000) * 500),
            pl.Series("quantity", rng.integers(1, 5, 200_000).astype(float)),
            pl.Series("region", rng.choice(["na", "emea", "apac", "uk"], 200_000)),
            (pl.lit(D1) + pl.duration(days=pl.Series(rng.integers(0, 28, 200_000)))).alias("date"),
        )
        .with_columns((pl.col("net_amount_usd") - pl.col("cost_usd")).alias("gross_margin_usd"))
    )
    shuffled = lines.sample(fraction=1.0, shuffle=True, seed=11)
    for build, dimensions in [
        (build_mart_daily_sales, ()),
        (build_mart_sales_performance, (dim_customer(), dim_product())),
        (build_mart_product_performance, (dim_product(),)),
        (build_mart_customer_segment_performance, (dim_customer(),)),
    ]:
        assert_frame_equal(build(shuffled, *dimensions), build(lines, *dimensions), check_exact=True)
