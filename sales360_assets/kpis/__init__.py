"""KPIs in the marts and the catalogue: expressions and descriptions from the glossary.

The marts compute their KPI columns with ``measure`` (aggregations over fact rows) and ``ratio``
(expressions over aggregated columns), and the asset descriptions and column docs quote the
definitions (``describe``, ``column_descriptions``, ``confidential_columns``). The definitions
themselves are data, in ``kpis/glossary.py``; ``docs/kpi_glossary.md`` is rendered from them by
``kpis/document.py``:

    python -m sales360_assets.kpis            # rewrite docs/kpi_glossary.md
"""

from __future__ import annotations

import polars as pl

from sales360_assets.kpis.glossary import KPI, KPIS, MART_KPIS


def kpi(name: str) -> KPI:
    try:
        return KPIS[name]
    except KeyError:
        raise KeyError(f"KPI {name!r} is not in the glossary (sales360_assets/kpis/glossary.py)") from None


def measure(name: str) -> pl.Expr:
    """The KPI's aggregation over fact rows, named after the KPI (use inside ``group_by().agg``)."""
    spec = kpi(name)
    if spec.aggregate is None:
        raise ValueError(f"KPI {name!r} is not an aggregation over fact rows")
    return spec.aggregate().alias(name)


def ratio(name: str) -> pl.Expr:
    """The KPI computed from aggregated columns, named after the KPI (use after the aggregation)."""
    spec = kpi(name)
    if spec.derive is None:
        raise ValueError(f"KPI {name!r} is not derived from other KPIs")
    return spec.derive().alias(name)


def confidential_columns(columns: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Column -> "confidential" for the KPI columns (and their rank variants) that carry cost, margin or pay.

    A margin rank reveals the margin order as surely as the margin: rank_most/least_profitable (the
    profitability marts) and margin_rank_desc/asc (product performance) are all the margin_rank KPI.
    """
    tags = {}
    for column in columns:
        base = "margin_rank" if column.startswith(("rank_", "margin_rank_")) else column
        if base in KPIS and KPIS[base].confidential:
            tags[column] = "confidential"
    return tags


def column_descriptions(columns: list[str] | tuple[str, ...]) -> dict[str, str]:
    """Column -> "Label: definition" for the KPI columns of a mart (the catalogue's column docs)."""
    return {c: f"{KPIS[c].label}: {KPIS[c].definition}" for c in columns if c in KPIS}


def describe(mart: str, summary: str) -> str:
    """An asset description: the mart's summary, then its KPIs with their definitions and formulas."""
    lines = [summary, "", "KPIs (defined in sales360_assets/kpis/glossary.py, glossary in docs/kpi_glossary.md):"]
    for name in MART_KPIS[mart]:
        spec = KPIS[name]
        lines.append(f"- `{name}` — {spec.label}: {spec.definition} Formula: {spec.formula}.")
    return "\n".join(lines)
