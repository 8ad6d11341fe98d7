"""Dagster resources over the Delta lake: the lake itself and the IO manager assets write through.

Assets return Polars frames; this IO manager decides *how* they land:

* date × region partitioned assets replace exactly the run's partitions (ranges and region
  sets in one atomic commit), refusing rows outside them;
* unpartitioned assets replace the table (from ``FrameBlocks`` as one streamed commit, for a
  table too large to hold whole), or upsert by key when the asset's definition
  metadata says ``sales360/write_mode: merge`` (incremental CRM extracts);
* inputs are lazy scans pruned to the upstream partitions the run needs, so one new day reads
  one day whatever the history.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets.frames import FrameBlocks
from sales360_assets.lake.delta import DeltaLake, WriteResult
from sales360_assets.partitions import input_selection, partition_selection

WRITE_MODE_KEY = "sales360/write_mode"
MERGE_KEYS_KEY = "sales360/merge_keys"


class LakeResource(dg.ConfigurableResource):
    """Where the Delta tables live. Object-store URIs and storage options pass through unchanged."""

    root_uri: str
    storage_options: dict[str, str] = {}

    def get_lake(self) -> DeltaLake:
        return DeltaLake(self.root_uri, self.storage_options)


def table_name_for(asset_key: dg.AssetKey) -> str:
    return "__".join(asset_key.path)


def table_schema(
    schema: pl.Schema | dict[str, pl.DataType],
    descriptions: dict[str, str] | None = None,
    sensitivity: dict[str, str] | None = None,
) -> dg.TableSchema:
    """A Dagster column schema; ``sensitivity`` tags columns (``pii``, ``confidential``) for the catalogue."""
    descriptions, sensitivity = descriptions or {}, sensitivity or {}
    return dg.TableSchema(
        columns=[
            dg.TableColumn(
                name,
                str(dtype),
                description=descriptions.get(name),
                tags={"sensitivity": sensitivity[name]} if name in sensitivity else {},
            )
            for name, dtype in schema.items()
        ]
    )


def written_schema(schema: pl.Schema, declared: object) -> dg.TableSchema:
    """The written columns, with the description and tags the definition gives each.

    The UI shows the latest materialization's column schema in place of the definition's, so a
    bare one would hide every description and sensitivity tag once the asset has run.
    """
    known = {c.name: c for c in declared.columns} if isinstance(declared, dg.TableSchema) else {}
    return table_schema(
        schema,
        {n: c.description for n, c in known.items() if c.description},
        {n: c.tags["sensitivity"] for n, c in known.items() if "sensitivity" in c.tags},
    )


def last_recorded_write(context: dg.AssetExecutionContext) -> Mapping[str, Any]:
    """The metadata of the asset's latest materialization (``table_metadata``: ``delta_version``,
    ``dagster/uri`` …, and what the asset added); empty before the first one."""
    event = context.instance.get_latest_materialization_event(context.asset_key)
    materialization = event.asset_materialization if event is not None else None
    return materialization.metadata if materialization is not None else {}


def table_metadata(
    name: str,
    schema: pl.Schema,
    result: WriteResult,
    partitioned: bool,
    partitions_in_run: int = 1,
    declared_schema: object = None,
) -> dict[str, Any]:
    """The table's figures after a write: its name, URI, row count (the table's, from the log: a
    merge writes a batch, not the table) and Delta version, and what this write wrote.

    Small figures only for partitioned writes: a column schema (kilobytes) would be stored once per
    partition; partitioned assets declare theirs on the definition instead. An unpartitioned
    write is one event per run, and its schema follows the data (``schema_mode="overwrite"``)."""
    metadata: dict[str, Any] = {
        "dagster/table_name": name,
        "dagster/uri": dg.MetadataValue.path(result.table_uri),
        "dagster/row_count": result.total_rows,
        "delta_version": result.version,
    }
    if not partitioned:
        metadata["dagster/column_schema"] = written_schema(schema, declared_schema)
    elif partitions_in_run == 1:
        metadata["dagster/partition_row_count"] = result.rows_written
    else:
        # One commit wrote all the run's partitions: what it wrote, not a per-partition count.
        metadata["rows_written_by_run"] = result.rows_written
        metadata["partitions_in_run"] = partitions_in_run
    return metadata


# What every partition of a range run records: the table version holding its rows (time travel).
EVERY_PARTITION_OF_A_RANGE = ("delta_version",)


def add_write_metadata(context: dg.OutputContext, keys: Sequence[str], metadata: dict[str, Any]) -> None:
    """Record a write's figures on its materializations.

    Dagster writes one materialization per partition of a range run and stamps the output's metadata
    on each: 1,095 copies of the same table figures per asset for three years of one region, a fifth
    of each event's bytes in the event log. A range run's partitions get the Delta version only;
    the table's figures go on the partition whose event Dagster logs last, and so on the asset's
    latest materialization (the one the UI's asset page and ``last_recorded_write`` read). That is
    the last of ``asset_partition_keys`` in the run's partition subset's order, which for date ×
    region keys is not necessarily the newest date.
    """
    if len(keys) < 2:  # one event: all of it there
        context.add_output_metadata(metadata)
        return
    context.add_output_metadata({k: v for k, v in metadata.items() if k in EVERY_PARTITION_OF_A_RANGE})
    # Dagster logs the events in this context's asset_partition_keys order (execute_step._store_output).
    context.step_context.add_asset_metadata(metadata, asset_key=context.asset_key, partition_key=keys[-1])


class DeltaPolarsIOManager(dg.ConfigurableIOManager):
    """Stores Polars frames as Delta tables under the lake root, one table per asset."""

    lake: LakeResource

    def handle_output(self, context: dg.OutputContext, obj: pl.DataFrame | pl.LazyFrame | FrameBlocks | None) -> None:
        if obj is None:
            return
        lake = self.lake.get_lake()
        name = table_name_for(context.asset_key)
        meta = context.definition_metadata or {}
        if isinstance(obj, FrameBlocks):
            schema = obj.schema
            if context.has_asset_partitions:
                result = lake.write_partitions_blocks(name, schema, obj.make, partition_selection(context))
            elif meta.get(WRITE_MODE_KEY) == "merge":
                raise TypeError(f"{name}: a merge is not written from blocks; return a frame")
            else:
                result = lake.overwrite_blocks(name, schema, obj.make)
        else:
            df = obj.collect(engine="streaming") if isinstance(obj, pl.LazyFrame) else obj
            schema = df.schema
            if context.has_asset_partitions:
                result = lake.write_partitions(name, df, partition_selection(context))
            elif meta.get(WRITE_MODE_KEY) == "merge":
                result = lake.merge(name, df, meta[MERGE_KEYS_KEY])
            else:
                result = lake.overwrite(name, df)
        # The run's partition keys, in the order Dagster logs their materializations.
        keys = context.asset_partition_keys if context.has_asset_partitions else []
        add_write_metadata(
            context,
            keys,
            table_metadata(
                name,
                schema,
                result,
                context.has_asset_partitions,
                max(len(keys), 1),
                declared_schema=meta.get("dagster/column_schema"),
            ),
        )

    def load_input(self, context: dg.InputContext) -> pl.DataFrame | pl.LazyFrame:
        lake = self.lake.get_lake()
        asset_key = context.asset_key
        name = table_name_for(asset_key)
        table = lake.table(name)  # loaded once, then scanned: a load costs more as a table's files grow
        if table is None:
            raise FileNotFoundError(
                f"Delta table {lake.table_uri(name)} for asset {asset_key.to_user_string()} does not "
                "exist yet: materialize that asset first"
            )
        selection = input_selection(context) if context.has_asset_partitions else None
        wants_lazy = context.dagster_type.typing_type is pl.LazyFrame
        # read() names the table and any damaged file when the collect fails.
        return lake.scan(name, selection, table) if wants_lazy else lake.read(name, selection, table)
