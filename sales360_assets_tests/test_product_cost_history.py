"""Issue 12 item 6: product cost is a type 2 dimension; each sale carries the cost of its day.

The export's catalogue gives SKU-000 a cost history (4.00 USD, then 9.00 USD from Thursday
5 March 2026). Through a real Dagster run, fact_sales must cost Monday–Wednesday lines at 4.00
and Thursday–Sunday lines at 9.00; on today's main every line took today's 9.00.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.core.dimensions import build_dim_product
from sales360_assets.core.product_cost import build_dim_product_cost
from sales360_assets.core.sales import _attach_product
from sales360_assets.core.scd import BEGINNING_OF_TIME, END_OF_TIME
from sales360_assets.settings import SOURCES_ENV
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.staging import warehouse
from sales360_assets_tests.builders import fact_sales, sale
from sales360_assets_tests.conftest import SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance
from sales360_assets_tests.test_bring_your_own_export import write_export
from sales360_assets_tests.test_core_transforms import CRM_PRODUCTS_SCHEMA

pytestmark = pytest.mark.integration

CHANGED_ON = date(2026, 3, 5)
OLD_COST, NEW_COST = 4.0, 9.0


def add_cost_history(sources: Path) -> None:
    """SKU-000 cost 4.00 until 4 March, 9.00 from 5 March: two catalogue rows with cost_valid_from."""
    path = sources / "warehouse" / "products" / "products.parquet"
    products = pl.read_parquet(path).with_columns(pl.lit(None, dtype=pl.Date).alias("cost_valid_from"))
    sku = products.filter(pl.col("sku") == "SKU-000")
    history = pl.concat(
        [
            sku.with_columns(pl.lit(OLD_COST).alias("standard_cost_usd"), pl.lit(date(2025, 1, 1)).alias("cost_valid_from")),
            sku.with_columns(pl.lit(NEW_COST).alias("standard_cost_usd"), pl.lit(CHANGED_ON).alias("cost_valid_from"),
                             pl.lit(datetime(2026, 3, 5, tzinfo=UTC)).alias("updated_at")),
        ]
    )  # fmt: skip
    pl.concat([products.filter(pl.col("sku") != "SKU-000"), history]).write_parquet(path)


def test_dim_product_cost_versions_are_half_open_and_the_first_covers_earlier_sales() -> None:
    history = pl.DataFrame(
        {
            "sku": ["A", "A", "B"],
            "cost_valid_from": [date(2025, 1, 1), CHANGED_ON, None],
            "standard_cost_usd": [OLD_COST, NEW_COST, 2.0],
        }
    )
    dim = build_dim_product_cost(history).sort("sku", "valid_from")
    assert dim.select("sku", "valid_from", "valid_to", "standard_cost_usd", "is_current").rows() == [
        ("A", BEGINNING_OF_TIME, CHANGED_ON, OLD_COST, False),
        ("A", CHANGED_ON, END_OF_TIME, NEW_COST, True),
        ("B", BEGINNING_OF_TIME, END_OF_TIME, 2.0, True),
    ]


def catalogue(rows: list[tuple[str, float, date | None]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"sku": sku, "product_name": sku, "category": "c", "subcategory": "s", "brand": "b",
             "list_price_usd": 10.0, "standard_cost_usd": cost, "updated_at": datetime(2026, 1, 1, tzinfo=UTC),
             "cost_valid_from": valid_from}
            for sku, cost, valid_from in rows
        ],
        schema={**WAREHOUSE_TABLES["products"].columns},
    )  # fmt: skip


def test_a_cost_announced_for_the_future_is_not_the_current_one() -> None:
    """Review finding: the latest cost_valid_from (2027) was shown as today's cost."""
    raw = catalogue([("A", 4.0, date(2026, 1, 1)), ("A", 9.0, date(2027, 1, 1)), ("B", 2.0, date(2027, 5, 1))])
    staged = warehouse.stage_products(raw, as_of=date(2026, 6, 1)).staged.sort("sku")
    assert staged.select("sku", "standard_cost_usd").rows() == [("A", 4.0), ("B", 2.0)]
    history = warehouse.stage_product_cost_history(raw).staged
    current = build_dim_product_cost(history, as_of=date(2026, 6, 1)).filter(pl.col("is_current"))
    # B's only version also covers earlier dates (no earlier cost is known), so it is current too.
    assert current.select("sku", "standard_cost_usd").sort("sku").rows() == [("A", 4.0), ("B", 2.0)]


def test_an_unusable_cost_is_a_dead_letter_or_a_flag_never_a_silent_margin() -> None:
    """NaN cost is dead-lettered (it made every cost sum NaN); a null cost flags the line as uncosted."""
    result = warehouse.stage_products(catalogue([("A", float("nan"), None), ("B", 2.0, None)]))
    assert result.rejected["reason"].to_list() == ["standard cost NaN is not a finite number"]
    products = build_dim_product(
        catalogue([("A", None, None), ("B", 2.0, None)]), pl.DataFrame(schema=CRM_PRODUCTS_SCHEMA)
    )
    sales = fact_sales(
        [sale("web:1:1", date(2026, 3, 2), 100.0, sku="A"), sale("web:2:1", date(2026, 3, 2), 100.0, sku="B")]
    )
    lines = _attach_product(sales.drop("product_key", "is_unmapped_product"), products)
    assert dict(lines.select("sku", "is_unmapped_product").rows()) == {"A": True, "B": False}


def test_each_sale_is_costed_at_the_cost_of_its_day(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    expected = write_export(tmp_path / "sources")
    add_cost_history(tmp_path / "sources")
    with project_instance() as instance:
        lake = materialize_into(tmp_path, SampleSources(tmp_path / "sources", {}), instance).lake
    sold = expected.filter(pl.col("sku") == "SKU-000")
    assert sold["order_date"].min() < CHANGED_ON <= sold["order_date"].max(), "the export must sell on both sides"

    facts = lake.read("fact_sales").filter(pl.col("sku") == "SKU-000")
    assert facts.height == sold.height
    for row in facts.iter_rows(named=True):
        unit_cost = OLD_COST if row["date"] < CHANGED_ON else NEW_COST
        assert (row["unit_cost_usd"], row["cost_usd"]) == (unit_cost, pytest.approx(row["quantity"] * unit_cost))
    want = sold.select(
        (pl.col("quantity") * pl.when(pl.col("order_date") < CHANGED_ON).then(OLD_COST).otherwise(NEW_COST)).sum()
    ).item()
    assert facts["cost_usd"].sum() == pytest.approx(want)

    # The catalogue still shows one current product, with today's cost; both versions are dead-letter free.
    current = lake.read("dim_product").filter(pl.col("sku") == "SKU-000")
    assert current["standard_cost_usd"].to_list() == [NEW_COST]
    assert lake.read("dim_product_cost").filter(pl.col("sku") == "SKU-000").height == 2
    letters = lake.read("dead_letter")
    assert letters.height == 0, letters.group_by("source_table", "reason").len().rows()[:5]
