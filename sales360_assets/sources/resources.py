"""Dagster resources for every external system.

Each resource hands assets a *client* with one protocol whatever the backend, so assets never
know whether they read the embedded sample sources or a live system. With no credentials
configured the embedded backend under ``sources_dir`` is used.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.salesforce import CrmClient, LocalCrmClient
from sales360_assets.sources.warehouse import LocalWarehouseClient, WarehouseClient


class SalesforceResource(dg.ConfigurableResource):
    """Salesforce CRM. Embedded default: SOQL-shaped pages under ``<sources_dir>/crm``."""

    sources_dir: str
    # Re-read this much before the high-water mark: records committed in Salesforce after an
    # extract started can carry a SystemModstamp slightly earlier than the newest one it saw.
    lookback_minutes: int = 15

    def get_client(self) -> CrmClient:
        return LocalCrmClient(Path(self.sources_dir) / "crm")


class WarehouseResource(dg.ConfigurableResource):
    """The BigQuery warehouse. Embedded default: Parquet under ``<sources_dir>/warehouse``."""

    sources_dir: str

    def get_client(self) -> WarehouseClient:
        return LocalWarehouseClient(Path(self.sources_dir) / "warehouse")


class LandingZoneResource(dg.ConfigurableResource):
    """Folder where POS/ERP systems drop their daily files (``<sources_dir>/landing``)."""

    root: str

    def get_landing_zone(self) -> LandingZone:
        return LandingZone(Path(self.root))
