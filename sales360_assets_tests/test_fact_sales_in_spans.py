"""``fact_sales`` built a span of months at a time (what the asset writes) is the range's fact, row for row."""

from __future__ import annotations

from datetime import date

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets import frames
from sales360_assets.core.dimensions import build_dim_customer, build_dim_product, build_dim_sales_rep
from sales360_assets.core.sales import build_fact_sales, staged_lines_in_month_spans
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


def on_days(lines: pl.DataFrame, column: str, days: list[date]) -> pl.DataFrame:
    """The sample's lines (or deals) moved onto ``days``, cycling through them."""
    return lines.with_columns(pl.Series(column, [days[i % len(days)] for i in range(lines.height)], dtype=pl.Date))


@pytest.mark.parametrize("line_days", [EDGE_DAYS, EDGE_DAYS[:3]], ids=["lines every month", "deals alone in march"])
def test_the_spans_together_are_the_whole_range(line_days: list[date], monkeypatch: pytest.MonkeyPatch) -> None:
    web = on_days(web_lines(), "date", line_days)
    pos = on_days(pos_lines(), "date", line_days)
    deals = on_days(opportunities(), "close_date", EDGE_DAYS)
    dims = (
        build_dim_sales_rep(users()),
        build_dim_customer(customers(), accounts(), contacts()),
        build_dim_product(products(), crm_products()),
    )
    crm = (deals, opportunity_lines())

    whole = build_fact_sales(web, pos, *crm, *dims, START, END, REGIONS)
    assert set(whole["channel"]) == {"web", "pos", "crm"}
    crm_months = set(whole.filter(pl.col("channel") == "crm")["date"].dt.month())
    assert crm_months - {d.month for d in line_days} or line_days == EDGE_DAYS  # deals in months without lines
    # A month at a time (January from the 15th; months without lines join the one before), and one pass.
    for max_rows, spans in ((1, 1 + len({d.month for d in line_days[1:]})), (10_000, 1)):
        monkeypatch.setattr(frames, "ROWS_PER_BLOCK", max_rows)
        parts = [
            build_fact_sales(web_span, pos_span, *crm, *dims, first, last, REGIONS)
            for first, last, web_span, pos_span in staged_lines_in_month_spans(web.lazy(), pos.lazy(), START, END)
        ]
        assert len(parts) == spans
        assert_frame_equal(pl.concat(parts), whole)
