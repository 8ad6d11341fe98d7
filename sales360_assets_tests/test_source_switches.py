"""Sources can be switched off: a company without CRM or stores fakes nothing.

Before: a missing ``crm/`` failed every Salesforce raw asset (FileNotFoundError), and a missing
``landing/pos/stores.csv`` failed ``raw_pos_stores``, so an export had to carry nine fake
``_describe.json`` files and a header-only ``stores.csv``.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from sales360_assets.settings import SOURCES_ENV, enabled_sources
from sales360_assets.sources.contract import POS_STORES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets.sources.resources import LandingZoneResource, SalesforceResource
from sales360_assets.sources.salesforce import extract_object
from sales360_assets_tests.conftest import SampleSources

UNTIL = datetime(2026, 3, 9, tzinfo=UTC)


def test_sources_default_to_all_and_unknown_names_are_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    assert enabled_sources() == frozenset({"salesforce", "warehouse", "pos"})
    monkeypatch.setenv(SOURCES_ENV, " Warehouse , pos ")
    assert enabled_sources() == frozenset({"warehouse", "pos"})
    monkeypatch.setenv(SOURCES_ENV, "warehouse,erp")
    with pytest.raises(ValueError, match=r"SALES360_SOURCES.*'erp'.*salesforce, warehouse, pos"):
        enabled_sources()
    monkeypatch.setenv(SOURCES_ENV, "pos")
    with pytest.raises(ValueError, match="SALES360_SOURCES must include warehouse"):
        enabled_sources()


def test_salesforce_switched_off_extracts_empty_tables_with_the_contract_schema(
    monkeypatch: pytest.MonkeyPatch, sample_sources: SampleSources
) -> None:
    monkeypatch.setenv(SOURCES_ENV, "warehouse,pos")
    client = SalesforceResource(sources_dir=str(sample_sources.root)).get_client()
    for table in SALESFORCE_OBJECTS.values():
        frame, added = extract_object(client, table, None, UNTIL)
        assert frame.height == 0 and added == []
        assert dict(frame.schema) == table.columns
    assert "SALES360_SOURCES" in client.usage_metadata()["source_disabled"]


def test_a_missing_crm_folder_switches_salesforce_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    client = SalesforceResource(sources_dir=str(tmp_path)).get_client()
    frame, _ = extract_object(client, SALESFORCE_OBJECTS["Opportunity"], None, UNTIL)
    assert frame.height == 0
    assert str(tmp_path / "crm") in client.usage_metadata()["source_disabled"]


def test_pos_switched_off_reads_no_stores_and_no_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(SOURCES_ENV, "warehouse")
    zone = LandingZoneResource(root=str(tmp_path / "landing")).get_landing_zone()
    stores = zone.read_pos_stores()
    assert stores.height == 0 and stores.columns == list(POS_STORES.columns)
    assert zone.read_pos_transactions(date(2026, 3, 2), date(2026, 3, 8), ["na"]).height == 0
    assert "SALES360_SOURCES" in (zone.disabled_reason or "")


def test_pos_on_without_a_registry_still_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Store files without stores.csv cannot be given a region: that is an error, not "no POS".
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    (tmp_path / "landing" / "pos" / "2026-03-02").mkdir(parents=True)
    zone = LandingZoneResource(root=str(tmp_path / "landing")).get_landing_zone()
    with pytest.raises(FileNotFoundError, match=r"stores\.csv"):
        zone.read_pos_stores()


def test_no_pos_folder_switches_pos_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(SOURCES_ENV, raising=False)
    zone = LandingZoneResource(root=str(tmp_path / "landing")).get_landing_zone()
    assert zone.read_pos_stores().height == 0
    assert str(tmp_path / "landing" / "pos") in (zone.disabled_reason or "")


def test_a_misspelt_source_list_is_refused_when_the_definitions_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sales360_assets.definitions import build_definitions

    monkeypatch.setenv(SOURCES_ENV, "warehouse,crm")
    with pytest.raises(ValueError, match="'crm'"):
        build_definitions(str(tmp_path), str(tmp_path / "lake"))
