"""Issue #11: bad input never vanishes and never corrupts a number.

Each test injects one malformed source into a copy of the sample sources, runs the real Dagster
job into a copy of the template lake, and proves from the Delta tables alone that every
delivered row is staged, dead-lettered with its reason, or a collapsed duplicate — and that no
figure moved by a bad value. ``pytest -s`` prints a ``FAULT`` line per case.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, PlanError, load_plan
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake, PartitionSelection
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.marts import performance as marts
from sales360_assets.settings import REGION_CODES
from sales360_assets.staging.dead_letter_asset import dead_letter
from sales360_assets.staging.dead_letters import read_dead_letters
from sales360_assets_tests import test_core_transforms as core_cases
from sales360_assets_tests.builders import CAMPAIGNS_SCHEMA, dim_customer, fact_opportunity, fact_sales, frame, sale
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.fault_helpers import DAYS, copy_sources, fresh_lake, range_tags, run_job

pytestmark = pytest.mark.integration

DAY = DAYS[1]  # 2026-03-04
ALL_REGIONS = PartitionSelection(DAY, DAY, tuple(REGION_CODES))


def report(fault: str, **counts: object) -> None:
    print(f"\nFAULT {fault}: {json.dumps(counts, default=str)}")


def warehouse_file(sources: Path, table: str, day: date = DAY) -> Path:
    return next((sources / "warehouse" / table / f"order_date={day.isoformat()}").glob("*.parquet"))


def run_day(sources: Path, lake_uri: str, day: date = DAY, regions: tuple[str, ...] = tuple(REGION_CODES)) -> None:
    """One daily_sales_job range run over ``day`` × ``regions`` (Dagster orders regions by name)."""
    defs = build_definitions(str(sources), lake_uri)
    tags = {
        "dagster/asset_partition_range_start": f"{day.isoformat()}|{regions[0]}",
        "dagster/asset_partition_range_end": f"{day.isoformat()}|{regions[-1]}",
    }
    with dg.instance_for_test() as instance:
        run_job(defs, "daily_sales_job", instance, tags=tags)


def reconciliation(lake: DeltaLake, raw_table: str, staged_table: str, selection: PartitionSelection) -> dict:
    """in (raw rows) = staged + rejected + duplicates, read from the Delta tables alone."""
    raw = lake.read(raw_table, selection).height
    staged = lake.read(staged_table, selection).height
    rejected = read_dead_letters(lake, raw_table, selection).height
    return {"raw": raw, "staged": staged, "rejected": rejected, "duplicates": raw - staged - rejected}


def letters_for(lake: DeltaLake, raw_table: str, key_prefix: str) -> pl.DataFrame:
    letters = read_dead_letters(lake, raw_table)
    return letters.filter(pl.col("source_key").str.starts_with(key_prefix))


def revenue(lake: DeltaLake, region: str, channel: str | None = None, day: date = DAY) -> float:
    mart = lake.read("mart_daily_sales", PartitionSelection.single(day, region))
    if channel is not None:
        mart = mart.filter(pl.col("channel") == channel)
    return float(mart["revenue_usd"].sum())


def completed_uk_lines(sources: Path) -> pl.DataFrame:
    orders = pl.read_parquet(warehouse_file(sources, "orders"))
    done = orders.filter((pl.col("region") == "uk") & (pl.col("status") == "completed"))["order_id"]
    lines = pl.read_parquet(warehouse_file(sources, "order_lines"))
    return lines.filter(pl.col("order_id").is_in(done.to_list()) & (pl.col("unit_price") > 0))


# --- case 1: discounts outside [0, gross] ------------------------------------------------------------


def test_case1_discounts_outside_zero_to_gross_are_dead_lettered(tmp_path: Path, sample_sources: SampleSources) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    web_before = revenue(lake, "uk", "web")
    path = warehouse_file(sources, "order_lines")
    lines = pl.read_parquet(path)
    targets = completed_uk_lines(sources).head(2)
    (huge_order, huge_line), (neg_order, neg_line) = targets.select("order_id", "line_number").rows()
    fx = lake.read("stg_warehouse_order_lines", PartitionSelection.single(DAY, "uk"))
    lost_net = float(
        fx.join(targets.select("order_id", "line_number"), on=["order_id", "line_number"])["net_amount_usd"].sum()
    )
    lines = lines.with_columns(
        pl.when((pl.col("order_id") == huge_order) & (pl.col("line_number") == huge_line))
        .then(1_000_000.0)
        .when((pl.col("order_id") == neg_order) & (pl.col("line_number") == neg_line))
        .then(-500.0)
        .otherwise(pl.col("discount_amount"))
        .alias("discount_amount")
    )
    lines.write_parquet(path)

    run_day(sources, str(lake.root_uri), regions=("uk",))
    web_after = revenue(lake, "uk", "web")
    huge = letters_for(lake, "raw_warehouse_order_lines", f"{huge_order}|{huge_line}")
    negative = letters_for(lake, "raw_warehouse_order_lines", f"{neg_order}|{neg_line}")
    counts = reconciliation(
        lake, "raw_warehouse_order_lines", "stg_warehouse_order_lines", PartitionSelection.single(DAY, "uk")
    )
    report(
        "case1_discount_out_of_range",
        web_revenue_before=round(web_before, 2),
        web_revenue_after=round(web_after, 2),
        reasons=[*huge["reason"], *negative["reason"]],
        **counts,
    )
    assert huge.height == 1 and "discount" in huge["reason"][0], huge
    assert negative.height == 1 and "negative discount" in negative["reason"][0], negative
    assert web_after == pytest.approx(web_before - lost_net, abs=0.01)
    assert counts["duplicates"] >= 0 and counts["raw"] == lines.filter(pl.col("region") == "uk").height


# --- case 2: float quantities ------------------------------------------------------------------------


def test_case2_fractional_quantities_are_dead_lettered_not_truncated(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    selection = PartitionSelection.single(DAY, "uk")
    gross_before = float(lake.read("stg_warehouse_order_lines", selection)["gross_amount"].sum())
    path = warehouse_file(sources, "order_lines")
    target = completed_uk_lines(sources).head(1)
    order_id, line_number, unit_price = target.select("order_id", "line_number", "unit_price").row(0)
    original_quantity = target["quantity"][0]
    lines = pl.read_parquet(path).with_columns(
        pl.when((pl.col("order_id") == order_id) & (pl.col("line_number") == line_number))
        .then(2.5)
        .otherwise(pl.col("quantity").cast(pl.Float64))
        .alias("quantity")
    )
    lines.write_parquet(path)

    run_day(sources, str(lake.root_uri), regions=("uk",))
    staged = lake.read("stg_warehouse_order_lines", selection)
    gross_after = float(staged["gross_amount"].sum())
    letter = letters_for(lake, "raw_warehouse_order_lines", f"{order_id}|{line_number}")
    counts = reconciliation(lake, "raw_warehouse_order_lines", "stg_warehouse_order_lines", selection)
    report(
        "case2_fractional_quantity",
        gross_before=round(gross_before, 2),
        gross_after=round(gross_after, 2),
        reason=letter["reason"].to_list(),
        **counts,
    )
    assert letter.height == 1 and "2.5" in letter["reason"][0] and "whole" in letter["reason"][0], letter
    # Every other line (2.0 delivered as a float is exactly 2) is staged with its exact quantity.
    assert gross_after == pytest.approx(gross_before - original_quantity * unit_price, abs=0.01)
    assert counts["raw"] == lines.filter(pl.col("region") == "uk").height


# --- case 3: unknown, null and wrongly cased regions -------------------------------------------------


def test_case3_rows_with_bad_regions_are_normalised_or_dead_lettered_never_lost(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    orders_path, lines_path = warehouse_file(sources, "orders"), warehouse_file(sources, "order_lines")
    orders = pl.read_parquet(orders_path)
    uk = orders.filter(pl.col("region") == "uk")["order_id"].head(3).to_list()
    orders = orders.with_columns(
        pl.when(pl.col("order_id") == uk[0])
        .then(pl.lit("UK "))
        .when(pl.col("order_id") == uk[1])
        .then(pl.lit("mars"))
        .when(pl.col("order_id") == uk[2])
        .then(pl.lit(None, dtype=pl.String))
        .otherwise(pl.col("region"))
        .alias("region")
    )
    lines = pl.read_parquet(lines_path)
    lines = lines.join(orders.select("order_id", pl.col("region").alias("_r")), on="order_id", how="left")
    lines = lines.with_columns(
        pl.when(pl.col("order_id").is_in(uk)).then(pl.col("_r")).otherwise(pl.col("region")).alias("region")
    ).drop("_r")
    orders.write_parquet(orders_path)
    lines.write_parquet(lines_path)

    run_day(sources, str(lake.root_uri))
    counts = {
        table: reconciliation(lake, f"raw_warehouse_{table}", f"stg_warehouse_{table}", ALL_REGIONS)
        for table in ("orders", "order_lines")
    }
    staged_orders = lake.read("stg_warehouse_orders", ALL_REGIONS)
    recased = staged_orders.filter(pl.col("order_id") == uk[0])
    unknown = letters_for(lake, "raw_warehouse_orders", uk[1])
    null = letters_for(lake, "raw_warehouse_orders", uk[2])
    lines_of_bad = read_dead_letters(lake, "raw_warehouse_order_lines").filter(
        pl.col("source_key").str.starts_with(uk[1]) | pl.col("source_key").str.starts_with(uk[2])
    )
    report(
        "case3_bad_regions",
        orders_in=orders.height,
        lines_in=lines.height,
        recased_order_region=recased["region"].to_list(),
        unknown_region_reason=unknown["reason"].to_list(),
        null_region_reason=null["reason"].to_list(),
        lines_of_bad_orders_dead_lettered=lines_of_bad.height,
        **{f"{t}_{k}": v for t, c in counts.items() for k, v in c.items()},
    )
    # Nothing vanished: every delivered row is in raw, and raw = staged + rejected + duplicates.
    assert counts["orders"]["raw"] == orders.height
    assert counts["order_lines"]["raw"] == lines.height
    assert recased["region"].to_list() == ["uk"]
    assert unknown.height == 1 and "unknown region 'mars'" in unknown["reason"][0]
    assert null.height == 1 and "missing region" in null["reason"][0]
    assert lines_of_bad.height == lines.filter(pl.col("order_id").is_in(uk[1:])).height


# --- case 6: duplicates that disagree ----------------------------------------------------------------


def test_case6_conflicting_duplicates_are_dead_lettered_with_both_values(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    selection = PartitionSelection.single(DAY, "uk")
    path = warehouse_file(sources, "order_lines")
    lines = pl.read_parquet(path)
    target = completed_uk_lines(sources).filter(pl.col("quantity") == 1).head(1)
    order_id, line_number = target.select("order_id", "line_number").row(0)
    # Same key, same _loaded_at, quantity 1 vs 10: which one is true cannot be known.
    pl.concat([lines, target.with_columns(pl.lit(10, dtype=pl.Int64).alias("quantity"))]).write_parquet(path)

    run_day(sources, str(lake.root_uri), regions=("uk",))
    letters = letters_for(lake, "raw_warehouse_order_lines", f"{order_id}|{line_number}")
    staged = lake.read("stg_warehouse_order_lines", selection).filter(
        (pl.col("order_id") == order_id) & (pl.col("line_number") == line_number)
    )
    counts = reconciliation(lake, "raw_warehouse_order_lines", "stg_warehouse_order_lines", selection)
    report("case6_conflicting_duplicates", reasons=letters["reason"].to_list(), staged_for_key=staged.height, **counts)
    assert staged.height == 0, "one of two disagreeing rows was kept silently"
    assert letters.height == 2
    assert all("conflicting duplicate" in r and "quantity 1 vs 10" in r for r in letters["reason"]), letters["reason"]
    assert counts["raw"] == lines.filter(pl.col("region") == "uk").height + 1


# --- case 4: POS lines on the wrong date or re-sent into another day ----------------------------------


def pos_file(sources: Path, day: date, store: str) -> Path:
    return sources / "landing" / "pos" / day.isoformat() / f"{store}.csv"


def pos_revenue(lake: DeltaLake, selection: PartitionSelection) -> float:
    return float(lake.read("stg_pos_transactions", selection)["net_amount_usd"].sum())


def test_case4_a_resent_pos_file_counts_once_on_its_own_date(tmp_path: Path, sample_sources: SampleSources) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    first, second = DAYS[0], DAYS[0] + timedelta(days=1)  # the next day's folder
    both = PartitionSelection(first, second, ("emea",))
    before = {d: pos_revenue(lake, PartitionSelection.single(d, "emea")) for d in (first, second)}
    resent = pos_file(sources, first, "emea-001").read_text().splitlines()[1:]
    # One copied line also had its clock moved onto the second day: it passes the date rule and
    # must be caught as a line already staged for the first day.
    moved = resent[0].replace(f"{first.isoformat()}T", f"{second.isoformat()}T")
    target = pos_file(sources, second, "emea-001")
    target.write_text(target.read_text().rstrip("\n") + "\n" + "\n".join([moved, *resent[1:]]) + "\n")
    defs = build_definitions(str(sources), lake.root_uri)

    with dg.instance_for_test() as instance:  # nightly: the second day alone, the first already staged
        run_job(defs, "daily_sales_job", instance, partition=(second, "emea"))
    nightly = {d: pos_revenue(lake, PartitionSelection.single(d, "emea")) for d in (first, second)}
    letters = read_dead_letters(lake, "raw_pos_transactions", PartitionSelection.single(second, "emea"))
    wrong_date = letters.filter(pl.col("reason").str.contains("is not the folder date"))
    copies = letters.filter(pl.col("reason").str.starts_with("duplicate of"))
    nightly_counts = reconciliation(lake, "raw_pos_transactions", "stg_pos_transactions", both)

    with dg.instance_for_test() as instance:  # the same two days as one range run
        run_job(defs, "daily_sales_job", instance, tags=range_tags(first, second, "emea"))
    ranged = {d: pos_revenue(lake, PartitionSelection.single(d, "emea")) for d in (first, second)}
    range_letters = read_dead_letters(lake, "raw_pos_transactions", both)
    report(
        "case4_resent_pos_file",
        lines_resent=len(resent),
        revenue_before={str(d): round(v, 2) for d, v in before.items()},
        revenue_nightly={str(d): round(v, 2) for d, v in nightly.items()},
        revenue_range={str(d): round(v, 2) for d, v in ranged.items()},
        wrong_date_letters=wrong_date.height,
        already_staged_letters=copies.height,
        sample_reasons=[wrong_date["reason"][0] if wrong_date.height else None, *copies["reason"]],
        **nightly_counts,
    )
    assert wrong_date.height == len(resent) - 1
    assert copies.height == 1 and f"staged for {first.isoformat()}" in copies["reason"][0]
    for figures in (nightly, ranged):
        assert figures[first] == pytest.approx(before[first], abs=0.01)
        assert figures[second] == pytest.approx(before[second], abs=0.01)
    assert range_letters.filter(pl.col("date") == second).height == letters.height


# --- case 7: encodings, delimiters and unregistered stores -------------------------------------------


def test_case7_encodings_delimiters_and_unknown_stores_load_or_dead_letter_per_file(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake = DeltaLake(fresh_lake(sample_sources.root, tmp_path / "lake"))
    latin, bom, semicolon = (
        pos_file(sources, DAY, "emea-002"),
        pos_file(sources, DAY, "emea-003"),
        pos_file(sources, DAY, "na-001"),
    )
    lines = latin.read_text().splitlines()
    fields = lines[1].split(",")
    fields[10] = "Gérard Müller"  # customer_name
    lines[1] = ",".join(fields)
    latin.write_bytes(("\n".join(lines) + "\n").encode("latin-1"))
    bom.write_bytes(b"\xef\xbb\xbf" + bom.read_bytes())
    pl.read_csv(semicolon, infer_schema=False).write_csv(semicolon, separator=";")
    stranger = pos_file(sources, DAY, "emea-999")
    stranger.write_text(pos_file(sources, DAY, "emea-001").read_text().replace("emea-001", "emea-999"))
    delivered = {
        p.stem: len([line for line in p.read_bytes().splitlines()[1:] if line.strip()])
        for p in (latin, bom, semicolon, stranger)
    }

    run_day(sources, lake.root_uri)
    raw = lake.read("raw_pos_transactions", ALL_REGIONS)
    staged = lake.read("stg_pos_transactions", ALL_REGIONS)
    letters = read_dead_letters(lake, "raw_pos_transactions", ALL_REGIONS)
    per_file = {
        store: {
            "raw": raw.filter(pl.col("_source_file").str.ends_with(f"{store}.csv")).height,
            "staged": staged.filter(pl.col("source_file").str.ends_with(f"{store}.csv")).height,
            "rejected": letters.filter(pl.col("source_key").str.contains(f"{store}.csv", literal=True)).height,
        }
        for store in delivered
    }
    name = staged.filter(pl.col("source_file").str.ends_with("emea-002.csv"))["customer_name"].to_list()
    unregistered = letters.filter(pl.col("source_key").str.contains("emea-999.csv", literal=True))
    counts = reconciliation(lake, "raw_pos_transactions", "stg_pos_transactions", ALL_REGIONS)
    report(
        "case7_encodings_and_formats",
        delivered_lines=delivered,
        per_file=per_file,
        latin1_name=[n for n in name if n and "ller" in n],
        unregistered_reason=unregistered["reason"].unique().to_list(),
        **counts,
    )
    assert "Gérard Müller" in name and not any("\ufffd" in (n or "") for n in name)
    for store in ("emea-002", "emea-003", "na-001"):
        assert per_file[store]["raw"] == delivered[store] == per_file[store]["staged"] + per_file[store]["rejected"]
        assert per_file[store]["staged"] > 0
    assert per_file["emea-999"] == {"raw": delivered["emea-999"], "staged": 0, "rejected": delivered["emea-999"]}
    assert "not in stores.csv" in unregistered["reason"][0]


# --- case 9: a typo in the commission plan -----------------------------------------------------------


def test_case9_a_plan_rate_for_an_unknown_product_family_is_refused_naming_it(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(DEFAULT_PLAN_PATH.read_text().replace("  Services: 8.0", "  Servics: 8.0"))
    with pytest.raises(PlanError) as raised:
        load_plan(plan)
    message = str(raised.value)
    report("case9_plan_family_typo", error=message)
    assert "Servics" in message and "did you mean 'Services'" in message and str(plan) in message
    assert load_plan().base_rate_pct("Services") == 8.0  # the committed plan still loads


# --- case 5: two first writers race to create a table ------------------------------------------------

FIRST_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import polars as pl
    from sales360_assets.lake.delta import DeltaLake

    root, me, barrier, kind = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    lake = DeltaLake(root)
    # Slow storage: both writers see "no table yet" before either commits (the real race's window).
    original = DeltaLake.exists
    def slow_exists(self, name):
        found = original(self, name)
        if not found:
            time.sleep(0.5)
        return found
    DeltaLake.exists = slow_exists
    rows = pl.DataFrame({"day": list(range(400)), "source_table": ["stg_" + kind] * 400, "writer": [me] * 400})
    (barrier / me).touch()
    while len(list(barrier.iterdir())) < 2:
        time.sleep(0.001)
    if kind == "replace":
        lake.replace_where("shared", rows, "source_table = 'stg_replace'", pl.col("source_table") == "stg_replace")
    elif kind == "overwrite":
        lake.overwrite("shared", rows)
    else:
        lake.merge("shared", rows.drop("writer"), ["day"])
    print("committed", flush=True)
    """
)


