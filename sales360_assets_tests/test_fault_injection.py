"""Fault injection: each fault is survived with nothing lost and nothing counted twice.

Every test injects one fault into real Delta tables (temporary directories), real Dagster
instances, the real live Salesforce client over HTTP, or real child processes, then proves
the outcome with row counts. ``FAULT_REPORT`` collects the counts for the closing note
(``pytest -s`` prints them).
"""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import urllib.error
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import polars as pl
import pytest
import requests
from dagster._utils.error import serializable_error_info_from_exc_info  # what Dagster stores for a failed step
from polars.testing import assert_frame_equal

from sales360_assets.definitions import build_definitions
from sales360_assets.freshness import SLA_CONFIG_ENV, SlaConfigError
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.raw.assets import build_salesforce_raw_asset, raw_assets
from sales360_assets.retries import (
    EXTRACTION_RETRY_POLICY,
    FAILURE_KIND_KEY,
    FailureKind,
    classify_error_info,
    classify_exception,
)
from sales360_assets.sensors import (
    plan_partition_retries,
    plan_pos_runs,
)
from sales360_assets.sources.bigquery_live import BigQueryPermanentError, BigQueryTransientError
from sales360_assets.sources.contract import SchemaDriftError
from sales360_assets.sources.landing import LandingZone
from sales360_assets.sources.resources import SalesforceResource
from sales360_assets.sources.salesforce import CrmClient
from sales360_assets.sources.salesforce_live import (
    SalesforceLiveClient,
    SalesforcePermanentError,
    SalesforceTransientError,
)
from sales360_assets.staging.dead_letters import DEAD_LETTER_TABLE, read_dead_letters
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.fault_helpers import (
    DAYS,
    copy_sources,
    fresh_lake,
    materialized_assets,
    range_tags,
    run_job,
    snapshot,
    table_versions,
)
from sales360_assets_tests.servers import project_instance
from sales360_assets_tests.stubs.fixtures import salesforce_stub

pytestmark = pytest.mark.integration

PROJECT_ROOT = Path(__file__).resolve().parents[1]
FAULT_REPORT: dict[str, dict[str, object]] = {}


def report(fault: str, **counts: object) -> None:
    FAULT_REPORT[fault] = counts
    print(f"\nFAULT {fault}: {json.dumps(counts, default=str)}")


def child_env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(PROJECT_ROOT)}


# --- 1. SIGKILL in the middle of a Delta write ----------------------------------------------------

KILLED_WRITER = textwrap.dedent(
    """
    import sys
    from datetime import date
    import polars as pl
    from sales360_assets.lake.delta import DeltaLake
    from sales360_assets.lake.selection import PartitionSelection

    root, rows = sys.argv[1], int(sys.argv[2])
    frame = pl.DataFrame({"id": pl.arange(0, rows, eager=True)}).with_columns(
        pl.lit(date(2026, 3, 3)).alias("date"),
        pl.lit("emea").alias("region"),
        (pl.col("id") * 7919 % 1_000_003).cast(pl.String).alias("payload"),
        pl.lit("v2").alias("generation"),
    )
    print("writing", flush=True)
    DeltaLake(root).write_partitions("sales", frame, PartitionSelection.single(date(2026, 3, 3), "emea"))
    print("committed", flush=True)
    """
)


def _generation(rows: int, day: date, region: str, generation: str) -> pl.DataFrame:
    return pl.DataFrame({"id": pl.arange(0, rows, eager=True)}).with_columns(
        pl.lit(day).alias("date"),
        pl.lit(region).alias("region"),
        (pl.col("id") * 31).cast(pl.String).alias("payload"),
        pl.lit(generation).alias("generation"),
    )


