"""The KPI glossary document: ``docs/kpi_glossary.md`` rendered from ``kpis/glossary.py``.

A test keeps the committed file equal to the rendering; ``python -m sales360_assets.kpis`` rewrites it.
"""

from __future__ import annotations

from pathlib import Path

from sales360_assets.kpis.glossary import GLOSSARY, KPIS, MART_KPIS
from sales360_assets.settings import PROJECT_ROOT

GLOSSARY_PATH = PROJECT_ROOT / "docs" / "kpi_glossary.md"


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def render_glossary() -> str:
    """The glossary document for sales leaders: every KPI, where it is used, who owns it."""
    used_by: dict[str, list[str]] = {name: [] for name in KPIS}
    for mart, names in MART_KPIS.items():
        for name in names:
            used_by[name].append(mart)
    out = [
        "# Sales 360 KPI glossary",
        "",
        "Every figure in the Sales 360 marts, commission statements and the sales team report is one of "
        "these KPIs. Each is defined once, in `sales360_assets/kpis/glossary.py`; this page is generated from it "
        "(`python -m sales360_assets.kpis`), so it always says what the numbers are.",
        "",
        "- **Definition** — what the number means.",
        "- **Formula** — how it is computed, for analysts who want to reproduce it.",
        "- **Grain** — the finest level at which the number is meaningful.",
        "- **Owner** — the team that decides the definition; ask them before changing it.",
        "- *Confidential* figures (cost, margin, commission) are tagged `sensitivity: confidential` in "
        "the data catalogue.",
        "",
        "All money is in US dollars, converted from the local currency at the FX rate of the business "
        "date (quotas: at the rate of the quota month).",
        "",
        "| KPI | Column | Unit | Owner |",
        "| --- | --- | --- | --- |",
    ]
    for spec in GLOSSARY:
        anchor = spec.name.replace("_", "-")
        out.append(f"| [{_cell(spec.label)}](#{anchor}) | `{spec.name}` | {_cell(spec.unit)} | {_cell(spec.owner)} |")
    for spec in GLOSSARY:
        out += [
            "",
            f'<a id="{spec.name.replace("_", "-")}"></a>',
            f"## {spec.label}" + (" (confidential)" if spec.confidential else ""),
            "",
            f"- **Column:** `{spec.name}` ({spec.unit})",
            f"- **Definition:** {spec.definition}",
            f"- **Formula:** {spec.formula}",
            f"- **Grain:** {spec.grain}",
            f"- **Owner:** {spec.owner}",
            f"- **Used by:** {', '.join(f'`{m}`' for m in used_by[spec.name]) or '—'}",
        ]
    return "\n".join(out) + "\n"


def write_glossary(path: Path = GLOSSARY_PATH) -> Path:
    path.write_text(render_glossary(), encoding="utf-8")
    return path
