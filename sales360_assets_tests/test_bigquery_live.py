"""The live BigQuery client, through the real google-cloud-bigquery, against the REST stub."""

from __future__ import annotations

import logging
import re
import socket
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import polars as pl
import pytest
from google.cloud.bigquery.table import RowIterator

from sales360_assets.sources.bigquery_live import (
    BigQueryCostLimitError,
    BigQueryLiveClient,
    BigQueryPermanentError,
    BigQueryTransientError,
)
from sales360_assets.sources.contract import WAREHOUSE_TABLES, SchemaDriftError
from sales360_assets.sources.resources import WarehouseResource, warehouse_resource_from_env
from sales360_assets.sources.routing import CAST_ERROR, SOURCE_REGION
from sales360_assets.sources.warehouse import LocalWarehouseClient
from sales360_assets_tests.stubs.bigquery_stub import StubTable
from sales360_assets_tests.stubs.fixtures import BigQueryStub, bigquery_stub, table_from_contract

MIB = 1024**2
MINIMUM_CAP = 10 * MIB  # BigQuery's smallest maximum_bytes_billed for on-demand queries
ORDER_LINES = WAREHOUSE_TABLES["order_lines"]
PRODUCTS = WAREHOUSE_TABLES["products"]
# Every read adds what the reader could not cast exactly, and partitioned reads the delivered region.
ROUTED_READ_COLUMNS = {CAST_ERROR: pl.String, SOURCE_REGION: pl.String}
REGIONS = ["emea", "amer", "apac"]


def _order_lines() -> list[dict[str, Any]]:
    return [
        {
            "order_id": f"o{i:03d}",
            "line_number": 1 + i % 2,
            "sku": f"SKU-{i % 4}",
            "quantity": 1 + i % 3,
            "unit_price": Decimal("19.990000000") + i,
            "discount_amount": None if i % 5 == 0 else Decimal("0.5"),
            "order_date": date(2024, 5, 1) + timedelta(days=i % 4),
            "region": REGIONS[i % 3],
            "_loaded_at": datetime(2024, 5, 6, 2, 0, i, 123456, tzinfo=UTC),
        }
        for i in range(24)
    ]


def _products() -> list[dict[str, Any]]:
    return [
        {
            "sku": f"SKU-{i}",
            "product_name": f"Product {i}",
            "category": "Bikes",
            "subcategory": "Road",
            "brand": "Acme",
            "list_price_usd": Decimal("999.99"),
            "standard_cost_usd": Decimal("500.5"),
            "updated_at": datetime(2024, 5, 1, tzinfo=UTC),
        }
        for i in range(5)
    ]


@pytest.fixture
def warehouse() -> Iterator[BigQueryStub]:
    tables = {
        "sales.order_lines": table_from_contract(ORDER_LINES, _order_lines()),
        "sales.products": table_from_contract(PRODUCTS, _products()),
    }
    with bigquery_stub(tables, page_size=4, bytes_per_row=100) as stub:
        yield stub


def client_for(stub: BigQueryStub, **options: Any) -> BigQueryLiveClient:
    settings: dict[str, Any] = {"retry_deadline": 5.0, "retry_initial_delay": 0.01, "retry_max_delay": 0.05}
    settings.update(options)
    return BigQueryLiveClient(project=stub.project, dataset="sales", api_endpoint=stub.url, **settings)


def expected_lines(start: date, end: date, regions: list[str]) -> list[str]:
    return sorted(r["order_id"] for r in _order_lines() if start <= r["order_date"] <= end and r["region"] in regions)


def test_partitioned_read_is_one_parameterized_query(warehouse: BigQueryStub) -> None:
    client = client_for(warehouse)
    start, end, regions = date(2024, 5, 2), date(2024, 5, 3), ["emea", "apac"]
    frame = client.read_partitioned(ORDER_LINES, start, end, regions)

    (dry,) = warehouse.queries_received(dry_run=True)
    (real,) = warehouse.queries_received(dry_run=False)
    sql = real.info["query"]
    assert dry.info["query"] == sql
    assert dry.info["use_query_cache"] is False
    assert "FROM `stub-project.sales.order_lines`" in sql
    assert "WHERE `order_date` BETWEEN @start_date AND @end_date AND `region` IN UNNEST(@regions)" in sql
    assert sql.startswith("SELECT `order_id`, `line_number`, `sku`, ")
    assert "2024-05" not in sql and "emea" not in sql  # values travel as parameters only
    assert real.info["parameters"] == {"start_date": start, "end_date": end, "regions": regions}
    assert real.info["parameter_types"] == {"start_date": "DATE", "end_date": "DATE", "regions": "STRING"}
    assert real.info["maximum_bytes_billed"] == client.maximum_bytes_billed
    assert real.info["use_legacy_sql"] is False
    assert sorted(frame["order_id"].to_list()) == expected_lines(start, end, regions)


