"""Issue #11: bad input never vanishes and never corrupts a number — the staging cases.

Each test injects one malformed source into a copy of the sample sources, runs the real Dagster
job into a copy of the template lake, and proves from the Delta tables alone that every
delivered row is staged, dead-lettered with its reason, or a collapsed duplicate — and that no
figure moved by a bad value. ``pytest -s`` prints a ``FAULT`` line per case.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.staging.dead_letters import read_dead_letters
from sales360_assets_tests.bad_input_helpers import (
    ALL_REGIONS,
    DAY,
    completed_uk_lines,
    letters_for,
    pos_file,
    pos_revenue,
    reconciliation,
    report,
    revenue,
    run_day,
    warehouse_file,
)
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.fault_helpers import DAYS, copy_sources, fresh_lake, range_tags, run_job
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration


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

    with project_instance() as instance:  # nightly: the second day alone, the first already staged
        run_job(defs, "daily_sales_job", instance, partition=(second, "emea"))
    nightly = {d: pos_revenue(lake, PartitionSelection.single(d, "emea")) for d in (first, second)}
    letters = read_dead_letters(lake, "raw_pos_transactions", PartitionSelection.single(second, "emea"))
    wrong_date = letters.filter(pl.col("reason").str.contains("is not the folder date"))
    copies = letters.filter(pl.col("reason").str.starts_with("duplicate of"))
    nightly_counts = reconciliation(lake, "raw_pos_transactions", "stg_pos_transactions", both)

    with project_instance() as instance:  # the same two days as one range run
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
