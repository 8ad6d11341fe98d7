"""Issue 10: local amounts keep their currency's decimals (JPY 0, USD 2) as exact decimals.

A price or discount finer than its currency allows is dead-lettered with the rule (rounding it
would change the sale); the facts store local amounts as Decimal, so a JPY sale is whole yen
and sums exactly.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import polars as pl

from sales360_assets.core.schemas import FACT_BOOKING_LINE_SCHEMA, FACT_OPPORTUNITY_SCHEMA, FACT_SALES_SCHEMA
from sales360_assets.money import LOCAL_AMOUNT, finer_than_currency, minor_units
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.staging import pos, salesforce, warehouse
from sales360_assets_tests.conftest import MaterializedLake
from sales360_assets_tests.test_staging_transforms import pos_line, pos_raw, reasons

FRI = date(2026, 3, 6)
LOADED = datetime(2026, 3, 7, 1, tzinfo=UTC)


def rates() -> pl.DataFrame:
    return pl.DataFrame({"rate_date": [FRI] * 3, "currency": ["JPY", "USD", "EUR"], "usd_per_unit": [0.0067, 1.0, 1.1]})


def test_large_amounts_finer_than_the_currency_are_still_seen() -> None:
    """A tolerance relative to the amount let 6000.005 USD and 600000.5 JPY through."""
    amounts = pl.DataFrame(
        {
            "amount": [6000.005, 12345.678, 600000.5, 123456789.12, 0.1 + 0.2, 3 * 19.99, 10_000_000.0],
            "currency": ["USD", "USD", "JPY", "USD", "USD", "USD", "JPY"],
        }
    )
    flagged = amounts.select(finer_than_currency(pl.col("amount"), "currency"))["amount"].to_list()
    assert flagged == [True, True, True, False, False, False, False]


def test_minor_units_follow_iso_4217() -> None:
    assert (minor_units("JPY"), minor_units("usd"), minor_units("KWD"), minor_units("AUD")) == (0, 2, 3, 2)


def web_lines(rows: list[tuple[str, float, float]]) -> warehouse.StagingResult:
    """One order per (currency, unit price, discount), one line each."""
    orders = pl.DataFrame(
        [
            {"order_id": f"O{i}", "customer_id": "C1", "order_ts": datetime(2026, 3, 6, 9, tzinfo=UTC),
             "order_date": FRI, "region": "emea", "currency": cur, "status": "completed", "_loaded_at": LOADED,
             "date": FRI}
            for i, (cur, _, _) in enumerate(rows)
        ],
        schema={**WAREHOUSE_TABLES["orders"].columns, "date": pl.Date},
    )  # fmt: skip
    lines = pl.DataFrame(
        [
            {"order_id": f"O{i}", "line_number": 1, "sku": "SKU-1", "quantity": 3, "unit_price": price,
             "discount_amount": discount, "order_date": FRI, "region": "emea", "_loaded_at": LOADED, "date": FRI}
            for i, (_, price, discount) in enumerate(rows)
        ],
        schema={**WAREHOUSE_TABLES["order_lines"].columns, "date": pl.Date},
    )  # fmt: skip
    staged_orders = warehouse.stage_orders(orders).staged
    return warehouse.stage_order_lines(lines, staged_orders, rates())


def test_web_prices_finer_than_the_currency_are_dead_lettered() -> None:
    result = web_lines(
        [
            ("JPY", 1000.0, 0.0),  # whole yen: kept
            ("JPY", 99.5, 0.0),  # half a yen does not exist
            ("USD", 19.99, 0.1 + 0.2),  # binary float noise is not a fraction of a cent
            ("USD", 10.0, 1.005),  # a tenth of a cent
        ]
    )
    assert result.reconciles
    assert reasons(result) == {
        "O1|1": "unit price 99.5 has more decimals than JPY allows (0)",
        "O3|1": "discount 1.005 has more decimals than USD allows (2)",
    }
    assert sorted(result.staged["order_id"].to_list()) == ["O0", "O2"]


def test_pos_prices_finer_than_the_currency_are_dead_lettered() -> None:
    raw = pos_raw([pos_line("T1", unit_price="10.505"), pos_line("T2", unit_price="10.50", discount="0.125")])
    result = pos.stage_pos_transactions(raw, rates())
    assert sorted(reasons(result).values()) == [
        "discount 0.125 has more decimals than EUR allows (2)",
        "unit price 10.505 has more decimals than EUR allows (2)",
    ]


def test_crm_amounts_finer_than_the_currency_are_dead_lettered() -> None:
    t1 = datetime(2026, 3, 1, tzinfo=UTC)
    deal = dict.fromkeys(SALESFORCE_OBJECTS["Opportunity"].columns)
    deal.update(
        SystemModstamp=t1, IsDeleted=False, OwnerId="U1", StageName="Closed Won", CloseDate=FRI,
        CurrencyIsoCode="JPY", IsClosed=True, IsWon=True,
    )  # fmt: skip
    raw = pl.DataFrame(
        [{**deal, "Id": "006A", "Amount": 120000.0}, {**deal, "Id": "006B", "Amount": 120000.4}],
        schema=SALESFORCE_OBJECTS["Opportunity"].columns,
    )
    result = salesforce.stage_opportunities(raw, rates())
    assert list(reasons(result).values()) == ["amount 120000.4 has more decimals than JPY allows (0)"]
    assert result.staged["opportunity_id"].to_list() == ["006A"]


def test_fact_local_amounts_are_exact_decimals() -> None:
    local_columns = [
        (schema, column)
        for schema in (FACT_SALES_SCHEMA, FACT_OPPORTUNITY_SCHEMA, FACT_BOOKING_LINE_SCHEMA)
        for column in schema
        if column.endswith("_local")
    ]
    assert len(local_columns) == 6
    assert all(schema[column] == LOCAL_AMOUNT for schema, column in local_columns)


def test_materialized_jpy_sales_are_whole_yen_and_sum_exactly(materialized: MaterializedLake) -> None:
    """Through the real daily run: fact_sales' local amounts are Decimal; JPY lines are whole yen."""
    sales = materialized.lake.read("fact_sales")
    assert sales.schema["net_amount_local"] == LOCAL_AMOUNT
    yen = sales.filter(pl.col("currency") == "JPY")["net_amount_local"]
    assert yen.len() > 0
    assert all(value == value.to_integral_value() for value in yen.to_list())
    lines = sales.select("gross_amount_local", "discount_amount_local", "net_amount_local").rows()
    # gross − discount = net holds exactly in decimals (it only held approximately in float64).
    assert all(gross - discount == net for gross, discount, net in lines)
    assert isinstance(yen.sum(), Decimal)