def test_every_page_is_fetched_and_types_match_the_contract(warehouse: BigQueryStub) -> None:
    frame = client_for(warehouse).read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), REGIONS)

    assert frame.height == 24  # six pages of four
    assert frame["order_id"].n_unique() == 24
    assert len(warehouse.requests_to("/queries/")) >= 6
    assert frame.schema == pl.Schema({**ORDER_LINES.columns, **ROUTED_READ_COLUMNS})
    first = frame.filter(pl.col("order_id") == "o000").row(0, named=True)
    assert first["unit_price"] == pytest.approx(19.99)  # NUMERIC arrives as Decimal, lands as Float64
    assert first["discount_amount"] is None
    assert first["_loaded_at"] == datetime(2024, 5, 6, 2, 0, 0, 123456, tzinfo=UTC)


def test_full_read_of_a_reference_table(warehouse: BigQueryStub) -> None:
    frame = client_for(warehouse).read_full(PRODUCTS)

    assert frame.schema == pl.Schema({**PRODUCTS.columns, CAST_ERROR: pl.String})
    assert frame.height == 5
    (real,) = warehouse.queries_received(dry_run=False)
    assert real.info["query"].endswith("FROM `stub-project.sales.products`")
    assert real.info["parameters"] == {}


def test_dry_run_over_the_byte_limit_stops_before_the_query_is_sent(warehouse: BigQueryStub) -> None:
    warehouse.bytes_per_row = MIB  # the table "scans" 24 MiB
    client = client_for(warehouse, maximum_bytes_billed=MINIMUM_CAP)

    with pytest.raises(BigQueryCostLimitError) as failure:
        client.read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), REGIONS)

    message = str(failure.value)
    assert f"{24 * MIB} bytes" in message and str(MINIMUM_CAP) in message
    assert "stub-project.sales.order_lines" in message
    assert warehouse.queries_received(dry_run=True)
    assert warehouse.queries_received(dry_run=False) == []
    assert client.usage_metadata()["bigquery_bytes_to_scan"] == 24 * MIB


def test_the_job_carries_the_byte_cap_too(warehouse: BigQueryStub) -> None:
    # A dry run that under-estimates: BigQuery itself must stop the job at maximum_bytes_billed.
    warehouse.bytes_per_row = MIB
    warehouse.dry_run_bytes = 10
    with pytest.raises(BigQueryCostLimitError, match=r"order_lines.*BIGQUERY_MAXIMUM_BYTES_BILLED"):
        client_for(warehouse, maximum_bytes_billed=MINIMUM_CAP).read_partitioned(
            ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), REGIONS
        )
    (real,) = warehouse.queries_received(dry_run=False)
    assert real.info["maximum_bytes_billed"] == MINIMUM_CAP
    assert real.status == 400


