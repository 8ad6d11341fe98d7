"""Per-partition materializations carry small figures only; the column schemas live on the definitions.

A range run writes one materialization event per partition per asset (a three-year history is
over 12,000 per region), and Dagster stamps the run's output metadata on each of them. A column
schema there costs kilobytes per event in the event log; on the definition it is stored once
and still shows in the UI before the first run. The table's figures (row count, URI, what the
run wrote) go once per range run, on its latest materialization; each partition keeps the Delta
version that holds its rows.
"""

from __future__ import annotations

import dagster as dg
import polars as pl
import pytest

from sales360_assets.jobs import partitioned_assets
from sales360_assets_tests.conftest import MaterializedLake

pytestmark = pytest.mark.integration

# What a partition's materialization may weigh, serialized as the event log stores it: row counts,
# a version, a table name and URI fit many times over; a 20-column schema alone is ~5 KB.
MAX_PARTITION_METADATA_BYTES = 1_500
BULKY_KEYS = {"dagster/column_schema", "dagster/column_lineage"}


def _partition_materializations(instance: dg.DagsterInstance, key: dg.AssetKey) -> list[dg.AssetMaterialization]:
    records = instance.fetch_materializations(key, limit=1_000).records
    return [r.asset_materialization for r in records if r.asset_materialization is not None]


def test_every_partitioned_asset_declares_its_column_schema_on_the_definition() -> None:
    missing = [
        spec.key.to_user_string()
        for assets_def in partitioned_assets
        for spec in assets_def.specs
        if not isinstance(spec.metadata.get("dagster/column_schema"), dg.TableSchema)
    ]
    assert missing == []


def test_partition_materializations_carry_only_small_figures(materialized: MaterializedLake) -> None:
    checked = 0
    for assets_def in partitioned_assets:
        for key in assets_def.keys:
            events = _partition_materializations(materialized.instance, key)
            assert events, f"{key.to_user_string()} was not materialized"
            for event in events:
                assert event.partition is not None
                assert not BULKY_KEYS & set(event.metadata), (key.to_user_string(), sorted(event.metadata))
                size = len(dg.serialize_value(event.metadata))
                assert size < MAX_PARTITION_METADATA_BYTES, (key.to_user_string(), event.partition, size)
                checked += 1
    # 7 days × 4 regions for each partitioned asset.
    assert checked >= 28 * len(partitioned_assets)


def test_a_range_run_puts_the_table_figures_on_its_latest_materialization_only(
    materialized: MaterializedLake,
) -> None:
    """The table's figures (row count, name, URI, what the run wrote) go once per range run, on the
    partition Dagster logs last: the asset's latest materialization, which the asset page shows.
    Every other partition records the Delta version that holds its rows."""
    records = materialized.instance.fetch_materializations(dg.AssetKey("fact_sales"), limit=1_000).records
    last_of_run = {r.run_id: max(x.storage_id for x in records if x.run_id == r.run_id) for r in records}
    for record in records:
        event = record.asset_materialization
        assert event is not None
        if record.storage_id == last_of_run[record.run_id]:
            assert {"dagster/row_count", "dagster/uri", "rows_written_by_run", "delta_version"} <= set(event.metadata)
        else:
            assert set(event.metadata) == {"delta_version"}, (event.partition, sorted(event.metadata))
    latest = materialized.instance.get_latest_materialization_event(dg.AssetKey("fact_sales"))
    assert latest is not None and latest.asset_materialization is not None
    assert (
        latest.asset_materialization.metadata["dagster/row_count"].value == materialized.lake.read("fact_sales").height
    )


def test_each_partitions_delta_version_holds_its_rows(materialized: MaterializedLake) -> None:
    """Time travel from a partition's materialization: the version it names has that partition's rows."""
    lake = materialized.lake
    current = lake.read("fact_sales")
    records = materialized.instance.fetch_materializations(dg.AssetKey("fact_sales"), limit=1_000).records
    checked = 0
    for record in records:
        event = record.asset_materialization
        assert event is not None and event.partition is not None
        day, region = str(event.partition).split("|")
        at_version = lake.read_version("fact_sales", int(event.metadata["delta_version"].value))
        in_partition = (pl.col("date").cast(pl.String) == day) & (pl.col("region") == region)
        assert (
            at_version.filter(in_partition)
            .sort("sales_line_id")
            .equals(current.filter(in_partition).sort("sales_line_id"))
        )
        checked += 1
    assert checked >= 28  # 7 days × 4 regions


def test_unpartitioned_materializations_keep_the_definitions_column_descriptions(
    materialized: MaterializedLake,
) -> None:
    """The UI shows the latest materialization's column schema: it must not drop what the definition says."""
    from sales360_assets.definitions import defs

    checked = 0
    for spec in defs.resolve_all_asset_specs():
        declared = spec.metadata.get("dagster/column_schema")
        if spec.partitions_def is not None or not isinstance(declared, dg.TableSchema):
            continue
        event = materialized.instance.get_latest_materialization_event(spec.key)
        if event is None or event.asset_materialization is None:
            continue
        written = event.asset_materialization.metadata.get("dagster/column_schema")
        if written is None:
            continue
        said = {c.name: (c.description, c.tags) for c in declared.columns}
        for column in written.value.columns:
            if column.name in said:
                assert (column.description, column.tags) == said[column.name], (spec.key.to_user_string(), column.name)
        checked += 1
    assert checked >= 10
