"""The bare-Polars benchmark (benchmarks/bare_polars.py) runs the daily job's transforms.

The "orchestrated vs bare Polars" figure means something only while the plain script does what the
daily job does: the same tables, the same rows, the same dead letters. An asset that changes
without the script would make the benchmark time something else; this test says so.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from sales360_assets.cli import materialize_window, run_job
from sales360_assets.definitions import build_definitions, build_resources
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.conftest import WINDOW_END, WINDOW_START, SampleSources
from sales360_assets_tests.servers import REPO, project_instance

sys.path.insert(0, str(REPO / "benchmarks"))
from bare_polars import DAILY_TABLES, run_daily_transforms, same_rows

pytestmark = pytest.mark.integration


def test_the_bare_script_writes_the_daily_jobs_rows(sample_sources: SampleSources, tmp_path: Path) -> None:
    orchestrated, bare = str(tmp_path / "orchestrated"), str(tmp_path / "bare")
    with project_instance() as instance:
        defs = build_definitions(str(sample_sources.root), orchestrated)
        materialize_window(defs, instance, WINDOW_START, WINDOW_END, REGION_CODES, log=lambda _: None, reporting=False)
        run_job(build_definitions(str(sample_sources.root), bare), instance, "reference_data_job")
    resources = build_resources(str(sample_sources.root), bare)
    bare_lake = DeltaLake(bare)
    for region in REGION_CODES:
        run_daily_transforms(bare_lake, resources["warehouse"], resources["landing"], WINDOW_START, WINDOW_END, region)

    assert all(bare_lake.exists(table) for table in DAILY_TABLES)
    assert bare_lake.read("fact_sales").height > 0
    assert same_rows(DeltaLake(orchestrated), bare_lake) == []
