"""What the UI's asset pages count for a backfill's partitions: materialized, failed.

A range run is planned with one event per asset (``instance/range_plans.py``), not one per
partition; the UI's partition counts come from those plans and the run's status. The backfill
goes the user's way (GraphQL ``launchPartitionBackfill``, the backfill daemon's iteration), and
the counts are read with the query the asset page sends.
"""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import pytest

from sales360_assets.cli import QUIET_CONSOLE
from sales360_assets.definitions import build_definitions
from sales360_assets.jobs import partitioned_assets
from sales360_assets.partitions import keys_for
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.daemon_harness import BulkActionStatus, deployment

pytestmark = pytest.mark.integration

START, END, REGION = date(2026, 3, 3), date(2026, 3, 4), "uk"

PARTITION_STATS = """
query($keys: [AssetKeyInput!]) {
  assetNodes(assetKeys: $keys) {
    assetKey { path }
    partitionStats { numMaterialized numFailed numMaterializing numPartitions }
  }
}
"""


def test_a_failed_backfill_shows_its_partitions_failed_where_the_run_stopped(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = str(tmp_path / "lake")
    keys = [str(k) for k in keys_for(START, END, [REGION])]
    with deployment(tmp_path, sample_sources.root, lake_uri) as dep:
        defs = build_definitions(str(sample_sources.root), lake_uri)
        defs.resolve_job_def("reference_data_job").execute_in_process(instance=dep.instance, run_config=QUIET_CONSOLE)
        # Staging converts to the reporting currency: without the rates table it fails, after
        # the raw extracts are stored.
        shutil.rmtree(Path(lake_uri) / "stg_warehouse_fx_rates")
        backfill_id = dep.launch_asset_backfill([a.key.path[-1] for a in partitioned_assets], keys)
        assert dep.run_backfill_daemon(backfill_id) in (BulkActionStatus.COMPLETED_FAILED, BulkActionStatus.FAILED)
        nodes = dep.graphql(
            PARTITION_STATS,
            {
                "keys": [
                    {"path": [name]} for name in ("raw_warehouse_orders", "stg_warehouse_order_lines", "fact_sales")
                ]
            },
        )["assetNodes"]
        stats = {node["assetKey"]["path"][-1]: node["partitionStats"] for node in nodes}
    assert stats["raw_warehouse_orders"]["numMaterialized"] == len(keys)
    assert stats["raw_warehouse_orders"]["numFailed"] == 0
    for name in ("stg_warehouse_order_lines", "fact_sales"):
        assert stats[name]["numMaterialized"] == 0, name
        assert stats[name]["numFailed"] == len(keys), name
        assert stats[name]["numMaterializing"] == 0, name
