"""``sales360 identity evaluate``: pairwise precision, recall and F1 against the generator's ground truth."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import polars as pl

from sales360_assets.identity.crosswalk import empty_crosswalk, update_crosswalk
from sales360_assets.identity.decisions import match_decisions
from sales360_assets.identity.evaluation import IdentityScore, score_clusters
from sales360_assets.identity.matching import MatchSettings
from sales360_assets.identity.source_records import identity_records_from_sources
from sales360_assets.lake.delta import DeltaLake

TRUTH = Path("_ground_truth") / "customer_identity.parquet"


def evaluate_sources(sources: Path, match: MatchSettings) -> IdentityScore:
    """Resolve the sample in ``sources`` from scratch and score it against its ground truth."""
    records = identity_records_from_sources(sources)
    decisions = match_decisions(records, match, "evaluate")
    crosswalk = update_crosswalk(empty_crosswalk(), records, decisions, "evaluate")
    return score_clusters(crosswalk, pl.read_parquet(sources / TRUTH))


def _cmd_evaluate(args: argparse.Namespace) -> int:
    from sales360_assets.settings import default_sources_dir

    sources = Path(args.sources or default_sources_dir())
    if not (sources / TRUTH).exists():
        print(
            f"error: no ground truth at {sources / TRUTH}: evaluate a generated sample (`sales360 generate`)",
            file=sys.stderr,
        )
        return 2
    started = time.perf_counter()
    if args.lake:
        crosswalk = DeltaLake(args.lake).read("customer_identity_crosswalk")
        score = score_clusters(crosswalk, pl.read_parquet(sources / TRUTH))
        what = f"crosswalk in {args.lake}"
    else:
        match = MatchSettings(threshold=args.threshold)
        score = evaluate_sources(sources, match)
        what = f"{sources} resolved from scratch (threshold {match.threshold})"
    print(f"identity resolution: {what}")
    for line in score.lines():
        print(f"  {line}")
    print(f"  run time            {time.perf_counter() - started:.1f}s")
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add ``identity evaluate`` to the CLI."""
    parser = sub.add_parser("identity", help="customer identity resolution")
    commands = parser.add_subparsers(dest="identity_command", required=True)
    evaluate = commands.add_parser(
        "evaluate", help="pairwise precision, recall, F1 and persons split / over-merged against the ground truth"
    )
    evaluate.add_argument(
        "--sources", default=None, help="generated sample (default: $SALES360_SOURCES_DIR or data/sources)"
    )
    evaluate.add_argument(
        "--lake", default=None, help="score the customer_identity_crosswalk materialized in this lake instead"
    )
    evaluate.add_argument("--threshold", type=float, default=MatchSettings().threshold, help="model match probability")
    evaluate.set_defaults(func=_cmd_evaluate)
