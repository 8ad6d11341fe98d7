"""How the sales team report writes numbers and tables in Markdown: one style for every section.

Money is compact (``$1.23M``, ``$45.6k``), a missing figure says ``n/a``, and a change is signed;
tables align text left and figures right so digits line up.
"""

from __future__ import annotations


def usd(value: float | None) -> str:
    if value is None:
        return "n/a"
    sign = "−" if value < 0 else ""
    value = abs(value)
    if value >= 1_000_000:
        return f"{sign}${value / 1_000_000:,.2f}M"
    if value >= 10_000:
        return f"{sign}${value / 1_000:,.1f}k"
    return f"{sign}${value:,.2f}"


def pct(value: float | None, digits: int = 1) -> str:
    return "n/a" if value is None else f"{value:.{digits}f} %"


def count(value: float | None) -> str:
    return "n/a" if value is None else f"{value:,.0f}"


def change(current: float | None, previous: float | None) -> float | None:
    """Relative change in percent; None when there is nothing to compare with (or it was 0)."""
    if current is None or previous in (None, 0):
        return None
    return (current - previous) / abs(previous) * 100.0


def signed_pct(value: float | None) -> str:
    return "—" if value is None else f"{value:+.1f} %"


def signed_points(current: float | None, previous: float | None) -> str:
    return "—" if current is None or previous is None else f"{current - previous:+.1f} pt"


def table(header: list[str], rows: list[list[str]], text_columns: tuple[int, ...] = (0,)) -> list[str]:
    """A Markdown table's lines: the header, the alignment row, one line per row."""
    # Text columns align left, figures right (so digits line up).
    aligns = ["---" if i in text_columns else "---:" for i in range(len(header))]
    return [
        "| " + " | ".join(header) + " |",
        "| " + " | ".join(aligns) + " |",
        *("| " + " | ".join(r) + " |" for r in rows),
    ]