@pytest.mark.parametrize("cap", [0, 1000, MINIMUM_CAP - 1, -5])
def test_a_byte_cap_below_the_bigquery_minimum_is_refused_at_load(
    cap: int, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    # BigQuery refuses such a job ("10485760 or higher required") after the dry run passed it.
    with pytest.raises(BigQueryPermanentError, match=r"BIGQUERY_MAXIMUM_BYTES_BILLED.*10485760"):
        BigQueryLiveClient(project="p", dataset="sales", maximum_bytes_billed=cap)
    live_env(monkeypatch, "http://127.0.0.1:9")
    monkeypatch.setenv("BIGQUERY_MAXIMUM_BYTES_BILLED", str(cap))
    with pytest.raises(BigQueryPermanentError, match=r"BIGQUERY_MAXIMUM_BYTES_BILLED.*10485760"):
        warehouse_resource_from_env(str(tmp_path))
    monkeypatch.setenv("BIGQUERY_MAXIMUM_BYTES_BILLED", "10MB")
    with pytest.raises(BigQueryPermanentError, match=r"BIGQUERY_MAXIMUM_BYTES_BILLED.*whole number"):
        warehouse_resource_from_env(str(tmp_path))
    assert BigQueryLiveClient(project="p", dataset="sales", maximum_bytes_billed=MINIMUM_CAP)


def closed_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (bound, then released)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_an_unreachable_endpoint_logs_every_retry_and_gives_up_within_the_deadline(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING, logger="sales360_assets.sources.bigquery_limits")
    client = BigQueryLiveClient(
        project="p",
        dataset="sales",
        api_endpoint=f"http://127.0.0.1:{closed_port()}",
        retry_deadline=2.0,
        retry_initial_delay=0.1,
        retry_max_delay=0.3,
    )
    started = time.monotonic()
    with pytest.raises(BigQueryTransientError, match=r"within the 2s retry deadline") as failure:
        client.read_full(PRODUCTS)
    elapsed = time.monotonic() - started

    assert elapsed < 2.0 + 1.0, elapsed  # the deadline, plus one connection attempt's worth of slack
    assert failure.value.retryable is True
    lines = [r.getMessage() for r in caplog.records if r.name == "sales360_assets.sources.bigquery_limits"]
    assert len(lines) >= 3, lines
    left = []
    for line in lines:
        assert "ConnectionError" in line and "Connection refused" in line, line  # the reason
        found = re.search(r"; (\d+\.\d)s of the 2s retry deadline left", line)
        assert found, line  # the time left
        left.append(float(found.group(1)))
    assert left == sorted(left, reverse=True) and left[0] <= 2.0


@pytest.mark.parametrize("value", ["0", "-1", "3601", "soon", "1.5"])
def test_the_retry_deadline_setting_is_validated_at_load(
    value: str, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_env(monkeypatch, "http://127.0.0.1:9")
    monkeypatch.setenv("BIGQUERY_RETRY_DEADLINE_SECONDS", value)
    with pytest.raises(BigQueryPermanentError, match="BIGQUERY_RETRY_DEADLINE_SECONDS"):
        warehouse_resource_from_env(str(tmp_path))


def test_the_retry_deadline_setting_reaches_the_client(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    live_env(monkeypatch, "http://127.0.0.1:9")
    assert WarehouseResource(sources_dir=str(tmp_path), project="p", dataset="d").retry_deadline_seconds == 120
    monkeypatch.setenv("BIGQUERY_RETRY_DEADLINE_SECONDS", "45")
    client = warehouse_resource_from_env(str(tmp_path)).process_config_and_initialize().get_client()
    assert isinstance(client, BigQueryLiveClient)
    assert client.retry_deadline == 45


@pytest.mark.parametrize(
    ("kind", "where"),
    [("500", "/queries/"), ("503", "/jobs"), ("rateLimitExceeded", "/jobs"), ("reset", "/queries/")],
)
def test_transient_errors_are_retried(warehouse: BigQueryStub, kind: str, where: str) -> None:
    warehouse.inject(kind, 2, path_contains=where)
    frame = client_for(warehouse).read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), REGIONS)

    assert frame.height == 24 and frame["order_id"].n_unique() == 24
    assert sum(1 for r in warehouse.requests if r.info.get("fault") == kind) == 2


def test_transient_errors_past_the_deadline_raise_a_retryable_error(warehouse: BigQueryStub) -> None:
    warehouse.inject("503", 10_000)
    with pytest.raises(BigQueryTransientError, match="order_lines") as failure:
        client_for(warehouse, retry_deadline=0.3).read_partitioned(
            ORDER_LINES, date(2024, 5, 1), date(2024, 5, 1), REGIONS
        )
    assert failure.value.retryable is True


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        ("invalidQuery", "rejected the query"),
        ("notFound", "was not found"),
        ("accessDenied", "permission denied"),
    ],
)
def test_permanent_errors_fail_at_once_naming_the_table(warehouse: BigQueryStub, kind: str, message: str) -> None:
    warehouse.inject(kind, 1, path_contains="/jobs")

    with pytest.raises(BigQueryPermanentError, match=message) as failure:
        client_for(warehouse).read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), REGIONS)

    assert "`stub-project.sales.order_lines`" in str(failure.value)
    assert failure.value.retryable is False
    assert len(warehouse.requests_to("/jobs")) == 1  # no retry


def test_a_missing_table_fails_at_once_naming_it(warehouse: BigQueryStub) -> None:
    with pytest.raises(BigQueryPermanentError, match=r"`stub-project.sales.customers`.*BIGQUERY_DATASET"):
        client_for(warehouse).read_full(WAREHOUSE_TABLES["customers"])
    assert len(warehouse.requests) == 1


def test_schema_drift_is_detected_from_the_table_schema(warehouse: BigQueryStub) -> None:
    products = table_from_contract(PRODUCTS, _products())
    products.schema = [f for f in products.schema if f["name"] != "brand"]  # optional: tolerated
    products.schema.append({"name": "eco_label", "type": "STRING", "mode": "NULLABLE"})  # added: kept
    for row in products.rows:
        row["eco_label"] = "A"
    warehouse.tables["sales.products"] = products

    frame = client_for(warehouse).read_full(PRODUCTS)
    assert frame.columns == [*PRODUCTS.columns, "eco_label", CAST_ERROR]
    assert frame["brand"].null_count() == 5

    broken = StubTable(schema=[f for f in products.schema if f["name"] != "category"], rows=products.rows)
    warehouse.tables["sales.products"] = broken
    with pytest.raises(SchemaDriftError, match="category"):
        client_for(warehouse).read_full(PRODUCTS)