@pytest.mark.parametrize("kind", ["replace", "merge", "overwrite"])
def test_case5_two_first_writers_create_a_table_once(tmp_path: Path, kind: str) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    root = tmp_path / "lake"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_WRITER, str(root), me, str(barrier), kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for me in ("a", "b")
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    table = DeltaLake(str(root)).read("shared")
    report(
        f"case5_concurrent_create_{kind}",
        rows=table.height,
        expected=400,
        distinct_days=table["day"].n_unique(),
        exit_codes=[c.returncode for c in children],
    )
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-2000:]
    assert table.height == 400 and table["day"].n_unique() == 400


# --- case 8 (lake): a damaged Delta log or data file is reported with the table and file --------------


def step_failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return " ".join(str(e.step_failure_data.error.to_string()) for e in failures if e.step_failure_data.error)


def test_case8_a_damaged_data_file_or_log_is_reported_with_table_and_file(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    data_file = next((Path(lake_uri) / "stg_warehouse_fx_rates").glob("*.parquet"))
    intact = data_file.read_bytes()
    data_file.write_bytes(intact[: len(intact) // 2])
    with dg.instance_for_test() as instance:
        broken_file = run_job(defs, "daily_sales_job", instance, partition=(DAY, "uk"), raise_on_error=False)
    data_file.write_bytes(intact)
    log = sorted((Path(lake_uri) / "stg_warehouse_fx_rates" / "_delta_log").glob("*.json"))[-1]
    log.write_text(log.read_text()[:120])
    with dg.instance_for_test() as instance:
        broken_log = run_job(defs, "daily_sales_job", instance, partition=(DAY, "uk"), raise_on_error=False)
    file_error, log_error = step_failure_text(broken_file), step_failure_text(broken_log)

    def cause(text: str) -> str | None:
        return next((line[:300] for line in text.splitlines() if "Delta table" in line), text[:300] or None)

    report("case8_damaged_lake_files", data_file_error=cause(file_error), log_error=cause(log_error))
    assert not broken_file.success and not broken_log.success
    assert "stg_warehouse_fx_rates" in file_error and data_file.name in file_error
    assert "stg_warehouse_fx_rates" in log_error and "_delta_log" in log_error


# --- case 8 (CLI): arguments checked first, short errors, every region runs --------------------------


def sales360(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    project = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "sales360_assets.cli", *args],
        env={**os.environ, "PYTHONPATH": str(project), **env},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_case8_bad_arguments_fail_in_one_line_before_any_run(tmp_path: Path, sample_sources: SampleSources) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    sla = tmp_path / "sla.yaml"
    sla.write_text("slas:\n  sales_facts:\n    regions: [emea, mars]\n")
    base = {
        "DAGSTER_HOME": str(home),
        "SALES360_SOURCES_DIR": str(sample_sources.root),
        "SALES360_LAKE_URI": str(tmp_path / "lake"),
        "SALES360_PARTITIONS_START": "2026-03-01",
    }
    cases = {
        "days_zero": (["materialize", "--days", "0", "--end", "2026-03-04"], {}, "--days must be at least 1"),
        "end_before_start": (["materialize", "--days", "3", "--end", "2026-02-01"], {}, "before the first partition"),
        "end_not_a_date": (["materialize", "--end", "2026-13-01"], {}, "--end must be a date"),
        "unwritable_lake": (
            ["materialize", "--days", "1", "--end", "2026-03-04"],
            {"SALES360_LAKE_URI": str(blocker / "lake")},
            "is not writable",
        ),
        "freshness_bad_sla": (["freshness"], {"SALES360_SLA_CONFIG": str(sla)}, "unknown region(s) ['mars']"),
    }
    outcomes = {}
    for name, (args, env, expected) in cases.items():
        done = sales360(args, {**base, **env})
        outcomes[name] = (done.returncode, done.stderr.strip().splitlines()[:2])
        assert done.returncode == 2, (name, done.stderr[-2000:])
        assert expected in done.stderr, (name, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (name, done.stderr[-2000:])
    report("case8_cli_arguments", **{k: v for k, v in outcomes.items()})
    assert not (tmp_path / "lake").exists(), "a run wrote the lake before the arguments were refused"
    assert not (home / "history").exists() and not (home / "storage").exists(), "a run started"


def test_case8_a_failing_region_does_not_stop_the_others(tmp_path: Path, sample_sources: SampleSources) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    broken = pos_file(sources, DAY, "emea-001")
    pl.read_csv(broken, infer_schema=False).drop("quantity").write_csv(broken)  # emea fails: schema drift
    home = tmp_path / "dagster_home"
    home.mkdir()
    lake_uri = str(tmp_path / "lake")
    env = {
        "DAGSTER_HOME": str(home),
        "SALES360_SOURCES_DIR": str(sources),
        "SALES360_LAKE_URI": lake_uri,
        "SALES360_PARTITIONS_START": "2026-03-01",
    }
    done = sales360(["materialize", "--days", "1", "--end", DAY.isoformat()], env, timeout=900)
    lake = DeltaLake(lake_uri)
    facts = lake.read("fact_sales").group_by("region").len() if lake.exists("fact_sales") else pl.DataFrame()
    report(
        "case8_cli_failing_region",
        exit_code=done.returncode,
        stdout_runs=[line for line in done.stdout.splitlines() if ": ok" in line or "FAILED" in line],
        stderr=done.stderr.strip().splitlines()[:4],
        fact_regions=sorted(facts["region"].to_list()) if facts.height else [],
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert f"daily_sales_job {DAY}..{DAY} × emea: FAILED" in done.stdout and "emea-001.csv" in done.stdout
    for region in ("apac", "na", "uk"):
        assert f"daily_sales_job {DAY}..{DAY} × {region}: ok" in done.stdout
    assert "sales_reporting_job: ok" in done.stdout or "sales_reporting_job: FAILED" in done.stdout
    assert sorted(facts["region"].to_list()) == ["apac", "na", "uk"]
    assert "1 of 6 run(s) failed" in done.stderr or "run(s) failed" in done.stderr


# --- case 10: smaller defects, each with a known answer -----------------------------------------------

MARCH_4, MARCH_9 = date(2024, 3, 4), date(2024, 3, 9)


def test_case10_campaign_revenue_counts_won_deals_and_each_web_order_once() -> None:
    fact = fact_sales(
        [
            sale("web:W1:1", MARCH_4, 200.0),  # the web order two won deals of campaign C1 point at
            sale("web:W2:1", MARCH_4, 300.0),  # the web order of a lost deal
            sale("web:W3:1", MARCH_4, 50.0),  # the web order of an open deal
        ]
    )
    deals = fact_opportunity(
        [
            {"opportunity_id": "OP1", "campaign_id": "C1", "booking_date": MARCH_4, "web_order_id": "W1"},
            {"opportunity_id": "OP2", "campaign_id": "C1", "booking_date": MARCH_4, "web_order_id": "W1"},
            {"opportunity_id": "OP3", "campaign_id": "C1", "is_closed": True, "is_won": False, "web_order_id": "W2"},
            {"opportunity_id": "OP4", "campaign_id": "C1", "web_order_id": "W3"},
        ]
    )
    campaigns = frame(
        [{"campaign_id": "C1", "campaign_name": "Spring", "actual_cost": 100.0}],
        CAMPAIGNS_SCHEMA,
        {"is_deleted": False},
    )
    c1 = (
        marts.build_mart_campaign_effectiveness(fact, deals, campaigns)
        .filter(pl.col("campaign_id") == "C1")
        .row(0, named=True)
    )
    report(
        "case10_campaign_influenced_revenue",
        influenced_revenue_usd=c1["influenced_revenue_usd"],
        roi_pct=c1["campaign_roi_pct"],
        expected_revenue=200.0,
        expected_roi_pct=100.0,
    )
    assert c1["influenced_revenue_usd"] == 200.0 and c1["campaign_roi_pct"] == 100.0


def test_case10_anonymous_walk_in_buyers_are_not_one_repeat_customer() -> None:
    walk_in = {"channel": "pos", "customer_key": "k-unidentified", "customer_ref": None}
    fact = fact_sales(
        [
            sale("pos:P1:1", MARCH_4, 10.0, **walk_in),
            sale("pos:P2:1", MARCH_4, 20.0, **walk_in),
            sale("pos:P3:1", MARCH_9, 30.0, **walk_in),
        ]
    )
    row = marts.build_mart_customer_segment_monthly(fact, dim_customer()).row(0, named=True)
    report(
        "case10_anonymous_walk_ins",
        customers=row["customers"],
        repeat_customers=row["repeat_customers"],
        repeat_rate_pct=row["repeat_purchase_rate_pct"],
        expected=(3, 0, 0.0),
    )
    assert (row["customers"], row["repeat_customers"], row["repeat_purchase_rate_pct"]) == (3, 0, 0.0)


def test_case10_a_won_deal_whose_web_order_does_not_exist_stays_a_crm_sale() -> None:
    cases = core_cases
    deal = cases.opportunities().filter(pl.col("opportunity_id") == "OP2")  # won, fulfilled as web order O1
    orphan = deal.with_columns(pl.lit("OP9").alias("opportunity_id"), pl.lit("O-NEVER-PLACED").alias("web_order_id"))
    orphan_line = (
        cases.opportunity_lines()
        .filter(pl.col("line_item_id") == "LI4")
        .with_columns(pl.lit("LI9").alias("line_item_id"), pl.lit("OP9").alias("opportunity_id"))
    )
    dim_customer_ = cases.build_dim_customer(cases.customers(), cases.accounts(), cases.contacts())
    fact = cases.build_fact_sales(
        cases.web_lines(),
        cases.pos_lines(),
        pl.concat([cases.opportunities(), orphan]),
        pl.concat([cases.opportunity_lines(), orphan_line]),
        cases.users(),
        dim_customer_,
        cases.build_dim_product(cases.products(), cases.crm_products()),
        cases.START,
        cases.END,
        cases.REGIONS,
        web_orders=pl.DataFrame({"order_id": ["O1"]}),  # every web order the warehouse holds
    )
    crm = fact.filter(pl.col("channel") == "crm")["sales_line_id"].to_list()
    report("case10_deal_with_missing_web_order", crm_lines=sorted(crm), expected_in="crm:LI9", expected_out="crm:LI4")
    assert "crm:LI9" in crm, "a won deal whose web order does not exist vanished from every channel"
    assert "crm:LI4" not in crm, "a deal fulfilled as an existing web order must stay out of the CRM channel"


# --- dead_letter in the asset graph ------------------------------------------------------------------


def test_dead_letter_is_an_asset_downstream_of_every_staging_writer_with_counts(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    graph = defs.resolve_asset_graph()
    upstream = {key.to_user_string() for key in graph.get(dg.AssetKey("dead_letter")).parent_keys}
    with dg.instance_for_test() as instance:
        result = dg.materialize([dead_letter], resources={"lake": LakeResource(root_uri=lake_uri)}, instance=instance)
    metadata = result.asset_materializations_for_node("dead_letter")[0].metadata
    letters = read_dead_letters(DeltaLake(lake_uri))
    report(
        "dead_letter_asset",
        upstream_staging_assets=len(upstream),
        row_count=metadata["dagster/row_count"].value,
        rows_by_source=metadata["rows_by_source"].value,
    )
    assert {"stg_pos_transactions", "stg_warehouse_order_lines", "stg_salesforce_opportunities"} <= upstream
    assert not any(name.endswith("_history") for name in upstream)
    assert metadata["dagster/row_count"].value == letters.height > 0
    assert sum(metadata["rows_by_source"].value.values()) == letters.height
    assert "| source table | reason | rows |" in metadata["rows_by_reason"].value
