"""The Dagster side of the blocking checks: one ``multi_asset_check`` per asset that has rules.

Each check reads what actually landed (only the run's partitions for a partitioned asset, from
the run's partition keys) and the tables it is compared with, runs the pure rules of this
package on them, and reports each finding with its failing rows as metadata. Dagster 1.13 can
partition checks (``partitions_def=``, preview), but a range run records such an evaluation with
no partition, so checks here are unpartitioned and say in their metadata which partitions they
covered.
"""

from collections.abc import Callable, Iterator, Sequence

import dagster as dg
import polars as pl

from sales360_assets.checks.commission_credit import TABLE_RULES
from sales360_assets.checks.findings import Finding, sample_markdown
from sales360_assets.checks.integrity import FOREIGN_KEYS, ForeignKey, referential_integrity
from sales360_assets.checks.reconciliation import MART_TOTALS, RECONCILIATIONS, mart_totals, reconcile
from sales360_assets.checks.row_rules import ROW_RULES, row_rules
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets.partitions import partition_selection
from sales360_assets.staging.dead_letters import read_dead_letters


def run_selection(context: dg.AssetCheckExecutionContext) -> PartitionSelection | None:
    """The run's date × region rectangle, or None when the check runs outside a partitioned run."""
    op = context.op_execution_context
    if op.has_partition_key or op.has_partition_key_range:
        return partition_selection(op)
    return None


