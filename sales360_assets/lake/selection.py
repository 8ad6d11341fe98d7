"""A rectangle of date × region partitions, as Delta predicates and Polars filters. Knows nothing of Dagster."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

DATE_COLUMN = "date"
REGION_COLUMN = "region"
PARTITION_COLUMNS = [DATE_COLUMN, REGION_COLUMN]


@dataclass(frozen=True)
class PartitionSelection:
    """A rectangle of date × region partitions: every date in [start, end] for each region."""

    start: date
    end: date  # inclusive
    regions: tuple[str, ...]

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise ValueError(f"partition range ends ({self.end}) before it starts ({self.start})")
        if not self.regions:
            raise ValueError("a partition selection needs at least one region")
        for region in self.regions:
            # Regions are interpolated into a Delta predicate; they come from a static
            # partition set, but refuse anything that could change the predicate's meaning.
            if not region.replace("_", "").replace("-", "").isalnum():
                raise ValueError(f"invalid region code {region!r}")

    @classmethod
    def single(cls, day: date, region: str) -> PartitionSelection:
        return cls(day, day, (region,))

    @property
    def dates(self) -> list[date]:
        return [self.start + timedelta(days=i) for i in range((self.end - self.start).days + 1)]

    def predicate(self) -> str:
        regions = ", ".join(f"'{r}'" for r in sorted(self.regions))
        return (
            f"{DATE_COLUMN} >= '{self.start.isoformat()}' AND {DATE_COLUMN} <= '{self.end.isoformat()}'"
            f" AND {REGION_COLUMN} IN ({regions})"
        )

    def filter_expr(self) -> pl.Expr:
        return pl.col(DATE_COLUMN).is_between(self.start, self.end, closed="both") & pl.col(REGION_COLUMN).is_in(
            list(self.regions)
        )

    def __str__(self) -> str:
        dates = self.start.isoformat() if self.start == self.end else f"{self.start}..{self.end}"
        return f"{dates} × {','.join(sorted(self.regions))}"
