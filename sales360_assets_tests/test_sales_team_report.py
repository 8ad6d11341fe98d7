"""The sales team report: its period, its figures (equal to the marts'), its sections and dashboards."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.marts.campaigns import build_mart_campaign_effectiveness
from sales360_assets.marts.customers import build_mart_customer_segment_performance
from sales360_assets.marts.pipeline import build_mart_pipeline
from sales360_assets.marts.products import build_mart_product_performance
from sales360_assets.marts.sales import build_mart_daily_sales, build_mart_sales_performance
from sales360_assets.marts.seasonality import build_mart_seasonality
from sales360_assets.reports.charts import DASHBOARD_PNG, KPI_TREND_PNG
from sales360_assets.reports.periods import PeriodRequestError, resolve_period
from sales360_assets.reports.sales_team_report import (
    ReportInputs,
    SalesTeamReport,
    build_report,
)
from sales360_assets_tests.builders import (
    CAMPAIGNS_SCHEMA,
    dim_customer,
    dim_product,
    fact_opportunity,
    fact_sales,
    frame,
    sale,
)

FIRST = date(2024, 3, 4)  # Monday; two full weeks of data
DAYS = [FIRST + timedelta(days=i) for i in range(14)]
WEEK = (date(2024, 3, 11), date(2024, 3, 17))
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.mark.parametrize(
    ("first", "last", "expected"),
    [
        (date(2024, 3, 4), date(2024, 3, 10), ("week", date(2024, 3, 4), date(2024, 3, 10), None)),
        (
            date(2024, 3, 4),
            date(2024, 3, 22),
            ("week", date(2024, 3, 11), date(2024, 3, 17), (date(2024, 3, 4), date(2024, 3, 10))),
        ),
        (date(2024, 2, 1), date(2024, 3, 10), ("month", date(2024, 2, 1), date(2024, 2, 29), None)),
        (
            date(2024, 1, 1),
            date(2024, 3, 31),
            ("month", date(2024, 3, 1), date(2024, 3, 31), (date(2024, 2, 1), date(2024, 2, 29))),
        ),
        (date(2024, 3, 6), date(2024, 3, 8), ("window", date(2024, 3, 6), date(2024, 3, 8), None)),
    ],
)
def test_the_report_covers_the_latest_complete_period(
    first: date, last: date, expected: tuple[str, date, date, tuple[date, date] | None]
) -> None:
    period = resolve_period("latest", first, last)
    assert (period.kind, period.start, period.end, period.previous) == expected


def sales_fact() -> pl.DataFrame:
    rows = []
    for i, day in enumerate(DAYS):
        rows.append(sale(f"web:W{i}:1", day, 100.0 + i, quantity=2, cost_usd=40.0))
        rows.append(
            sale(f"pos:P{i}:1", day, 50.0, channel="pos", region="uk", customer_key="k-unidentified",
                 customer_ref=None, product_key="k-sku2", sku="SKU-2", cost_usd=60.0)
        )  # fmt: skip
        if day.weekday() == 2:
            rows.append(
                sale(f"crm:L{i}", day, 1000.0, channel="crm", order_id=f"OP{i}", customer_key="k-acme",
                     customer_ref="A1", cost_usd=500.0)
            )  # fmt: skip
    return fact_sales(rows)


@pytest.fixture(scope="module")
def marts() -> ReportInputs:
    fact = sales_fact()
    deals = fact_opportunity(
        [
            {"opportunity_id": "OP2", "campaign_id": "C1", "booking_date": DAYS[2], "close_date": DAYS[2],
             "created_date": DAYS[0], "amount_usd": 1000.0, "days_to_close": 2, "funnel_stage": "Closed Won",
             "is_closed": True},
            {"opportunity_id": "OPX", "close_date": DAYS[3], "created_date": DAYS[0], "amount_usd": 10.0,
             "funnel_stage": "Closed Lost", "is_closed": True},
        ]
    )  # fmt: skip
    attainment = pl.DataFrame(
        {
            "period_type": ["month", "month", "month"],
            "period_start": [date(2024, 3, 1)] * 3,
            "period_end": [date(2024, 3, 31)] * 3,
            "level": ["rep", "rep", "manager"],
            "user_id": ["U1", "U2", "M1"],
            "name": ["Una", "Udo", "Max"],
            "region": ["na", "na", "na"],
            "reps": [1, 1, 2],
            "quota_usd": [1000.0, 4000.0, 5000.0],
            "credited_bookings_usd": [1200.0, 1000.0, 2200.0],
            "attainment_pct": [120.0, 25.0, 44.0],
        }
    )
    campaigns = frame([{"campaign_id": "C1", "campaign_name": "Spring", "actual_cost": 500.0}], CAMPAIGNS_SCHEMA)
    return ReportInputs(
        daily_sales=build_mart_daily_sales(fact),
        segments=build_mart_customer_segment_performance(fact, dim_customer()),
        products=build_mart_product_performance(fact, dim_product()),
        sales_performance=build_mart_sales_performance(fact, dim_customer(), dim_product()),
        seasonality=build_mart_seasonality(fact),
        attainment=attainment,
        pipeline=build_mart_pipeline(deals),
        campaigns=build_mart_campaign_effectiveness(fact, deals, campaigns),
    )


@pytest.fixture(scope="module")
def report(marts: ReportInputs, tmp_path_factory: pytest.TempPathFactory) -> SalesTeamReport:
    return build_report(marts, tmp_path_factory.mktemp("reports"))


def figure(report: SalesTeamReport, section: str, metric: str, dimension: str = "") -> float:
    rows = report.figures.filter(
        pl.col("section") == section, pl.col("metric") == metric, pl.col("dimension") == dimension
    )
    assert rows.height == 1, (section, metric, dimension)
    return rows["value"].item()


def in_week(mart: pl.DataFrame) -> pl.DataFrame:
    return mart.filter(pl.col("date").is_between(*WEEK))


def test_the_report_is_about_the_latest_complete_week(report: SalesTeamReport) -> None:
    assert (report.period.kind, report.period.start, report.period.end) == ("week", *WEEK)
    assert report.markdown.startswith("# Sales team report — week 11 of 2024 (11 Mar – 17 Mar 2024)")


def test_headline_figures_equal_the_daily_mart(report: SalesTeamReport, marts: ReportInputs) -> None:
    week = in_week(marts.daily_sales)
    revenue, orders = week["revenue_usd"].sum(), week["orders"].sum()
    assert figure(report, "headline", "revenue_usd") == pytest.approx(revenue)
    assert figure(report, "headline", "orders") == orders
    assert figure(report, "headline", "average_order_value_usd") == pytest.approx(revenue / orders)
    assert figure(report, "headline", "gross_margin_pct") == pytest.approx(
        week["gross_margin_usd"].sum() / revenue * 100
    )
    previous = marts.daily_sales.filter(pl.col("date") < WEEK[0])
    assert figure(report, "headline_previous", "revenue_usd") == pytest.approx(previous["revenue_usd"].sum())
    assert f"| Revenue | ${revenue:,.2f} |" in report.markdown  # 2,120 USD: shown to the cent


def test_segment_figures_equal_the_segment_mart(report: SalesTeamReport, marts: ReportInputs) -> None:
    week = in_week(marts.segments).group_by("segment").agg(pl.col("revenue_usd", "units", "orders").sum())
    assert week.height == 3
    for row in week.iter_rows(named=True):
        segment = row["segment"]
        assert figure(report, "segments", "revenue_usd", segment) == pytest.approx(row["revenue_usd"])
        assert figure(report, "segments", "units", segment) == row["units"]
        assert figure(report, "segments", "orders", segment) == row["orders"]
        assert figure(report, "segments", "average_selling_price_usd", segment) == pytest.approx(
            row["revenue_usd"] / row["units"]
        )


def test_portfolio_figures_equal_the_product_and_category_marts(report: SalesTeamReport, marts: ReportInputs) -> None:
    categories = in_week(marts.sales_performance).group_by("category").agg(pl.col("revenue_usd").sum())
    for row in categories.iter_rows(named=True):
        assert figure(report, "categories", "revenue_usd", row["category"]) == pytest.approx(row["revenue_usd"])
    products = in_week(marts.products).group_by("sku").agg(pl.col("gross_margin_usd").sum())
    margin = dict(products.rows())
    assert figure(report, "most_profitable", "gross_margin_usd", "SKU-1") == pytest.approx(margin["SKU-1"])
    assert figure(report, "least_profitable", "gross_margin_usd", "SKU-2") == pytest.approx(margin["SKU-2"])
    assert figure(report, "portfolio", "loss_making_products") == 1.0  # SKU-2 sells at a loss in stores


def test_seasonality_team_and_pipeline_figures_equal_their_marts(report: SalesTeamReport, marts: ReportInputs) -> None:
    peak = marts.seasonality.filter(pl.col("region") == "all", pl.col("index_type") == "weekly", pl.col("is_peak"))
    assert figure(report, "seasonality", "peak_weekday_index", f"all:{peak['period_name'].item()}") == pytest.approx(
        peak["seasonal_index"].item()
    )
    assert figure(report, "sales_team", "manager_attainment_pct", "Max") == 44.0
    # 17 of March's 31 days are in the data: U1 (120 %) is on pace, U2 (25 %) below half of it.
    assert figure(report, "sales_team", "month_elapsed_pct") == pytest.approx(17 / 31 * 100)
    assert figure(report, "sales_team", "reps_on_pace") == 1.0
    assert figure(report, "sales_team", "reps_below_half_pace") == 1.0
    pipe = marts.pipeline.filter(pl.col("month") == date(2024, 3, 1), pl.col("region") == "na").row(0, named=True)
    assert figure(report, "pipeline", "win_rate_pct", "na") == pytest.approx(pipe["win_rate_pct"])
    assert figure(report, "campaigns", "influenced_revenue_usd", "Spring") == pytest.approx(
        marts.campaigns.filter(pl.col("campaign_id") == "C1")["influenced_revenue_usd"].item()
    )


def test_the_report_has_every_section_and_both_dashboards(report: SalesTeamReport) -> None:
    for heading in (
        "## Scope",
        "## Headline",
        "## Key insights by customer segment",
        "## Product portfolio",
        "## Regions and channels",
        "## Seasonality",
        "## Sales team",
        "## Recommended actions",
        "## Success metrics for the next period",
        "## Risks",
    ):
        assert heading in report.markdown, heading
    assert f"]({KPI_TREND_PNG})" in report.markdown and f"]({DASHBOARD_PNG})" in report.markdown
    for png in (report.kpi_trend_png, report.dashboard_png):
        data = Path(png).read_bytes()
        assert data.startswith(PNG_SIGNATURE) and len(data) > 20_000, png
    assert report.report_path.read_text(encoding="utf-8") == report.markdown
    # Actions follow from the figures: the loss-making SKU and the campaign that paid back.
    assert "`SKU-2`" in report.markdown.split("## Recommended actions")[1]
    assert "Scale what worked: **Spring**" in report.markdown


@pytest.mark.parametrize(
    ("request_text", "expected"),
    [
        ("month", ("month", date(2024, 2, 1), date(2024, 2, 29), (date(2024, 1, 1), date(2024, 1, 31)))),
        ("week", ("week", date(2024, 3, 4), date(2024, 3, 10), (date(2024, 2, 26), date(2024, 3, 3)))),
        ("quarter", ("quarter", date(2023, 10, 1), date(2023, 12, 31), (date(2023, 7, 1), date(2023, 9, 30)))),
        ("year", ("year", date(2023, 1, 1), date(2023, 12, 31), None)),
        ("all", ("all", date(2022, 7, 1), date(2024, 3, 13), None)),
        ("2023-Q3", ("quarter", date(2023, 7, 1), date(2023, 9, 30), (date(2023, 4, 1), date(2023, 6, 30)))),
        (" 2023-q4 ", ("quarter", date(2023, 10, 1), date(2023, 12, 31), (date(2023, 7, 1), date(2023, 9, 30)))),
        ("2023-02", ("month", date(2023, 2, 1), date(2023, 2, 28), (date(2023, 1, 1), date(2023, 1, 31)))),
        ("2023", ("year", date(2023, 1, 1), date(2023, 12, 31), None)),
    ],
)
def test_a_report_period_can_be_requested(
    request_text: str, expected: tuple[str, date, date, tuple[date, date] | None]
) -> None:
    """Data from Fri 1 Jul 2022 to Wed 13 Mar 2024: every kind of period, latest complete or named."""
    period = resolve_period(request_text, date(2022, 7, 1), date(2024, 3, 13))
    assert (period.kind, period.start, period.end, period.previous) == expected


@pytest.mark.parametrize(
    ("request_text", "message"),
    [
        ("2024-Q1", "2024-Q1 is not complete in the data (the data covers 2022-07-01 to 2024-03-13)"),
        ("2022-06", "2022-06 is not complete in the data"),
        ("fortnight", "report period 'fortnight' is not one of: latest, week, month, quarter, year, all"),
        ("2023-13", "is not one of"),
        ("0000", "is not one of"),  # was a bare ValueError from datetime (review)
        ("9999-12", "is not one of"),
    ],
)
def test_a_period_the_data_cannot_answer_says_what_it_can(request_text: str, message: str) -> None:
    with pytest.raises(PeriodRequestError, match=re.escape(message)):
        resolve_period(request_text, date(2022, 7, 1), date(2024, 3, 13))
    with pytest.raises(PeriodRequestError, match="no complete year in the data"):
        resolve_period("year", date(2024, 1, 1), date(2024, 3, 13))


def test_the_whole_history_report_totals_the_fact_table(marts: ReportInputs, tmp_path: Path) -> None:
    """`all`: the headline and the segment table cover every day, totalled from fact_sales itself."""
    report = build_report(marts, tmp_path, period_request="all")
    fact = sales_fact()
    assert (report.period.start, report.period.end) == (fact["date"].min(), fact["date"].max())
    assert figure(report, "headline", "revenue_usd") == pytest.approx(fact["net_amount_usd"].sum())
    assert figure(report, "headline", "orders") == fact["order_id"].n_unique()
    days = (fact["date"].max() - fact["date"].min()).days + 1
    assert f"({days} days, the whole history in the data)" in report.markdown
    by_segment = fact.join(dim_customer().select("customer_key", "segment"), on="customer_key", how="left")
    for segment, revenue in by_segment.group_by("segment").agg(pl.col("net_amount_usd").sum()).iter_rows():
        assert figure(report, "segments", "revenue_usd", segment) == pytest.approx(revenue)


def test_a_window_without_a_complete_week_says_so() -> None:
    period = resolve_period("latest", date(2026, 3, 4), date(2026, 3, 8))
    assert (period.kind, period.scope) == ("window", "the whole window: the data covers no complete week yet")
