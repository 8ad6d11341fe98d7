"""Small hand-made baskets, customers and products for the recommendation and forecast tests."""

from __future__ import annotations

from datetime import date

import polars as pl


def products(rows: list[tuple[str, str, str, float]]) -> pl.DataFrame:
    """(product_key, category, subcategory, list_price_usd); names are 'name-<key>'; plus the unknown member."""
    known = pl.DataFrame(
        {
            "product_key": [r[0] for r in rows],
            "sku": [f"SKU-{r[0]}" for r in rows],
            "product_name": [f"name-{r[0]}" for r in rows],
            "category": [r[1] for r in rows],
            "subcategory": [r[2] for r in rows],
            "list_price_usd": [r[3] for r in rows],
            "is_unknown_member": [False] * len(rows),
        }
    )
    unknown = pl.DataFrame(
        {
            "product_key": ["unmapped"],
            "sku": [None],
            "product_name": ["Unmapped product"],
            "category": ["Unmapped"],
            "subcategory": ["Unmapped"],
            "list_price_usd": [None],
            "is_unknown_member": [True],
        },
        schema=known.schema,
    )
    return pl.concat([known, unknown])


def customers(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    """(customer_key, segment, region), plus the unknown member 'anon'."""
    return pl.DataFrame(
        {
            "customer_key": [r[0] for r in rows] + ["anon"],
            "segment": [r[1] for r in rows] + ["Unknown"],
            "region": [r[2] for r in rows] + ["na"],
            "is_unknown_member": [False] * len(rows) + [True],
        }
    )


def lines(rows: list[tuple[str, date, str, str, float]], region: str = "na", channel: str = "web") -> pl.DataFrame:
    """Fact lines (order_id, date, customer_key, product_key, net_amount_usd), one unit each."""
    return pl.DataFrame(
        {
            "date": [r[1] for r in rows],
            "region": [region] * len(rows),
            "channel": [channel] * len(rows),
            "order_id": [r[0] for r in rows],
            "customer_key": [r[2] for r in rows],
            "product_key": [r[3] for r in rows],
            "quantity": [1.0] * len(rows),
            "net_amount_usd": [r[4] for r in rows],
        }
    )