def test_results_reach_polars_through_arrow(warehouse: BigQueryStub, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict[str, Any]] = []
    original = RowIterator.to_arrow

    def spy(self: RowIterator, *args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs)
        return original(self, *args, **kwargs)

    def forbidden(self: RowIterator, *args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the pandas path must not be used")

    monkeypatch.setattr(RowIterator, "to_arrow", spy)
    monkeypatch.setattr(RowIterator, "to_dataframe", forbidden)
    client_for(warehouse).read_full(PRODUCTS)
    assert calls == [{"create_bqstorage_client": False}]


def test_usage_metadata(warehouse: BigQueryStub) -> None:
    client = client_for(warehouse)
    client.read_full(PRODUCTS)
    client.read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 1), ["emea"])
    meta = client.usage_metadata()

    assert meta["warehouse_backend"] == "bigquery"
    assert meta["bigquery_queries"] == 2
    assert meta["bigquery_bytes_to_scan"] == 500 + 2400
    assert meta["bigquery_bytes_billed"] == 500 + 2400
    assert meta["bigquery_maximum_bytes_billed"] == 10 * 1024**3


def test_names_that_are_not_identifiers_are_refused() -> None:
    with pytest.raises(BigQueryPermanentError, match="dataset"):
        BigQueryLiveClient(project="p", dataset="sales` WHERE 1=1 --")
    with pytest.raises(BigQueryPermanentError, match="project"):
        BigQueryLiveClient(project="p`.x", dataset="sales")


def test_resource_stays_embedded_without_a_project(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BIGQUERY_PROJECT", raising=False)
    monkeypatch.delenv("BIGQUERY_DATASET", raising=False)
    assert isinstance(WarehouseResource(sources_dir=str(tmp_path)).get_client(), LocalWarehouseClient)
    assert isinstance(warehouse_resource_from_env(str(tmp_path)).get_client(), LocalWarehouseClient)


def live_env(monkeypatch: pytest.MonkeyPatch, endpoint: str, project: str = "stub-project") -> None:
    monkeypatch.setenv("BIGQUERY_PROJECT", project)
    monkeypatch.setenv("BIGQUERY_DATASET", "sales")
    monkeypatch.setenv("BIGQUERY_API_ENDPOINT", endpoint)
    monkeypatch.delenv("GOOGLE_APPLICATION_CREDENTIALS", raising=False)
    monkeypatch.delenv("BIGQUERY_MAXIMUM_BYTES_BILLED", raising=False)
    monkeypatch.delenv("BIGQUERY_RETRY_DEADLINE_SECONDS", raising=False)


def test_resource_from_env_reads_the_stub(
    warehouse: BigQueryStub, tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    live_env(monkeypatch, warehouse.url, warehouse.project)
    monkeypatch.setenv("BIGQUERY_MAXIMUM_BYTES_BILLED", str(MINIMUM_CAP + 1))
    # Outside a run Dagster has not resolved the EnvVars yet; a run does this itself.
    resource = warehouse_resource_from_env(str(tmp_path)).process_config_and_initialize()
    client = resource.get_client()

    assert isinstance(client, BigQueryLiveClient)
    assert client.maximum_bytes_billed == MINIMUM_CAP + 1
    assert client.read_full(PRODUCTS).height == 5


def test_an_empty_slice_still_has_the_contract_schema(warehouse: BigQueryStub) -> None:
    frame = client_for(warehouse).read_partitioned(ORDER_LINES, date(2024, 5, 1), date(2024, 5, 4), ["nowhere"])

    assert frame.height == 0
    assert frame.schema == pl.Schema({**ORDER_LINES.columns, **ROUTED_READ_COLUMNS})


def test_arrivals_since_a_moment_are_one_narrow_parameterized_query(warehouse: BigQueryStub) -> None:
    """What late_change_sensor asks: date, region and load time of rows loaded in a window, same as embedded."""
    since = datetime(2024, 5, 6, 2, 0, 10, tzinfo=UTC)
    until = datetime(2024, 5, 6, 2, 0, 20, tzinfo=UTC)
    frame = client_for(warehouse).read_loaded_between(ORDER_LINES, since, until)

    (real,) = warehouse.queries_received(dry_run=False)
    sql = real.info["query"]
    assert sql.startswith("SELECT `order_date`, `region`, `_loaded_at` FROM `stub-project.sales.order_lines`")
    assert "WHERE `_loaded_at` BETWEEN @loaded_since AND @loaded_until" in sql
    assert real.info["parameter_types"] == {"loaded_since": "TIMESTAMP", "loaded_until": "TIMESTAMP"}
    expected = sorted((r["order_date"], r["region"]) for r in _order_lines() if since <= r["_loaded_at"] <= until)
    assert expected and sorted(frame.select("order_date", "region").iter_rows()) == expected
    assert frame.schema["_loaded_at"] == pl.Datetime("us", "UTC")
