"""``python -m sales360_assets.kpis [path]``: rewrite the KPI glossary document (default docs/kpi_glossary.md)."""

import sys
from pathlib import Path

from sales360_assets.kpis.document import GLOSSARY_PATH, write_glossary

print(f"wrote {write_glossary(Path(sys.argv[1]) if len(sys.argv) > 1 else GLOSSARY_PATH)}")
