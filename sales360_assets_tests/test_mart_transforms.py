"""Known-answer and reconciliation tests for the mart transforms on tiny hand-made fact frames."""

from __future__ import annotations

from datetime import date
from typing import Any

import numpy as np
import polars as pl
import pytest

from sales360_assets.core.schemas import DIM_CUSTOMER_SCHEMA, DIM_PRODUCT_SCHEMA, FACT_SALES_SCHEMA
from sales360_assets.marts.customers import build_mart_customer_segment_performance
from sales360_assets.marts.products import build_mart_product_performance
from sales360_assets.marts.sales import build_mart_daily_sales

D1, D2 = date(2024, 3, 5), date(2024, 3, 6)
UNMAPPED_KEY = "k-unmapped"
UNIDENTIFIED_KEY = "k-unidentified"


def sale(
    line_id: str,
    channel: str,
    day: date,
    region: str,
    order_id: str,
    customer_key: str,
    customer_ref: str | None,
    sku: str,
    quantity: float,
    net_usd: float,
    cost_usd: float,
) -> dict[str, Any]:
    product_key = {"SKU-1": "k-sku1", "SKU-2": "k-sku2", "SKU-CRM": "k-crm"}.get(sku, UNMAPPED_KEY)
    return {
        "sales_line_id": line_id,
        "channel": channel,
        "date": day,
        "region": region,
        "order_id": order_id,
        "customer_key": customer_key,
        "customer_ref": customer_ref,
        "product_key": product_key,
        "sku": sku,
        "quantity": quantity,
        "currency": "USD",
        "fx_rate": 1.0,
        "net_amount_local": net_usd,
        "net_amount_usd": net_usd,
        "cost_usd": cost_usd,
        "gross_margin_usd": net_usd - cost_usd,
        "is_unmapped_product": product_key == UNMAPPED_KEY,
    }


def as_frame(rows: list[dict[str, Any]], schema: dict[str, pl.DataType]) -> pl.DataFrame:
    return pl.DataFrame([dict.fromkeys(schema) | row for row in rows], schema=schema)


@pytest.fixture(scope="module")
def fact() -> pl.DataFrame:
    rows = [
        # D1 × na. Web orders W1 and W2 belong to one merged customer (two source ids, one key).
        sale("web:W1:1", "web", D1, "na", "W1", "k-ann", "C1", "SKU-1", 2, 100.0, 40.0),
        sale("web:W1:2", "web", D1, "na", "W1", "k-ann", "C1", "SKU-2", 1, 50.0, 20.0),
        sale("web:W2:1", "web", D1, "na", "W2", "k-ann", "C2", "SKU-1", 3, 30.0, 30.0),
        # POS transaction "W1" shares its id with a web order: a different order all the same.
        sale("pos:W1:1", "pos", D1, "na", "W1", UNIDENTIFIED_KEY, "L9", "SKU-X", 1, 20.0, 0.0),
        sale("pos:W1:2", "pos", D1, "na", "W1", UNIDENTIFIED_KEY, "L9", "SKU-Y", 1, 8.0, 0.0),
        sale("pos:P2:1", "pos", D1, "na", "P2", UNIDENTIFIED_KEY, None, "SKU-2", 1, 10.0, 4.0),
        sale("pos:P3:1", "pos", D1, "na", "P3", UNIDENTIFIED_KEY, "L9", "SKU-1", 2, 12.0, 6.0),
        # D1 × uk: two products tie on margin.
        sale("web:W3:1", "web", D1, "uk", "W3", "k-bo", "C3", "SKU-1", 1, 10.0, 5.0),
        sale("pos:U1:1", "pos", D1, "uk", "U1", UNIDENTIFIED_KEY, None, "SKU-Z", 1, 5.0, 0.0),
        # D2 × na: one won deal with two line items.
        sale("crm:LI1", "crm", D2, "na", "OP1", "k-acme", "A1", "SKU-CRM", 1, 600.0, 0.0),
        sale("crm:LI2", "crm", D2, "na", "OP1", "k-acme", "A1", "SKU-1", 4, 400.0, 200.0),
    ]
    return as_frame(rows, FACT_SALES_SCHEMA)


@pytest.fixture(scope="module")
def dim_customer() -> pl.DataFrame:
    rows = [
        {"customer_key": "k-ann", "segment": "Consumer", "is_unknown_member": False},
        {"customer_key": "k-bo", "segment": "Small Business", "is_unknown_member": False},
        {"customer_key": "k-acme", "segment": "Enterprise", "is_unknown_member": False},
        {"customer_key": UNIDENTIFIED_KEY, "segment": "In-store (unidentified)", "is_unknown_member": True},
        {"customer_key": "k-unknown", "segment": "Unknown", "is_unknown_member": True},
    ]
    return as_frame(rows, DIM_CUSTOMER_SCHEMA)


