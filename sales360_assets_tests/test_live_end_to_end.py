"""raw → reports with both live backends pointed at local stubs serving the generated sample org.

The Salesforce stub answers as a real org does — each record's current version from
query/queryAll, earlier stages only in ``OpportunityHistory`` — and the BigQuery stub serves the
warehouse tables. The same definitions, switched to the live connectors only by environment
variables, must write exactly the Delta tables the embedded backends write: every table, every
row, every value (ingestion and run columns aside). Then the embedded default is the real path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.settings import REGION_CODES
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS
from sales360_assets_tests.conftest import WINDOW_START, MaterializedLake, SampleSources, materialize_into
from sales360_assets_tests.servers import project_instance
from sales360_assets_tests.stubs.bigquery_stub import BigQueryStub
from sales360_assets_tests.stubs.fixtures import bigquery_stub, salesforce_stub, table_from_contract
from sales360_assets_tests.stubs.salesforce_stub import SalesforceStub

pytestmark = pytest.mark.integration

DATASET = "sales"
# Stamped by the run that wrote the row (its id or clock), so two runs differ there by design.
RUN_COLUMNS = {
    "_ingested_at", "_run_id", "_source", "run_id", "rejected_at", "recorded_at",
    "first_seen_run", "last_changed_run", "decided_at",
}  # fmt: skip
SECRETS = ("00DSTUB!preset-session",)


def crm_records(sources: Path) -> dict[str, list[dict]]:
    """The org's change log per object, as the generator's pages hold it (the stub serves current versions)."""
    objects: dict[str, list[dict]] = {}
    for name in SALESFORCE_OBJECTS:
        records = []
        for page in sorted((sources / "crm" / name).glob("????-??-??.json")):
            records.extend(json.loads(page.read_text())["records"])
        objects[name] = records
    return objects


def warehouse_tables(sources: Path) -> dict[str, object]:
    tables = {}
    for name, table in WAREHOUSE_TABLES.items():
        frame = pl.read_parquet(sorted((sources / "warehouse" / name).rglob("*.parquet")))
        tables[f"{DATASET}.{name}"] = table_from_contract(table, frame.to_dicts())
    return tables


@dataclass
class LiveRun:
    lake: DeltaLake
    salesforce: SalesforceStub
    bigquery: BigQueryStub
    logs: str
    defs: dg.Definitions
    instance: dg.DagsterInstance


@pytest.fixture(scope="module")
def live_run(tmp_path_factory: pytest.TempPathFactory, sample_sources: SampleSources) -> Iterator[LiveRun]:
    monkeypatch = pytest.MonkeyPatch()
    tmp = tmp_path_factory.mktemp("live")
    with (
        salesforce_stub(crm_records(sample_sources.root), page_size=200) as sf,
        bigquery_stub(warehouse_tables(sample_sources.root)) as bq,
        project_instance() as instance,
    ):
        monkeypatch.setenv("SALESFORCE_INSTANCE_URL", sf.url)
        monkeypatch.setenv("SALESFORCE_SESSION_ID", sf.preset_session_id)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", sf.ca_path)
        monkeypatch.setenv("BIGQUERY_PROJECT", bq.project)
        monkeypatch.setenv("BIGQUERY_DATASET", DATASET)
        monkeypatch.setenv("BIGQUERY_API_ENDPOINT", bq.url)
        live = materialize_into(tmp, sample_sources, instance)
        defs = live.defs
        logs = "\n".join(
            str(e.user_message) + json.dumps(str(e.dagster_event.event_specific_data) if e.dagster_event else "")
            for run in instance.get_runs()
            for e in instance.all_logs(run.run_id)
        )
        yield LiveRun(live.lake, sf, bq, logs, defs, instance)
    monkeypatch.undo()


def comparable(lake: DeltaLake, table: str, selection: PartitionSelection | None = None) -> pl.DataFrame:
    frame = lake.read(table, selection)
    frame = frame.select(sorted(c for c in frame.columns if c not in RUN_COLUMNS))
    return frame.sort(frame.columns, nulls_last=True)


def delta_tables(lake: DeltaLake) -> set[str]:
    return {p.name for p in Path(lake.root_uri).iterdir() if (p / "_delta_log").is_dir()}


def test_live_backends_were_used_and_produce_the_embedded_tables(
    live_run: LiveRun, materialized: MaterializedLake
) -> None:
    assert live_run.salesforce.soql_received(), "Salesforce stub saw no SOQL"
    assert live_run.bigquery.queries_received(dry_run=False), "BigQuery stub saw no query"
    tables = delta_tables(materialized.lake)
    assert delta_tables(live_run.lake) == tables
    differing = {}
    for table in sorted(tables):
        live, embedded = comparable(live_run.lake, table), comparable(materialized.lake, table)
        if live.columns != embedded.columns or live.height != embedded.height:
            differing[table] = f"live {live.height} rows {live.columns} vs embedded {embedded.height} rows"
        else:
            try:
                # Exact for every non-float column; float sums may differ in the last bit because
                # Polars aggregates in parallel (summation order), not because the data differ.
                assert_frame_equal(live, embedded, check_exact=False, rel_tol=1e-12, abs_tol=1e-9)
            except AssertionError as exc:
                differing[table] = str(exc)[:500]
    print(f"live vs embedded: {len(tables) - len(differing)}/{len(tables)} tables identical")
    assert not differing, differing
    # One row per record in the raw CRM tables: a real org never returns an earlier version.
    raw = live_run.lake.read("raw_salesforce_opportunities")
    assert raw["Id"].n_unique() == raw.height > 0


def test_bigquery_queries_are_parameterized_on_the_partition(live_run: LiveRun) -> None:
    queries = [q.info for q in live_run.bigquery.queries_received(dry_run=False) if ".orders`" in q.info["query"]]
    # One query per region run (each run covers the whole date range).
    assert len(queries) == len(REGION_CODES), queries
    for query in queries:
        assert "@start_date" in query["query"] and "UNNEST(@regions)" in query["query"]
        # Values travel only as parameters, never in the SQL text.
        assert WINDOW_START.isoformat() not in query["query"] and "'emea'" not in query["query"]
        assert query["parameters"]["start_date"] in (WINDOW_START, WINDOW_START.isoformat())
        assert len(query["parameters"]["regions"]) == 1
    assert {r for q in queries for r in q["parameters"]["regions"]} == set(REGION_CODES)
    assert live_run.bigquery.queries_received(dry_run=True), "no dry run before the queries (cost guard)"


def test_watermark_advances_and_a_second_extract_asks_only_for_newer_records(live_run: LiveRun) -> None:
    lake = live_run.lake
    watermark = lake.scan("raw_salesforce_opportunities").select(pl.col("SystemModstamp").max()).collect().item()
    rows_before = lake.scan("raw_salesforce_opportunities").select(pl.len()).collect().item()
    live_run.salesforce.clear_requests()
    result = live_run.defs.resolve_job_def("reference_data_job").execute_in_process(
        instance=live_run.instance, asset_selection=[dg.AssetKey("raw_salesforce_opportunities")]
    )
    assert result.success
    soql = [q for q in live_run.salesforce.soql_received() if "FROM Opportunity" in q and "COUNT()" not in q]
    assert soql, "no Opportunity extract on the second run"
    lower = re.search(r"SystemModstamp >= (\S+)", soql[-1])
    assert lower is not None, soql[-1]
    # Look-back of 15 minutes before the stored watermark, never from the beginning.
    assert lower.group(1).startswith(watermark.strftime("%Y-%m-%dT"))
    assert lake.scan("raw_salesforce_opportunities").select(pl.len()).collect().item() == rows_before


def test_deleted_opportunities_leave_the_facts(live_run: LiveRun, sample_sources: SampleSources) -> None:
    deleted = {r["Id"] for r in crm_records(sample_sources.root)["Opportunity"] if r["IsDeleted"]}
    assert deleted
    staged = live_run.lake.read("stg_salesforce_opportunities")
    assert set(staged.filter(pl.col("is_deleted"))["opportunity_id"]) == deleted
    assert not set(live_run.lake.read("fact_opportunity")["opportunity_id"]) & deleted


def test_secrets_never_reach_logs_or_metadata(live_run: LiveRun) -> None:
    for secret in SECRETS:
        assert secret not in live_run.logs
