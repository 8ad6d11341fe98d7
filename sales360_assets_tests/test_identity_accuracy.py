"""Acceptance: identity resolution on generated samples, scored against the generator's ground truth."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.cli import main as cli_main
from sales360_assets.identity.cli import evaluate_sources
from sales360_assets.identity.crosswalk import empty_crosswalk, update_crosswalk
from sales360_assets.identity.decisions import match_decisions
from sales360_assets.identity.matching import MatchSettings
from sales360_assets.identity.source_records import identity_records_from_sources
from sales360_assets.sample_sources.generator import generate_sources

END = date(2026, 3, 8)


@pytest.fixture(scope="module")
def default_sample(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What `sales360 generate` writes by default: 30 days, 20 000 order lines, seed 42."""
    root = tmp_path_factory.mktemp("identity_default")
    generate_sources(root, date(2026, 2, 7), END, order_lines=20_000, seed=42)
    return root


@pytest.mark.parametrize(("days", "order_lines", "seed"), [(30, 20_000, 42), (60, 60_000, 7)])
def test_precision_and_recall_meet_the_bar(tmp_path: Path, days: int, order_lines: int, seed: int) -> None:
    start = date.fromordinal(END.toordinal() - days + 1)
    manifest = generate_sources(tmp_path, start, END, order_lines=order_lines, seed=seed)
    # The sample carries every hard case, so the score below is earned on them.
    assert set(manifest["entities"]["identity_cases"]) == {
        "household",
        "reused_phone",
        "email_change",
        "transposed_names",
    }
    score = evaluate_sources(tmp_path, MatchSettings())
    assert score.true_pairs > 200
    assert score.precision >= 0.98, score.lines()
    assert score.recall >= 0.95, score.lines()


def test_injected_households_and_reused_phones_stay_apart(default_sample: Path) -> None:
    records = identity_records_from_sources(default_sample)
    decisions = match_decisions(records, MatchSettings(), "r1")
    crosswalk = update_crosswalk(empty_crosswalk(), records, decisions, "r1")
    truth = pl.read_parquet(default_sample / "_ground_truth" / "customer_identity.parquet")
    cases = pl.read_parquet(default_sample / "_ground_truth" / "identity_cases.parquet")
    person_ids = truth.join(crosswalk, on=["system", "source_key"]).select("person_id", "customer_id").unique()
    shared = cases.filter(pl.col("case").is_in(["household", "reused_phone"]))
    pairs = shared.join(person_ids, on="person_id").join(
        person_ids.rename({"person_id": "other_person_id", "customer_id": "other_customer_id"}), on="other_person_id"
    )
    assert pairs.height >= 10  # both people of the case were seen by the resolver
    assert pairs.filter(pl.col("customer_id") == pl.col("other_customer_id")).is_empty()
    # Email changes and transposed names are still found: those persons are whole.
    hard = cases.filter(pl.col("case").is_in(["email_change", "transposed_names"])).join(person_ids, on="person_id")
    split = hard.group_by("person_id").agg(pl.col("customer_id").n_unique()).filter(pl.col("customer_id") > 1)
    assert hard["person_id"].n_unique() >= 20 and split.height <= 1


def test_the_command_prints_the_scores(default_sample: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["identity", "evaluate", "--sources", str(default_sample)]) == 0
    out = capsys.readouterr().out
    for label in ("pairwise precision", "pairwise recall", "pairwise F1", "persons split", "customers over-merged"):
        assert label in out
