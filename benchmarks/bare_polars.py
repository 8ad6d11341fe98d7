"""The daily job's transforms as a plain script: no Dagster run, no events, no asset checks.

The orchestrated side of the "orchestrated vs bare Polars" target. For one region and a date range
it does what ``daily_sales_job`` does for that range, with the same functions, in the same order,
into the same Delta tables: extract the warehouse orders and lines and the POS files (the
resources' clients), stage them (dead letters written, counts reconciled, rows validated before
the write), build ``fact_sales`` a span of months at a time, then the four daily marts. Inputs
are read back from the lake as the IO manager reads them (a scan or a frame of the run's
partitions). Left out: Dagster's bookkeeping (events, metadata) and the blocking asset checks,
which are not transforms.

``run_benchmark.py bare`` times it against the orchestrated region runs, on the
same sources and the same reference data, and checks that both lakes hold the same rows.
"""

from __future__ import annotations

import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl
from orchestration import OPENERS

from sales360_assets.checks import validated_blocks
from sales360_assets.checks.asset_checks import check_names, findings_for
from sales360_assets.cli import materialize_window, run_job
from sales360_assets.core import sales, schemas
from sales360_assets.core.assets import known_web_orders
from sales360_assets.definitions import build_definitions, build_resources
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.marts import customers, products
from sales360_assets.marts import sales as mart_sales
from sales360_assets.marts.assets import FACT_COLUMNS
from sales360_assets.raw.assets import with_ingestion_columns
from sales360_assets.settings import REGION_CODES
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.resources import LandingZoneResource, WarehouseResource
from sales360_assets.staging import pos, warehouse
from sales360_assets.staging.assets import dead_letter_and_reconcile, pos_lines_staged_elsewhere
from sales360_assets.staging.dead_letters import DEAD_LETTER_TABLE
from sales360_assets.staging.quality import StagingResult

# The daily job's tables, in the order the script writes them.
DAILY_TABLES = (
    "raw_warehouse_orders",
    "raw_warehouse_order_lines",
    "raw_pos_transactions",
    "stg_warehouse_orders",
    "stg_warehouse_order_lines",
    "stg_pos_transactions",
    "fact_sales",
    "mart_daily_sales",
    "mart_sales_performance",
    "mart_customer_segment_performance",
    "mart_product_performance",
)

# Each daily mart: its build function and the dimensions it reads after the facts.
DAILY_MARTS = {
    "mart_daily_sales": (mart_sales.build_mart_daily_sales, ()),
    "mart_sales_performance": (mart_sales.build_mart_sales_performance, ("dim_customer", "dim_product")),
    "mart_customer_segment_performance": (customers.build_mart_customer_segment_performance, ("dim_customer",)),
    "mart_product_performance": (products.build_mart_product_performance, ("dim_product",)),
}


def _publish(
    lake: DeltaLake,
    table: str,
    source_table: str,
    result: StagingResult,
    run_id: str,
    sel: PartitionSelection,
    with_checks: bool,
) -> None:
    # As the staging asset: reconcile, validate, dead-letter the rejects; then the IO manager's write.
    dead_letter_and_reconcile(lake, table, source_table, result, run_id, sel)
    lake.write_partitions(table, result.staged, sel)
    _check(lake, table, sel, with_checks)


class BlockingCheckFailedError(RuntimeError):
    """A blocking check failed: the orchestrated run would stop its downstream steps here too."""


def _check(lake: DeltaLake, table: str, sel: PartitionSelection, with_checks: bool) -> None:
    # The daily job's blocking checks on the table just written, as its check steps run them.
    if not with_checks or not check_names(table):
        return
    failed = [f.check for f in findings_for(table, True)(lake, sel) if not f.passed and not f.warn_only]
    if failed:
        raise BlockingCheckFailedError(f"{table} {sel}: {', '.join(failed)}")


