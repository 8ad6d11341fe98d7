"""Staging rules on hand-made raw rows: every defect class lands in dead letters with its reason."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime

import polars as pl
import pytest

from sales360_assets.sources.contract import POS_TRANSACTIONS, WAREHOUSE_TABLES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.staging import pos, salesforce, warehouse
from sales360_assets.staging.quality import StagingResult

FRI, SAT = date(2026, 3, 6), date(2026, 3, 7)


def fx_rates() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "rate_date": [date(2026, 3, 5), FRI, FRI, FRI],
            "currency": ["EUR", "EUR", "USD", "GBP"],
            "usd_per_unit": [1.05, 1.10, 1.0, 1.25],
        }
    )


def reasons(result: StagingResult) -> dict[str, str]:
    return dict(zip(result.rejected["source_key"], result.rejected["reason"], strict=True))


def pos_line(txn: str, line: str = "1", **overrides: str | None) -> dict[str, object]:
    row: dict[str, object] = {c: "" for c in POS_TRANSACTIONS.columns}
    row.update(
        transaction_id=txn,
        line_no=line,
        store_id="emea-001",
        transaction_ts="2026-03-07T11:00:00+01:00",
        sku="SKU-1",
        quantity="2",
        unit_price="10.50",
        discount="1.00",
        currency="EUR",
        customer_email=" Ann@Example.com ",
    )
    row.update(overrides)
    row.update(
        {"_source_file": "pos/2026-03-07/emea-001.csv", "_line_number": 2, "_raw_line": "…", "_parse_error": None}
    )
    row.update({"date": SAT, "region": "emea"})
    return row


def pos_raw(rows: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            **dict.fromkeys(POS_TRANSACTIONS.columns, pl.String),
            "_source_file": pl.String,
            "_line_number": pl.Int64,
            "_raw_line": pl.String,
            "_parse_error": pl.String,
            "date": pl.Date,
            "region": pl.String,
        },
    )


def test_pos_every_defect_class_is_dead_lettered_with_its_reason() -> None:
    malformed = pos_line("T2") | {"_parse_error": "malformed line: expected 13 fields, got 11", "_raw_line": "T2,1,x"}
    raw = pos_raw(
        [
            pos_line("T1"),
            pos_line("T1"),  # retried upload: identical line
            malformed,
            pos_line("T3", quantity="two"),
            pos_line("T4", transaction_ts="yesterday"),
            pos_line("T5", currency="XXX"),
            pos_line("T6", quantity="-3"),
            pos_line(
                "T7", currency="JPY", unit_price="1050", discount="0"
            ),  # a known currency whose feed has no rate in the last 7 days
            pos_line("T8", sku=" "),
        ]
    )
    result = pos.stage_pos_transactions(raw, fx_rates())
    assert result.reconciles
    assert (result.staged.height, result.rejected.height, result.duplicate_rows) == (1, 7, 1)
    by_txn = {k.split("|")[1]: v for k, v in reasons(result).items()}
    assert by_txn["T2"] == "malformed line: expected 13 fields, got 11"
    assert by_txn["T3"] == "malformed quantity 'two'"
    assert by_txn["T4"] == "malformed transaction_ts 'yesterday'"
    assert by_txn["T5"] == "unknown currency 'XXX'"
    assert by_txn["T6"] == "negative quantity -3"
    assert by_txn["T7"] == "no JPY FX rate within 7 days before 2026-03-07"
    assert by_txn["T8"] == "missing sku"
    # The dead letter keeps the record as delivered, not the parsed helper columns.
    record = json.loads(result.rejected.filter(pl.col("reason").str.contains("two"))["raw_record"][0])
    assert record["quantity"] == "two" and "_quantity" not in record
    assert result.rejected["date"].to_list() == [SAT] * 7


def test_pos_amounts_convert_with_the_latest_business_day_rate() -> None:
    result = pos.stage_pos_transactions(pos_raw([pos_line("T1")]), fx_rates())
    line = result.staged.row(0, named=True)
    # Saturday sale, rates published Mon–Fri: Friday's EUR rate applies.
    assert (line["fx_rate"], line["fx_rate_date"]) == (1.10, FRI)
    assert line["gross_amount"] == pytest.approx(21.0)
    assert line["net_amount"] == pytest.approx(20.0)
    assert line["net_amount_usd"] == pytest.approx(22.0)
    assert line["transaction_ts"] == datetime(2026, 3, 7, 10, 0, tzinfo=UTC)
    assert line["customer_email"] == "Ann@Example.com"


def order(order_id: str, loaded: datetime, currency: str = "EUR", status: str = "completed") -> dict[str, object]:
    return {
        "order_id": order_id,
        "customer_id": "C1",
        "order_ts": datetime(2026, 3, 6, 9, tzinfo=UTC),
        "order_date": FRI,
        "region": "emea",
        "currency": currency,
        "status": status,
        "_loaded_at": loaded,
        "date": FRI,
    }


def line(order_id: str, number: int, loaded: datetime, **overrides: object) -> dict[str, object]:
    row = {
        "order_id": order_id,
        "line_number": number,
        "sku": "SKU-1",
        "quantity": 1,
        "unit_price": 100.0,
        "discount_amount": 0.0,
        "order_date": FRI,
        "region": "emea",
        "_loaded_at": loaded,
        "date": FRI,
    }
    row.update(overrides)
    return row


def test_web_orders_and_lines_reconcile_with_duplicates_rejects_and_orphans() -> None:
    on_time, late, retry = (
        datetime(2026, 3, 7, 1, tzinfo=UTC),
        datetime(2026, 3, 10, tzinfo=UTC),
        datetime(2026, 3, 7, 2, tzinfo=UTC),
    )
    order_schema = {**WAREHOUSE_TABLES["orders"].columns, "date": pl.Date}
    orders_raw = pl.DataFrame(
        [order("O1", on_time), order("O1", retry), order("O2", late), order("O3", on_time, currency="EUX")],
        schema=order_schema,
    )
    orders = warehouse.stage_orders(orders_raw)
    assert orders.reconciles and orders.duplicate_rows == 1
    assert reasons(orders) == {"O3": "unknown currency 'EUX'"}
    staged = {r["order_id"]: r for r in orders.staged.iter_rows(named=True)}
    assert staged["O1"]["loaded_at"] == retry  # the latest load wins
    assert staged["O2"]["is_late_arrival"] and not staged["O1"]["is_late_arrival"]

    line_schema = {**WAREHOUSE_TABLES["order_lines"].columns, "date": pl.Date}
    lines_raw = pl.DataFrame(
        [
            line("O1", 1, on_time),
            line("O1", 1, retry),
            line("O1", 2, on_time, quantity=-2),
            line("O2", 1, late, sku=None),
            line("O3", 1, on_time),  # its order was rejected
            line("O9", 1, on_time),  # no such order
        ],
        schema=line_schema,
    )
    lines = warehouse.stage_order_lines(lines_raw, orders.staged, fx_rates())
    assert lines.reconciles
    assert (lines.staged.height, lines.rejected.height, lines.duplicate_rows) == (1, 4, 1)
    assert reasons(lines) == {
        "O1|2": "negative quantity -2",
        "O2|1": "missing sku",
        "O3|1": "order O3 is not in stg_warehouse_orders (missing or rejected)",
        "O9|1": "order O9 is not in stg_warehouse_orders (missing or rejected)",
    }
    kept = lines.staged.row(0, named=True)
    assert (kept["currency"], kept["fx_rate"], kept["net_amount_usd"]) == ("EUR", 1.10, pytest.approx(110.0))


def sf_record(object_name: str, record_id: str, modstamp: datetime, **fields: object) -> dict[str, object]:
    row: dict[str, object] = dict.fromkeys(SALESFORCE_OBJECTS[object_name].columns)
    row.update(Id=record_id, SystemModstamp=modstamp, IsDeleted=False)
    row.update(fields)
    return row


def sf_frame(object_name: str, records: list[dict[str, object]]) -> pl.DataFrame:
    return pl.DataFrame(records, schema=SALESFORCE_OBJECTS[object_name].columns)


def test_salesforce_versions_collapse_to_the_latest_and_tombstones_survive() -> None:
    t1, t2, t3 = (datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2, 3))
    deal = {
        "OwnerId": "005A",
        "StageName": "Prospecting",
        "CloseDate": date(2026, 4, 1),
        "CurrencyIsoCode": "EUR",
        "Amount": 100.0,
    }
    raw = sf_frame(
        "Opportunity",
        [
            sf_record("Opportunity", "006A", t1, **deal),
            sf_record("Opportunity", "006A", t2, **(deal | {"StageName": "Closed Won", "CloseDate": FRI})),
            sf_record(
                "Opportunity", "006A", t2, **(deal | {"StageName": "Closed Won", "CloseDate": FRI})
            ),  # retry copy
            sf_record("Opportunity", "006B", t1, **deal),
            sf_record("Opportunity", "006B", t3, **(deal | {"OwnerId": None}), IsDeleted=True),  # tombstone
            sf_record("Opportunity", "006C", t1, **(deal | {"CurrencyIsoCode": "BTC"})),
        ],
    )
    result = salesforce.stage_opportunities(raw, fx_rates())
    assert result.reconciles
    assert (result.staged.height, result.rejected.height, result.duplicate_rows) == (2, 1, 3)
    assert list(reasons(result).values()) == ["unknown currency 'BTC'"]
    staged = {r["opportunity_id"]: r for r in result.staged.iter_rows(named=True)}
    assert staged["006A"]["stage_name"] == "Closed Won"
    assert staged["006A"]["amount_usd"] == pytest.approx(110.0)  # closed on Friday: Friday's rate
    assert staged["006B"]["is_deleted"] is True


def test_open_deal_uses_latest_published_rate_and_orphan_line_items_are_rejected() -> None:
    t1 = datetime(2026, 3, 1, tzinfo=UTC)
    deal = {
        "OwnerId": "005A",
        "StageName": "Negotiation/Review",
        "CloseDate": date(2026, 9, 1),
        "CurrencyIsoCode": "GBP",
        "Amount": 80.0,
    }
    opportunities = salesforce.stage_opportunities(
        sf_frame("Opportunity", [sf_record("Opportunity", "006A", t1, **deal)]), fx_rates()
    )
    assert opportunities.staged["fx_rate_date"].to_list() == [FRI]
    items = sf_frame(
        "OpportunityLineItem",
        [
            sf_record(
                "OpportunityLineItem",
                "00kA",
                t1,
                OpportunityId="006A",
                ProductCode="SKU-1",
                Quantity=2.0,
                UnitPrice=40.0,
                TotalPrice=80.0,
            ),
            sf_record(
                "OpportunityLineItem",
                "00kB",
                t1,
                OpportunityId="006Z",
                ProductCode="SKU-1",
                Quantity=1.0,
                UnitPrice=1.0,
                TotalPrice=1.0,
            ),
        ],
    )
    result = salesforce.stage_opportunity_line_items(items, opportunities.staged)
    assert result.reconciles and result.staged["total_price_usd"].to_list() == [pytest.approx(100.0)]
    assert list(reasons(result).values()) == ["opportunity 006Z is not in stg_salesforce_opportunities"]


def test_user_with_unknown_region_is_rejected() -> None:
    t1 = datetime(2026, 3, 1, tzinfo=UTC)
    raw = sf_frame(
        "User",
        [
            sf_record("User", "005A", t1, Name="Ann", Region__c="na"),
            sf_record("User", "005B", t1, Name="Bo", Region__c="mars"),
        ],
    )
    result = salesforce.stage_salesforce_object(raw, "User")
    assert result.staged["user_id"].to_list() == ["005A"]
    assert list(reasons(result).values()) == ["unknown region 'mars'"]


def test_fx_rates_reject_non_positive_rates_and_unknown_currencies() -> None:
    raw = pl.DataFrame(
        {"rate_date": [FRI, FRI, FRI], "currency": ["EUR", "EUR", "ZZZ"], "usd_per_unit": [1.1, 0.0, 1.0]}
    )
    result = warehouse.stage_fx_rates(raw)
    assert result.reconciles and result.staged.height == 1
    assert sorted(result.rejected["reason"].to_list()) == ["FX rate missing or not positive", "unknown currency 'ZZZ'"]


def test_extraction_window_is_whole_seconds_like_soql_literals() -> None:
    """SOQL datetimes have no fractions; the raw table must replace exactly the window queried."""
    from datetime import timedelta

    from sales360_assets.sources.salesforce import extraction_window

    watermark = datetime(2026, 3, 1, 12, 0, 0, 700_123, tzinfo=UTC)
    run_start = datetime(2026, 3, 2, 8, 30, 15, 999_999, tzinfo=UTC)
    since, until = extraction_window(watermark, run_start, timedelta(minutes=15))
    assert since == datetime(2026, 3, 1, 11, 45, 0, tzinfo=UTC)
    assert until == datetime(2026, 3, 2, 8, 30, 15, tzinfo=UTC)
    assert extraction_window(None, run_start, timedelta(minutes=15)) == (None, until)


def test_only_open_deals_closing_after_the_latest_rate_may_use_it() -> None:
    """Issue #10 case 7: CRM deals obey the FX staleness rule web lines obey.

    The latest rate is Friday 6 March. A EUR deal won on 1 April (26 days later) used to convert at
    that stale rate; now it is dead-lettered until rates for its close date arrive. A deal won on
    Monday 9 March is within the tolerance (Friday's rate); an open deal closing in September still
    uses the latest rate (nothing better exists yet); an open deal whose close date has passed
    converts at its close date's rate.
    """
    t1 = datetime(2026, 4, 2, tzinfo=UTC)
    deal = {"OwnerId": "005A", "CurrencyIsoCode": "EUR", "Amount": 1000.0}
    won = deal | {"StageName": "Closed Won", "IsClosed": True, "IsWon": True}
    open_ = deal | {"StageName": "Negotiation/Review", "IsClosed": False, "IsWon": False}
    raw = sf_frame(
        "Opportunity",
        [
            sf_record("Opportunity", "006STALE", t1, **(won | {"CloseDate": date(2026, 4, 1)})),
            sf_record("Opportunity", "006MON", t1, **(won | {"CloseDate": date(2026, 3, 9)})),
            sf_record("Opportunity", "006OPEN", t1, **(open_ | {"CloseDate": date(2026, 9, 1)})),
            sf_record("Opportunity", "006PAST", t1, **(open_ | {"CloseDate": date(2026, 3, 5)})),
        ],
    )
    result = salesforce.stage_opportunities(raw, fx_rates())
    assert result.reconciles
    staged = {r["opportunity_id"]: (r["fx_rate_date"], r["amount_usd"]) for r in result.staged.iter_rows(named=True)}
    print(f"CASE 7: EUR deal won 2026-04-01 -> staged {staged.get('006STALE')}, dead letters {reasons(result)}")
    assert [(k.split("|")[0], v) for k, v in reasons(result).items()] == [
        ("006STALE", "no EUR FX rate within 7 days before 2026-04-01")
    ]
    assert staged == {
        "006MON": (FRI, pytest.approx(1100.0)),
        "006OPEN": (FRI, pytest.approx(1100.0)),
        "006PAST": (date(2026, 3, 5), pytest.approx(1050.0)),
    }


def test_pos_lines_staged_a_span_of_months_at_a_time_are_judged_as_in_one_pass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A long run's POS lines are staged a span of months at a time (a region-year of text took
    3.6 GiB whole at 10 M order lines). A copy re-sent into a later month, a conflicting version, a
    line whose first copy was rejected and a key staged outside the run must come out as in one pass:
    same staged rows, same dead letters with the same reasons, same counts."""
    from sales360_assets import frames
    from sales360_assets.staging.assets import staging_assets

    def line(txn: str, day: date, **overrides: str) -> dict[str, object]:
        row = pos_line(txn, transaction_ts=f"{day}T11:00:00+01:00", **overrides)
        return row | {"date": day, "_source_file": f"pos/{day}/emea-001.csv"}

    mar, apr, apr_later, may = date(2026, 3, 2), date(2026, 4, 10), date(2026, 4, 14), date(2026, 5, 20)
    raw = pos_raw(
        [
            line("T1", mar),
            line("T1", mar),  # a retry: collapsed
            line("T2", mar, quantity="2"),
            line("T2", mar, quantity="5"),  # conflicting versions: both dead letters
            line("T3", mar, currency="XXX"),  # rejected, so it claims nothing
            line("T1", apr),  # a copy a month later: duplicate of March's
            line("T2", apr),  # a copy of a conflicting key: still March's
            line("T4", apr),
            line("T4", apr_later),  # a copy within the span
            line("T5", apr),  # staged outside the run, later
            line("T4", may),
            line("T5", may),  # outside's date stays in the reason
            line("T3", may),  # its March copy was rejected: staged now
            line("T6", may),
        ]
    )
    days = pl.date_range(date(2026, 2, 20), date(2026, 5, 31), eager=True)
    fx = pl.DataFrame({"rate_date": days, "currency": "EUR", "usd_per_unit": 1.1})
    elsewhere = pl.DataFrame({"transaction_id": ["T5"], "line_no": [1], "date": [date(2026, 6, 1)]})

    whole = pos.stage_pos_transactions(raw, fx, elsewhere)
    monkeypatch.setattr(frames, "ROWS_PER_BLOCK", 6)
    assert len(frames.spans_of_months([raw.lazy()])) == 3
    spans = pos.stage_pos_transactions(raw.lazy(), fx, elsewhere)

    keys = ["transaction_id", "line_no", "date"]
    assert spans.staged.sort(keys).to_dicts() == whole.staged.sort(keys).to_dicts()
    letters = spans.rejected.columns
    assert spans.rejected.sort(letters).to_dicts() == whole.rejected.sort(letters).to_dicts()
    assert (spans.raw_rows, spans.duplicate_rows) == (whole.raw_rows, whole.duplicate_rows) == (14, 1)
    assert sorted(spans.staged["transaction_id"]) == ["T1", "T3", "T4", "T6"]
    copies = spans.rejected.filter(pl.col("reason").str.starts_with("duplicate of"))
    assert sorted(copies["reason"]) == [
        "duplicate of T1|1 staged for 2026-03-02",
        "duplicate of T2|1 staged for 2026-03-02",
        "duplicate of T4|1 staged for 2026-04-10",
        "duplicate of T4|1 staged for 2026-04-10",
        "duplicate of T5|1 staged for 2026-06-01",
        "duplicate of T5|1 staged for 2026-06-01",
    ]
    # The asset hands the transform a scan, which it reads a span at a time.
    (asset,) = [a for a in staging_assets if a.key.to_user_string() == "stg_pos_transactions"]
    assert asset.op.ins["raw"].dagster_type.typing_type is pl.LazyFrame


def test_fx_rates_reject_rates_that_are_not_finite_numbers() -> None:
    """NaN passes ``<= 0`` silently; a NaN or infinite rate reaching the facts made every USD sum of
    its partition fail (or, summed as floats, NaN)."""
    raw = pl.DataFrame(
        {
            "rate_date": [FRI, FRI, FRI],
            "currency": ["EUR", "GBP", "JPY"],
            "usd_per_unit": [1.1, float("nan"), float("inf")],
        }
    )
    result = warehouse.stage_fx_rates(raw)
    assert result.reconciles and result.staged["currency"].to_list() == ["EUR"]
    assert sorted(result.rejected["reason"].to_list()) == [
        "FX rate usd_per_unit NaN is not a finite number",
        "FX rate usd_per_unit inf is not a finite number",
    ]
