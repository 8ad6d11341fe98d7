"""The lake on S3-compatible object storage: moto's S3 server on 127.0.0.1, real Dagster runs.

A deployment sets ``SALES360_LAKE_URI=s3://bucket/prefix`` and the standard ``AWS_*`` variables,
which delta-rs and Polars read themselves (so no secret passes through run config or metadata).
Commits are put-if-absent (``AWS_CONDITIONAL_PUT=etag``), which S3 (since 2024), MinIO, R2 and
moto honour, so concurrent region runs cannot overwrite each other's log entry without a DynamoDB
locking provider. delta-rs 1.x turns it on for S3 by itself (delta-rs PR 3091); it is set here
as a deployment should, so a library default change cannot quietly undo it. Never set
``AWS_S3_ALLOW_UNSAFE_RENAME``: it gives up exactly that guarantee.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import boto3
import dagster as dg
import polars as pl
import pytest
from moto.server import ThreadedMotoServer

from sales360_assets.cli import materialize_window
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.servers import project_instance

pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("s3")]

BUCKET = "sales360-lake"
START, END, REGION = date(2026, 3, 2), date(2026, 3, 3), "emea"


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "sales360-test",
        "AWS_SECRET_ACCESS_KEY": "sales360-test",
        "AWS_REGION": "us-east-1",
        # A local endpoint speaks plain HTTP; real S3 never needs this.
        "AWS_ALLOW_HTTP": "true",
        "AWS_CONDITIONAL_PUT": "etag",
    }.items():
        monkeypatch.setenv(name, value)
    boto3.client("s3", endpoint_url=endpoint).create_bucket(Bucket=BUCKET)
    try:
        yield endpoint
    finally:
        server.stop()


def test_a_window_materializes_into_delta_tables_on_s3(
    s3_endpoint: str, sample_sources: SampleSources, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The report's files are local files whatever the lake; keep them out of the working tree.
    monkeypatch.setenv("SALES360_DATA_DIR", str(tmp_path))
    lake_uri = f"s3://{BUCKET}/lake"
    defs = build_definitions(str(sample_sources.root), lake_uri)
    with project_instance() as instance:
        materialize_window(defs, instance, START, END, [REGION], log=lambda _: None)
        fact_event = instance.get_latest_materialization_event(dg.AssetKey("fact_sales"))

    keys = {o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert "lake/fact_sales/_delta_log/00000000000000000000.json" in keys
    assert any(k.startswith("lake/commission_statements/_delta_log/") for k in keys)  # the reporting job too

    fact_sales = pl.read_delta(f"{lake_uri}/fact_sales")
    assert fact_sales.height > 0
    assert set(fact_sales["region"]) == {REGION}
    assert set(fact_sales["date"]) == {START, END}
    assert fact_event is not None and fact_event.asset_materialization is not None
    assert str(fact_event.asset_materialization.metadata["dagster/uri"].value) == f"{lake_uri}/fact_sales"
    # Row counts from the Delta log's statistics work on object storage as on disk.
    assert DeltaLake(lake_uri).row_count("fact_sales") == fact_sales.height
