"""Identity assets through real Dagster runs on real Delta tables: stable keys across runs."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import polars as pl
import pytest

from sales360_assets.cli import main as cli_main
from sales360_assets.definitions import build_definitions
from sales360_assets.identity.assets import identity_assets
from sales360_assets.lake.delta import DeltaLake
from sales360_assets_tests.conftest import MaterializedLake
from sales360_assets_tests.servers import project_instance

# One story on one copied lake (re-run, then an email change): one worker, in order.
pytestmark = [pytest.mark.integration, pytest.mark.xdist_group("identity_assets")]

IDENTITY_KEYS = [a.key for a in identity_assets]


@dataclass
class Scenario:
    sources: Path
    lake: DeltaLake
    lake_uri: str
    defs: dg.Definitions
    instance: dg.DagsterInstance

    def run(self, job: str, selection: list[dg.AssetKey] | None = None) -> str:
        result = self.defs.resolve_job_def(job).execute_in_process(instance=self.instance, asset_selection=selection)
        assert result.success
        return result.run_id


@pytest.fixture(scope="module")
def scenario(tmp_path_factory: pytest.TempPathFactory, materialized: MaterializedLake) -> Iterator[Scenario]:
    tmp = tmp_path_factory.mktemp("identity")
    shutil.copytree(materialized.sources.root, tmp / "sources")
    shutil.copytree(materialized.lake_uri, tmp / "lake")
    lake_uri = str(tmp / "lake")
    with project_instance() as instance:
        yield Scenario(
            tmp / "sources", DeltaLake(lake_uri), lake_uri, build_definitions(str(tmp / "sources"), lake_uri), instance
        )


def test_identity_tables_are_complete_and_reconcile_with_fact_sales(materialized: MaterializedLake) -> None:
    lake = materialized.lake
    records, crosswalk = lake.read("customer_identity_records"), lake.read("customer_identity_crosswalk")
    golden, mart = lake.read("customer_golden_record"), lake.read("mart_customer_360")
    assert crosswalk.select("system", "source_key").is_unique().all()
    assert records.join(crosswalk, on=["system", "source_key"], how="anti").is_empty()
    assert set(records["system"]) == {"warehouse", "pos", "salesforce", "salesforce_account"}
    assert golden["customer_id"].is_unique().all() and set(golden["customer_id"]) == set(crosswalk["customer_id"])
    assert mart["customer_id"].is_unique().all() and mart.height == golden.height
    # Persons really were merged across systems.
    assert crosswalk.group_by("customer_id").agg(pl.col("system").n_unique()).filter(pl.col("system") >= 2).height > 20

    # Every sale whose source id the crosswalk knows lands on exactly one customer of the mart.
    facts = lake.read("fact_sales")
    system = pl.col("channel").replace_strict({"web": "warehouse", "pos": "pos", "crm": "salesforce_account"})
    known = facts.with_columns(system.alias("system")).join(
        crosswalk.select("system", pl.col("source_key").alias("customer_ref")),
        on=["system", "customer_ref"],
        how="semi",
    )
    assert known["net_amount_usd"].sum() == pytest.approx(mart["lifetime_revenue_usd"].sum(), rel=1e-9)
    assert known.height > 0.5 * facts.filter(pl.col("channel") != "pos").height
    assert mart.filter(pl.col("orders") > 0)["rfm_segment"].null_count() == 0
    assert mart.filter(pl.col("open_opportunities") > 0)["opportunity_owner"].null_count() == 0


def test_the_command_scores_the_materialized_crosswalk(
    materialized: MaterializedLake, capsys: pytest.CaptureFixture[str]
) -> None:
    code = cli_main(
        ["identity", "evaluate", "--sources", str(materialized.sources.root), "--lake", materialized.lake_uri]
    )
    assert code == 0
    lines = {line.split()[1]: line for line in capsys.readouterr().out.splitlines() if line.startswith("  pairwise")}
    assert float(lines["precision"].split()[2]) >= 0.98
    assert float(lines["recall"].split()[2]) >= 0.95


def test_definitions_show_identity_assets_in_their_group_with_schemas_and_pii_tags(
    materialized: MaterializedLake,
) -> None:
    graph = materialized.defs.resolve_asset_graph()
    for key in IDENTITY_KEYS:
        node = graph.get(key)
        assert node.group_name == "identity" and node.description and node.owners
        schema = node.metadata["dagster/column_schema"]
        assert all(column.description or column.name for column in schema.columns)
    golden = graph.get(dg.AssetKey("customer_golden_record")).metadata["dagster/column_schema"]
    tagged = {c.name for c in golden.columns if c.tags.get("dagster/sensitivity") == "pii" or "pii" in c.tags.values()}
    assert {"first_name", "last_name", "email", "phone"} <= tagged


def test_a_rerun_keeps_every_key_and_appends_its_decisions(scenario: Scenario) -> None:
    before = scenario.lake.read("customer_identity_crosswalk")
    run_id = scenario.run("sales_reporting_job", IDENTITY_KEYS)
    after = scenario.lake.read("customer_identity_crosswalk")
    assert after.select("system", "source_key", "customer_id").equals(
        before.select("system", "source_key", "customer_id")
    )
    assert after.filter(pl.col("last_changed_run") == run_id).is_empty()
    decisions = scenario.lake.read("customer_match_decisions")
    assert decisions["run_id"].n_unique() == 2 and run_id in set(decisions["run_id"])


def test_an_email_change_keeps_the_customer_id(scenario: Scenario) -> None:
    records = scenario.lake.read("customer_identity_records")
    crosswalk = scenario.lake.read("customer_identity_crosswalk")
    keyed = records.join(crosswalk, on=["system", "source_key"])
    web = keyed.filter(pl.col("system") == "warehouse")
    # A web customer whose store or CRM twin shares their phone and name, so the link survives
    # once the email no longer agrees.
    twins = web.join(
        keyed.filter(pl.col("system") != "warehouse"), on=["customer_id", "phone_key", "first_key", "last_key"]
    )
    assert twins.height > 0
    customer = twins.sort("source_key").row(0, named=True)
    path = scenario.sources / "warehouse" / "customers" / "customers.parquet"
    customers = pl.read_parquet(path)
    customers.with_columns(
        pl.when(pl.col("customer_id") == customer["source_key"])
        .then(pl.lit("brand.new.address@changed.example.com"))
        .otherwise(pl.col("email"))
        .alias("email")
    ).write_parquet(path)

    scenario.run("reference_data_job")
    run_id = scenario.run("sales_reporting_job", IDENTITY_KEYS)
    records = scenario.lake.read("customer_identity_records")
    changed = records.filter(pl.col("source_key") == customer["source_key"])
    assert changed["email_key"].to_list() == ["brand.new.address@changed.example.com"]
    after = scenario.lake.read("customer_identity_crosswalk")
    ids = after.filter(pl.col("customer_id") == customer["customer_id"])
    assert customer["source_key"] in set(ids["source_key"]) and customer["source_key_right"] in set(ids["source_key"])
    assert run_id not in set(ids["last_changed_run"])
