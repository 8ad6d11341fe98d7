"""``sales360`` command line: generate sample sources, materialize a window, inspect the lake.

``sales360 materialize`` runs the same jobs the schedules run, in-process, against the Dagster
instance in ``$DAGSTER_HOME`` so every run shows up in the UI afterwards: first the reference
data job, then one ``daily_sales_job`` run per region covering the whole date window (what a
single-run backfill does).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import REGION_CODES, default_lake_uri
from sales360_assets.staging.dead_letters import read_dead_letters

# Every event still lands in the instance (and the UI); the terminal only needs problems.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def materialize_window(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    start: date,
    end: date,
    regions: Sequence[str],
    log: callable = print,  # type: ignore[valid-type]
) -> dict[str, float]:
    """Run the reference job, then the daily job for start..end per region. Returns seconds per run."""
    timings: dict[str, float] = {}
    began = time.perf_counter()
    result = defs.resolve_job_def("reference_data_job").execute_in_process(
        instance=instance, run_config=QUIET_CONSOLE, raise_on_error=True
    )
    timings["reference_data_job"] = time.perf_counter() - began
    log(f"reference_data_job: {'ok' if result.success else 'FAILED'} in {timings['reference_data_job']:.1f}s")
    daily = defs.resolve_job_def("daily_sales_job")
    for region in regions:
        began = time.perf_counter()
        tags = {
            "dagster/asset_partition_range_start": f"{start.isoformat()}|{region}",
            "dagster/asset_partition_range_end": f"{end.isoformat()}|{region}",
        }
        result = daily.execute_in_process(instance=instance, tags=tags, run_config=QUIET_CONSOLE, raise_on_error=True)
        timings[f"daily_sales_job[{region}]"] = elapsed = time.perf_counter() - began
        log(f"daily_sales_job {start}..{end} × {region}: {'ok' if result.success else 'FAILED'} in {elapsed:.1f}s")
    return timings


def table_row_counts(lake_uri: str) -> dict[str, int]:
    """Rows per Delta table under a local lake root."""
    lake = DeltaLake(lake_uri)
    root = Path(lake_uri)
    if not lake.is_local or not root.exists():
        return {}
    return {
        path.name: lake.scan(path.name).select(pl.len()).collect().item()
        for path in sorted(root.iterdir())
        if (path / "_delta_log").is_dir()
    }


def _cmd_generate(args: argparse.Namespace) -> int:
    from sales360_assets.sources.generator import main as generator_main

    argv = [
        "--out",
        args.out,
        "--days",
        str(args.days),
        "--order-lines",
        str(args.order_lines),
        "--seed",
        str(args.seed),
    ]
    if args.end:
        argv += ["--end", args.end]
    return generator_main(argv)


def _cmd_materialize(args: argparse.Namespace) -> int:
    from sales360_assets.definitions import defs

    end = date.fromisoformat(args.end) if args.end else _yesterday()
    start = end - timedelta(days=args.days - 1)
    regions = args.regions or REGION_CODES
    began = time.perf_counter()
    with dg.DagsterInstance.get() as instance:
        materialize_window(defs, instance, start, end, regions)
    print(f"materialized {start}..{end} × {','.join(regions)} in {time.perf_counter() - began:.1f}s")
    for name, rows in table_row_counts(default_lake_uri()).items():
        print(f"  {name:<45} {rows:>10,} rows")
    return 0


def _cmd_dead_letters(args: argparse.Namespace) -> int:
    letters = read_dead_letters(DeltaLake(default_lake_uri()))
    if letters.is_empty():
        print("no dead letters")
        return 0
    summary = letters.group_by("source_table", "reason").len().sort("source_table", "len", descending=[False, True])
    with pl.Config(tbl_rows=200, fmt_str_lengths=80):
        print(summary)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="sales360", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write deterministic sample sources")
    gen.add_argument("--out", default=None, help="sources directory (default: $SALES360_SOURCES_DIR or data/sources)")
    gen.add_argument("--days", type=int, default=30)
    gen.add_argument("--end", default=None, help="last business day, YYYY-MM-DD (default: yesterday, UTC)")
    gen.add_argument("--order-lines", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=42)
    gen.set_defaults(func=_cmd_generate)

    mat = sub.add_parser("materialize", help="materialize the whole asset graph for a date window × regions")
    mat.add_argument("--days", type=int, default=30)
    mat.add_argument("--end", default=None, help="last date, YYYY-MM-DD (default: yesterday, UTC)")
    mat.add_argument("--regions", nargs="*", choices=REGION_CODES, default=None)
    mat.set_defaults(func=_cmd_materialize)

    dead = sub.add_parser("dead-letters", help="count dead letters by source table and reason")
    dead.set_defaults(func=_cmd_dead_letters)

    args = parser.parse_args(argv)
    if args.command == "generate" and args.out is None:
        from sales360_assets.settings import default_sources_dir

        args.out = str(default_sources_dir())
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