def test_sigkill_mid_write_leaves_the_previous_version_and_a_rerun_is_exact(tmp_path: Path) -> None:
    lake = DeltaLake(str(tmp_path / "lake"))
    day = date(2026, 3, 3)
    lake.write_partitions("sales", _generation(1_000, day, "emea", "v1"), PartitionSelection.single(day, "emea"))
    lake.write_partitions("sales", _generation(500, day, "uk", "v1"), PartitionSelection.single(day, "uk"))
    before = lake.read("sales").sort("region", "id")
    version_before = lake.version("sales")
    table_dir = tmp_path / "lake" / "sales"
    files_before = {p for p in table_dir.rglob("*") if p.is_file()}
    logs_before = sorted((table_dir / "_delta_log").glob("*.json"))

    child = subprocess.Popen(
        [sys.executable, "-c", KILLED_WRITER, str(tmp_path / "lake"), "3000000"],
        stdout=subprocess.PIPE,
        env=child_env(),
        cwd=PROJECT_ROOT,
        text=True,
    )
    assert child.stdout is not None and child.stdout.readline().strip() == "writing"
    deadline = time.monotonic() + 60
    written: list[Path] = []
    # Kill as soon as the first data file of the new version exists, before the commit.
    while not written and time.monotonic() < deadline and child.poll() is None:
        written = [
            p for p in table_dir.rglob("*") if p.is_file() and p not in files_before and "_delta_log" not in p.parts
        ]
        time.sleep(0.002)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert written, "the writer never started writing data files before it finished or timed out"
    assert sorted((table_dir / "_delta_log").glob("*.json")) == logs_before, "the kill came after the commit"

    # Readable, at the previous version, with exactly the previous rows: no partial partition.
    assert lake.version("sales") == version_before
    after = lake.read("sales").sort("region", "id")
    assert_frame_equal(after, before)
    assert set(after["generation"]) == {"v1"}
    orphans = [p for p in table_dir.rglob("*") if p.is_file() and p not in files_before and "_delta_log" not in p.parts]

    # The rerun replaces the partition in one commit; the untouched region keeps its rows.
    rerun = _generation(200_000, day, "emea", "v2")
    lake.write_partitions("sales", rerun, PartitionSelection.single(day, "emea"))
    final = lake.read("sales")
    assert lake.version("sales") == version_before + 1
    assert final.filter(pl.col("region") == "emea").height == rerun.height
    assert set(final.filter(pl.col("region") == "emea")["generation"]) == {"v2"}
    assert final.filter(pl.col("region") == "emea")["id"].n_unique() == rerun.height
    assert_frame_equal(final.filter(pl.col("region") == "uk").sort("id"), before.filter(pl.col("region") == "uk"))
    report(
        "sigkill_mid_write",
        rows_before=before.height,
        rows_after_kill=after.height,
        version_before=version_before,
        version_after_kill=lake.version("sales") - 1,
        orphan_files_left_for_vacuum=len(orphans),
        rows_after_rerun=final.height,
        expected_after_rerun=rerun.height + 500,
    )


# --- 2. 429 and 503 several times, then success ----------------------------------------------------


class StubOrgSalesforce(SalesforceResource):
    """The live client against the HTTPS stub org; one quick client-level retry so step retries show."""

    ca_path: str

    def get_client(self) -> CrmClient:
        session = requests.Session()
        # Pin the stub's CA: a REQUESTS_CA_BUNDLE in the environment would otherwise win.
        session.trust_env = False
        session.verify = self.ca_path
        return SalesforceLiveClient(
            instance_url=self.instance_url,
            session_id=self.session_id,
            session=session,
            max_retries=1,
            backoff_base=0.01,
            backoff_max=0.05,
        )


FAST_RETRIES = dg.RetryPolicy(max_retries=3, delay=0.05, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS)


def opportunity_records(sources: Path) -> list[dict]:
    records = []
    for page in sorted((sources / "crm" / "Opportunity").glob("????-??-??.json")):
        records.extend(
            {k: v for k, v in r.items() if k != "attributes"} for r in json.loads(page.read_text())["records"]
        )
    return records


def step_events(result: dg.ExecuteInProcessResult, event_type: str) -> list[dg.DagsterEvent]:
    return [e for e in result.all_events if e.event_type_value == event_type]


