"""Issue #11: bad input never vanishes and never corrupts a number — lake, CLI, plan and mart cases.

Each test injects one fault (a racing first writer, a damaged file, a bad argument, a plan typo,
a known-answer data defect) and prints a ``FAULT`` line with its figures (``pytest -s``).
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from datetime import date
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.commissions.plan import DEFAULT_PLAN_PATH, PlanError, load_plan
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.marts.campaigns import build_mart_campaign_effectiveness
from sales360_assets.marts.customers import build_mart_customer_segment_monthly
from sales360_assets.staging.dead_letter_asset import dead_letter
from sales360_assets.staging.dead_letters import read_dead_letters
from sales360_assets_tests import test_core_transforms as core_cases
from sales360_assets_tests.bad_input_helpers import DAY, pos_file, report
from sales360_assets_tests.builders import CAMPAIGNS_SCHEMA, dim_customer, fact_opportunity, fact_sales, frame, sale
from sales360_assets_tests.conftest import SampleSources
from sales360_assets_tests.fault_helpers import copy_sources, fresh_lake, run_job
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration


# --- case 9: a typo in the commission plan -----------------------------------------------------------


def test_case9_a_plan_rate_for_an_unknown_product_family_is_refused_naming_it(tmp_path: Path) -> None:
    plan = tmp_path / "plan.yaml"
    plan.write_text(DEFAULT_PLAN_PATH.read_text().replace("  Services: 8.0", "  Servics: 8.0"))
    with pytest.raises(PlanError) as raised:
        load_plan(plan)
    message = str(raised.value)
    report("case9_plan_family_typo", error=message)
    assert "Servics" in message and "did you mean 'Services'" in message and str(plan) in message
    assert load_plan().base_rate_pct("Services") == 8.0  # the committed plan still loads


# --- case 5: two first writers race to create a table ------------------------------------------------

FIRST_WRITER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import polars as pl
    from sales360_assets.lake.delta import DeltaLake

    root, me, barrier, kind = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4]
    lake = DeltaLake(root)
    # Slow storage: both writers see "no table yet" before either commits (the real race's window).
    original = DeltaLake.exists
    def slow_exists(self, name):
        found = original(self, name)
        if not found:
            time.sleep(0.5)
        return found
    DeltaLake.exists = slow_exists
    rows = pl.DataFrame({"day": list(range(400)), "source_table": ["stg_" + kind] * 400, "writer": [me] * 400})
    (barrier / me).touch()
    while len(list(barrier.iterdir())) < 2:
        time.sleep(0.001)
    if kind == "replace":
        lake.replace_where("shared", rows, "source_table = 'stg_replace'", pl.col("source_table") == "stg_replace")
    elif kind == "overwrite":
        lake.overwrite("shared", rows)
    else:
        lake.merge("shared", rows.drop("writer"), ["day"])
    print("committed", flush=True)
    """
)


@pytest.mark.parametrize("kind", ["replace", "merge", "overwrite"])
def test_case5_two_first_writers_create_a_table_once(tmp_path: Path, kind: str) -> None:
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    root = tmp_path / "lake"
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    children = [
        subprocess.Popen(
            [sys.executable, "-c", FIRST_WRITER, str(root), me, str(barrier), kind],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=env,
            text=True,
        )
        for me in ("a", "b")
    ]
    outputs = [child.communicate(timeout=120) for child in children]
    table = DeltaLake(str(root)).read("shared")
    report(
        f"case5_concurrent_create_{kind}",
        rows=table.height,
        expected=400,
        distinct_days=table["day"].n_unique(),
        exit_codes=[c.returncode for c in children],
    )
    for child, (_, err) in zip(children, outputs, strict=True):
        assert child.returncode == 0, err[-2000:]
    assert table.height == 400 and table["day"].n_unique() == 400


# --- case 8 (lake): a damaged Delta log or data file is reported with the table and file --------------


