"""Probabilistic matching with Splink (DuckDB backend): the pairs no deterministic rule settles.

Transforms stay in Polars; Splink gets an Arrow table of identity records and hands back scored
pairs. The m probabilities are estimated by expectation maximisation on the records themselves
and the u probabilities by random sampling, so the weights follow our data, not a guess.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

import duckdb
import polars as pl
import splink.comparison_library as cl
from splink import DuckDBAPI, Linker, SettingsCreator, block_on
from splink.blocking_analysis import count_comparisons_from_blocking_rules
from splink.internals.blocking_rule_creator import BlockingRuleCreator
from splink.internals.exceptions import SplinkException

_log = logging.getLogger(__name__)

SCORED_PAIR_SCHEMA: dict[str, pl.DataType] = {
    "record_id_l": pl.String(),
    "record_id_r": pl.String(),
    "match_weight": pl.Float64(),
    "match_probability": pl.Float64(),
}
# Splink filters on a match weight converted from the probability: stay below the exact floor.
PREFILTER_MARGIN = 0.5
_MODEL_COLUMNS = [
    "record_id",
    "first_key",
    "last_key",
    "full_name_key",
    "email_key",
    "phone_key",
    "country",
    "name_block_first",
    "name_block_last",
]


@dataclass(frozen=True)
class MatchSettings:
    """What the model may compare and how sure it must be; every field is in the README."""

    threshold: float = 0.95
    # Pairs scored below this are not worth an analyst's look and stay out of the decision log.
    log_floor: float = 0.05
    # Candidate pairs: records sharing any of these. Each must be selective: a block of n records
    # costs n²/2 comparisons. ``name_block_*`` are the name keys of names held by at most
    # ``max_name_block`` records (see ``model_input``).
    blocking: tuple[tuple[str, ...], ...] = field(
        default=(("email_key",), ("phone_key",), ("name_block_first", "name_block_last"))
    )
    # A first + last name held by more records than this pairs them only through email or phone.
    # Agreeing on a common name is weak evidence (term frequencies discount it), and blocking on
    # it was quadratic: 376 M candidate pairs at 10 M order lines, the largest name 1,068 records.
    max_name_block: int = 50
    # DuckDB spills joins and aggregations to disk past this, instead of growing to 80 % of the machine.
    duckdb_memory_limit: str = "2GB"
    max_u_pairs: float = 1e6
    seed: int = 42


def _settings(match: MatchSettings) -> SettingsCreator:
    return SettingsCreator(
        link_type="dedupe_only",
        unique_id_column_name="record_id",
        comparisons=[
            # Term-frequency adjustment on the full name: "Maria Garcia" agreeing says less than
            # "Siobhán Ó Briain" agreeing.
            cl.ForenameSurnameComparison("first_key", "last_key", forename_surname_concat_col_name="full_name_key"),
            # Exact only: our emails are built from names, so a fuzzy email level would just repeat the name.
            cl.ExactMatch("email_key"),
            cl.ExactMatch("phone_key"),
            cl.ExactMatch("country"),
        ],
        blocking_rules_to_generate_predictions=_prediction_blocking(match),
        retain_matching_columns=False,
        retain_intermediate_calculation_columns=False,
    )


def _prediction_blocking(match: MatchSettings) -> list[BlockingRuleCreator | str]:
    # The swapped-name rule catches "Shimizu Shota" printed family name first.
    return [
        *(block_on(*cols) for cols in match.blocking),
        "l.name_block_first = r.name_block_last AND l.name_block_last = r.name_block_first",
    ]


def model_input(records: pl.DataFrame, match: MatchSettings) -> pl.DataFrame:
    """The columns Splink compares, plus the name keys it may block on (null for common names)."""
    namesakes = pl.len().over("first_key", "last_key")
    rare = namesakes <= match.max_name_block
    return records.with_columns(
        pl.concat_str("first_key", pl.lit(" "), "last_key").alias("full_name_key"),
        pl.when(rare).then(pl.col("first_key")).alias("name_block_first"),
        pl.when(rare).then(pl.col("last_key")).alias("name_block_last"),
    ).select(_MODEL_COLUMNS)


def candidate_pair_count(records: pl.DataFrame, match: MatchSettings) -> int:
    """How many pairs prediction blocking hands the model (Splink's own count, exact)."""
    with _duckdb(match) as connection:
        table = DuckDBAPI(connection).register(model_input(records, match).to_arrow())
        counts = count_comparisons_from_blocking_rules(
            table,
            blocking_rules=_prediction_blocking(match),
            link_type="dedupe_only",
            unique_id_column_name="record_id",
            record_sample_proportion=1.0,
        )
        return int(counts[-1]["cumulative_comparison_count"])  # a TypedDict


def _train(linker: Linker, match: MatchSettings) -> bool:
    """Estimate the prior, u and m; False when the data is too thin for some estimate.

    A model with an untrained level would score pairs with Splink's default m, which is a
    guess: then no model pairs at all (the deterministic rules still apply) is the safer answer.
    """
    training = linker.training
    try:
        training.estimate_probability_two_random_records_match(
            [block_on("email_key", "last_key"), block_on("phone_key", "first_key")], recall=0.8
        )
        training.estimate_u_using_random_sampling(max_pairs=match.max_u_pairs, seed=match.seed)
        # Each EM pass fixes what it blocks on and learns the rest: names from email-blocked pairs,
        # email and phone from name-blocked pairs.
        for rule in (block_on("email_key"), block_on("name_block_first", "name_block_last"), block_on("phone_key")):
            training.estimate_parameters_using_expectation_maximisation(rule)
    except SplinkException as exc:
        _log.warning("identity model not trained, deterministic rules only: %s", str(exc).splitlines()[0])
        return False
    return True


def score_pairs(records: pl.DataFrame, match: MatchSettings) -> pl.DataFrame:
    """Every blocked pair of records with its Splink match weight and probability (SCORED_PAIR_SCHEMA).

    Fewer than two records, or too little variety to train on, gives no pairs rather than a model
    estimated from nothing.
    """
    if records.height < 2:
        return pl.DataFrame(schema=SCORED_PAIR_SCHEMA)
    with _duckdb(match) as connection:
        return _score_pairs(records, match, DuckDBAPI(connection))


@contextmanager
def _duckdb(match: MatchSettings) -> Iterator[duckdb.DuckDBPyConnection]:
    """Our own DuckDB connection, closed when scoring ends, with a memory limit and a private spill folder.

    Splink's default connection lives as long as its linker (DuckDB kept ~3 GiB of buffers resident
    after this step at 2 M order lines); DuckDB's own default limit is 80 % of the machine; and an
    in-memory database spills into ``.tmp`` under the working directory, which is the repository
    or the Dagster code location's folder.
    """
    with tempfile.TemporaryDirectory(prefix="sales360-duckdb-") as spill:
        connection = duckdb.connect(config={"memory_limit": match.duckdb_memory_limit, "temp_directory": spill})
        try:
            yield connection
        finally:
            connection.close()


def _score_pairs(records: pl.DataFrame, match: MatchSettings, db_api: DuckDBAPI) -> pl.DataFrame:
    table = db_api.register(model_input(records, match).to_arrow())
    linker = Linker(table, _settings(match), log_level=logging.ERROR)
    if not _train(linker, match):
        return pl.DataFrame(schema=SCORED_PAIR_SCHEMA)
    # Pairs under the log floor are dropped by the caller anyway; filtering them in DuckDB keeps
    # Splink from handing every blocked pair to Arrow (8 GiB at 2 M order lines). The margin keeps
    # Splink's weight-based cut-off clear of the caller's exact probability filter.
    predictions = linker.inference.predict(
        threshold_match_probability=match.log_floor * PREFILTER_MARGIN, warning_mode="never"
    )
    frame = pl.from_arrow(predictions.as_pyarrow_table())
    assert isinstance(frame, pl.DataFrame)  # a table converts to a frame, never a series
    # Lower id on the left, as the rules write pairs, so a pair has one spelling everywhere.
    left, right = pl.col("record_id_l").cast(pl.String), pl.col("record_id_r").cast(pl.String)
    return frame.select(
        pl.min_horizontal(left, right).alias("record_id_l"),
        pl.max_horizontal(left, right).alias("record_id_r"),
        pl.col("match_weight").cast(pl.Float64),
        pl.col("match_probability").cast(pl.Float64),
    )
