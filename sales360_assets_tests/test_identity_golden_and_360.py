"""Known answers for survivorship (golden record) and the customer 360 mart."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.identity import golden
from sales360_assets.identity.customer360 import build_mart_customer_360
from sales360_assets.identity.golden import build_golden_records, golden_record_blocks, load_survivorship
from sales360_assets.identity.records import RECORD_SCHEMA

T1, T2 = datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 3, 1, tzinfo=UTC)


def _record(system: str, key: str, observed: datetime, **values: str | None) -> dict[str, object]:
    row: dict[str, object] = {c: None for c in RECORD_SCHEMA}
    return row | {"record_id": f"{system}:{key}", "system": system, "source_key": key, "observed_at": observed} | values


def _crosswalk(rows: list[tuple[str, str, str]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows, schema={"system": pl.String, "source_key": pl.String, "customer_id": pl.String}, orient="row"
    )


def test_survivorship_takes_the_most_trusted_source_then_the_most_recent() -> None:
    records = pl.DataFrame(
        [
            _record("pos", "L1", T2, first_name="ANNA", email="anna@x.com", email_key="anna@x.com"),
            _record("warehouse", "C1", T1, first_name="Anna", last_name="Smith", country="GB"),
            _record("warehouse", "C2", T2, first_name="Anne", country=None),
            _record("salesforce", "003", T2, account_id="001A", phone_e164="+442079460123"),
        ],
        schema=RECORD_SCHEMA,
    )
    crosswalk = _crosswalk(
        [
            ("pos", "L1", "p1"),
            ("warehouse", "C1", "p1"),
            ("warehouse", "C2", "p1"),
            ("salesforce", "003", "p1"),
            ("pos", "GONE", "p2"),
        ]
    )
    golden = build_golden_records(records, crosswalk, load_survivorship())
    person = golden.filter(pl.col("customer_id") == "p1").row(0, named=True)
    assert person["first_name"] == "Anne"  # web outranks the till; the newer web account wins
    assert person["last_name"] == "Smith" and person["country"] == "GB"  # a null never wins
    assert person["email"] == "anna@x.com"  # only the till knew it
    assert person["phone"] == "+442079460123" and person["account_id"] == "001A"
    assert person["home_region"] == "uk" and person["source_records"] == 4
    # A customer whose only source id vanished keeps a row, so its old facts still resolve.
    assert golden.filter(pl.col("customer_id") == "p2")["first_name"].to_list() == [None]


def test_survivorship_file_refuses_an_unknown_source(tmp_path: Path) -> None:
    path = tmp_path / "survivorship.yaml"
    path.write_text("attributes:\n  first_name: {sources: [warehouse, fax]}\n")
    with pytest.raises(ValueError, match="fax"):
        load_survivorship(path)


def _sale(channel: str, ref: str, day: date, order: str, revenue: float, product: str = "P1") -> dict[str, object]:
    return {
        "channel": channel,
        "date": day,
        "region": "uk",
        "order_id": order,
        "customer_ref": ref,
        "product_key": product,
        "net_amount_usd": revenue,
        "gross_margin_usd": revenue / 4,
    }


def test_customer_360_joins_every_channel_through_the_crosswalk() -> None:
    crosswalk = _crosswalk(
        [
            ("warehouse", "C1", "p1"),
            ("pos", "L1", "p1"),
            ("salesforce_account", "001A", "a1"),
            ("warehouse", "C2", "p2"),
        ]
    )
    golden = pl.DataFrame(
        {
            "customer_id": ["p1", "a1", "p2"],
            "customer_type": ["person", "account", "person"],
            "first_name": ["Anna", None, "Tom"],
            "last_name": ["Smith", "Acme Ltd", "Lee"],
            "segment": ["Consumer", "Enterprise", "Consumer"],
            "home_region": ["uk", "uk", "na"],
            "systems": [["pos", "warehouse"], ["salesforce_account"], ["warehouse"]],
            "account_id": ["001A", "001A", None],
        }
    )
    sales = pl.DataFrame(
        [
            _sale("web", "C1", date(2026, 1, 5), "W1", 100.0),
            _sale("pos", "L1", date(2026, 3, 1), "T1", 50.0, "P2"),
            _sale("crm", "001A", date(2026, 2, 1), "O1", 1000.0),
            _sale("pos", None, date(2026, 3, 2), "T9", 7.0),  # anonymous: nobody's
            _sale("web", "C2", date(2026, 1, 2), "W2", 10.0),
        ]
    )
    products = pl.DataFrame({"product_key": ["P1", "P2"], "category": ["Home", "Apparel"]})
    opportunities = pl.DataFrame(
        {
            "opportunity_id": ["O2", "O3", "O4"],
            "account_id": ["001A", "001A", "001A"],
            "is_closed": [False, False, True],
            "amount_usd": [300.0, 500.0, 900.0],
            "owner_id": ["U1", "U2", "U1"],
        }
    )
    reps = pl.DataFrame({"user_id": ["U1", "U2"], "name": ["Rita Rep", "Sam Seller"], "is_current": [True, True]})
    mart = build_mart_customer_360(golden, crosswalk, sales, products, opportunities, reps)
    anna = mart.filter(pl.col("customer_id") == "p1").row(0, named=True)
    assert anna["lifetime_revenue_usd"] == 150.0 and anna["lifetime_margin_usd"] == 37.5
    assert anna["orders"] == 2 and anna["first_purchase_date"] == date(2026, 1, 5)
    assert anna["web_revenue_share"] == pytest.approx(2 / 3) and anna["store_revenue_share"] == pytest.approx(1 / 3)
    assert anna["preferred_categories"] == ["Home", "Apparel"]
    assert anna["recency_days"] == 1  # to the newest sale date, 2 March
    assert anna["open_opportunities"] == 2 and anna["open_pipeline_usd"] == 800.0
    assert anna["opportunity_owner"] == "Sam Seller"
    assert mart["lifetime_revenue_usd"].sum() == 1160.0  # the anonymous receipt belongs to nobody
    tom = mart.filter(pl.col("customer_id") == "p2").row(0, named=True)
    assert tom["recency_score"] < anna["recency_score"] and tom["open_opportunities"] == 0


def test_categories_with_the_same_revenue_rank_by_name_whatever_the_summing_order() -> None:
    """0.1 + 0.2 is 0.30000000000000004 in floating point: summed line by line, Home's 30 cents
    "beat" Apparel's 30 cents. Revenue is compared to the cent, so the tie goes to the name."""
    crosswalk = _crosswalk([("warehouse", "C1", "p1")])
    golden = pl.DataFrame(
        {
            "customer_id": ["p1"],
            "customer_type": ["person"],
            "first_name": ["Anna"],
            "last_name": ["Smith"],
            "segment": ["Consumer"],
            "home_region": ["uk"],
            "systems": [["warehouse"]],
            "account_id": [None],
        },
        schema_overrides={"account_id": pl.String},
    )
    sales = pl.DataFrame(
        [
            _sale("web", "C1", date(2026, 1, 5), "W1", 0.1, "HOME"),
            _sale("web", "C1", date(2026, 1, 5), "W1", 0.2, "HOME"),
            _sale("web", "C1", date(2026, 1, 6), "W2", 0.3, "APPAREL"),
        ]
    )
    products = pl.DataFrame({"product_key": ["HOME", "APPAREL"], "category": ["Home", "Apparel"]})
    no_deals = pl.DataFrame(
        schema={
            "opportunity_id": pl.String,
            "account_id": pl.String,
            "is_closed": pl.Boolean,
            "amount_usd": pl.Float64,
            "owner_id": pl.String,
        }
    )
    reps = pl.DataFrame({"user_id": ["U1"], "name": ["Rita Rep"], "is_current": [True]})
    mart = build_mart_customer_360(golden, crosswalk, sales, products, no_deals, reps)
    assert mart["preferred_categories"].to_list() == [["Apparel", "Home"]]