def step_failure_text(result: dg.ExecuteInProcessResult) -> str:
    failures = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return " ".join(str(e.step_failure_data.error.to_string()) for e in failures if e.step_failure_data.error)


def test_case8_a_damaged_data_file_or_log_is_reported_with_table_and_file(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    data_file = next((Path(lake_uri) / "stg_warehouse_fx_rates").glob("*.parquet"))
    intact = data_file.read_bytes()
    data_file.write_bytes(intact[: len(intact) // 2])
    with project_instance() as instance:
        broken_file = run_job(defs, "daily_sales_job", instance, partition=(DAY, "uk"), raise_on_error=False)
    data_file.write_bytes(intact)
    log = sorted((Path(lake_uri) / "stg_warehouse_fx_rates" / "_delta_log").glob("*.json"))[-1]
    log.write_text(log.read_text()[:120])
    with project_instance() as instance:
        broken_log = run_job(defs, "daily_sales_job", instance, partition=(DAY, "uk"), raise_on_error=False)
    file_error, log_error = step_failure_text(broken_file), step_failure_text(broken_log)

    def cause(text: str) -> str | None:
        return next((line[:300] for line in text.splitlines() if "Delta table" in line), text[:300] or None)

    report("case8_damaged_lake_files", data_file_error=cause(file_error), log_error=cause(log_error))
    assert not broken_file.success and not broken_log.success
    assert "stg_warehouse_fx_rates" in file_error and data_file.name in file_error
    assert "stg_warehouse_fx_rates" in log_error and "_delta_log" in log_error


# --- case 8 (CLI): arguments checked first, short errors, every region runs --------------------------


def sales360(args: list[str], env: dict[str, str], timeout: int = 600) -> subprocess.CompletedProcess[str]:
    project = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "sales360_assets.cli", *args],
        env={**os.environ, "PYTHONPATH": str(project), **env},
        cwd=project,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def test_case8_bad_arguments_fail_in_one_line_before_any_run(tmp_path: Path, sample_sources: SampleSources) -> None:
    home = tmp_path / "dagster_home"
    home.mkdir()
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    sla = tmp_path / "sla.yaml"
    sla.write_text("slas:\n  sales_facts:\n    regions: [emea, mars]\n")
    base = {
        "DAGSTER_HOME": str(home),
        "SALES360_SOURCES_DIR": str(sample_sources.root),
        "SALES360_LAKE_URI": str(tmp_path / "lake"),
        "SALES360_PARTITIONS_START": "2026-03-01",
    }
    cases = {
        "days_zero": (["materialize", "--days", "0", "--end", "2026-03-04"], {}, "--days must be at least 1"),
        "end_before_start": (["materialize", "--days", "3", "--end", "2026-02-01"], {}, "before the first partition"),
        "end_not_a_date": (["materialize", "--end", "2026-13-01"], {}, "--end must be a date"),
        "unwritable_lake": (
            ["materialize", "--days", "1", "--end", "2026-03-04"],
            {"SALES360_LAKE_URI": str(blocker / "lake")},
            "is not writable",
        ),
        "freshness_bad_sla": (["freshness"], {"SALES360_SLA_CONFIG": str(sla)}, "unknown region(s) ['mars']"),
    }
    outcomes = {}
    for name, (args, env, expected) in cases.items():
        done = sales360(args, {**base, **env})
        outcomes[name] = (done.returncode, done.stderr.strip().splitlines()[:2])
        assert done.returncode == 2, (name, done.stderr[-2000:])
        assert expected in done.stderr, (name, done.stderr[-2000:])
        assert "Traceback" not in done.stderr, (name, done.stderr[-2000:])
    report("case8_cli_arguments", **{k: v for k, v in outcomes.items()})
    assert not (tmp_path / "lake").exists(), "a run wrote the lake before the arguments were refused"
    assert not (home / "history").exists() and not (home / "storage").exists(), "a run started"


def test_case8_a_failing_region_does_not_stop_the_others(tmp_path: Path, sample_sources: SampleSources) -> None:
    sources = copy_sources(sample_sources.root, tmp_path / "sources")
    broken = pos_file(sources, DAY, "emea-001")
    pl.read_csv(broken, infer_schema=False).drop("quantity").write_csv(broken)  # emea fails: schema drift
    home = tmp_path / "dagster_home"
    home.mkdir()
    lake_uri = str(tmp_path / "lake")
    env = {
        "DAGSTER_HOME": str(home),
        "SALES360_SOURCES_DIR": str(sources),
        "SALES360_LAKE_URI": lake_uri,
        "SALES360_PARTITIONS_START": "2026-03-01",
    }
    done = sales360(["materialize", "--days", "1", "--end", DAY.isoformat()], env, timeout=900)
    lake = DeltaLake(lake_uri)
    facts = lake.read("fact_sales").group_by("region").len() if lake.exists("fact_sales") else pl.DataFrame()
    report(
        "case8_cli_failing_region",
        exit_code=done.returncode,
        stdout_runs=[line for line in done.stdout.splitlines() if ": ok" in line or "FAILED" in line],
        stderr=done.stderr.strip().splitlines()[:4],
        fact_regions=sorted(facts["region"].to_list()) if facts.height else [],
    )
    assert done.returncode == 1, done.stderr[-3000:]
    assert "Traceback" not in done.stderr
    assert f"daily_sales_job {DAY}..{DAY} × emea: FAILED" in done.stdout and "emea-001.csv" in done.stdout
    for region in ("apac", "na", "uk"):
        assert f"daily_sales_job {DAY}..{DAY} × {region}: ok" in done.stdout
    assert "sales_reporting_job: ok" in done.stdout or "sales_reporting_job: FAILED" in done.stdout
    assert sorted(facts["region"].to_list()) == ["apac", "na", "uk"]
    assert "1 of 6 run(s) failed" in done.stderr or "run(s) failed" in done.stderr


# --- case 10: smaller defects, each with a known answer -----------------------------------------------

MARCH_4, MARCH_9 = date(2024, 3, 4), date(2024, 3, 9)


def test_case10_campaign_revenue_counts_won_deals_and_each_web_order_once() -> None:
    fact = fact_sales(
        [
            sale("web:W1:1", MARCH_4, 200.0),  # the web order two won deals of campaign C1 point at
            sale("web:W2:1", MARCH_4, 300.0),  # the web order of a lost deal
            sale("web:W3:1", MARCH_4, 50.0),  # the web order of an open deal
        ]
    )
    deals = fact_opportunity(
        [
            {"opportunity_id": "OP1", "campaign_id": "C1", "booking_date": MARCH_4, "web_order_id": "W1"},
            {"opportunity_id": "OP2", "campaign_id": "C1", "booking_date": MARCH_4, "web_order_id": "W1"},
            {"opportunity_id": "OP3", "campaign_id": "C1", "is_closed": True, "is_won": False, "web_order_id": "W2"},
            {"opportunity_id": "OP4", "campaign_id": "C1", "web_order_id": "W3"},
        ]
    )
    campaigns = frame(
        [{"campaign_id": "C1", "campaign_name": "Spring", "actual_cost": 100.0}],
        CAMPAIGNS_SCHEMA,
        {"is_deleted": False},
    )
    c1 = (
        build_mart_campaign_effectiveness(fact, deals, campaigns)
        .filter(pl.col("campaign_id") == "C1")
        .row(0, named=True)
    )
    report(
        "case10_campaign_influenced_revenue",
        influenced_revenue_usd=c1["influenced_revenue_usd"],
        roi_pct=c1["campaign_roi_pct"],
        expected_revenue=200.0,
        expected_roi_pct=100.0,
    )
    assert c1["influenced_revenue_usd"] == 200.0 and c1["campaign_roi_pct"] == 100.0


def test_case10_anonymous_walk_in_buyers_are_not_one_repeat_customer() -> None:
    walk_in = {"channel": "pos", "customer_key": "k-unidentified", "customer_ref": None}
    fact = fact_sales(
        [
            sale("pos:P1:1", MARCH_4, 10.0, **walk_in),
            sale("pos:P2:1", MARCH_4, 20.0, **walk_in),
            sale("pos:P3:1", MARCH_9, 30.0, **walk_in),
        ]
    )
    row = build_mart_customer_segment_monthly(fact, dim_customer()).row(0, named=True)
    report(
        "case10_anonymous_walk_ins",
        customers=row["customers"],
        repeat_customers=row["repeat_customers"],
        repeat_rate_pct=row["repeat_purchase_rate_pct"],
        expected=(3, 0, 0.0),
    )
    assert (row["customers"], row["repeat_customers"], row["repeat_purchase_rate_pct"]) == (3, 0, 0.0)


def test_case10_a_won_deal_whose_web_order_does_not_exist_stays_a_crm_sale() -> None:
    cases = core_cases
    deal = cases.opportunities().filter(pl.col("opportunity_id") == "OP2")  # won, fulfilled as web order O1
    orphan = deal.with_columns(pl.lit("OP9").alias("opportunity_id"), pl.lit("O-NEVER-PLACED").alias("web_order_id"))
    orphan_line = (
        cases.opportunity_lines()
        .filter(pl.col("line_item_id") == "LI4")
        .with_columns(pl.lit("LI9").alias("line_item_id"), pl.lit("OP9").alias("opportunity_id"))
    )
    dim_customer_ = cases.build_dim_customer(cases.customers(), cases.accounts(), cases.contacts())
    fact = cases.build_fact_sales(
        cases.web_lines(),
        cases.pos_lines(),
        pl.concat([cases.opportunities(), orphan]),
        pl.concat([cases.opportunity_lines(), orphan_line]),
        cases.build_dim_sales_rep(cases.users()),
        dim_customer_,
        cases.build_dim_product(cases.products(), cases.crm_products()),
        cases.START,
        cases.END,
        cases.REGIONS,
        web_orders=pl.DataFrame({"order_id": ["O1"]}),  # every web order the warehouse holds
    )
    crm = fact.filter(pl.col("channel") == "crm")["sales_line_id"].to_list()
    report("case10_deal_with_missing_web_order", crm_lines=sorted(crm), expected_in="crm:LI9", expected_out="crm:LI4")
    assert "crm:LI9" in crm, "a won deal whose web order does not exist vanished from every channel"
    assert "crm:LI4" not in crm, "a deal fulfilled as an existing web order must stay out of the CRM channel"


# --- dead_letter in the asset graph ------------------------------------------------------------------


def test_dead_letter_is_an_asset_downstream_of_every_staging_writer_with_counts(
    tmp_path: Path, sample_sources: SampleSources
) -> None:
    lake_uri = fresh_lake(sample_sources.root, tmp_path / "lake")
    defs = build_definitions(str(sample_sources.root), lake_uri)
    graph = defs.resolve_asset_graph()
    upstream = {key.to_user_string() for key in graph.get(dg.AssetKey("dead_letter")).parent_keys}
    with project_instance() as instance:
        result = dg.materialize([dead_letter], resources={"lake": LakeResource(root_uri=lake_uri)}, instance=instance)
    metadata = result.asset_materializations_for_node("dead_letter")[0].metadata
    letters = read_dead_letters(DeltaLake(lake_uri))
    report(
        "dead_letter_asset",
        upstream_staging_assets=len(upstream),
        row_count=metadata["dagster/row_count"].value,
        rows_by_source=metadata["rows_by_source"].value,
    )
    assert {"stg_pos_transactions", "stg_warehouse_order_lines", "stg_salesforce_opportunities"} <= upstream
    assert not any(name.endswith("_history") for name in upstream)
    assert metadata["dagster/row_count"].value == letters.height > 0
    assert sum(metadata["rows_by_source"].value.values()) == letters.height
    assert "| source table | reason | rows |" in metadata["rows_by_reason"].value
