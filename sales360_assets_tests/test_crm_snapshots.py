"""The platform keeps its own history of CRM records, as it must against a real org.

A real org's query/queryAll answers one row per record: its current version. Earlier versions of
a User (a rep's territory, region, manager) exist only where the platform captured them, so each
extract is appended to the raw table as a snapshot keyed on (Id, SystemModstamp) and a later
extract's look-back window never deletes what an earlier one saw.

Scenario, on both backends: extract once; the rep then changes territory twice; extract again.
The rep keeps exactly the two versions the platform saw — the one before and the current one —
in ``dim_sales_rep``; the intermediate version was never visible through the API.
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.sources.salesforce import format_sf_datetime
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.servers import project_instance
from sales360_assets_tests.stubs.fixtures import salesforce_stub
from sales360_assets_tests.stubs.salesforce_stub import SalesforceStub
from sales360_assets_tests.test_live_end_to_end import crm_records

pytestmark = pytest.mark.integration

USER_ASSETS = [dg.AssetKey(k) for k in ("raw_salesforce_users", "stg_salesforce_user_history", "dim_sales_rep")]


def _user_versions(sources: Path) -> list[dict]:
    return crm_records(sources)["User"]


def _rep_and_first_change(sources: Path) -> tuple[dict, datetime]:
    """A sales rep, and a moment after every record in the org (so it becomes the newest change)."""
    users = _user_versions(sources)
    newest = max(datetime.strptime(u["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z") for u in users)
    rep = next(u for u in users if u["Title"] == "Account Executive" and u["Territory__c"])
    return rep, newest + timedelta(hours=1)


def _version(rep: dict, territory: str, stamp: datetime) -> dict:
    return {**rep, "Territory__c": territory, "SystemModstamp": format_sf_datetime(stamp)}


def _run(defs: dg.Definitions, instance: dg.DagsterInstance) -> None:
    result = defs.resolve_job_def("reference_data_job").execute_in_process(
        instance=instance, asset_selection=USER_ASSETS
    )
    assert result.success


def _rep_history(lake_uri: str, user_id: str) -> list[str]:
    dim = DeltaLake(lake_uri).read("dim_sales_rep").filter(pl.col("user_id") == user_id).sort("valid_from")
    return dim["territory"].to_list()


def _scenario(
    tmp: Path, sources: Path, change: Callable[[list[dict]], None], defs: dg.Definitions
) -> tuple[list[str], list[str]]:
    """Extract, apply two territory changes through ``change``, extract again; the rep's dimension rows."""
    rep, first_stamp = _rep_and_first_change(sources)
    with project_instance() as instance:
        # Version A becomes the org's newest change, so the watermark sits on it and the second
        # extract's look-back window covers it: the window must not delete what it no longer sees.
        change([_version(rep, "before-changes", first_stamp)])
        _run(defs, instance)
        lake_uri = str(tmp / "lake")
        seen_first = _rep_history(lake_uri, rep["Id"])
        change(
            [
                # Days apart: the dimension keeps one assignment per rep and day.
                _version(rep, "intermediate", first_stamp + timedelta(days=1)),
                _version(rep, "current", first_stamp + timedelta(days=2)),
            ]
        )
        _run(defs, instance)
        return seen_first, _rep_history(lake_uri, rep["Id"])


@pytest.fixture
def private_sources(tmp_path: Path, sample_sources: SampleSources) -> Path:
    root = tmp_path / "sources"
    shutil.copytree(sample_sources.root, root)
    return root


def test_embedded_org_keeps_both_versions_the_platform_saw(tmp_path: Path, private_sources: Path) -> None:
    def change(versions: list[dict]) -> None:
        # The org's change log gains a page: what an export of that day holds.
        stamp = datetime.strptime(versions[-1]["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
        page = private_sources / "crm" / "User" / f"{stamp.astimezone(UTC).date().isoformat()}.json"
        records = json.loads(page.read_text())["records"] if page.exists() else []
        records += versions
        page.write_text(json.dumps({"totalSize": len(records), "done": True, "records": records}))

    defs = build_definitions(str(private_sources), str(tmp_path / "lake"))
    first, second = _scenario(tmp_path, private_sources, change, defs)
    print(f"CRM snapshots embedded: after first extract {first}, after second {second}")
    assert first == ["before-changes"]
    assert second == ["before-changes", "current"]


@pytest.fixture
def live_org(private_sources: Path) -> Iterator[SalesforceStub]:
    with salesforce_stub(crm_records(private_sources), page_size=500) as stub:
        yield stub


def test_live_org_keeps_both_versions_the_platform_saw(
    tmp_path: Path, private_sources: Path, live_org: SalesforceStub, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SALESFORCE_INSTANCE_URL", live_org.url)
    monkeypatch.setenv("SALESFORCE_SESSION_ID", live_org.preset_session_id)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", live_org.ca_path)

    def change(versions: list[dict]) -> None:
        for version in versions:
            live_org.upsert("User", version)

    defs = build_definitions(str(private_sources), str(tmp_path / "lake"))
    first, second = _scenario(tmp_path, private_sources, change, defs)
    print(f"CRM snapshots live: after first extract {first}, after second {second}")
    assert first == ["before-changes"]
    assert second == ["before-changes", "current"]