def run_daily_transforms(
    lake: DeltaLake,
    warehouse_resource: WarehouseResource,
    landing: LandingZoneResource,
    start: date,
    end: date,
    region: str,
    with_checks: bool = True,
) -> None:
    """``daily_sales_job`` for ``start``..``end`` × ``region``, without Dagster; ``with_checks`` runs
    the blocking checks after each table as the job's check steps do (work a plain script would
    need for the same guarantees), else the transforms alone."""
    sel = PartitionSelection(start, end, (region,))
    run_id = f"bare-{uuid.uuid4()}"
    client = warehouse_resource.get_client()
    for name in ("orders", "order_lines"):
        table = WAREHOUSE_TABLES[name]
        frame = client.read_partitioned(table, sel.start, sel.end, sel.regions)
        frame = frame.with_columns(pl.col(str(table.date_column)).alias("date"))
        frame = with_ingestion_columns(frame, f"warehouse:{name}", run_id, datetime.now(UTC))
        lake.write_partitions(f"raw_warehouse_{name}", frame, sel)
        _check(lake, f"raw_warehouse_{name}", sel, with_checks)
    zone = landing.get_landing_zone()
    pos_lines = zone.read_pos_transactions(sel.start, sel.end, sel.regions)
    lake.write_partitions(
        "raw_pos_transactions", with_ingestion_columns(pos_lines, "landing:pos", run_id, datetime.now(UTC)), sel
    )
    _check(lake, "raw_pos_transactions", sel, with_checks)

    fx_rates = lake.read("stg_warehouse_fx_rates")
    orders = warehouse.stage_orders(raw=lake.read("raw_warehouse_orders", sel))
    _publish(lake, "stg_warehouse_orders", "raw_warehouse_orders", orders, run_id, sel, with_checks)
    lines = warehouse.stage_order_lines(
        raw=lake.read("raw_warehouse_order_lines", sel),
        orders=lake.read("stg_warehouse_orders", sel),
        fx_rates=fx_rates,
    )
    _publish(lake, "stg_warehouse_order_lines", "raw_warehouse_order_lines", lines, run_id, sel, with_checks)
    pos_result = pos.stage_pos_transactions(
        raw=lake.scan("raw_pos_transactions", sel), fx_rates=fx_rates, **pos_lines_staged_elsewhere(lake, sel)
    )
    _publish(lake, "stg_pos_transactions", "raw_pos_transactions", pos_result, run_id, sel, with_checks)

    web_orders = known_web_orders(lake)
    whole = {
        name: lake.read(name)
        for name in (
            "stg_salesforce_opportunities",
            "stg_salesforce_opportunity_line_items",
            "dim_sales_rep",
            "dim_customer",
            "dim_product",
            "dim_product_cost",
        )
    }

    def spans() -> Iterator[pl.DataFrame]:
        by_span = sales.staged_lines_in_month_spans(
            lake.scan("stg_warehouse_order_lines", sel), lake.scan("stg_pos_transactions", sel), sel.start, sel.end
        )
        for first, last, web_lines, pos_span in by_span:
            yield sales.build_fact_sales(
                web_lines,
                pos_span,
                whole["stg_salesforce_opportunities"],
                whole["stg_salesforce_opportunity_line_items"],
                whole["dim_sales_rep"],
                whole["dim_customer"],
                whole["dim_product"],
                first,
                last,
                list(sel.regions),
                web_orders=web_orders,
                product_costs=whole["dim_product_cost"],
            )

    schema = pl.Schema(schemas.FACT_SALES_SCHEMA)
    lake.write_partitions_blocks("fact_sales", schema, lambda: validated_blocks("fact_sales", spans()), sel)
    _check(lake, "fact_sales", sel, with_checks)

    for mart, (build, dimensions) in DAILY_MARTS.items():
        facts = lake.scan("fact_sales", sel).select(FACT_COLUMNS).collect().lazy()
        frame = build(facts, *(lake.scan(dim) for dim in dimensions)).collect()
        lake.write_partitions(mart, frame, sel)
        _check(lake, mart, sel, with_checks)


