"""The sales team report's figures table: every number the report shows, in order, with where it came from.

The table (section, metric, dimension, value) is written next to the report and is the
``sales_team_report`` asset's own table, so each figure can be reconciled with the marts it came
from. The sections record a figure as they print it (``Figures.add`` returns the value, so the
printed and the recorded number are one).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from sales360_assets.reports.periods import ReportPeriod

FIGURES_SCHEMA: dict[str, pl.DataType] = {
    "period_start": pl.Date(),
    "period_end": pl.Date(),
    "section": pl.String(),
    "metric": pl.String(),
    "dimension": pl.String(),
    "value": pl.Float64(),
}


@dataclass
class Figures:
    """Collects every number the report shows, in order, with where it came from."""

    period: ReportPeriod
    rows: list[dict[str, object]] = field(default_factory=list)

    def add(self, section: str, metric: str, value: float | None, dimension: str = "") -> float | None:
        self.rows.append(
            {
                "period_start": self.period.start,
                "period_end": self.period.end,
                "section": section,
                "metric": metric,
                "dimension": dimension,
                "value": None if value is None else float(value),
            }
        )
        return value

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(self.rows, schema=FIGURES_SCHEMA)
