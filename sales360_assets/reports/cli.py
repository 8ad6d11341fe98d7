"""``sales360 report``: (re)write the sales team report for a chosen period from the marts.

It runs the ``sales_team_report`` asset of ``sales_reporting_job`` against the Dagster instance
in ``$DAGSTER_HOME`` (so the run shows in the UI), with the period as run config, exactly as
launching it from the UI's launchpad with ``ops: {sales_team_report: {config: {period: …}}}``.
"""

from __future__ import annotations

import argparse
import sys

import dagster as dg

from sales360_assets.cli_support import use_dagster_home
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.reports.periods import REQUEST_HELP, PeriodRequestError, check_request
from sales360_assets.settings import default_lake_uri

REPORT_ASSET = dg.AssetKey("sales_team_report")


def report_run_config(period: str, output_dir: str = "") -> dict:
    config = {"period": period, **({"output_dir": output_dir} if output_dir else {})}
    return {
        # The failure is printed once, shortly, by the command; the run and its logs are in the UI.
        "loggers": {"console": {"config": {"log_level": "CRITICAL"}}},
        "ops": {"sales_team_report": {"config": config}},
    }


def _failure_text(result: dg.ExecuteInProcessResult) -> str:
    for event in result.get_step_failure_events():
        data = event.step_failure_data
        if data.user_failure_data is not None and data.user_failure_data.description:
            return data.user_failure_data.description
        if data.error is not None:
            return data.error.message.strip().splitlines()[-1]
    return "the report run failed; see the run in the Dagster UI"


def _cmd_report(args: argparse.Namespace) -> int:
    try:
        period = check_request(args.period)
    except PeriodRequestError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    use_dagster_home()
    lake = DeltaLake(default_lake_uri())
    if not lake.exists("mart_daily_sales"):
        print(
            f"error: no marts in {lake.root_uri}: run `sales360 materialize` first (or set SALES360_LAKE_URI)",
            file=sys.stderr,
        )
        return 2
    from sales360_assets.definitions import defs

    with dg.DagsterInstance.get() as instance:
        result = defs.resolve_job_def("sales_reporting_job").execute_in_process(
            instance=instance,
            asset_selection=[REPORT_ASSET],
            run_config=report_run_config(period, args.output_dir or ""),
            raise_on_error=False,
        )
    if not result.success:
        print(f"error: {_failure_text(result)}", file=sys.stderr)
        return 1
    metadata = result.asset_materializations_for_node("sales_team_report")[0].metadata
    print(f"sales team report for {metadata['period'].value}: {metadata['report_path'].value}")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``report`` to the CLI."""
    parser = sub.add_parser("report", help="write the sales team report for a period (default: latest complete month)")
    parser.add_argument("--period", default="latest", help=f"{REQUEST_HELP} (default: latest)")
    parser.add_argument(
        "--output-dir",
        default=None,
        help="folder for the report files (default: $SALES360_REPORTS_DIR, else reports/ next to the lake)",
    )
    parser.set_defaults(func=_cmd_report)
