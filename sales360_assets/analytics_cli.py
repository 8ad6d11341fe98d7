"""``sales360 recommend evaluate`` and ``sales360 forecast evaluate``: the offline evaluations, from the lake.

Both read the tables the runs wrote (``fact_sales``, ``dim_customer``, ``dim_product``) and print
the model against its baseline with the time taken, so the figures can be reproduced on any lake.
"""

from __future__ import annotations

import argparse
import time

import polars as pl

from sales360_assets.cli_support import command_group, existing_lake, lake_command
from sales360_assets.forecast import backtest, series
from sales360_assets.recommendations import basket, evaluation

READS = ("fact_sales", "dim_customer", "dim_product")  # what both evaluations read


def _cmd_recommend_evaluate(args: argparse.Namespace) -> int:
    from sales360_assets.recommendations.assets import recommenders_for  # loads implicit

    lake = existing_lake(args.lake, READS)
    started = time.perf_counter()
    fact, customers, products = lake.read("fact_sales"), lake.read("dim_customer"), lake.read("dim_product")
    result = evaluation.evaluate(
        fact,
        customers,
        products,
        recommenders_for(customers, products, args.min_support),
        test_days=args.holdout_days,
        window_days=args.window_days,
        k=args.k,
    )
    seconds = time.perf_counter() - started
    with pl.Config(tbl_rows=20, tbl_hide_dataframe_shape=True, float_precision=4):
        print(result)
    print(f"chosen model: {evaluation.choose_model(result)}; evaluated in {seconds:.1f}s")
    return 0


def _cmd_forecast_evaluate(args: argparse.Namespace) -> int:
    lake = existing_lake(args.lake, READS)
    started = time.perf_counter()
    weekly = series.weekly_revenue(lake.read("fact_sales"), lake.read("dim_customer"))
    weeks = weekly["week_start"].n_unique()
    compared = backtest.backtest(weekly, args.weeks)
    seconds = time.perf_counter() - started
    if compared.height == 0:
        print(f"not enough history: {weeks} complete week(s); the backtest holds out {args.weeks} and needs more")
        return 1
    with pl.Config(tbl_rows=40, tbl_hide_dataframe_shape=True, float_precision=2, fmt_str_lengths=40):
        print(backtest.mape_by_series(compared))
        print(backtest.mape_by_level(compared))
    print(
        f"{weeks} complete weeks; backtest over the last {args.weeks} (models chosen per series on the weeks "
        f"before them) in {seconds:.1f}s"
    )
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``recommend evaluate`` and ``forecast evaluate`` to the CLI."""
    rec_commands = command_group(sub, "recommend", "recommendations: offline evaluation on a time holdout")
    ev = lake_command(
        rec_commands,
        "evaluate",
        "hit rate@k and recall@k of each recommender vs popularity",
        _cmd_recommend_evaluate,
    )
    ev.add_argument("--holdout-days", type=int, default=evaluation.DEFAULT_TEST_DAYS)
    ev.add_argument("--window-days", type=int, default=basket.DEFAULT_WINDOW_DAYS)
    ev.add_argument("--min-support", type=float, default=basket.DEFAULT_MIN_SUPPORT)
    ev.add_argument("--k", type=int, default=evaluation.K)

    fc_commands = command_group(sub, "forecast", "revenue forecast: backtest against seasonal naive")
    fev = lake_command(
        fc_commands, "evaluate", "MAPE of the model and of seasonal naive over the last weeks", _cmd_forecast_evaluate
    )
    fev.add_argument(
        "--weeks", type=int, default=backtest.BACKTEST_WEEKS, help="complete weeks held out at the end of the history"
    )
