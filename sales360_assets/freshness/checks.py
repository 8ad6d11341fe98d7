"""The UI side of the SLAs: one ``sla_<name>`` asset check per SLA per asset.

The UI, ``sales360 freshness`` and the alert sensor show one evaluation (``evaluate_slas``):

* the alert sensor records each check's result every tick it changes, as a runless
  ``AssetCheckEvaluation`` (``report_sla_check_evaluations``), so the UI is current without a run;
* *Execute* on a check in the UI (or a job run that includes it) runs the same evaluation;
* the CLI prints the same sentences and reads back what the UI shows (``read_sla_check_results``).

Dagster's ``FreshnessPolicy`` is deliberately **not** attached to SLA assets: it is not
partition-aware (the latest materialization of *any* partition makes it pass, so a backfill of
last month shows "Passing" while yesterday's emea is missing) and its time window cannot skip
weekends. Keeping it would put a second verdict on the asset page that contradicts this one.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import dagster as dg
from dagster._core.definitions.asset_checks.asset_check_evaluation import (
    AssetCheckEvaluationTargetMaterializationData,
)

from sales360_assets.freshness.config import Sla, SlaConfig
from sales360_assets.freshness.evaluation import SlaState, SlaStatus
from sales360_assets.freshness.reader import evaluate_slas

CHECK_PREFIX = "sla_"
CHECKS_NAME = "sla_checks"


def check_name(sla: Sla) -> str:
    return f"{CHECK_PREFIX}{sla.name}"


def check_key(sla: Sla, asset: str) -> dg.AssetCheckKey:
    return dg.AssetCheckKey(dg.AssetKey(asset), check_name(sla))


def sla_check_specs(config: SlaConfig) -> list[dg.AssetCheckSpec]:
    return [
        dg.AssetCheckSpec(
            check_name(sla),
            asset=asset,
            description=f"Commission SLA {sla.name}: {sla.description} ({sla.describe_rule()}). Kept current by "
            "sla_breach_alert_sensor; Execute evaluates it now. Same verdict as `sales360 freshness`.",
            blocking=False,  # a late table must not stop the tables downstream of it
        )
        for sla in config.slas
        for asset in sla.assets
    ]


@dataclass(frozen=True)
class CheckOutcome:
    """What one ``sla_<name>`` check on one asset reports: built once, recorded either way."""

    asset: str
    check_name: str
    passed: bool
    severity: dg.AssetCheckSeverity
    description: str
    metadata: dict[str, Any]


def check_outcome(status: SlaStatus, asset: str) -> CheckOutcome:
    """The check result for ``asset`` from the SLA's evaluation (restricted to that asset)."""
    view = status.for_asset(asset)
    # LATE: everything is there, but the promise was broken; a warning, not an error.
    severity = dg.AssetCheckSeverity.WARN if view.state is SlaState.LATE else dg.AssetCheckSeverity.ERROR
    description = "\n".join([f"{view.state.value}: {status.sla.description}", *view.lines])
    metadata: dict[str, Any] = {
        "state": view.state.value,
        "sla": status.sla.name,
        "evaluated_at": dg.MetadataValue.timestamp(status.evaluated_at),
        "status": dg.MetadataValue.md("\n".join(f"- {line}" for line in view.lines) or "-"),
    }
    if view.due_date is not None and view.deadline is not None:
        metadata["due_date"] = view.due_date.isoformat()
        metadata["deadline"] = f"{view.deadline:%Y-%m-%d %H:%M} UTC"
    if view.window_start is not None:
        metadata["checked_from"] = view.window_start.isoformat()
    if view.regions:
        metadata["oldest_gap"] = {r.region: r.oldest_gap.isoformat() if r.oldest_gap else None for r in view.regions}
    if view.problems:
        metadata["problems"] = list(view.problems[:50])
    return CheckOutcome(asset, check_name(status.sla), view.met, severity, description, metadata)


def _evaluation(outcome: CheckOutcome, target: AssetCheckEvaluationTargetMaterializationData | None):
    return dg.AssetCheckEvaluation(
        asset_key=dg.AssetKey(outcome.asset),
        check_name=outcome.check_name,
        passed=outcome.passed,
        metadata=outcome.metadata,
        severity=outcome.severity,
        description=outcome.description,
        blocking=False,
        target_materialization_data=target,
    )


