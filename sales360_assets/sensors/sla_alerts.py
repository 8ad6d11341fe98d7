"""sla_breach_alert_sensor: evaluate the commission SLAs, keep the UI's SLA checks current, notify.

Every tick runs the one evaluation (``evaluate_slas``), records each ``sla_<name>`` check result
that changed (what the UI shows), sends each breach once, and its recovery once. The cursor
holds the breaches alerted and not yet recovered.
"""

import json
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from sales360_assets.freshness import (
    NotifierError,
    SlaAlert,
    SlaConfig,
    evaluate_slas,
    notifier_from_env,
    plan_alerts,
    report_sla_check_evaluations,
)
from sales360_assets.freshness.notification import ALERT_MEMORY
from sales360_assets.sensors.run_requests import stopped_sensor


def _load_cursor(cursor: str | None) -> tuple[dict[str, str], dict[str, str]]:
    data = json.loads(cursor) if cursor else {}
    # "alerted" is the cursor before recoveries existed: treated as closed, so nothing sent then is
    # repeated as is; a breach still open is announced once more (with its recovery to follow).
    return dict(data.get("open", {})), {**data.get("alerted", {}), **data.get("closed", {})}


def alert_on_breaches(
    instance: dg.DagsterInstance,
    config: SlaConfig,
    now: datetime,
    cursor: str | None,
    notifier: Any,
    log: Any,
    record_checks: bool = True,
) -> tuple[list[SlaAlert], str]:
    """One tick: record the checks, send new breaches and recoveries; returns the alerts sent and the new cursor."""
    open_alerts, closed = _load_cursor(cursor)
    statuses = evaluate_slas(instance, now, config)
    if record_checks:
        report_sla_check_evaluations(instance, statuses)
    plan = plan_alerts(statuses, set(open_alerts), set(closed))
    sent = []
    for notice in plan.notices:
        try:
            notifier.notify(notice.alert)
        except NotifierError as exc:
            # Not remembered: the next tick tries again.
            log.error(f"could not deliver SLA alert {notice.alert.key}: {exc}")
            continue
        for key in notice.opens:
            open_alerts[key] = now.isoformat()
        for key in notice.closes:
            open_alerts.pop(key, None)
            closed[key] = now.isoformat()
        sent.append(notice.alert)
    for key in plan.forgotten:
        log.info(f"SLA breach {key} is older than the look-back window (or its SLA is gone); no longer tracked")
        open_alerts.pop(key, None)
    keep_after = now - ALERT_MEMORY
    closed = {k: v for k, v in closed.items() if datetime.fromisoformat(v) >= keep_after}
    return sent, json.dumps({"open": open_alerts, "closed": closed}, sort_keys=True)


def build_sla_alert_sensor(
    config: SlaConfig,
    notifier_factory: Callable[[Any], Any] = notifier_from_env,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    name: str = "sla_breach_alert_sensor",
) -> dg.SensorDefinition:
    @stopped_sensor(
        name,
        "Evaluates every commission SLA over its look-back window (every region of every due date "
        "delivered by a run started after the day closed, by the deadline), updates the sla_<name> checks the UI "
        "shows, and sends each breach and each recovery once: the log, plus SALES360_ALERT_WEBHOOK_URL if set.",
        minimum_interval_seconds=300,
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        now = clock()
        sent, cursor = alert_on_breaches(
            context.instance, config, now, context.cursor, notifier_factory(context.log), context.log
        )
        skip = f"{len(sent)} notice(s) sent: " + ", ".join(f"{a.key} {a.state}" for a in sent) if sent else "no change"
        return dg.SensorResult(cursor=cursor, skip_reason=skip)

    return _sensor