def test_rate_limits_and_outages_are_retried_and_every_record_lands_once(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    records = opportunity_records(sample_sources.root)
    asset = build_salesforce_raw_asset("Opportunity", "raw_salesforce_opportunities", retry_policy=FAST_RETRIES)
    with salesforce_stub({"Opportunity": records}, page_size=50) as org, project_instance() as instance:
        # Each burst outlasts the client's one quick retry, so the step itself must retry, three times:
        # describe 429 ×2, then describe 503 ×2, then a 503 ×2 in the middle of paging.
        org.inject("429", 2)
        org.inject("503", 2)
        org.inject("503", 2, path_contains="/queryAll/01g")
        resources = {
            "salesforce": StubOrgSalesforce(
                sources_dir=str(sample_sources.root),
                instance_url=org.url,
                session_id=org.preset_session_id,
                ca_path=org.ca_path,
            ),
            "lake": LakeResource(root_uri=str(tmp_path / "lake")),
        }
        result = dg.materialize([asset], resources=resources, instance=instance)
        faults_left = sum(f.times for f in org.faults)
        # The org answers with each record's current version, as a real one does.
        current = org.current_versions("Opportunity")

    assert result.success
    assert faults_left == 0, "not every injected fault was hit"
    retries = step_events(result, "STEP_UP_FOR_RETRY")
    assert len(retries) == 3
    raw = DeltaLake(str(tmp_path / "lake")).read("raw_salesforce_opportunities")
    delivered = Counter((r["Id"], r["SystemModstamp"]) for r in current)
    landed = Counter(
        (
            row["Id"],
            row["SystemModstamp"].strftime("%Y-%m-%dT%H:%M:%S.")
            + f"{row['SystemModstamp'].microsecond // 1000:03d}+0000",
        )
        for row in raw.select("Id", "SystemModstamp").iter_rows(named=True)
    )
    # Exactly the org's records, each once: none lost, none duplicated by the three partial attempts.
    assert landed == delivered
    report(
        "http_429_503_then_success",
        step_retries=len(retries),
        records_in_org=len(current),
        distinct_ids=len({r["Id"] for r in records}),
        rows_landed=raw.height,
        distinct_ids_landed=raw["Id"].n_unique(),
    )


def test_a_permanent_source_error_fails_at_once_and_says_what_to_fix(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    asset = build_salesforce_raw_asset("Opportunity", "raw_salesforce_opportunities", retry_policy=FAST_RETRIES)
    with (
        salesforce_stub({"Opportunity": opportunity_records(sample_sources.root)}) as org,
        project_instance() as instance,
    ):
        org.inject("forbidden", 10)
        resources = {
            "salesforce": StubOrgSalesforce(
                sources_dir=str(sample_sources.root),
                instance_url=org.url,
                session_id=org.preset_session_id,
                ca_path=org.ca_path,
            ),
            "lake": LakeResource(root_uri=str(tmp_path / "lake")),
        }
        result = dg.materialize([asset], resources=resources, instance=instance, raise_on_error=False)
    assert not result.success
    assert step_events(result, "STEP_UP_FOR_RETRY") == []
    failure = step_events(result, "STEP_FAILURE")[0].step_failure_data
    assert failure.user_failure_data.metadata[FAILURE_KIND_KEY].value == "permanent"
    assert "What to fix" in failure.user_failure_data.description
    assert "permission" in failure.user_failure_data.description.lower()
    assert not DeltaLake(str(tmp_path / "lake")).exists("raw_salesforce_opportunities")


def test_every_extraction_asset_retries_transient_errors_with_backoff_and_jitter() -> None:
    for assets_def in raw_assets:
        policy = assets_def.op.retry_policy
        assert policy == EXTRACTION_RETRY_POLICY, assets_def.key
    assert EXTRACTION_RETRY_POLICY.backoff == dg.Backoff.EXPONENTIAL
    assert EXTRACTION_RETRY_POLICY.jitter == dg.Jitter.PLUS_MINUS


def _http_error(status: int) -> urllib.error.HTTPError:
    return urllib.error.HTTPError("https://api.example.com", status, "status", None, None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "kind"),
    [
        (SalesforceTransientError("REQUEST_LIMIT_EXCEEDED"), FailureKind.TRANSIENT),
        (BigQueryTransientError("rateLimitExceeded"), FailureKind.TRANSIENT),
        (_http_error(429), FailureKind.TRANSIENT),
        (_http_error(503), FailureKind.TRANSIENT),
        (requests.exceptions.ReadTimeout("read timed out"), FailureKind.TRANSIENT),
        (ConnectionResetError("connection reset by peer"), FailureKind.TRANSIENT),
        (OSError("Generic S3 error: 503 Service Unavailable"), FailureKind.TRANSIENT),
        (SalesforcePermanentError("HTTP 401 INVALID_LOGIN"), FailureKind.PERMANENT),
        (BigQueryPermanentError("Not found: Table sales.orderz"), FailureKind.PERMANENT),
        (_http_error(400), FailureKind.PERMANENT),
        (SchemaDriftError("no longer delivers required column(s) quantity"), FailureKind.PERMANENT),
        (FileNotFoundError("no CRM export for Opportunity"), FailureKind.PERMANENT),
        (KeyError("a bug"), FailureKind.PERMANENT),
    ],
)
def test_errors_are_classified_transient_or_permanent(error: Exception, kind: FailureKind) -> None:
    assert classify_exception(error).kind is kind
    # The sensor only sees the error as Dagster serializes it into the step failure (wrapped in
    # Dagster's own error, class names and messages only); it must reach the same verdict.
    try:
        try:
            raise error
        except Exception as exc:
            raise RuntimeError("Error occurred while executing op") from exc
    except RuntimeError:
        info = serializable_error_info_from_exc_info(sys.exc_info())
    assert classify_error_info(info).kind is kind


# --- 3. a landing file with bad lines ---------------------------------------------------------------

BAD_LINES = {
    # transaction id suffix -> (line, expected reason prefix)
    "900002": ("{store},2026-03-03T10:05:00+01:00,{sku},1", "malformed line: expected 13 fields, got 6"),
    "900003": ("{store},2026-03-03T10:06:00+01:00,{sku},three,19.99,0.00,EUR,,,,", "malformed quantity 'three'"),
    "900004": ("{store},2026-03-03T10:07:00+01:00,{sku},1,abc,0.00,EUR,,,,", "malformed unit_price 'abc'"),
    "900005": ("{store},yesterday,{sku},1,19.99,0.00,EUR,,,,", "malformed transaction_ts 'yesterday'"),
    "900006": ("{store},2026-03-03T10:08:00+01:00,{sku},1,19.99,0.00,XYZ,,,,", "unknown currency 'XYZ'"),
    "900007": ("{store},2026-03-03T10:09:00+01:00,{sku},-2,19.99,0.00,EUR,,,,", "negative quantity -2"),
}


def test_bad_landing_lines_are_all_dead_lettered_with_their_reason(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    lake = DeltaLake(lake_uri)
    zone = LandingZone(sources / "landing")
    clock = datetime(2026, 3, 10, 12, tzinfo=UTC)  # the sensor's "now": every drop's day is over
    first = plan_pos_runs(zone, {}, clock, "pos_landing_job", settle=timedelta(0), lookback_days=30)
    assert first.requests, "the sensor saw no files at all"

    store = "emea-001"
    path = sources / "landing" / "pos" / "2026-03-03" / f"{store}.csv"
    original_lines = path.read_text().splitlines()
    sku = original_lines[1].split(",")[4]
    good = f"{store}-20260303-900001,1,{store},2026-03-03T10:00:00+01:00,{sku},2,19.99,0.00,EUR,,,,"
    good2 = f"{store}-20260303-900001,2,{store},2026-03-03T10:00:00+01:00,{sku},1,5.00,0.00,EUR,,,,"
    crafted = [good, good2, good]  # the repeated line is a retry duplicate: collapsed, not lost
    crafted += [
        f"{store}-20260303-{suffix},1,{line.format(store=store, sku=sku)}" for suffix, (line, _) in BAD_LINES.items()
    ]
    path.write_text("\n".join(original_lines + crafted) + "\n")

    second = plan_pos_runs(zone, first.seen, clock, "pos_landing_job", settle=timedelta(0), lookback_days=30)
    assert [r.partition_key for r in second.requests] == ["2026-03-03|emea"]
    request = second.requests[0]
    defs = build_definitions(str(sources), lake_uri)
    with project_instance() as instance:
        result = defs.resolve_job_def("pos_landing_job").execute_in_process(
            instance=instance, partition_key=request.partition_key, tags=request.tags
        )
    assert result.success

    selection = PartitionSelection.single(date(2026, 3, 3), "emea")
    dead = read_dead_letters(lake).filter((pl.col("source_table") == "raw_pos_transactions") & selection.filter_expr())
    source_file = f"pos/2026-03-03/{store}.csv"
    for suffix, (_, reason) in BAD_LINES.items():
        # A malformed line has no parsed key; its raw text (in raw_record) still identifies it.
        rows = dead.filter(pl.col("raw_record").str.contains(f"{store}-20260303-{suffix}", literal=True))
        assert rows.height == 1, f"line {suffix} is not dead-lettered exactly once"
        assert rows["reason"][0].startswith(reason), rows["reason"][0]
    raw = lake.read("raw_pos_transactions", selection)
    staged = lake.read("stg_pos_transactions", selection)
    raw_file = raw.filter(pl.col("_source_file") == source_file)
    staged_file = staged.filter(pl.col("source_file") == source_file)
    dead_file = dead.filter(pl.col("source_key").str.starts_with(source_file))
    lines_in_file = len(original_lines) - 1 + len(crafted)
    duplicates_file = raw_file.height - staged_file.height - dead_file.height
    assert raw_file.height == lines_in_file
    assert duplicates_file == 1  # the repeated good line
    assert staged_file.filter(pl.col("transaction_id") == f"{store}-20260303-900001").height == 2
    # The whole partition reconciles too (every store's file), as the blocking check verified.
    duplicates = raw.height - staged.height - dead.height
    assert duplicates >= 1
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["reconciles_with_raw"] and checks["row_rules"]
    report(
        "bad_landing_file",
        lines_in_file=lines_in_file,
        staged_from_file=staged_file.height,
        dead_lettered_from_file=dead_file.height,
        collapsed_duplicates_from_file=duplicates_file,
        partition_raw=raw.height,
        partition_staged=staged.height,
        partition_dead_letters=dead.height,
        partition_duplicates=duplicates,
        reasons=sorted(set(dead_file["reason"])),
    )


# --- 4. schema drift ------------------------------------------------------------------------------


def test_an_added_source_column_is_merged_into_the_tables(tmp_path: Path, sample_sources: SampleSources) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    lake = DeltaLake(lake_uri)
    day = DAYS[1]
    # POS: a new column at the end of one store's drop.
    pos_file = sources / "landing" / "pos" / day.isoformat() / "emea-002.csv"
    lines = pos_file.read_text().splitlines()
    pos_file.write_text("\n".join([lines[0] + ",promo_code", *(f"{line},SPRING" for line in lines[1:])]) + "\n")
    # Warehouse: a new column in the orders export for that day.
    orders_file = next((sources / "warehouse" / "orders" / f"order_date={day.isoformat()}").glob("*.parquet"))
    pl.read_parquet(orders_file).with_columns(pl.lit("web-v2").alias("checkout_version")).write_parquet(orders_file)
    selection = PartitionSelection.single(day, "emea")
    staged_before = lake.read("stg_pos_transactions", selection).height
    other_before = snapshot(lake, "raw_pos_transactions", PartitionSelection.single(DAYS[0], "emea"))

    defs = build_definitions(str(sources), lake_uri)
    with project_instance() as instance:
        run_job(defs, "daily_sales_job", instance, partition=(day, "emea"))

    raw_pos = lake.read("raw_pos_transactions")
    assert "promo_code" in raw_pos.columns
    assert set(
        raw_pos.filter(pl.col("_source_file").str.ends_with("emea-002.csv") & (pl.col("date") == day))["promo_code"]
    ) == {"SPRING"}
    # Rows written before the column existed read it as null; their values are unchanged.
    assert_frame_equal(
        snapshot(lake, "raw_pos_transactions", PartitionSelection.single(DAYS[0], "emea")).drop("promo_code"),
        other_before,
    )
    raw_orders = lake.read("raw_warehouse_orders", selection)
    assert set(raw_orders["checkout_version"]) == {"web-v2"}
    assert lake.read("stg_pos_transactions", selection).height == staged_before
    report(
        "schema_drift_additive",
        merged_columns=["raw_pos_transactions.promo_code", "raw_warehouse_orders.checkout_version"],
        staged_rows_before=staged_before,
        staged_rows_after=lake.read("stg_pos_transactions", selection).height,
    )


def test_a_removed_required_column_fails_naming_it_and_changes_no_table(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    day = DAYS[1]
    pos_file = sources / "landing" / "pos" / day.isoformat() / "emea-003.csv"
    frame = pl.read_csv(pos_file, infer_schema=False)
    frame.drop("quantity").write_csv(pos_file)
    versions = table_versions(lake_uri)

    defs = build_definitions(str(sources), lake_uri)
    with project_instance() as instance:
        result = run_job(defs, "pos_landing_job", instance, partition=(day, "emea"), raise_on_error=False)
        assert not result.success
        failure = step_events(result, "STEP_FAILURE")[0].step_failure_data
        # Permanent: no step retry, and the partition-retry sensor leaves it for a person.
        assert step_events(result, "STEP_UP_FOR_RETRY") == []
        plan = plan_partition_retries(instance, ["pos_landing_job"], datetime.now(UTC) + timedelta(days=1))
    description = failure.user_failure_data.description
    assert "quantity" in description and "SchemaDriftError" in description
    assert failure.user_failure_data.metadata[FAILURE_KIND_KEY].value == "permanent"
    assert plan.requests == [] and "permanent" in plan.skipped[0]
    assert table_versions(lake_uri) == versions, "a table changed although the run failed on schema drift"
    assert materialized_assets(result) == set()
    report(
        "schema_drift_removed_column",
        error=description.splitlines()[0][:160],
        tables_changed=sum(table_versions(lake_uri)[t] != v for t, v in versions.items()),
        step_retries=0,
    )


# --- 5. two processes writing different partitions at once -----------------------------------------

CONCURRENT_WRITER = textwrap.dedent(
    """
    import sys, time
    from datetime import date
    from pathlib import Path
    import polars as pl
    from sales360_assets.lake.delta import DeltaLake
    from sales360_assets.lake.selection import PartitionSelection
    from sales360_assets.staging.dead_letters import read_dead_letters, write_dead_letters
    from sales360_assets.staging.quality import DEAD_LETTER_SCHEMA

    root, region, barrier, rounds = sys.argv[1], sys.argv[2], Path(sys.argv[3]), int(sys.argv[4])
    lake = DeltaLake(root)
    selection = PartitionSelection(date(2026, 3, 2), date(2026, 3, 4), (region,))
    facts = lake.read("fact_sales", selection)
    letters = read_dead_letters(lake).filter(
        (pl.col("source_table") == "raw_pos_transactions") & selection.filter_expr()
    ).select(list(DEAD_LETTER_SCHEMA))
    # Barrier: both writers are loaded before either writes.
    (barrier / region).touch()
    deadline = time.time() + 60
    while len(list(barrier.iterdir())) < 2 and time.time() < deadline:
        time.sleep(0.001)
    started = time.time()
    for i in range(rounds):
        lake.write_partitions("fact_sales", facts, selection)
        write_dead_letters(lake, "raw_pos_transactions", letters, f"concurrent-{region}-{i}", selection)
    print(started, time.time(), flush=True)
    """
)


def test_concurrent_runs_on_different_partitions_both_commit_and_lose_nothing(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    lake = DeltaLake(lake_uri)
    facts_before = snapshot(lake, "fact_sales")
    letters_before = snapshot(lake, DEAD_LETTER_TABLE).drop("run_id", strict=False)
    versions_before = {t: lake.version(t) for t in ("fact_sales", DEAD_LETTER_TABLE)}
    rounds = 4
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    children = [
        subprocess.Popen(
            [sys.executable, "-c", CONCURRENT_WRITER, lake_uri, region, str(barrier), str(rounds)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=child_env(),
            cwd=PROJECT_ROOT,
            text=True,
        )
        for region in ("emea", "uk")
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-2000:]
    windows = [tuple(map(float, out.split())) for out, _ in outputs]
    overlap = min(end for _, end in windows) - max(start for start, _ in windows)
    assert overlap > 0, f"the writers did not overlap: {windows}"

    # Every commit of both writers is in the log, and the data is exactly what it was.
    for table, before in versions_before.items():
        assert lake.version(table) == before + 2 * rounds, table
    assert_frame_equal(snapshot(lake, "fact_sales"), facts_before)
    letters_after = snapshot(lake, DEAD_LETTER_TABLE)
    assert_frame_equal(letters_after.select(letters_before.columns), letters_before)
    report(
        "concurrent_partition_writes",
        writers=2,
        overlap_seconds=round(overlap, 3),
        commits_per_table=2 * rounds,
        fact_rows_before=facts_before.height,
        fact_rows_after=lake.read("fact_sales").height,
        dead_letters_before=letters_before.height,
        dead_letters_after=letters_after.height,
    )


# --- 6. idempotence: twice the same partition; a range against per-partition runs ----------------


def test_rerun_and_range_versus_per_partition_runs_give_identical_tables(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    lake = DeltaLake(lake_uri)
    tables = [
        "raw_warehouse_orders",
        "raw_pos_transactions",
        "stg_warehouse_order_lines",
        "stg_pos_transactions",
        "fact_sales",
        "mart_daily_sales",
        "mart_product_performance",
        DEAD_LETTER_TABLE,
    ]
    # Two of the three days the template wrote as one range run.
    selection = PartitionSelection(DAYS[0], date(2026, 3, 3), ("emea",))

    def state() -> dict[str, pl.DataFrame]:
        return {t: snapshot(lake, t, selection) for t in tables}

    from_range = state()  # the template wrote DAYS as one range run per region
    defs = build_definitions(str(sample_sources.root), lake_uri)
    with project_instance() as instance:
        for day in selection.dates:
            run_job(defs, "daily_sales_job", instance, partition=(day, "emea"))
        per_partition = state()
        run_job(defs, "daily_sales_job", instance, partition=(DAYS[0], "emea"))
        rerun = state()
    for table in tables:
        assert_frame_equal(per_partition[table], from_range[table], check_row_order=True)
        assert_frame_equal(rerun[table], from_range[table], check_row_order=True)
    report(
        "idempotent_reruns",
        partitions=len(selection.dates),
        rows_per_table={t: from_range[t].height for t in tables},
        identical_after=["per-partition runs vs the range run", "the same partition again"],
    )


# --- 7. bad configuration -------------------------------------------------------------------------


def test_an_unwritable_lake_fails_before_any_extraction_or_write(tmp_path: Path, sample_sources: SampleSources) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the lake's parent directory should be")
    lake_uri = str(blocker / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    with project_instance() as instance:
        result = run_job(defs, "daily_sales_job", instance, partition=(DAYS[0], "emea"), raise_on_error=False)
    assert not result.success
    assert materialized_assets(result) == set()
    assert step_events(result, "STEP_START") == [], "a step ran although the lake is not writable"
    messages = " ".join(str(e.message) for e in result.all_events) + repr(
        [e.event_specific_data for e in result.all_events if e.event_type_value == "RESOURCE_INIT_FAILURE"]
    )
    assert "is not writable" in messages and "SALES360_LAKE_URI" in messages
    assert not Path(lake_uri).exists()


@pytest.mark.parametrize(
    ("yaml_text", "expected"),
    [
        # YAML 1.1 reads an unquoted 10:30 as the number 630
        ("slas:\n  sales_facts:\n    due_at: 10:30\n", 'write the time in quotes, e.g. "06:00"'),
        ("slas:\n  sales_facts:\n    regions: [emea, mars]\n", "unknown region(s) ['mars']"),
        ("slas:\n  sales_facts:\n    assets: [fact_salez]\n", "no asset named 'fact_salez'"),
        ("slas:\n  sales_facts: {type: daily, assets: [fact_sales]\n", "is not valid YAML at line"),
    ],
)
def test_malformed_sla_config_is_refused_when_the_definitions_load(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sample_sources: SampleSources, yaml_text: str, expected: str
) -> None:
    override = tmp_path / "sla.yaml"
    override.write_text(yaml_text)
    monkeypatch.setenv(SLA_CONFIG_ENV, str(override))
    with pytest.raises(SlaConfigError) as error:
        build_definitions(str(sample_sources.root), str(tmp_path / "lake"))
    assert expected in str(error.value)
    assert str(override) in str(error.value)
    assert not (tmp_path / "lake").exists()


def test_an_unknown_region_is_refused_before_any_write(tmp_path: Path, sample_sources: SampleSources) -> None:
    defs = build_definitions(str(sample_sources.root), str(tmp_path / "lake"))
    with project_instance() as instance:
        with pytest.raises(dg.DagsterUnknownPartitionError, match="mars"):
            defs.resolve_job_def("daily_sales_job").execute_in_process(
                instance=instance, partition_key="2026-03-03|mars"
            )
        with pytest.raises(dg.DagsterInvalidInvocationError, match="mars"):
            defs.resolve_job_def("daily_sales_job").execute_in_process(
                instance=instance, tags=range_tags(DAYS[0], DAYS[1], "mars")
            )
    with pytest.raises(ValueError, match="invalid region code"):
        PartitionSelection.single(DAYS[0], "emea') OR ('1'='1")
    assert not (tmp_path / "lake").exists()
