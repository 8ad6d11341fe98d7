"""``fact_sales`` built a month at a time (what the asset writes) is the range's fact, row for row."""

from __future__ import annotations

from datetime import date

import polars as pl
from polars.testing import assert_frame_equal

from sales360_assets.core.dimensions import build_dim_customer, build_dim_product, build_dim_sales_rep
from sales360_assets.core.sales import build_fact_sales, staged_lines_by_month
from sales360_assets_tests.test_core_transforms import (
    REGIONS,
    accounts,
    contacts,
    crm_products,
    customers,
    opportunities,
    opportunity_lines,
    pos_lines,
    products,
    users,
    web_lines,
)

# Month edges on both sides, a leap day, and a range that starts and ends mid-month.
START, END = date(2024, 1, 15), date(2024, 4, 10)
EDGE_DAYS = [
    date(2024, 1, 31),
    date(2024, 2, 1),
    date(2024, 2, 29),
    date(2024, 3, 1),
    date(2024, 3, 31),
    date(2024, 4, 10),
]


def on_edge_days(lines: pl.DataFrame, column: str) -> pl.DataFrame:
    """The sample's lines (or deals) moved onto the edge days, cycling through them."""
    days = pl.Series([EDGE_DAYS[i % len(EDGE_DAYS)] for i in range(lines.height)], dtype=pl.Date)
    return lines.with_columns(days.alias(column))


def test_the_months_together_are_the_whole_range() -> None:
    web = on_edge_days(web_lines(), "date")
    pos = on_edge_days(pos_lines(), "date")
    deals = on_edge_days(opportunities(), "close_date")
    dims = (
        build_dim_sales_rep(users()),
        build_dim_customer(customers(), accounts(), contacts()),
        build_dim_product(products(), crm_products()),
    )
    crm = (deals, opportunity_lines())

    whole = build_fact_sales(web, pos, *crm, *dims, START, END, REGIONS)
    months = [
        build_fact_sales(web_month, pos_month, *crm, *dims, first, last, REGIONS)
        for first, last, web_month, pos_month in staged_lines_by_month(web.lazy(), pos.lazy(), START, END)
    ]

    assert len(months) == 4  # January (from the 15th) to April (to the 10th)
    assert whole["date"].n_unique() == len(EDGE_DAYS) and set(whole["channel"]) == {"web", "pos", "crm"}
    assert_frame_equal(pl.concat(months), whole)
    for month in months:
        assert month["date"].dt.month_start().n_unique() <= 1
