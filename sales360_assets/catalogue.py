"""How an asset that carries KPIs presents itself in the catalogue, in one place.

The marts, recommendation and forecast assets each declare the same things: a column schema whose
KPI columns quote the glossary (``kpis.column_descriptions``) and whose cost, margin and pay
columns are tagged confidential (``kpis.confidential_columns``), and a description that lists the
asset's KPIs with their definitions (``kpis.describe``). ``kpi_asset`` is that decorator.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import dagster as dg
import polars as pl

from sales360_assets import kpis
from sales360_assets.core.assets import column_metadata

KINDS = frozenset({"polars", "delta"})


def kpi_metadata(
    schema: dict[str, pl.DataType],
    docs: Mapping[str, str] | None = None,
    sensitivity: Mapping[str, str] | None = None,
) -> dict[str, object]:
    """The column schema: the glossary for its KPIs, ``docs`` for the rest (and where a KPI column means
    something narrower in this table); KPI tags, then ``sensitivity`` (personal data, for instance)."""
    columns = list(schema)
    descriptions = kpis.column_descriptions(columns) | {c: d for c, d in (docs or {}).items() if c in schema}
    return column_metadata(schema, descriptions, kpis.confidential_columns(columns) | dict(sensitivity or {}))


def kpi_asset(
    name: str,
    schema: dict[str, pl.DataType],
    summary: str,
    *,
    group: str,
    owners: list[str],
    kinds: frozenset[str] | set[str] = KINDS,
    docs: Mapping[str, str] | None = None,
    sensitivity: Mapping[str, str] | None = None,
    metadata: Mapping[str, object] | None = None,
    **asset_args: Any,
) -> Callable[[Callable[..., Any]], dg.AssetsDefinition]:
    """``dg.asset`` for a KPI-carrying table: its column schema, owner, and the glossary in its description.

    ``metadata`` adds to the column schema (lineage, for instance); ``asset_args`` go to ``dg.asset``
    as they are (tags, partitions, config).
    """
    return dg.asset(
        name=name,
        metadata={**kpi_metadata(schema, docs, sensitivity), **(metadata or {})},
        group_name=group,
        owners=owners,
        kinds=set(kinds),
        description=kpis.describe(name, summary),
        **asset_args,
    )
