"""The sample-source generator: determinism, the wire contract, and exact defect accounting.

Downstream quality checks reconcile against ``_manifest.json``; these tests make sure every
count there is what a reader of the written files actually finds.
"""

from __future__ import annotations

import csv
import json
import re
from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.sample_sources.defects import DEFECT_RATES
from sales360_assets.sample_sources.generator import generate_sources, main
from sales360_assets.sample_sources.parameters import (
    CANCELLED_STAGE,
    CRM_ONLY_PRODUCTS,
    FX_HISTORY_DAYS,
    POS_LOCAL_SKUS,
    stage_names,
)
from sales360_assets.sample_sources.seasonality import seasonal_weight
from sales360_assets.settings import KNOWN_CURRENCIES, REGION_CODES, REGIONS
from sales360_assets.sources.contract import POS_STORES, POS_TRANSACTIONS, UTC_DATETIME, WAREHOUSE_TABLES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS

# Seven weeks across the holidays: December run-up, Christmas, the January slump.
START = date(2026, 12, 1)
END = date(2027, 1, 19)
SF_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}\+0000$")
SF_PREFIX = {
    "OpportunityHistory": "008",
    "User": "005",
    "Account": "001",
    "Contact": "003",
    "Product2": "01t",
    "Campaign": "701",
    "Opportunity": "006",
    "OpportunityLineItem": "00k",
    "Quota__c": "a00",
    "AccountTeamMember": "01M",
}


@dataclass
class Generated:
    root: Path
    manifest: dict[str, Any]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Generated:
    root = tmp_path_factory.mktemp("generated")
    return Generated(root, generate_sources(root, START, END, order_lines=8_000, seed=11))


def _warehouse(root: Path, table: str) -> pl.DataFrame:
    files = sorted((root / "warehouse" / table).rglob("*.parquet"))
    return pl.concat([pl.read_parquet(f) for f in files])


def _crm_records(root: Path, obj: str) -> list[tuple[date, dict[str, Any]]]:
    out = []
    for page in sorted((root / "crm" / obj).glob("????-??-??.json")):
        body = json.loads(page.read_text(encoding="utf-8"))
        out.extend((date.fromisoformat(page.stem), r) for r in body["records"])
    return out


def _pos_rows(root: Path) -> list[tuple[Path, list[str]]]:
    rows = []
    for path in sorted((root / "landing" / "pos").glob("????-??-??/*.csv")):
        with path.open(newline="", encoding="utf-8") as fh:
            reader = csv.reader(fh)
            assert next(reader) == list(POS_TRANSACTIONS.columns), path
            rows.extend((path, row) for row in reader)
    return rows


def _sf_dt(text: str) -> datetime:
    return datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%f%z")


# --- determinism ------------------------------------------------------------------------------


def _snapshot(root: Path) -> dict[str, Any]:
    snap: dict[str, Any] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            key = str(path.relative_to(root))
            snap[key] = pl.read_parquet(path) if path.suffix == ".parquet" else path.read_bytes()
    return snap


def test_same_seed_gives_identical_sources_and_another_seed_differs(tmp_path: Path) -> None:
    args = {"start": date(2026, 3, 2), "end": date(2026, 3, 8), "order_lines": 2_000}
    a = _snapshot(_generate(tmp_path / "a", seed=5, **args))
    b = _snapshot(_generate(tmp_path / "b", seed=5, **args))
    c = _snapshot(_generate(tmp_path / "c", seed=6, **args))
    assert a.keys() == b.keys()
    for key, value in a.items():
        if isinstance(value, pl.DataFrame):
            assert_frame_equal(value, b[key])
        else:
            assert value == b[key], key
    lines = "warehouse/order_lines/order_date=2026-03-04/part-0.parquet"
    assert not a[lines].equals(c[lines])
    assert a["_manifest.json"] != c["_manifest.json"]


def _generate(root: Path, **kwargs: Any) -> Path:
    generate_sources(root, **kwargs)
    return root


def test_regeneration_removes_previous_output_only(tmp_path: Path) -> None:
    generate_sources(tmp_path, date(2026, 3, 1), date(2026, 3, 10), order_lines=1_000)
    (tmp_path / "README.md").write_text("mine")
    generate_sources(tmp_path, date(2026, 3, 5), date(2026, 3, 6), order_lines=1_000)
    assert (tmp_path / "README.md").read_text() == "mine"
    assert sorted(p.name for p in (tmp_path / "landing" / "pos").iterdir() if p.is_dir()) == [
        "2026-03-05",
        "2026-03-06",
    ]
    partitions = sorted(p.name for p in (tmp_path / "warehouse" / "orders").iterdir())
    assert partitions == ["order_date=2026-03-05", "order_date=2026-03-06"]


