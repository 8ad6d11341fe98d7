"""raw → marts with both live backends pointed at local stubs serving the generated sample data.

The same definitions, switched to Salesforce and BigQuery only by environment variables, must
produce the same tables as the embedded backends: then the live path is the real path.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.cli import materialize_window
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake, PartitionSelection
from sales360_assets.sources.contract import SALESFORCE_OBJECTS, WAREHOUSE_TABLES
from sales360_assets_tests.conftest import MaterializedLake, SampleSources
from sales360_assets_tests.stubs.bigquery_stub import BigQueryStub
from sales360_assets_tests.stubs.fixtures import bigquery_stub, salesforce_stub, table_from_contract
from sales360_assets_tests.stubs.salesforce_stub import SalesforceStub

pytestmark = pytest.mark.integration

DAY, REGION = date(2026, 3, 4), "emea"
DATASET = "sales"
RUN_COLUMNS = {"_ingested_at", "_run_id", "_source", "run_id", "rejected_at"}
SECRETS = ("00DSTUB!preset-session",)


def crm_records(sources: Path) -> dict[str, list[dict]]:
    """Every record version of every object, as the generator's query pages hold them."""
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
        dg.instance_for_test() as instance,
    ):
        monkeypatch.setenv("SALESFORCE_INSTANCE_URL", sf.url)
        monkeypatch.setenv("SALESFORCE_SESSION_ID", sf.preset_session_id)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", sf.ca_path)
        monkeypatch.setenv("BIGQUERY_PROJECT", bq.project)
        monkeypatch.setenv("BIGQUERY_DATASET", DATASET)
        monkeypatch.setenv("BIGQUERY_API_ENDPOINT", bq.url)
        defs = build_definitions(str(sample_sources.root), str(tmp / "lake"))
        materialize_window(defs, instance, DAY, DAY, [REGION], log=lambda _: None)
        logs = "\n".join(
            str(e.user_message) + json.dumps(str(e.dagster_event.event_specific_data) if e.dagster_event else "")
            for run in instance.get_runs()
            for e in instance.all_logs(run.run_id)
        )
        yield LiveRun(DeltaLake(str(tmp / "lake")), sf, bq, logs, defs, instance)
    monkeypatch.undo()


def comparable(lake: DeltaLake, table: str, selection: PartitionSelection | None = None) -> pl.DataFrame:
    frame = lake.read(table, selection)
    frame = frame.select(sorted(c for c in frame.columns if c not in RUN_COLUMNS))
    return frame.sort(frame.columns, nulls_last=True)


def test_live_backends_were_used_and_produce_the_embedded_tables(
    live_run: LiveRun, materialized: MaterializedLake
) -> None:
    assert live_run.salesforce.soql_received(), "Salesforce stub saw no SOQL"
    assert live_run.bigquery.queries_received(dry_run=False), "BigQuery stub saw no query"
    selection = PartitionSelection.single(DAY, REGION)
    # Partitioned tables: the live partition equals the embedded run's same partition.
    for table in ("raw_warehouse_orders", "stg_warehouse_order_lines", "fact_sales", "mart_daily_sales"):
        live = comparable(live_run.lake, table, selection)
        embedded = comparable(materialized.lake, table, selection)
        assert live.height > 0, table
        assert_frame_equal(live.select(embedded.columns), embedded, check_dtypes=False)
    # CRM tables: every record version extracted once, same staged state.
    for table in ("stg_salesforce_opportunities", "stg_salesforce_users", "fact_opportunity", "dim_customer"):
        assert_frame_equal(comparable(live_run.lake, table), comparable(materialized.lake, table), check_dtypes=False)


def test_bigquery_queries_are_parameterized_on_the_partition(live_run: LiveRun) -> None:
    queries = [q.info for q in live_run.bigquery.queries_received(dry_run=False) if ".orders`" in q.info["query"]]
    assert queries, "no orders query reached BigQuery"
    for query in queries:
        assert "@start_date" in query["query"] and "UNNEST(@regions)" in query["query"]
        # Values travel only as parameters, never in the SQL text.
        assert DAY.isoformat() not in query["query"] and f"'{REGION}'" not in query["query"]
        assert query["parameters"]["start_date"] in (DAY, DAY.isoformat())
        assert list(query["parameters"]["regions"]) == [REGION]
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
