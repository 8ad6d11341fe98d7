"""``sales360`` command line: generate sample sources, materialize a window, inspect the lake.

``sales360 materialize`` runs the same jobs the schedules run, in-process, against the Dagster
instance in ``$DAGSTER_HOME`` so every run shows up in the UI afterwards: first the reference
data job, then one ``daily_sales_job`` run per region covering the whole date window (what a
single-run backfill does).
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import sys
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path

import dagster as dg
import polars as pl
from dagster._core.instance.ref import InstanceRef

from sales360_assets.analytics_cli import register as register_analytics_commands
from sales360_assets.cli_support import (
    CliError,
    RunFailedInChildError,
    RunSummary,
    WindowFailedError,
    short_error,
    use_dagster_home,
    validate_window,
)
from sales360_assets.commissions.cli import register as register_commission_commands
from sales360_assets.identity.cli import register as register_identity_commands
from sales360_assets.in_process import execute_without_output_capture
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.partitions import RANGE_END_TAG, RANGE_START_TAG, partition_key
from sales360_assets.reports.cli import register as register_report_command
from sales360_assets.run_health import DeadRun, fail_dead_runs, worker_tags
from sales360_assets.sample_sources.example_export import register as register_example_export
from sales360_assets.settings import REGION_CODES, default_lake_uri, partitions_start_date
from sales360_assets.staging.dead_letters import read_dead_letters

# The definitions are imported where they are used, not here: they load the SLA config, and a
# broken one must reach `sales360 freshness` as its own short error, not as an import traceback.

# ``--executor process_per_run``: each run in a fresh process (see ``_run_in_fresh_process``).
PROCESS_PER_RUN = "process_per_run"
# Every event still lands in the instance (and the UI); the terminal only needs problems.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def _yesterday() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def run_job(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    name: str,
    tags: dict[str, str] | None = None,
    executor: str = "in_process",
) -> bool:
    """Run one job. ``multiprocess`` runs every step in its own process (Dagster's default executor;
    this code location's runs default to in process, ``orchestration.in_process_unless_configured``):
    memory goes back to the OS after each step and two steps run at once. It rebuilds the
    definitions from the environment in each process, so the ``SALES360_*`` variables must
    describe the deployment.

    First, runs of this code location left STARTED by a dead process are failed and their
    concurrency-pool slots freed (``run_health``): otherwise this run could wait forever for a
    ``salesforce`` slot a killed run still holds. This run is tagged with this process's host and
    pid, so if it is killed the next run does the same for it."""
    fail_dead_runs_of(defs, instance)
    tags = {**worker_tags(), **(tags or {})}
    if executor == PROCESS_PER_RUN:
        return _run_in_fresh_process(instance, name, tags)
    if executor == "in_process":
        # Not execute_in_process: it keeps every step's output frame alive until the run ends.
        result = execute_without_output_capture(
            defs.resolve_job_def(name), instance, tags=tags, run_config=QUIET_CONSOLE, raise_on_error=True
        )
        return result.success
    from sales360_assets.definitions import JOB_FACTORIES

    run_config = {**QUIET_CONSOLE, "execution": {"config": {"multiprocess": {"max_concurrent": 2}}}}
    with dg.execute_job(
        dg.reconstructable(JOB_FACTORIES[name]),
        instance=instance,
        tags=tags,
        run_config=run_config,
        raise_on_error=True,
    ) as result:
        return result.success


def _run_in_fresh_process(instance: dg.DagsterInstance, name: str, tags: dict[str, str]) -> bool:
    """One run in a new process, its steps in process: what Dagster's run launcher does for a run
    launched from the UI or a schedule (a run worker per run).

    In one long-lived process every run starts on the memory the earlier runs' allocators kept: at
    10 M order lines a window's runs one after another in one process peak higher than any run in
    its own (benchmarks/README.md, run 8). The child rebuilds the definitions from the ``SALES360_*``
    environment (not from the caller's ``defs``) and records into the same instance, so the runs
    show up in the UI as any other; it tags its run with its own pid, so a killed child's run is
    failed by the next ``fail_dead_runs_of``.
    """
    if instance.is_ephemeral:
        raise RunFailedInChildError(
            "process_per_run needs a persistent Dagster instance (set DAGSTER_HOME): the run's own "
            "process records into it"
        )
    context = multiprocessing.get_context("spawn")
    answer, send = context.Pipe(duplex=False)
    child = context.Process(target=_execute_run, args=(instance.get_ref(), name, tags, send), daemon=True)
    child.start()
    send.close()  # the child holds the only sending end: its exit ends the wait below
    try:
        ok, error = answer.recv()
    except EOFError:  # killed before it could answer (out of memory, a signal)
        child.join()
        raise RunFailedInChildError(
            f"{name}: its process exited with code {child.exitcode} before the run ended (out of memory? "
            "killed?); its run is failed by the next sales360 materialize, then re-run what failed"
        ) from None
    child.join()
    if error is not None:
        raise RunFailedInChildError(error)
    return ok


def _execute_run(ref: InstanceRef, name: str, tags: dict[str, str], send: Connection) -> None:
    # Errors come back as text: an exception carrying a user's error may not survive pickling.
    try:
        from sales360_assets.definitions import JOB_FACTORIES

        with dg.DagsterInstance.from_ref(ref) as instance:
            job = JOB_FACTORIES[name]()
            own_tags = {**tags, **worker_tags()}  # this process is the run's worker
            result = execute_without_output_capture(job, instance, tags=own_tags, run_config=QUIET_CONSOLE)
            send.send((result.success, None))
    except Exception as exc:  # reported by the parent, like an in-process run's error
        send.send((False, short_error(exc)))


def fail_dead_runs_of(defs: dg.Definitions, instance: dg.DagsterInstance) -> list[DeadRun]:
    """Fail this code location's runs whose worker process on this host is gone; say so on stderr."""
    dead = fail_dead_runs(instance, job_names={job.name for job in defs.resolve_all_job_defs()})
    for item in dead:
        print(
            f"marked run {item.run_id} ({item.job_name}) FAILED: its worker (pid {item.worker.pid}) is gone; "
            "freed its concurrency-pool slots",
            file=sys.stderr,
        )
    return dead


def materialize_window(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    start: date,
    end: date,
    regions: Sequence[str],
    log: Callable[[str], object] = print,
    executor: str = "in_process",
    reporting: bool = True,
) -> dict[str, float]:
    """Reference data, then the daily job for start..end per region, then reporting (unless
    ``reporting`` is False: only the partitioned tables are wanted). Seconds per run.

    A failing run does not stop the others: every region and the reporting still run, each is
    logged with its outcome, and ``WindowFailedError`` (listing the failed runs) is raised at the end.
    """
    summaries: list[RunSummary] = []
    timings: dict[str, float] = {}

    def attempt(key: str, label: str, job: str, tags: dict[str, str] | None = None) -> None:
        began = time.perf_counter()
        try:
            ok, error = run_job(defs, instance, job, tags, executor), None
        except Exception as exc:  # reported, then the next run goes on
            ok, error = False, short_error(exc)
        timings[key] = time.perf_counter() - began
        summaries.append(RunSummary(label, ok, timings[key], error))
        log(summaries[-1].line())

    attempt("reference_data_job", "reference_data_job", "reference_data_job")
    for region in regions:
        tags = {RANGE_START_TAG: partition_key(start, region), RANGE_END_TAG: partition_key(end, region)}
        attempt(f"daily_sales_job[{region}]", f"daily_sales_job {start}..{end} × {region}", "daily_sales_job", tags)
    # Month-grain marts, commissions and the report read every partition, so they run last.
    if reporting:
        attempt("sales_reporting_job", "sales_reporting_job", "sales_reporting_job")
    if not all(s.ok for s in summaries):
        raise WindowFailedError(summaries)
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
    from sales360_assets.sample_sources.generator import main as generator_main

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
    # Every argument and the lake are checked before the first run writes anything.
    start, end = validate_window(
        args.days, args.end, datetime.now(UTC).date(), partitions_start_date(), start_text=args.start
    )
    use_dagster_home()
    DeltaLake(default_lake_uri()).ensure_writable()
    from sales360_assets.definitions import defs

    if args.executor in ("multiprocess", PROCESS_PER_RUN):  # their processes rebuild the definitions
        os.environ.setdefault("SALES360_LAKE_URI", default_lake_uri())
    regions = args.regions or REGION_CODES
    began = time.perf_counter()
    failed: WindowFailedError | None = None
    with dg.DagsterInstance.get() as instance:
        try:
            materialize_window(defs, instance, start, end, regions, executor=args.executor)
        except WindowFailedError as exc:
            failed = exc
    print(f"materialized {start}..{end} × {','.join(regions)} in {time.perf_counter() - began:.1f}s")
    for name, rows in table_row_counts(default_lake_uri()).items():
        print(f"  {name:<45} {rows:>10,} rows")
    if failed is not None:
        print(f"error: {failed}", file=sys.stderr)
        print(
            "Fix the cause above, then re-run only what failed (e.g. --regions with the failed regions); "
            "runs that succeeded are kept. Details: the Dagster UI's Runs page, or re-run with --debug.",
            file=sys.stderr,
        )
        return 1
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


def _cmd_freshness(args: argparse.Namespace) -> int:
    """Print every SLA with the evaluation the UI's ``sla_<name>`` checks and the alert sensor use."""
    from sales360_assets.freshness import (
        SlaConfigError,
        SlaState,
        evaluate_slas,
        format_statuses,
        load_sla_config,
        read_sla_check_results,
    )

    try:
        config = load_sla_config()
        now = datetime.fromisoformat(args.at) if args.at else datetime.now(UTC)
    except (SlaConfigError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    use_dagster_home()  # the SLA state is the run history in the Dagster instance the UI shows
    with dg.DagsterInstance.get() as instance:
        # A run whose worker died is not "in progress": fail it first, so the status says "failed".
        for dead in fail_dead_runs(instance):
            print(f"note: {dead.reason}", file=sys.stderr)
        statuses = evaluate_slas(instance, now, config)
        recorded = read_sla_check_results(instance, config)
    print(format_statuses(statuses, config, recorded))
    breached = any(s.state in (SlaState.BREACHED, SlaState.LATE) for s in statuses)
    return 1 if args.check and breached else 0


def main(argv: list[str] | None = None) -> int:
    # The definitions deliberately use Dagster APIs marked beta (backfill_policy, pools): a terminal
    # user cannot act on those warnings, and eleven of them buried every command's real output.
    warnings.filterwarnings("ignore", category=dg.BetaWarning)
    warnings.filterwarnings("ignore", category=dg.PreviewWarning)
    parser = argparse.ArgumentParser(prog="sales360", description=__doc__.splitlines()[0])
    parser.add_argument("--debug", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write deterministic sample sources")
    gen.add_argument("--out", default=None, help="sources directory (default: $SALES360_SOURCES_DIR or data/sources)")
    gen.add_argument("--days", type=int, default=30)
    gen.add_argument("--end", default=None, help="last business day, YYYY-MM-DD (default: yesterday, UTC)")
    gen.add_argument("--order-lines", type=int, default=20_000)
    gen.add_argument("--seed", type=int, default=42)
    gen.set_defaults(func=_cmd_generate)

    mat = sub.add_parser("materialize", help="materialize the whole asset graph for a date window × regions")
    mat.add_argument(
        "--days", type=int, default=None, help="days to materialize up to --end (default 30), or from --start"
    )
    mat.add_argument("--start", default=None, help="first date, YYYY-MM-DD (e.g. where your history starts)")
    mat.add_argument("--end", default=None, help="last date, YYYY-MM-DD (default: yesterday, UTC)")
    mat.add_argument("--regions", nargs="*", choices=REGION_CODES, default=None)
    mat.add_argument(
        "--executor",
        choices=["in_process", PROCESS_PER_RUN, "multiprocess"],
        default="in_process",
        help="in_process is fastest for small windows; process_per_run runs each run (reference data, "
        "each region, reporting) in a fresh process, its steps in process, so runs do not pile up "
        "memory (the largest windows); multiprocess: a process per step, two at once",
    )
    mat.set_defaults(func=_cmd_materialize)

    dead = sub.add_parser("dead-letters", help="count dead letters by source table and reason")
    dead.set_defaults(func=_cmd_dead_letters)

    fresh = sub.add_parser(
        "freshness", help="per commission SLA: the deadline, the last successful partition per region, met or not"
    )
    fresh.add_argument("--at", default=None, help="evaluate as of this UTC time, e.g. 2026-03-09T06:30 (default: now)")
    fresh.add_argument("--check", action="store_true", help="exit with status 1 when an SLA is breached or late")
    fresh.set_defaults(func=_cmd_freshness)

    register_commission_commands(sub)
    register_report_command(sub)
    register_example_export(sub)
    register_analytics_commands(sub)
    register_identity_commands(sub)

    args = parser.parse_args(argv)
    if args.command == "generate" and args.out is None:
        from sales360_assets.settings import default_sources_dir

        args.out = str(default_sources_dir())
    try:
        return args.func(args)
    except CliError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if args.debug:
            raise
        # Configuration and environment errors already say what to change; the traceback rarely helps.
        print(
            f"error: {short_error(exc)}\n(run `sales360 --debug {args.command} …` for the traceback)", file=sys.stderr
        )
        return 2 if isinstance(exc, PermissionError | ValueError | FileNotFoundError) else 1


if __name__ == "__main__":
    # Through the console script's entry point, so a broken SALES360_CONFIG is one line here too.
    from sales360_assets.entry import main as entry_main

    sys.exit(entry_main())
