"""sla_breach_alert_sensor: evaluate the commission SLAs and alert each breach once."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import dagster as dg

from sales360_assets.freshness import (
    NotifierError,
    SlaAlert,
    SlaConfig,
    SlaState,
    evaluate_slas,
    notifier_from_env,
)

# --- SLA alerts ----------------------------------------------------------------------------------

ALERT_STATES = (SlaState.BREACHED, SlaState.LATE)
ALERT_MEMORY = timedelta(days=30)


def alert_on_breaches(
    instance: dg.DagsterInstance,
    config: SlaConfig,
    now: datetime,
    cursor: str | None,
    notifier: Any,
    log: Any,
) -> tuple[list[SlaAlert], str]:
    """Send each breach once (keyed by SLA and due date); returns the alerts sent and the new cursor."""
    alerted: dict[str, str] = json.loads(cursor).get("alerted", {}) if cursor else {}
    sent = []
    for status in evaluate_slas(instance, now, config):
        if status.state not in ALERT_STATES or status.alert_key in alerted:
            continue
        alert = SlaAlert.from_status(status)
        try:
            notifier.notify(alert)
        except NotifierError as exc:
            # Not remembered: the next tick tries again.
            log.error(f"could not deliver SLA alert {alert.key}: {exc}")
            continue
        alerted[alert.key] = now.isoformat()
        sent.append(alert)
    keep_after = now - ALERT_MEMORY
    alerted = {k: v for k, v in alerted.items() if datetime.fromisoformat(v) >= keep_after}
    return sent, json.dumps({"alerted": alerted}, sort_keys=True)


def build_sla_alert_sensor(
    config: SlaConfig,
    notifier_factory: Callable[[Any], Any] = notifier_from_env,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    name: str = "sla_breach_alert_sensor",
) -> dg.SensorDefinition:
    @dg.sensor(
        name=name,
        minimum_interval_seconds=300,
        default_status=dg.DefaultSensorStatus.STOPPED,
        description="Checks every commission SLA partition by partition (every region of the due date present and "
        "successful by the deadline) and alerts each breach once: the log, plus SALES360_ALERT_WEBHOOK_URL if set.",
    )
    def _sensor(context: dg.SensorEvaluationContext) -> dg.SensorResult:
        now = clock()
        sent, cursor = alert_on_breaches(
            context.instance, config, now, context.cursor, notifier_factory(context.log), context.log
        )
        skip = f"{len(sent)} alert(s) sent" if sent else "no new SLA breaches"
        return dg.SensorResult(cursor=cursor, skip_reason=skip)

    return _sensor