@pytest.fixture(scope="module")
def dim_product() -> pl.DataFrame:
    rows = [
        {
            "product_key": "k-sku1",
            "sku": "SKU-1",
            "product_name": "Widget",
            "category": "Hardware",
            "subcategory": "Widgets",
        },
        {
            "product_key": "k-sku2",
            "sku": "SKU-2",
            "product_name": "Gadget",
            "category": "Hardware",
            "subcategory": "Gadgets",
        },
        {
            "product_key": "k-crm",
            "sku": "SKU-CRM",
            "product_name": "Onboarding",
            "category": "Unmapped",
            "subcategory": "Unmapped (CRM only)",
        },
        {
            "product_key": UNMAPPED_KEY,
            "product_name": "Unmapped product",
            "category": "Unmapped",
            "subcategory": "Unmapped",
            "is_unknown_member": True,
        },
    ]
    return as_frame([{"is_unknown_member": False} | row for row in rows], DIM_PRODUCT_SCHEMA)


def rows_by(frame: pl.DataFrame, *keys: str) -> dict[tuple[Any, ...], dict[str, Any]]:
    return {tuple(row[k] for k in keys): row for row in frame.to_dicts()}


def test_daily_sales_known_answers(fact: pl.DataFrame) -> None:
    mart = build_mart_daily_sales(fact)
    assert mart.height == 5
    rows = rows_by(mart, "date", "region", "channel")
    web = rows[(D1, "na", "web")]
    assert (web["revenue_usd"], web["units"], web["orders"], web["average_order_value_usd"]) == (180.0, 6.0, 2, 90.0)
    assert (web["cost_usd"], web["gross_margin_usd"], web["gross_margin_pct"]) == (90.0, 90.0, 50.0)
    pos = rows[(D1, "na", "pos")]
    assert (pos["revenue_usd"], pos["units"], pos["orders"], pos["cost_usd"], pos["gross_margin_usd"]) == (
        50.0,
        5.0,
        3,
        10.0,
        40.0,
    )
    assert pos["average_order_value_usd"] == pytest.approx(50 / 3)
    assert pos["gross_margin_pct"] == pytest.approx(80.0)
    uk_pos = rows[(D1, "uk", "pos")]
    assert (uk_pos["revenue_usd"], uk_pos["orders"], uk_pos["gross_margin_pct"]) == (5.0, 1, 100.0)
    crm = rows[(D2, "na", "crm")]
    assert (crm["revenue_usd"], crm["units"], crm["orders"], crm["average_order_value_usd"]) == (1000.0, 5.0, 1, 1000.0)
    assert (crm["cost_usd"], crm["gross_margin_usd"], crm["gross_margin_pct"]) == (200.0, 800.0, 80.0)


def test_customer_segment_known_answers(fact: pl.DataFrame, dim_customer: pl.DataFrame) -> None:
    mart = build_mart_customer_segment_performance(fact, dim_customer)
    rows = rows_by(mart, "date", "region", "segment")
    assert set(rows) == {
        (D1, "na", "Consumer"),
        (D1, "na", "In-store (unidentified)"),
        (D1, "uk", "Small Business"),
        (D1, "uk", "In-store (unidentified)"),
        (D2, "na", "Enterprise"),
    }
    consumer = rows[(D1, "na", "Consumer")]
    # Two source ids, one conformed customer: 2 orders by 1 customer.
    assert (consumer["revenue_usd"], consumer["units"], consumer["orders"], consumer["customers"]) == (180.0, 6.0, 2, 1)
    assert (consumer["average_order_value_usd"], consumer["order_frequency"]) == (90.0, 2.0)
    in_store = rows[(D1, "na", "In-store (unidentified)")]
    # Loyalty id L9 (orders W1, P3) is one shopper; the anonymous P2 counts as the unidentified member.
    assert (in_store["revenue_usd"], in_store["units"], in_store["orders"], in_store["customers"]) == (50.0, 5.0, 3, 2)
    assert in_store["order_frequency"] == 1.5
    assert in_store["average_order_value_usd"] == pytest.approx(50 / 3)
    enterprise = rows[(D2, "na", "Enterprise")]
    assert (enterprise["revenue_usd"], enterprise["orders"], enterprise["customers"]) == (1000.0, 1, 1)
    assert rows[(D1, "uk", "In-store (unidentified)")]["customers"] == 1


def test_orders_are_distinct_per_channel(fact: pl.DataFrame, dim_customer: pl.DataFrame) -> None:
    # Web order W1 and POS transaction W1 are two orders when the mart spans channels.
    one_segment = dim_customer.with_columns(pl.lit("All").alias("segment"))
    mart = build_mart_customer_segment_performance(fact.filter(pl.col("order_id") == "W1"), one_segment)
    assert mart["orders"].to_list() == [2]


