"""Identity records straight from a sources folder, through the same readers and staging rules.

`sales360 identity evaluate` and the accuracy tests score the matcher on a sample without
materializing the whole graph; reading through the platform's own readers and `stage_*`
functions keeps those records identical to what the assets see.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import polars as pl

from sales360_assets.identity.records import build_identity_records
from sales360_assets.settings import REGION_CODES
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.salesforce import LocalCrmClient, extract_object
from sales360_assets.sources.warehouse import LocalWarehouseClient
from sales360_assets.staging.salesforce import stage_salesforce_object
from sales360_assets.staging.warehouse import stage_customers


def _window(root: Path) -> tuple[date, date]:
    """The days the landing zone holds: the manifest's window, else the day folders present."""
    manifest = root / "_manifest.json"
    if manifest.exists():
        arguments = json.loads(manifest.read_text())["arguments"]
        return date.fromisoformat(arguments["start"]), date.fromisoformat(arguments["end"])
    days = sorted(date.fromisoformat(p.name) for p in (root / "landing" / "pos").iterdir() if p.is_dir())
    return days[0], days[-1]


def identity_records_from_sources(root: Path) -> pl.DataFrame:
    """Identity records of every web customer, live CRM contact and loyalty member in ``root``."""
    root = Path(root)
    customers = stage_customers(LocalWarehouseClient(root / "warehouse").read_full(WAREHOUSE_TABLES["customers"]))
    contact_table = SALESFORCE_OBJECTS["Contact"]
    raw_contacts, _ = extract_object(LocalCrmClient(root / "crm"), contact_table, None, datetime.now(UTC))
    contacts = stage_salesforce_object(raw_contacts, "Contact")
    raw_accounts, _ = extract_object(
        LocalCrmClient(root / "crm"), SALESFORCE_OBJECTS["Account"], None, datetime.now(UTC)
    )
    accounts = stage_salesforce_object(raw_accounts, "Account")
    zone = LandingZone(root / "landing")
    start, end = _window(root)
    lines = zone.read_pos_transactions(start, end, REGION_CODES).with_columns(
        pl.col("transaction_ts").str.strip_chars().str.to_datetime("%Y-%m-%dT%H:%M:%S%z", strict=False, time_zone="UTC")
    )
    blank = {
        c: pl.col(c).str.strip_chars().replace("", None)
        for c in ("loyalty_id", "customer_name", "customer_email", "customer_phone")
    }
    return build_identity_records(customers.staged, contacts.staged, lines.with_columns(**blank), accounts.staged)