def test_golden_record_built_a_range_of_customers_at_a_time_is_the_whole_table(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Above ROWS_PER_BLOCK crosswalk rows the golden record is built a range of customer ids at a
    time (3.3 GiB whole at 10 M order lines); every customer's records reach its range, so the
    ranges together are the table built whole, in customer_id order."""
    systems = ["warehouse", "pos", "salesforce"]
    records = pl.DataFrame(
        [
            _record(system, f"{system}-{n}", T1 if n % 2 else T2, first_name=f"F{n}", country="GB")
            for n in range(300)
            for system in systems
        ],
        schema=RECORD_SCHEMA,
    )
    # Hex-like ids across every first digit; each customer joins two to three source records.
    crosswalk = _crosswalk(
        [(system, f"{system}-{n}", f"{(n // 2) * 2654435761 % 16**8:08x}") for n in range(300) for system in systems]
        + [("pos", "GONE", "zz-deleted"), ("pos", "NO-ID", None)]  # a null id groups as in one pass
    )
    whole = build_golden_records(records, crosswalk, load_survivorship())
    monkeypatch.setattr(golden, "ROWS_PER_BLOCK", 50)
    blocks = list(golden_record_blocks(records.lazy(), crosswalk.lazy(), load_survivorship()).make())
    assert len(blocks) == 8
    assert_frame_equal(pl.concat(blocks), whole)