def test_product_performance_known_answers(fact: pl.DataFrame, dim_product: pl.DataFrame) -> None:
    mart = build_mart_product_performance(fact, dim_product)
    na = mart.filter(pl.col("date") == D1, pl.col("region") == "na")
    assert na["sku"].to_list() == ["SKU-1", "SKU-2", "SKU-X", "SKU-Y"]  # sorted by margin rank
    rows = rows_by(na, "sku")
    widget = rows[("SKU-1",)]
    assert (widget["product_key"], widget["product_name"], widget["category"], widget["subcategory"]) == (
        "k-sku1",
        "Widget",
        "Hardware",
        "Widgets",
    )
    assert (widget["revenue_usd"], widget["units"], widget["cost_usd"], widget["gross_margin_usd"]) == (
        142.0,
        7.0,
        76.0,
        66.0,
    )
    assert widget["gross_margin_pct"] == pytest.approx(66 / 142 * 100)
    assert (rows[("SKU-2",)]["revenue_usd"], rows[("SKU-2",)]["gross_margin_usd"]) == (60.0, 36.0)
    unmapped = rows[("SKU-X",)]
    assert (unmapped["product_key"], unmapped["product_name"], unmapped["category"]) == (
        UNMAPPED_KEY,
        "Unmapped: SKU-X",
        "Unmapped",
    )
    assert rows[("SKU-Y",)]["product_name"] == "Unmapped: SKU-Y"
    assert na["margin_rank_desc"].to_list() == [1, 2, 3, 4]
    assert na["margin_rank_asc"].to_list() == [4, 3, 2, 1]

    uk = mart.filter(pl.col("date") == D1, pl.col("region") == "uk")
    assert sorted(uk["sku"].to_list()) == ["SKU-1", "SKU-Z"]
    assert uk["margin_rank_desc"].to_list() == [1, 1]  # a tie shares the rank, like SQL RANK()
    assert uk["margin_rank_asc"].to_list() == [1, 1]

    crm = rows_by(mart.filter(pl.col("date") == D2), "sku")
    assert (crm[("SKU-CRM",)]["product_name"], crm[("SKU-CRM",)]["category"]) == ("Onboarding", "Unmapped")
    assert (crm[("SKU-CRM",)]["margin_rank_desc"], crm[("SKU-1",)]["margin_rank_desc"]) == (1, 2)


def random_fact(lines: int = 3_000, seed: int = 11) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    channels = rng.choice(["web", "pos", "crm"], lines)
    skus = rng.choice(["SKU-1", "SKU-2", "SKU-CRM", "SKU-X", "SKU-Y"], lines)
    net = rng.uniform(-5, 500, lines).round(2)  # returns and refunds can be negative
    rows = [
        sale(
            f"{channels[i]}:{i}",
            str(channels[i]),
            [D1, D2, date(2024, 3, 7)][int(rng.integers(3))],
            str(rng.choice(["apac", "emea", "na", "uk"])),
            f"O{int(rng.integers(400))}",
            str(rng.choice(["k-ann", "k-bo", "k-acme", UNIDENTIFIED_KEY, "k-unknown"])),
            None if rng.random() < 0.2 else f"R{int(rng.integers(50))}",
            str(skus[i]),
            float(rng.integers(1, 5)),
            float(net[i]),
            float(net[i] * rng.uniform(0, 0.8)),
        )
        for i in range(lines)
    ]
    return as_frame(rows, FACT_SALES_SCHEMA)


def test_every_mart_reconciles_to_fact_revenue(dim_customer: pl.DataFrame, dim_product: pl.DataFrame) -> None:
    fact = random_fact()
    expected = fact.group_by("date", "region").agg(
        pl.col("net_amount_usd").sum().alias("fact_revenue"), pl.col("quantity").sum().alias("fact_units")
    )
    marts = {
        "daily_sales": build_mart_daily_sales(fact),
        "customer_segment": build_mart_customer_segment_performance(fact, dim_customer),
        "product_performance": build_mart_product_performance(fact, dim_product),
    }
    for name, mart in marts.items():
        totals = mart.group_by("date", "region").agg(
            pl.col("revenue_usd").sum().alias("mart_revenue"), pl.col("units").sum().alias("mart_units")
        )
        joined = expected.join(totals, on=["date", "region"], how="full", coalesce=True)
        assert joined.height == 12, name
        assert joined.null_count().sum_horizontal().item() == 0, name
        worst = joined.select((pl.col("fact_revenue") - pl.col("mart_revenue")).abs().max()).item()
        assert worst < 1e-6, name
        assert (joined["fact_units"] == joined["mart_units"]).all(), name


def test_hand_made_fact_reconciles_too(
    fact: pl.DataFrame, dim_customer: pl.DataFrame, dim_product: pl.DataFrame
) -> None:
    total = fact["net_amount_usd"].sum()
    assert build_mart_daily_sales(fact)["revenue_usd"].sum() == pytest.approx(total)
    assert build_mart_customer_segment_performance(fact, dim_customer)["revenue_usd"].sum() == pytest.approx(total)
    assert build_mart_product_performance(fact, dim_product)["revenue_usd"].sum() == pytest.approx(total)


def test_marts_of_an_empty_partition_are_empty_and_typed(dim_customer: pl.DataFrame, dim_product: pl.DataFrame) -> None:
    empty = pl.DataFrame(schema=FACT_SALES_SCHEMA)
    for mart in (
        build_mart_daily_sales(empty),
        build_mart_customer_segment_performance(empty, dim_customer),
        build_mart_product_performance(empty, dim_product),
    ):
        assert mart.is_empty()
        assert mart.schema["revenue_usd"] == pl.Float64
        assert mart.columns[:2] == ["date", "region"]