def _latest_target(instance: dg.DagsterInstance, asset: str) -> AssetCheckEvaluationTargetMaterializationData | None:
    # The UI shows a check result only if it targets the asset's latest materialization.
    page = instance.fetch_materializations(dg.AssetKey(asset), limit=1)
    if not page.records:
        return None
    record = page.records[0]
    return AssetCheckEvaluationTargetMaterializationData(
        storage_id=record.storage_id, run_id=record.run_id, timestamp=record.timestamp
    )


def report_sla_check_evaluations(
    instance: dg.DagsterInstance, statuses: Sequence[SlaStatus], only_changes: bool = True
) -> int:
    """Record every SLA check's result as a runless evaluation; returns how many were recorded.

    With ``only_changes``, a result equal to the recorded one (same verdict, same text, same
    target materialization) is not written again, so a 5-minute sensor does not flood the event log.
    """
    recorded = 0
    for status in statuses:
        for asset in status.sla.assets:
            outcome = check_outcome(status, asset)
            target = _latest_target(instance, asset)
            if only_changes:
                latest = instance.get_latest_asset_check_evaluation_record(check_key(status.sla, asset))
                previous = _evaluation_of(latest)
                if (
                    previous is not None
                    and previous.passed == outcome.passed
                    and previous.description == outcome.description
                    and previous.target_materialization_data == target
                ):
                    continue
            instance.report_runless_asset_event(_evaluation(outcome, target))
            recorded += 1
    return recorded


def _evaluation_of(record: Any) -> dg.AssetCheckEvaluation | None:
    if record is None or record.event is None or record.event.dagster_event is None:
        return None
    data = record.event.dagster_event.event_specific_data
    return data if isinstance(data, dg.AssetCheckEvaluation) else None


@dataclass(frozen=True)
class RecordedCheck:
    """The latest recorded result of one SLA check: what the UI shows for it."""

    asset: str
    check_name: str
    passed: bool
    state: str
    description: str
    recorded_at: datetime
    evaluated_at: datetime | None


def read_sla_check_results(instance: dg.DagsterInstance, config: SlaConfig) -> dict[tuple[str, str], RecordedCheck]:
    """The latest ``sla_<name>`` result per (SLA, asset), read from the instance's event log."""
    keys = {check_key(sla, asset): (sla.name, asset) for sla in config.slas for asset in sla.assets}
    latest = instance.event_log_storage.get_latest_asset_check_execution_by_key(list(keys))
    results = {}
    for key, record in latest.items():
        evaluation = _evaluation_of(record)
        if evaluation is None:
            continue  # planned or still running: nothing to show yet
        state = evaluation.metadata.get("state")
        evaluated = evaluation.metadata.get("evaluated_at")
        results[keys[key]] = RecordedCheck(
            key.asset_key.to_user_string(),
            key.name,
            evaluation.passed,
            str(state.value) if state is not None else ("MET" if evaluation.passed else "BREACHED"),
            evaluation.description or "",
            datetime.fromtimestamp(record.event.timestamp, UTC),
            datetime.fromtimestamp(float(evaluated.value), UTC) if evaluated is not None else None,
        )
    return results


def build_sla_checks(
    config: SlaConfig, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
) -> dg.AssetChecksDefinition:
    """One multi-check holding every ``sla_<name>`` check; runs the same evaluation as the sensor and CLI."""
    by_check: Mapping[str, Sla] = {check_name(sla): sla for sla in config.slas}

    @dg.multi_asset_check(
        name=CHECKS_NAME,
        specs=sla_check_specs(config),
        can_subset=True,  # Execute on one check evaluates that check only
        description="Commission SLAs, evaluated partition by partition over the look-back window.",
    )
    def _sla_checks(context: dg.AssetCheckExecutionContext):
        selected = context.selected_asset_check_keys
        slas = [sla for sla in config.slas if any(k.name == check_name(sla) for k in selected)]
        statuses = {
            s.sla.name: s for s in evaluate_slas(context.instance, clock(), SlaConfig(tuple(slas), config.sources))
        }
        for key in sorted(selected, key=lambda k: (k.name, k.asset_key.to_user_string())):
            outcome = check_outcome(statuses[by_check[key.name].name], key.asset_key.to_user_string())
            yield dg.AssetCheckResult(
                asset_key=key.asset_key,
                check_name=key.name,
                passed=outcome.passed,
                severity=outcome.severity,
                description=outcome.description,
                metadata=outcome.metadata,
            )

    return _sla_checks
