"""Business constants shared by every layer: regions, currencies, paths.

Kept in one module so a new engineer finds "which regions exist" and "what is the reporting
currency" in one place. Deployment-specific values (paths, dates, the regions file) come from
environment variables with local defaults.
"""

from __future__ import annotations

import json
import os
from datetime import date
from pathlib import Path

# Re-exported: modules import the reporting currency and Region from settings, as before.
from sales360_assets.deployment_config import REPORTING_CURRENCY as REPORTING_CURRENCY
from sales360_assets.deployment_config import Region as Region
from sales360_assets.deployment_config import deployment_config_from_env

# Regions and currencies come from the deployment configuration (SALES360_CONFIG, see
# deployment_config.py), else the four sample regions; read once, when the code location loads.
DEPLOYMENT = deployment_config_from_env()
REGIONS: dict[str, Region] = DEPLOYMENT.regions
REGION_CODES: list[str] = sorted(REGIONS)
# Each region books in its own currency, so a deal's currency names the region that booked it.
REGION_BY_CURRENCY: dict[str, str] = {r.currency: r.code for r in REGIONS.values()}

# Every currency a source may legitimately use. Anything else is a defect (dead letter).
KNOWN_CURRENCIES: frozenset[str] = DEPLOYMENT.known_currencies
# FX feeds publish on business days; a sale may use the latest rate at most this many days old.
FX_MAX_STALENESS_DAYS = 7

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


def data_dir() -> Path:
    return Path(os.environ.get("SALES360_DATA_DIR", str(DEFAULT_DATA_DIR)))


def default_sources_dir() -> Path:
    return Path(os.environ.get("SALES360_SOURCES_DIR", str(data_dir() / "sources")))


def default_lake_uri() -> str:
    return os.environ.get("SALES360_LAKE_URI", str(data_dir() / "lake"))


DEFAULT_PARTITIONS_START = date(2023, 1, 1)
PARTITIONS_START_ENV = "SALES360_PARTITIONS_START"


def partitions_start_date() -> date:
    """First day of the date partition dimension: where this deployment's history starts.

    ``SALES360_PARTITIONS_START`` when set; else the first date of the local sources (the sample
    generator's manifest, or the earliest ``order_date=`` folder of a warehouse export); else
    2023-01-01. A start far before the data shows thousands of "missing" partitions in the UI,
    and a later one makes older data unreachable, so a live deployment should set it.
    """
    raw = os.environ.get(PARTITIONS_START_ENV)
    if raw:
        try:
            return date.fromisoformat(raw)
        except ValueError as exc:
            raise ValueError(f"{PARTITIONS_START_ENV} must be an ISO date (YYYY-MM-DD), got {raw!r}") from exc
    return history_start_in(default_sources_dir()) or DEFAULT_PARTITIONS_START


def history_start_in(sources: Path) -> date | None:
    """The first business date of local sources, or None when there are none to look at."""
    manifest = sources / "_manifest.json"
    if manifest.is_file():
        try:
            return date.fromisoformat(json.loads(manifest.read_text())["arguments"]["start"])
        except (ValueError, KeyError, TypeError):
            pass  # not a generator manifest: fall back to the export's folders
    orders = sources / "warehouse" / "orders"
    days: list[date | None] = []
    if orders.is_dir():
        for entry in orders.iterdir():
            if entry.is_file() and entry.suffix == ".parquet":
                days.append(_first_order_date(entry))  # a flat export: its rows carry their dates
                continue
            try:
                days.append(date.fromisoformat(entry.name.removeprefix("order_date=")))
            except ValueError:
                continue
    return min((d for d in days if d is not None), default=None)


def _first_order_date(path: Path) -> date | None:
    import polars as pl  # only here: settings is imported by light modules (the CLI's argument parsing)

    try:
        first = pl.scan_parquet(path).select(pl.col("order_date").min()).collect().item()
    except (pl.exceptions.PolarsError, OSError):
        return None  # unreadable: the reader names the file when a run gets to it
    return first if isinstance(first, date) else None


SOURCES_ENV = "SALES360_SOURCES"
SOURCE_SYSTEMS: tuple[str, ...] = ("salesforce", "warehouse", "pos")


def enabled_sources() -> frozenset[str]:
    """The source systems this deployment has: ``SALES360_SOURCES`` (comma-separated), else all.

    A company without a CRM or without stores switches that source off instead of faking an
    empty export; its raw tables are then empty with the contract schema. The warehouse holds the
    catalogue and the FX rates every channel needs, so it cannot be switched off.
    """
    raw = os.environ.get(SOURCES_ENV, "").strip()
    if not raw:
        return frozenset(SOURCE_SYSTEMS)
    names = {name.strip().lower() for name in raw.split(",") if name.strip()}
    unknown = sorted(names - set(SOURCE_SYSTEMS))
    if unknown:
        raise ValueError(
            f"{SOURCES_ENV}={raw!r} names unknown source(s) {', '.join(map(repr, unknown))}; "
            f"use a comma-separated subset of {', '.join(SOURCE_SYSTEMS)}"
        )
    if "warehouse" not in names:
        raise ValueError(f"{SOURCES_ENV} must include warehouse (got {raw!r}): products and FX rates come from it")
    return frozenset(names)


def source_switched_off(system: str, folder: Path | None) -> str | None:
    """Why ``system`` is off (not in ``SALES360_SOURCES``, or its local ``folder`` is absent), else None.

    ``folder`` is None for a live backend, which has no local folder to look for.
    """
    if system not in enabled_sources():
        return f"{system} is switched off: {SOURCES_ENV}={os.environ.get(SOURCES_ENV, '')}"
    if folder is not None and not folder.is_dir():
        return f"{system} is switched off: no {folder} in the sources directory"
    return None