# Columns that name the run or the moment, not the data: they differ between any two loads.
RUN_COLUMNS = ("_ingested_at", "_run_id", "run_id", "rejected_at")


def _comparable(lake: DeltaLake, table: str) -> pl.DataFrame:
    frame = lake.read(table)
    frame = frame.drop([c for c in RUN_COLUMNS if c in frame.columns])
    return frame.sort(frame.columns)


def same_rows(orchestrated: DeltaLake, bare: DeltaLake) -> list[str]:
    """The daily tables (and the dead letters) whose rows differ between the two lakes."""
    differ = []
    for table in (*DAILY_TABLES, DEAD_LETTER_TABLE):
        a, b = _comparable(orchestrated, table), _comparable(bare, table)
        if not a.equals(b):
            differ.append(f"{table} ({a.height} vs {b.height} rows)")
    return differ


# The three sides of a round: the daily job orchestrated, the plain script with the blocking checks,
# and the plain script's transforms alone.
SIDES = ("orchestrated", "bare", "bare_transforms_only")


def compare(sources: Path, start: date, end: date, profile: str, rounds: int = 1) -> dict[str, object]:
    """The daily job's region runs orchestrated on ``profile`` vs the same work as a plain script
    (with and without the blocking checks), each after the same reference data, the order rotated
    every round; then each plain lake's rows compared with the orchestrated one's."""
    results: list[dict[str, object]] = []
    for i in range(rounds):
        order = SIDES[i % len(SIDES) :] + SIDES[: i % len(SIDES)]
        with tempfile.TemporaryDirectory(prefix="sales360-bare-") as tmp_dir:
            tmp = Path(tmp_dir)
            seconds: dict[str, float] = {}
            with OPENERS[profile](tmp / "home") as instance:
                for side in order:
                    lake_uri = str(tmp / side)
                    defs = build_definitions(str(sources), lake_uri)
                    run_job(defs, instance, "reference_data_job")  # the same reference data, not timed
                    began = time.perf_counter()
                    if side == "orchestrated":
                        timings = materialize_window(
                            defs, instance, start, end, REGION_CODES, log=lambda _: None, reporting=False
                        )
                        seconds[side] = sum(v for k, v in timings.items() if k.startswith("daily_sales_job"))
                        continue
                    resources = build_resources(str(sources), lake_uri)
                    for region in REGION_CODES:
                        run_daily_transforms(
                            DeltaLake(lake_uri),
                            resources["warehouse"],
                            resources["landing"],
                            start,
                            end,
                            region,
                            with_checks=side == "bare",
                        )
                    seconds[side] = time.perf_counter() - began
            orchestrated = DeltaLake(str(tmp / "orchestrated"))
            differ = {side: same_rows(orchestrated, DeltaLake(str(tmp / side))) for side in SIDES[1:]}
        ratios = {side: seconds["orchestrated"] / seconds[side] for side in SIDES[1:]}
        print(
            f"round {i + 1} ({', '.join(order)}): orchestrated ({profile}) {seconds['orchestrated']:.1f} s; "
            f"bare with checks {seconds['bare']:.1f} s ({ratios['bare']:.2f}×); "
            f"transforms only {seconds['bare_transforms_only']:.1f} s ({ratios['bare_transforms_only']:.2f}×); "
            + "; ".join(f"{side}: {'ROWS DIFFER ' + ', '.join(d) if d else 'same rows'}" for side, d in differ.items())
        )
        results.append({"order": list(order), **seconds, "ratios": ratios, "differ": differ})
    summary = {
        f"orchestrated_over_{side}": round(statistics.median(r["ratios"][side] for r in results), 2)
        for side in SIDES[1:]
    }
    print(
        f"orchestrated / bare Polars ({profile}, median of {rounds}): {summary['orchestrated_over_bare']:.2f}× with the "
        f"checks, {summary['orchestrated_over_bare_transforms_only']:.2f}× transforms only"
    )
    return {"per_round": results, **summary}