def _result(asset: str, finding: Finding, scope: str, columns: Sequence[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=finding.check,
        passed=finding.passed,
        severity=dg.AssetCheckSeverity.WARN if finding.warn_only else dg.AssetCheckSeverity.ERROR,
        description=finding.description,
        metadata={
            "failing_rows": finding.failing.height,
            "checked": scope,
            "failing_sample": dg.MetadataValue.md(sample_markdown(finding.failing, columns)),
            **{k: v for k, v in finding.counts.items()},
        },
    )


def _parent_keys(lake: DeltaLake, fk: ForeignKey, selection: PartitionSelection | None) -> pl.DataFrame:
    """The parent table's key column; a parent not written yet has no keys (every child row then fails)."""
    parent = lake.read_if_exists(fk.table, selection if fk.same_partitions else None, columns=[fk.table_column])
    return pl.DataFrame({fk.table_column: [None]}) if parent is None else parent


def checked_columns(asset: str) -> list[str] | None:
    """The columns of ``asset`` its rules read, or None (every column) when a table rule reads it whole.

    A partitioned check reads the run's partitions; read with every column, a region-year of
    fact_sales took its check 2 GiB at 10 M order lines, and the POS reconciliation read the raw
    text whole. Columns a rule names but the table lacks are left out here and reported missing by
    the rule itself (``required_present``), as before.
    """
    if asset in TABLE_RULES:
        return None
    columns: list[str] = []
    if (rules := ROW_RULES.get(asset)) is not None:
        columns += [*rules.key, *rules.required]
        for expr in [
            *(condition for _, condition in rules.ranges),
            *([rules.exempt] if rules.exempt is not None else []),
        ]:
            columns += expr.meta.root_names()
    columns += [fk.column for fk in FOREIGN_KEYS.get(asset, ())]
    if asset in RECONCILIATIONS:
        columns += RECONCILIATIONS[asset].staged_key
    if asset in MART_TOTALS:
        columns += ["date", "region", *(mart_column for mart_column, _ in MART_TOTALS[asset])]
    return list(dict.fromkeys(columns))


def _read_columns(
    lake: DeltaLake, table: str, selection: PartitionSelection | None, columns: Sequence[str] | None
) -> pl.DataFrame:
    """``table``'s rows in ``selection``, only those of ``columns`` it has (all of them for None)."""
    loaded = lake.table(table)  # loaded once for its schema and the read
    if columns is not None and loaded is not None:
        present = {field.name for field in loaded.schema().fields}
        columns = [c for c in columns if c in present]
    return lake.read(table, selection, loaded, columns=columns)


def findings_for(asset: str, partitioned: bool) -> Callable[[DeltaLake, PartitionSelection | None], list[Finding]]:
    """The findings of ``asset``'s blocking checks on a selection (or the whole table), without
    Dagster: the checks below report them, and the bare-Polars benchmark runs them as they are."""

    def evaluate(lake: DeltaLake, selection: PartitionSelection | None) -> list[Finding]:
        frame = _read_columns(lake, asset, selection, checked_columns(asset))
        findings: list[Finding] = []
        if asset in ROW_RULES:
            findings.append(row_rules(frame, ROW_RULES[asset]))
        if asset in FOREIGN_KEYS:
            parents = {fk: _parent_keys(lake, fk, selection) for fk in FOREIGN_KEYS[asset]}
            findings.append(referential_integrity(frame, parents))
        if asset in RECONCILIATIONS:
            spec = RECONCILIATIONS[asset]
            raw_columns = list(dict.fromkeys([*spec.dead_key, *spec.raw_key]))
            raw = _read_columns(lake, spec.raw_table, selection if partitioned else None, raw_columns)
            rejected = read_dead_letters(lake, spec.raw_table, selection if partitioned else None)
            findings.append(reconcile(raw, frame, rejected if rejected.height else _empty_dead(), spec))
        if asset in MART_TOTALS:
            fact_columns = ["date", "region", *(fact_column for _, fact_column in MART_TOTALS[asset])]
            fact = _read_columns(lake, "fact_sales", selection, fact_columns)
            findings.append(mart_totals(frame, fact, MART_TOTALS[asset]))
        findings.extend(evaluate_table(frame) for _, evaluate_table in TABLE_RULES.get(asset, ()))
        return findings

    return evaluate


def _empty_dead() -> pl.DataFrame:
    return pl.DataFrame(schema={"source_table": pl.String, "source_key": pl.String})


def check_names(asset: str) -> tuple[str, ...]:
    names: list[str] = []
    if asset in ROW_RULES:
        names.append("row_rules")
    if asset in FOREIGN_KEYS:
        names.append("referential_integrity")
    if asset in RECONCILIATIONS:
        names.append("reconciles_with_raw")
    if asset in MART_TOTALS:
        names.append("totals_match_fact_sales")
    names.extend(name for name, _ in TABLE_RULES.get(asset, ()))
    return tuple(names)


_DESCRIPTIONS = {
    "row_rules": "Primary key unique (duplicates would double-count sales); required columns not null; no negative "
    "or zero quantities, no zero or negative FX rates, no negative prices.",
    "referential_integrity": "Every key has its parent row (facts → dimensions, lines → headers).",
    "reconciles_with_raw": "raw rows = staged + dead-lettered + collapsed duplicates: no row lost or invented.",
    "totals_match_fact_sales": "Per date × region, mart revenue and units equal fact_sales.",
    "splits_sum_to_100": "Per account and validity period, the team's credit splits sum to 100 %. Over 100 fails "
    "(error: deals would be over-credited); under 100 warns (the opportunity owner gets the remainder).",
    "credits_add_back_to_booking": "Per booking line, the credited amounts add back to the booking amount: a team "
    "over 100 % is never scaled, so its lines fail here and no statement is built from them.",
}


def build_asset_checks(asset: str, partitioned: bool) -> dg.AssetChecksDefinition:
    names = check_names(asset)
    fk_tables = sorted({fk.table for fk in FOREIGN_KEYS.get(asset, ())})
    evaluate = findings_for(asset, partitioned)
    rules = ROW_RULES.get(asset)
    # The failing rows' own columns for table rules (they are per line or period, not per row).
    columns = [*rules.key, *rules.required] if rules else (["date", "region"] if asset in MART_TOTALS else [])

    @dg.multi_asset_check(
        name=f"{asset}_quality",
        specs=[
            dg.AssetCheckSpec(
                name,
                asset=asset,
                blocking=True,
                description=_DESCRIPTIONS[name],
                # Parents must be written before the integrity check reads them.
                additional_deps=fk_tables if name == "referential_integrity" else None,
            )
            for name in names
        ],
        can_subset=True,
        description=f"Blocking data-quality checks on {asset}.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> Iterator[dg.AssetCheckResult]:
        selection = run_selection(context) if partitioned else None
        scope = str(selection) if selection is not None else ("whole table" if partitioned else "table")
        selected = {key.name for key in context.selected_asset_check_keys}
        for finding in evaluate(lake.get_lake(), selection):
            if finding.check in selected:
                yield _result(asset, finding, scope, list(dict.fromkeys(columns)))

    return _checks


def domain_definitions(assets: Sequence[dg.AssetsDefinition]) -> dg.Definitions:
    """A domain's definitions: its assets and their blocking checks. ``sales360_assets/definitions.py``
    merges every domain's and adds what spans them (jobs, schedules, sensors, SLA checks,
    automation, resources)."""
    return dg.Definitions(assets=assets, asset_checks=build_all_checks(assets))


def build_all_checks(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """One blocking multi-check per staging, core and mart asset that has rules."""
    checks = []
    for assets_def in assets:
        name = assets_def.key.to_user_string()
        if check_names(name):
            checks.append(build_asset_checks(name, assets_def.partitions_def is not None))
    return checks
