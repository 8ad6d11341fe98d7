"""The code location loads, and the schedules ask for the right partitions."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.definitions import defs
from sales360_assets.jobs import all_assets
from sales360_assets.settings import REGION_CODES
from sales360_assets_tests.servers import project_instance


def test_definitions_load_and_validate() -> None:
    dg.Definitions.validate_loadable(defs)
    graph = defs.resolve_asset_graph()
    keys = {k.to_user_string() for k in graph.get_all_asset_keys()}
    for expected in (
        "raw_pos_transactions",
        "stg_warehouse_order_lines",
        "fact_sales",
        "dim_customer",
        "mart_daily_sales",
    ):
        assert expected in keys


def test_every_asset_carries_its_catalogue_metadata() -> None:
    for assets_def in all_assets:
        for spec in assets_def.specs:
            name = spec.key.to_user_string()
            assert spec.description, f"{name} has no description"
            assert spec.owners, f"{name} has no owner"
            assert spec.kinds and "delta" in spec.kinds, f"{name} lacks kinds"
            groups = {"raw", "staging", "core", "marts", "commissions", "recommendations", "forecast", "reports"}
            groups |= {"identity"}
            assert spec.group_name in groups, f"{name} has group {spec.group_name}"


# The layers whose tables the catalogue documents column by column.
DOCUMENTED_GROUPS = {"raw", "staging", "core", "marts"}
# Names that say a column holds a person's details. A bare ``name`` is a person's only in a table
# that also holds an email (users, reps); elsewhere it names an account, product or campaign.
PERSONAL_DATA = re.compile(r"e_?mail|phone|first_?name|last_?name|customer_name|manager_name|address|birth", re.I)


def _personal(columns: list[dg.TableColumn]) -> list[str]:
    names = [c.name for c in columns]
    has_email = any("mail" in n.lower() for n in names)
    return [n for n in names if PERSONAL_DATA.search(n) or (has_email and n.lower() == "name")]


def test_every_column_is_described_and_personal_data_is_tagged_on_the_definition() -> None:
    """The catalogue answers "what is this column?" before the first run, and flags personal data."""
    undescribed, untagged = [], []
    specs = [s for s in defs.resolve_all_asset_specs() if s.group_name in DOCUMENTED_GROUPS]
    for spec in specs:
        name = spec.key.to_user_string()
        schema = spec.metadata.get("dagster/column_schema")
        if not isinstance(schema, dg.TableSchema):
            undescribed.append(f"{name}: no column schema")
            continue
        undescribed += [f"{name}.{c.name}" for c in schema.columns if not (c.description or "").strip()]
        tags = {c.name: c.tags.get("sensitivity") for c in schema.columns}
        personal = _personal(list(schema.columns))
        untagged += [f"{name}.{c}" for c in personal if tags[c] != "pii"]
        if personal and not spec.tags.get("sensitivity"):
            untagged.append(f"{name} (asset)")
    assert len(specs) > 50  # raw, staging, core and marts
    assert undescribed == [], f"{len(undescribed)} without a description: {undescribed[:20]}"
    assert untagged == [], f"personal data without a sensitivity tag: {untagged}"


def test_every_margin_column_is_tagged_confidential_on_the_definition() -> None:
    """Margin, and a rank by margin, tells what the company earns per product: confidential wherever it is."""
    untagged = []
    for spec in defs.resolve_all_asset_specs():
        schema = spec.metadata.get("dagster/column_schema")
        if isinstance(schema, dg.TableSchema):
            untagged += [
                f"{spec.key.to_user_string()}.{c.name}"
                for c in schema.columns
                if "margin" in c.name and c.tags.get("sensitivity") != "confidential"
            ]
    assert untagged == [], f"margin columns without the confidential tag: {untagged}"


def test_nightly_schedule_requests_the_trailing_week_as_one_range_run_per_region() -> None:
    """Yesterday alone left late warehouse rows out for good; the last 7 days are re-run each night."""
    tick_time = datetime(2026, 11, 23, 3, 0, tzinfo=UTC)
    with project_instance() as instance:
        context = dg.build_schedule_context(instance=instance, scheduled_execution_time=tick_time)
        result = defs.resolve_schedule_def("daily_sales_nightly").evaluate_tick(context)
    ranges = sorted(
        (r.tags["dagster/asset_partition_range_start"], r.tags["dagster/asset_partition_range_end"])
        for r in result.run_requests
    )
    assert ranges == sorted((f"2026-11-16|{region}", f"2026-11-22|{region}") for region in REGION_CODES)
    assert all(r.partition_key is None for r in result.run_requests)


def test_reporting_assets_run_after_the_daily_job_and_nowhere_else() -> None:
    from sales360_assets.jobs import partitioned_assets, reference_data_job, reporting_assets, sales_reporting_job

    graph = defs.resolve_asset_graph()
    downstream = dg.AssetSelection.assets(*partitioned_assets).downstream().resolve(graph)
    reference = reference_data_job.selection.resolve(graph)  # type: ignore[union-attr]
    reporting = sales_reporting_job.selection.resolve(graph)  # type: ignore[union-attr]
    # Nothing the hourly reference job runs waits on date × region partitions.
    assert not reference & downstream
    assert reporting == {a.key for a in reporting_assets}
    assert not reference & reporting
    assert {dg.AssetKey("sales_team_report"), dg.AssetKey("commission_statements")} <= reporting


def test_loading_the_definitions_prints_no_warnings() -> None:
    """Every load (CLI, daemon tick, UI reload) printed 11 BetaWarnings and 2 DeprecationWarnings."""
    done = subprocess.run(
        [sys.executable, "-W", "default", "-c", "import sales360_assets.definitions"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "Warning" not in done.stderr, done.stderr[-2000:]


def test_each_asset_belongs_to_one_domain_and_its_checks_come_with_it() -> None:
    """The domains' definitions together are every asset the jobs run, each in one domain only, and
    every blocking check sits in the domain of the asset it checks."""
    from sales360_assets.definitions import DOMAINS

    owners: dict[dg.AssetKey, str] = {}
    for domain in DOMAINS:
        for assets_def in domain.defs.assets or []:
            for key in assets_def.keys:  # type: ignore[union-attr]
                assert key not in owners, f"{key.to_user_string()} is in {owners[key]} and {domain.__name__}"
                owners[key] = domain.__name__
        for checks_def in domain.defs.asset_checks or []:
            for check in checks_def.check_keys:  # type: ignore[union-attr]
                assert owners.get(check.asset_key) == domain.__name__, check
    assert set(owners) == {key for assets_def in all_assets for key in assets_def.keys}
    blocking = {check for checks_def in build_all_checks(all_assets) for check in checks_def.check_keys}
    assert {c for d in DOMAINS for checks_def in d.defs.asset_checks or [] for c in checks_def.check_keys} == blocking
