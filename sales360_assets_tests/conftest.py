"""Shared fixtures: deterministic sample sources and a pipeline materialized into a temporary lake."""

from __future__ import annotations

import os

# Before anything imports the partitions: tests use fixed 2026 windows, whatever sample a
# developer's data/sources holds (the default start follows it).
os.environ["SALES360_PARTITIONS_START"] = "2023-01-01"

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.cli import materialize_window
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.sample_sources.generator import generate_sources
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.servers import LOCAL_PROFILE, instance_from_profile, project_instance

# A fixed window keeps every test deterministic whatever today is. Mon 2 – Sun 8 March 2026:
# a whole week, so weekend FX look-backs are exercised.
WINDOW_START = date(2026, 3, 2)
WINDOW_END = date(2026, 3, 8)


# Test files that take a minute or more (durations printed by `./dev test`, 2026-12-06), longest
# first. They are handed to the workers first, so the suite does not end on one worker running a
# three-minute file alone: xdist's loadfile schedules files in collection order (`./dev test` turns
# off its reordering by test count, which put these one- or two-test files last).
LONGEST_FILES_FIRST = (
    "test_bring_your_own_export.py",
    "test_late_data_scenario.py",
    "test_pipeline_integration.py",
    "test_analytics_integration.py",
    "test_lake_maintenance.py",
    "test_live_end_to_end.py",
    "test_identity_assets.py",
    "test_local_currency_amounts.py",
    "test_bad_input_operations.py",
    "test_s3_lake.py",
    "test_product_cost_history.py",
    "test_report_periods_cli.py",
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    rank = {name: i for i, name in enumerate(LONGEST_FILES_FIRST)}
    # sort is stable: within a file, and among the other files, collection order is kept.
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))


@dataclass
class SampleSources:
    root: Path
    manifest: dict


@dataclass
class MaterializedLake:
    sources: SampleSources
    lake: DeltaLake
    lake_uri: str
    defs: dg.Definitions
    instance: dg.DagsterInstance
    timings: dict[str, float]


@pytest.fixture(autouse=True)
def _no_leaked_dagster_state_storage() -> Iterator[None]:
    """Each test starts with no "current" Dagster defs-state storage.

    Entering a DagsterInstance sets a context variable to its storage; an instance entered and
    garbage-collected without its exit (or exited out of order by overlapping fixtures) leaves it
    pointing at a dead weakref, and the next test that loads Definitions fails with "Attempted to
    resolve undefined DagsterInstance weakref" — depending on which tests shared the worker
    before. Dagster exposes no public reset, hence the private import (tests only).
    """
    from dagster._core.storage.defs_state.base import set_defs_state_storage

    with set_defs_state_storage(None):
        yield


@pytest.fixture(scope="session")
def sample_sources(tmp_path_factory: pytest.TempPathFactory) -> SampleSources:
    root = tmp_path_factory.mktemp("sources")
    manifest = generate_sources(root, WINDOW_START, WINDOW_END, order_lines=3_000, seed=7)
    return SampleSources(root, manifest)


def materialize_into(
    tmp: Path, sources: SampleSources, instance: dg.DagsterInstance, start: date = WINDOW_START, end: date = WINDOW_END
) -> MaterializedLake:
    lake_uri = str(tmp / "lake")
    defs = build_definitions(str(sources.root), lake_uri)
    timings = materialize_window(defs, instance, start, end, REGION_CODES, log=lambda _: None)
    return MaterializedLake(sources, DeltaLake(lake_uri), lake_uri, defs, instance, timings)


@pytest.fixture(scope="session")
def materialized(tmp_path_factory: pytest.TempPathFactory, sample_sources: SampleSources) -> Iterator[MaterializedLake]:
    """The whole graph for the window × every region, through a real Dagster instance."""
    with project_instance() as instance:
        yield materialize_into(tmp_path_factory.mktemp("pipeline"), sample_sources, instance)


@pytest.fixture
def local_instance(tmp_path: Path) -> Iterator[dg.DagsterInstance]:
    """An instance loaded from the project's dagster.yaml, in a home of the test's own."""
    with instance_from_profile(LOCAL_PROFILE, tmp_path / "home") as instance:
        yield instance