def test_cli_writes_and_summarises(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["--out", str(tmp_path), "--days", "3", "--end", "2026-05-03", "--order-lines", "1000", "--seed", "3"]
    assert main(argv) == 0
    out = capsys.readouterr().out.strip()
    assert len(out.splitlines()) == 1 and "2026-05-01..2026-05-03" in out
    manifest = json.loads((tmp_path / "_manifest.json").read_text())
    assert manifest["arguments"] == {"start": "2026-05-01", "end": "2026-05-03", "order_lines": 1000, "seed": 3}


# --- warehouse --------------------------------------------------------------------------------


def test_warehouse_tables_have_exactly_the_contract_columns_and_types(generated: Generated) -> None:
    for name, table in WAREHOUSE_TABLES.items():
        files = sorted((generated.root / "warehouse" / name).rglob("*.parquet"))
        assert files, name
        for f in files:
            schema = pl.read_parquet_schema(f)
            assert dict(schema) == table.columns, f


def test_partitions_hold_their_own_date_and_every_region(generated: Generated) -> None:
    for name in ("orders", "order_lines"):
        folders = sorted((generated.root / "warehouse" / name).iterdir())
        assert len(folders) == (END - START).days + 1
        for folder in folders:
            frame = pl.read_parquet(folder / "part-0.parquet")
            day = date.fromisoformat(folder.name.removeprefix("order_date="))
            assert frame["order_date"].unique().to_list() == [day]
        assert set(_warehouse(generated.root, name)["region"].unique()) == set(REGION_CODES)
    orders = _warehouse(generated.root, "orders")
    assert (orders["order_ts"].dt.date() == orders["order_date"]).all()
    known = orders.filter(pl.col("currency").is_in(list(KNOWN_CURRENCIES)))
    expected = known["region"].replace_strict({r: REGIONS[r].currency for r in REGION_CODES})
    assert (known["currency"] == expected).all()


def test_reference_tables(generated: Generated) -> None:
    customers = _warehouse(generated.root, "customers")
    assert customers["customer_id"].is_unique().all()
    assert set(customers["segment"].unique()) == {"Consumer", "Small Business", "Corporate"}
    products = _warehouse(generated.root, "products")
    assert 100 <= products.height <= 300 and products["sku"].is_unique().all()
    assert products["category"].n_unique() >= 4 and products["subcategory"].n_unique() >= 10
    assert (products["standard_cost_usd"] > products["list_price_usd"]).sum() >= 1  # loss makers
    fx = _warehouse(generated.root, "fx_rates")
    assert set(fx["currency"].unique()) == {"USD", "EUR", "GBP", "JPY"}
    assert (fx["rate_date"].dt.weekday() <= 5).all()
    assert fx["rate_date"].min() >= START - timedelta(days=FX_HISTORY_DAYS) and fx["rate_date"].max() <= END
    assert fx.filter(pl.col("currency") == "USD")["usd_per_unit"].unique().to_list() == [1.0]
    eur = fx.filter(pl.col("currency") == "EUR")["usd_per_unit"]
    assert eur.min() > 0.95 and eur.max() < 1.2


# --- POS --------------------------------------------------------------------------------------


def test_pos_layout_headers_and_store_hours(generated: Generated) -> None:
    landing = generated.root / "landing" / "pos"
    with (landing / "stores.csv").open(newline="") as fh:
        stores = list(csv.DictReader(fh))
    assert list(stores[0]) == list(POS_STORES.columns)
    by_region = Counter(s["region"] for s in stores)
    assert set(by_region) == set(REGION_CODES) and all(2 <= n <= 6 for n in by_region.values())
    assert all(s["currency"] == REGIONS[s["region"]].currency for s in stores)
    days = [START + timedelta(days=i) for i in range((END - START).days + 1)]
    for s in stores:
        assert re.fullmatch(rf"{s['region']}-\d{{3}}", s["store_id"])
        for day in days:
            assert (landing / day.isoformat() / f"{s['store_id']}.csv").is_file()
    rows = _pos_rows(generated.root)
    per_store = Counter(path.stem for path, _ in rows)
    assert set(per_store) == {s["store_id"] for s in stores}
    for path, row in rows:
        if len(row) != len(POS_TRANSACTIONS.columns):
            continue
        assert row[2] == path.stem
        try:
            ts = datetime.fromisoformat(row[3])
        except ValueError:
            continue  # an injected unparseable timestamp
        assert ts.utcoffset() is not None
        assert (ts - ts.utcoffset()).date().isoformat() == path.parent.name  # UTC day = folder
    names = [row[10] for _, row in rows if len(row) == 13]
    assert any("," in n for n in names) and any('"' in n for n in names)


# --- defect accounting ------------------------------------------------------------------------


def test_web_defect_counts_match_the_files(generated: Generated) -> None:
    defects, rows = generated.manifest["defects"], generated.manifest["rows"]
    orders = _warehouse(generated.root, "orders")
    lines = _warehouse(generated.root, "order_lines")
    assert orders.height == rows["orders"] and lines.height == rows["order_lines"]
    assert orders.height - orders["order_id"].n_unique() == defects["orders"]["duplicate"]
    dup_orders = orders.filter(pl.col("order_id").is_duplicated())
    assert dup_orders.group_by("order_id").agg(pl.col("_loaded_at").n_unique())["_loaded_at"].min() == 2
    unique_orders = orders.unique("order_id", keep="first", maintain_order=True)
    bad = unique_orders.filter(~pl.col("currency").is_in(list(KNOWN_CURRENCIES)))
    assert bad.height == defects["orders"]["unknown_currency"]
    assert set(bad["currency"]) <= {"XXX", "EUX", "BTC"}
    lag = (pl.col("_loaded_at").dt.date() - pl.col("order_date")).dt.total_days()
    late = unique_orders.filter(lag >= 2)
    assert late.height == defects["orders"]["late_arriving"]
    assert late.select(lag.is_between(2, 6).all()).item()

    key = ["order_id", "line_number"]
    assert lines.height - lines.select(key).n_unique() == defects["order_lines"]["duplicate"]
    dups = lines.filter(pl.struct(key).is_duplicated())
    assert dups.drop("_loaded_at").n_unique() == dups.select(key).n_unique()  # identical but the load time
    unique_lines = lines.unique(key, keep="first", maintain_order=True)
    assert unique_lines["sku"].null_count() == defects["order_lines"]["null_sku"]
    assert (unique_lines["quantity"] < 0).sum() == defects["order_lines"]["negative_quantity"]
    late_lines = unique_lines.filter(pl.col("order_id").is_in(late["order_id"].implode()))
    assert late_lines.height == defects["order_lines"]["late_arriving"]
    assert set(orders["order_id"]) == set(lines["order_id"])

    # One defect per row: lines of defective orders are clean, line defects do not stack.
    defective_orders = pl.concat([bad["order_id"], late["order_id"], dup_orders["order_id"]]).implode()
    of_bad_orders = unique_lines.filter(pl.col("order_id").is_in(defective_orders))
    assert of_bad_orders["sku"].null_count() == 0 and (of_bad_orders["quantity"] > 0).all()
    assert unique_lines.filter(pl.col("sku").is_null() & (pl.col("quantity") < 0)).height == 0


def test_pos_defect_counts_match_the_files(generated: Generated) -> None:
    expected = generated.manifest["defects"]["pos_transactions"]
    details = generated.manifest["defect_details"]["pos_transactions"]["malformed"]
    rows = _pos_rows(generated.root)
    assert len(rows) == generated.manifest["rows"]["pos_transactions"]
    width = len(POS_TRANSACTIONS.columns)
    found: Counter[str] = Counter()
    seen: Counter[tuple[str, ...]] = Counter()
    for _, row in rows:
        if len(row) != width:
            found["field_count"] += 1
            continue
        seen[tuple(row)] += 1
        try:
            quantity = int(row[5])
        except ValueError:
            found["non_numeric_quantity"] += 1
            continue
        try:
            datetime.fromisoformat(row[3])
        except ValueError:
            found["unparseable_timestamp"] += 1
            continue
        if quantity < 0:
            found["negative_quantity"] += 1
        if row[8] not in KNOWN_CURRENCIES:
            found["unknown_currency"] += 1
    duplicates = sum(n - 1 for n in seen.values())
    keys = Counter((row[0], row[1]) for _, row in rows)
    assert duplicates == sum(n - 1 for n in keys.values()) == expected["duplicate"]
    # Duplicated lines are exact copies, so each was counted above once per copy.
    dup_rows = [row for row, n in seen.items() if n > 1]
    assert all(int(r[5]) > 0 and r[8] in KNOWN_CURRENCIES for r in dup_rows)
    assert {k: found[k] for k in details} == details
    assert sum(details.values()) == expected["malformed"]
    assert found["negative_quantity"] == expected["negative_quantity"]
    assert found["unknown_currency"] == expected["unknown_currency"]
    assert all(v >= 1 for v in details.values())


def test_rates_are_small_and_documented(generated: Generated) -> None:
    m = generated.manifest
    assert m["defect_rates"] == DEFECT_RATES
    for table, counts in m["defects"].items():
        assert all(n >= 1 for n in counts.values()), table
    lines = m["entities"]["order_lines"]
    assert m["defects"]["order_lines"]["duplicate"] == round(DEFECT_RATES["order_lines"]["duplicate"] * lines)


# --- CRM --------------------------------------------------------------------------------------


def test_crm_pages_have_the_soql_shape(generated: Generated) -> None:
    for name, table in SALESFORCE_OBJECTS.items():
        folder = generated.root / "crm" / name
        describe = json.loads((folder / "_describe.json").read_text())
        assert describe["name"] == name and describe["queryable"] is True
        assert [f["name"] for f in describe["fields"]] == list(table.columns)
        types = {f["name"]: f["type"] for f in describe["fields"]}
        assert types["Id"] == "id" and types["SystemModstamp"] == "datetime" and types["IsDeleted"] == "boolean"
        pages = sorted(folder.glob("????-??-??.json"))
        assert pages, name
        total = 0
        for page in pages:
            body = json.loads(page.read_text(encoding="utf-8"))
            assert set(body) == {"totalSize", "done", "records"} and body["done"] is True
            assert body["totalSize"] == len(body["records"])
            day = date.fromisoformat(page.stem)
            # The org's history holds bookings made before the window (older deals cancelled in it).
            assert START <= day <= END or (name == "OpportunityHistory" and day < START)
            for record in body["records"]:
                assert list(record) == ["attributes", *table.columns]
                assert record["attributes"] == {
                    "type": name,
                    "url": f"/services/data/v59.0/sobjects/{name}/{record['Id']}",
                }
                assert len(record["Id"]) == 18 and record["Id"].startswith(SF_PREFIX[name])
                assert SF_DATETIME.match(record["SystemModstamp"])
                stamp_day = _sf_dt(record["SystemModstamp"]).date()
                assert stamp_day == day
                assert isinstance(record["IsDeleted"], bool)
                for column, dtype in table.columns.items():
                    value = record[column]
                    if value is None:
                        continue
                    if dtype == pl.Float64:
                        assert isinstance(value, float), (name, column)
                    elif dtype == pl.Date:
                        date.fromisoformat(value)
                    elif dtype == UTC_DATETIME:
                        assert SF_DATETIME.match(value)
            total += len(body["records"])
        assert total == generated.manifest["rows"][name]


def test_crm_sales_organisation(generated: Generated) -> None:
    users = [r for _, r in _crm_records(generated.root, "User")]
    vp = [u for u in users if u["Title"] == "VP Sales"]
    assert len(vp) == 1
    for region in REGION_CODES:
        staff = [u for u in users if u["Region__c"] == region]
        managers = [u for u in staff if u["Title"] == "Regional Sales Manager"]
        reps = [u for u in staff if u["Title"] == "Account Executive"]
        assert len(managers) == 1 and managers[0]["ManagerId"] == vp[0]["Id"]
        assert 4 <= len(reps) <= 10
        assert all(r["ManagerId"] == managers[0]["Id"] and r["Territory__c"].startswith(f"{region}-") for r in reps)
    quotas = [r for _, r in _crm_records(generated.root, "Quota__c")]
    rep_ids = {u["Id"] for u in users if u["Title"] == "Account Executive"}
    months = {q["Month__c"] for q in quotas}
    assert months == {"2026-12-01", "2027-01-01"}
    assert Counter(q["User__c"] for q in quotas) == dict.fromkeys(rep_ids, len(months))


def test_opportunity_history_amounts_and_defects(generated: Generated) -> None:
    records = [r for _, r in _crm_records(generated.root, "Opportunity")]
    defects = generated.manifest["defects"]["Opportunity"]
    versions = {(r["Id"], r["SystemModstamp"]) for r in records}
    # The change log holds each version once: a real query never returns a record twice.
    assert len(records) == len(versions)
    deleted = {r["Id"] for r in records if r["IsDeleted"]}
    assert len(deleted) == defects["deleted"] >= 1
    by_id: dict[str, list[dict[str, Any]]] = {}
    for r in sorted({(r["Id"], r["SystemModstamp"]): r for r in records}.values(), key=lambda r: r["SystemModstamp"]):
        by_id.setdefault(r["Id"], []).append(r)
    assert len(by_id) == generated.manifest["entities"]["Opportunity"]
    assert sum(len(v) > 1 for v in by_id.values()) > len(by_id) / 2
    # Users have record versions (reassignments): a deal is judged by its owner's version at the time.
    user_versions: dict[str, list[dict[str, Any]]] = {}
    for _, r in sorted(_crm_records(generated.root, "User"), key=lambda x: x[1]["SystemModstamp"]):
        user_versions.setdefault(r["Id"], []).append(r)

    def owner_region(user_id: str, stamp: str) -> str:
        versions = [u for u in user_versions[user_id] if u["SystemModstamp"] <= stamp] or user_versions[user_id][:1]
        return versions[-1]["Region__c"]

    region_of_currency = {REGIONS[r].currency: r for r in REGION_CODES}
    for opp_id, history in by_id.items():
        live = [h for h in history if not h["IsDeleted"]]
        # Each region names the stages its own way; the order follows the canonical stage index.
        names = stage_names(region_of_currency[history[0]["CurrencyIsoCode"]])
        order = [names.index(h["StageName"]) for h in live]
        assert order == sorted(order), opp_id
        closed = [h["StageName"] for h in live[:-1] if h["StageName"] in ("Closed Won", "Closed Lost")]
        # Only a cancellation may follow a closed stage: Closed Won -> Cancelled.
        assert not closed or (closed == ["Closed Won"] and live[-1]["StageName"] == CANCELLED_STAGE), opp_id
        if live[-1]["StageName"] == CANCELLED_STAGE:
            assert live[-1]["Cancelled_Date__c"] >= live[-1]["CloseDate"]
            assert not live[-1]["IsWon"] and live[-1]["IsClosed"]
        if opp_id in deleted:
            assert history[-1]["IsDeleted"] and len(history) >= 2
        for h in history:
            assert date.fromisoformat(h["CloseDate"]) >= _sf_dt(h["CreatedDate"]).date()
            assert REGIONS[owner_region(h["OwnerId"], h["SystemModstamp"])].currency == h["CurrencyIsoCode"]
            assert h["IsWon"] == (h["StageName"] == "Closed Won")
    assert {h["StageName"] for v in by_id.values() for h in v} == {n for r in REGION_CODES for n in stage_names(r)}

    items = [r for _, r in _crm_records(generated.root, "OpportunityLineItem") if not r["IsDeleted"]]
    totals: Counter[str] = Counter()
    for item in items:
        assert item["TotalPrice"] == pytest.approx(item["Quantity"] * item["UnitPrice"], abs=0.01)
        totals[item["OpportunityId"]] += item["TotalPrice"]
    for opp_id, history in by_id.items():
        assert history[-1]["Amount"] == pytest.approx(totals[opp_id], abs=0.02)
    deleted_items = {
        r["OpportunityId"] for _, r in _crm_records(generated.root, "OpportunityLineItem") if r["IsDeleted"]
    }
    assert deleted_items == deleted
    campaigns = sum(v[-1]["CampaignId"] is not None for v in by_id.values())
    assert 0.15 < campaigns / len(by_id) < 0.45


def test_web_fulfilled_deals_match_their_web_order(generated: Generated) -> None:
    latest: dict[str, dict[str, Any]] = {}
    for _, r in _crm_records(generated.root, "Opportunity"):
        if r["Id"] not in latest or r["SystemModstamp"] >= latest[r["Id"]]["SystemModstamp"]:
            latest[r["Id"]] = r
    won = [r for r in latest.values() if r["StageName"] == "Closed Won"]
    linked = [r for r in won if r["Web_Order_Id__c"]]
    assert linked and len(linked) <= 0.2 * len(won)
    lines = _warehouse(generated.root, "order_lines").unique(["order_id", "line_number"])
    orders = _warehouse(generated.root, "orders").unique("order_id")
    items = [r for _, r in _crm_records(generated.root, "OpportunityLineItem")]
    for opp in linked:
        order = orders.filter(pl.col("order_id") == opp["Web_Order_Id__c"])
        assert order.height == 1 and order["currency"][0] == opp["CurrencyIsoCode"]
        web = Counter(
            (s, q)
            for s, q in lines.filter(pl.col("order_id") == opp["Web_Order_Id__c"]).select("sku", "quantity").rows()
        )
        crm = Counter((i["ProductCode"], int(i["Quantity"])) for i in items if i["OpportunityId"] == opp["Id"])
        assert web == crm


def test_unmapped_products_exist_on_purpose(generated: Generated) -> None:
    catalogue = set(_warehouse(generated.root, "products")["sku"])
    crm_codes = {r["ProductCode"] for _, r in _crm_records(generated.root, "Product2")}
    assert crm_codes - catalogue == {code for code, _, _ in CRM_ONLY_PRODUCTS}
    assert len(crm_codes & catalogue) < len(catalogue)
    pos_skus = {row[4] for _, row in _pos_rows(generated.root) if len(row) == 13}
    assert pos_skus - catalogue == {sku for sku, _ in POS_LOCAL_SKUS}
    web_skus = set(_warehouse(generated.root, "order_lines")["sku"].drop_nulls())
    assert web_skus <= catalogue


# --- identity ---------------------------------------------------------------------------------


def _norm_email(value: str | None) -> str | None:
    return value.strip().lower() if value and value.strip() else None


def test_ground_truth_links_people_across_systems(generated: Generated) -> None:
    truth = pl.read_parquet(generated.root / "_ground_truth" / "customer_identity.parquet")
    assert truth.columns == ["person_id", "system", "source_key"]
    assert set(truth["system"]) == {"warehouse", "pos", "salesforce"}
    assert truth.select("system", "source_key").is_unique().all()
    keys = {s: set(truth.filter(pl.col("system") == s)["source_key"]) for s in ("warehouse", "pos", "salesforce")}
    assert set(_warehouse(generated.root, "customers")["customer_id"]) == keys["warehouse"]
    assert set(_warehouse(generated.root, "orders")["customer_id"]) <= keys["warehouse"]
    pos_rows = [row for _, row in _pos_rows(generated.root) if len(row) == 13 and row[9]]
    assert {row[9] for row in pos_rows} <= keys["pos"]
    contacts = {r["Id"]: r for _, r in _crm_records(generated.root, "Contact")}
    assert set(contacts) == keys["salesforce"]
    systems = truth.group_by("person_id").agg(pl.col("system").n_unique())
    assert systems.filter(pl.col("system") >= 2).height >= 20
    assert systems.filter(pl.col("system") == 3).height >= 1

    # The same person is recognisable, but not byte-identical, across systems.
    person_of = dict(zip(zip(truth["system"], truth["source_key"], strict=True), truth["person_id"], strict=True))
    customers = _warehouse(generated.root, "customers")
    web_email = {
        person_of[("warehouse", c)]: e for c, e in zip(customers["customer_id"], customers["email"], strict=True)
    }
    compared = differs = 0
    for row in pos_rows:
        person = person_of[("pos", row[9])]
        if person in web_email and _norm_email(row[11]):
            compared += 1
            assert _norm_email(row[11]) == web_email[person]
            differs += row[11] != web_email[person]
    for contact_id, contact in contacts.items():
        person = person_of[("salesforce", contact_id)]
        if person in web_email and contact["Email"]:
            compared += 1
            assert _norm_email(contact["Email"]) == web_email[person]
            differs += contact["Email"] != web_email[person]
    assert compared > 50 and 0 < differs < compared
    phones = [row[12] for row in pos_rows if row[12]]
    assert any(p.startswith("+") for p in phones) and any(p.startswith(("0", "(")) or "-" in p for p in phones)


# --- volume and seasonality -------------------------------------------------------------------


def test_seasonality_is_visible(generated: Generated) -> None:
    lines = _warehouse(generated.root, "order_lines").group_by("order_date").len()
    per_day = dict(zip(lines["order_date"], lines["len"], strict=True))
    december = [per_day[d] for d in per_day if date(2026, 12, 14) <= d <= date(2026, 12, 23)]
    january = [per_day[d] for d in per_day if date(2027, 1, 7) <= d <= date(2027, 1, 19)]
    assert sum(december) / len(december) > 1.5 * sum(january) / len(january)

    pos = Counter(path.parent.name for path, _ in _pos_rows(generated.root))
    by_weekday: dict[int, list[int]] = {}
    for day, n in pos.items():
        by_weekday.setdefault(date.fromisoformat(day).weekday(), []).append(n)
    saturday, tuesday = by_weekday[5], by_weekday[1]
    assert sum(saturday) / len(saturday) > 1.4 * sum(tuesday) / len(tuesday)
    # Western stores mostly close on Christmas Day; Japanese ones trade as usual.
    christmas = Counter(p.stem.split("-")[0] for p, _ in _pos_rows(generated.root) if p.parent.name == "2026-12-25")
    boxing_day = Counter(p.stem.split("-")[0] for p, _ in _pos_rows(generated.root) if p.parent.name == "2026-12-26")
    assert christmas["na"] + christmas["emea"] + christmas["uk"] < 0.1 * christmas["apac"] + 10
    assert boxing_day["uk"] > 5 * christmas["uk"]

    assert seasonal_weight(date(2026, 11, 27), "na", "pos") > 2.5 * seasonal_weight(date(2026, 11, 20), "na", "pos")
    assert seasonal_weight(date(2026, 5, 1), "apac", "web") > seasonal_weight(date(2026, 5, 1), "uk", "web")


def test_repeat_buyers_and_bundles(generated: Generated) -> None:
    orders = _warehouse(generated.root, "orders").unique("order_id")
    per_customer = orders.group_by("customer_id").len()["len"]
    assert per_customer.max() >= 5 and (per_customer == 1).sum() > per_customer.len() / 4
    lines = _warehouse(generated.root, "order_lines").unique(["order_id", "line_number"]).drop_nulls("sku")
    pairs = (
        lines.sort("order_id", "line_number")
        .with_columns(pl.col("sku").shift(1).over("order_id").alias("previous"))
        .drop_nulls("previous")
        .group_by("previous", "sku")
        .len()
    )
    # A bundle pair is far more frequent than two independent popular products would be.
    assert pairs["len"].max() >= 10 * pairs["len"].median()


def test_order_lines_knob_scales_volumes(tmp_path: Path) -> None:
    small = generate_sources(tmp_path / "s", date(2026, 3, 2), date(2026, 3, 15), order_lines=2_000, seed=1)
    large = generate_sources(tmp_path / "l", date(2026, 3, 2), date(2026, 3, 15), order_lines=20_000, seed=1)
    for m, total in ((small, 2_000), (large, 20_000)):
        web, pos = m["entities"]["order_lines"], m["entities"]["pos_transactions"]
        assert web + pos == total and 0.5 < web / total < 0.6
    for key in ("orders", "order_lines", "pos_transactions"):
        assert 8 < large["rows"][key] / small["rows"][key] < 12, key
    assert small["entities"]["Opportunity"] == 200 and large["entities"]["Opportunity"] == 200
    assert large["rows"]["customers"] > 5 * small["rows"]["customers"]


# --- CRM history: reassignments, account teams, cancellations -------------------------------------


def _latest(records: list[tuple[date, dict[str, Any]]]) -> dict[str, dict[str, Any]]:
    latest: dict[str, dict[str, Any]] = {}
    for _, r in records:
        if r["Id"] not in latest or r["SystemModstamp"] >= latest[r["Id"]]["SystemModstamp"]:
            latest[r["Id"]] = r
    return latest


def test_reps_are_reassigned_through_new_user_record_versions(generated: Generated) -> None:
    versions: dict[str, list[dict[str, Any]]] = {}
    for _, r in sorted(_crm_records(generated.root, "User"), key=lambda x: x[1]["SystemModstamp"]):
        versions.setdefault(r["Id"], []).append(r)
    moved = {uid: v for uid, v in versions.items() if len(v) > 1}
    expected = generated.manifest["entities"]["crm_history"]["User_reassignments"]
    assert len(moved) == sum(expected.values()) and min(expected.values()) >= 1
    kinds: Counter[str] = Counter()
    for before, after in (v for v in moved.values()):
        assert after["SystemModstamp"] > before["SystemModstamp"]
        assert (before["Name"], before["Email"], before["CreatedDate"]) == (
            after["Name"],
            after["Email"],
            after["CreatedDate"],
        )
        if after["Region__c"] != before["Region__c"]:
            kinds["region"] += 1
            assert after["ManagerId"] != before["ManagerId"] and after["Territory__c"].startswith(after["Region__c"])
        elif after["Title"] != before["Title"]:
            kinds["promotion"] += 1
        else:
            kinds["territory"] += 1
            assert after["Territory__c"] != before["Territory__c"]
    assert kinds == Counter(expected)


def test_account_team_splits_sum_to_100_for_every_account_and_period(generated: Generated) -> None:
    members = [m for m in _latest(_crm_records(generated.root, "AccountTeamMember")).values() if not m["IsDeleted"]]
    assert len(members) == generated.manifest["entities"]["crm_history"]["AccountTeamMember"]
    by_account: dict[str, list[dict[str, Any]]] = {}
    for m in members:
        by_account.setdefault(m["AccountId"], []).append(m)
    accounts = {r["Id"] for _, r in _crm_records(generated.root, "Account")}
    assert set(by_account) == accounts  # every account has a team
    shared = 0
    for account, team in by_account.items():
        bounds = {m["Effective_From__c"] for m in team} | {
            (date.fromisoformat(m["Effective_To__c"]) + timedelta(days=1)).isoformat()
            for m in team
            if m["Effective_To__c"]
        }
        for day in sorted(bounds):
            active = [
                m
                for m in team
                if m["Effective_From__c"] <= day and (m["Effective_To__c"] is None or day <= m["Effective_To__c"])
            ]
            if active:
                assert sum(m["Credit_Split__c"] for m in active) == 100.0, (account, day)
        shared += any(m["Credit_Split__c"] < 100 for m in team)
    assert shared == generated.manifest["entities"]["crm_history"]["accounts_with_shared_credit"] > 0


def test_won_deals_are_cancelled_inside_and_outside_the_clawback_window(generated: Generated) -> None:
    history = generated.manifest["entities"]["crm_history"]
    cancelled = [
        r for r in _latest(_crm_records(generated.root, "Opportunity")).values() if r["StageName"] == "Cancelled"
    ]
    gaps = [(date.fromisoformat(r["Cancelled_Date__c"]) - date.fromisoformat(r["CloseDate"])).days for r in cancelled]
    assert sum(g <= 90 for g in gaps) == (
        history["cancelled_after_booking_in_window"] + history["older_bookings_cancelled_within_90_days"]
    )
    assert sum(g > 90 for g in gaps) == history["older_bookings_cancelled_after_90_days"] >= 1
    assert all(START <= date.fromisoformat(r["Cancelled_Date__c"]) <= END for r in cancelled)
    assert not any(r["Web_Order_Id__c"] for r in cancelled)


def test_opportunity_history_records_every_stage_change_as_the_org_does(generated: Generated) -> None:
    """OpportunityHistory: one row per stage/amount/close-date/probability change, deleted with its deal."""
    versions: dict[str, list[dict[str, Any]]] = {}
    for _, r in sorted(_crm_records(generated.root, "Opportunity"), key=lambda x: x[1]["SystemModstamp"]):
        versions.setdefault(r["Id"], []).append(r)
    history: dict[str, list[dict[str, Any]]] = {}
    tombstones: dict[str, set[str]] = {}
    for _, h in sorted(_crm_records(generated.root, "OpportunityHistory"), key=lambda x: x[1]["SystemModstamp"]):
        if h["IsDeleted"]:
            tombstones.setdefault(h["OpportunityId"], set()).add(h["Id"])
        else:
            history.setdefault(h["OpportunityId"], []).append(h)
    assert set(history) == set(versions)
    booked_before_window = 0
    for opp_id, log in versions.items():
        live = [v for v in log if not v["IsDeleted"]]
        stages = [h["StageName"] for h in history[opp_id]]
        expected = [v["StageName"] for i, v in enumerate(live) if i == 0 or v["StageName"] != live[i - 1]["StageName"]]
        if expected[0] == "Cancelled":
            # Booked before the change log begins: the org still holds the won row on its close date.
            booked_before_window += 1
            assert stages[0] in {"Closed Won"} and history[opp_id][0]["CreatedDate"][:10] == live[0]["CloseDate"]
            stages = stages[1:]
        # Consecutive rows may repeat a stage when the close date or amount changed.
        assert [s for i, s in enumerate(stages) if i == 0 or s != stages[i - 1]] == expected, opp_id
        assert all(h["CreatedDate"] == h["SystemModstamp"] for h in history[opp_id])
        if log[-1]["IsDeleted"]:
            assert tombstones[opp_id] == {h["Id"] for h in history[opp_id]}
        else:
            assert opp_id not in tombstones
    assert booked_before_window >= 1
