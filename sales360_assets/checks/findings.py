"""What one data-quality rule found on one frame: a ``Finding``, and its failing rows as Markdown.

Every rule (``row_rules``, ``integrity``, ``reconciliation``, ``commission_credit``) returns
findings; the asset checks (``asset_checks``) turn them into check results, and the pre-write
validation (``sales360_assets.checks``) into an error.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace

import polars as pl

SAMPLE_ROWS = 10


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule on one frame."""

    check: str
    description: str
    failing: pl.DataFrame
    counts: Mapping[str, int | float] = field(default_factory=dict)
    passed_override: bool | None = None
    # A failure that only warns: a blocking check then still lets downstream assets run.
    warn_only: bool = False

    @property
    def passed(self) -> bool:
        return self.passed_override if self.passed_override is not None else self.failing.height == 0

    def with_note(self, note: str) -> "Finding":
        return replace(self, description=f"{self.description} — {note}")


def sample_markdown(frame: pl.DataFrame, columns: Sequence[str] | None = None, limit: int = SAMPLE_ROWS) -> str:
    """A small markdown table of failing rows for the check's metadata (the UI renders it)."""
    if frame.height == 0:
        return "no failing rows"
    shown = [c for c in (columns or frame.columns) if c in frame.columns]
    if "_broken_rule" in frame.columns and "_broken_rule" not in shown:
        shown = ["_broken_rule", *shown]
    shown = shown[:12]
    rows = frame.head(limit).select(shown)
    header = "| " + " | ".join(c.lstrip("_") for c in shown) + " |"
    lines = [header, "|" + "---|" * len(shown)]
    for row in rows.iter_rows():
        cells = ["" if v is None else str(v).replace("|", "\\|")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    if frame.height > limit:
        lines.append(f"\n… {frame.height - limit} more")
    return "\n".join(lines)
