"""Breach, late and recovery notices: which to send (pure, over SLA statuses) and how (notifiers).

Each breach is sent once and its recovery once: the alert sensor keeps the open breaches in its
cursor. A breach is one SLA × due date with something undelivered (a max-age SLA: one stale
stretch); it recovers when everything for that date is delivered.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, Protocol

from sales360_assets.freshness.config import SlaConfigError
from sales360_assets.freshness.evaluation import SlaState, SlaStatus

WEBHOOK_ENV = "SALES360_ALERT_WEBHOOK_URL"
# Recovered breaches are remembered this long, so a LATE date is noticed once, not every tick.
ALERT_MEMORY = timedelta(days=30)

logger = logging.getLogger("sales360.sla")


@dataclass(frozen=True)
class SlaAlert:
    key: str  # "<sla>:<due date>" (or "<sla>:<stalest materialization>" for max-age SLAs)
    sla: str
    state: str  # BREACHED | LATE | RECOVERED
    summary: str
    problems: tuple[str, ...]
    evaluated_at: datetime
    lines: tuple[str, ...] = field(default=())  # the plain-language status

    @classmethod
    def from_status(cls, status: SlaStatus, key: str | None = None, problems: Sequence[str] | None = None) -> SlaAlert:
        return cls(
            key or status.alert_key,
            status.sla.name,
            status.state.value,
            status.headline(),
            tuple(problems if problems is not None else status.problems),
            status.evaluated_at,
            status.lines,
        )

    def text(self) -> str:
        shown = list(self.problems[:10])
        if len(self.problems) > 10:
            shown.append(f"… and {len(self.problems) - 10} more")
        return "\n".join([self.summary, *(f"• {p}" for p in shown)])

    def payload(self) -> dict[str, Any]:
        # `text` is what Slack / Teams / Mattermost incoming webhooks display; the rest is for machines.
        return {
            "text": self.text(),
            "sla": self.sla,
            "state": self.state,
            "key": self.key,
            "problems": list(self.problems),
            "status": list(self.lines),
            "evaluated_at": self.evaluated_at.isoformat(),
        }


def _recovery(status: SlaStatus, keys: Sequence[str], days: Sequence[date]) -> SlaAlert:
    sla = status.sla
    if days:
        what = f"{sla.subject} of {', '.join(d.isoformat() for d in days)}"
        body = tuple(line for day in days for line in status.delivered_lines(day))
    else:
        what = sla.subject
        body = status.lines
    verb = "is" if len(days) <= 1 else "are"
    summary = f"SLA {sla.name} RECOVERED: {what} {verb} now complete — {sla.description}"
    return SlaAlert(keys[0], sla.name, "RECOVERED", summary, body, status.evaluated_at, status.lines)


@dataclass(frozen=True)
class Notice:
    alert: SlaAlert
    opens: tuple[str, ...] = ()  # breach keys this notice opens
    closes: tuple[str, ...] = ()  # breach keys it closes (recovered, or a one-off LATE notice)


@dataclass(frozen=True)
class AlertPlan:
    notices: list[Notice]
    forgotten: list[str]  # open breaches whose date left the evaluation window (nothing left to recover)


def plan_alerts(statuses: Sequence[SlaStatus], open_keys: set[str], closed_keys: set[str]) -> AlertPlan:
    """Which notices to send now, given the breaches already alerted (open) and recently closed.

    One breach notice per SLA and tick for the due dates newly found undelivered (so enabling the
    sensor over a two-week gap sends one message, not fourteen), one recovery notice for the
    alerted dates now complete.
    """
    notices: list[Notice] = []
    forgotten: list[str] = []
    for status in statuses:
        name = status.sla.name
        mine_open = sorted(k for k in open_keys if k.split(":", 1)[0] == name)
        if status.due_date is not None:  # dated SLAs: one breach per due date with a gap
            gaps = {f"{name}:{day.isoformat()}": problems for day, problems in status.gap_days.items()}
            new = [k for k in gaps if k not in open_keys]
            if new:
                problems = [p for k in new for p in gaps[k]]
                notices.append(Notice(SlaAlert.from_status(status, new[0], problems), opens=tuple(new)))
            resolved, days = [], []
            for key in mine_open:
                if key in gaps:
                    continue
                day = date.fromisoformat(key.split(":", 1)[1])
                if status.window_start is None or day < status.window_start:
                    forgotten.append(key)
                else:
                    resolved.append(key)
                    days.append(day)
            if resolved:
                notices.append(Notice(_recovery(status, resolved, days), closes=tuple(resolved)))
            if status.state is SlaState.LATE and status.alert_key not in open_keys | closed_keys:
                # Delivered late without a breach ever being seen (e.g. the sensor was off): say so once.
                notices.append(Notice(SlaAlert.from_status(status), closes=(status.alert_key,)))
            continue
        # Max-age SLAs: one breach per stale stretch (however its stalest asset changes), until MET.
        if status.state is SlaState.BREACHED and not mine_open:
            notices.append(Notice(SlaAlert.from_status(status), opens=(status.alert_key,)))
        elif status.state is SlaState.MET and mine_open:
            notices.append(Notice(_recovery(status, mine_open, []), closes=tuple(mine_open)))
        # Not applicable (a weekend): neither resolved nor alerting.
    known = {s.sla.name for s in statuses}
    forgotten.extend(k for k in sorted(open_keys) if k.split(":", 1)[0] not in known)  # SLA left the config
    return AlertPlan(notices, forgotten)


class NotifierError(RuntimeError):
    pass


class Notifier(Protocol):
    def notify(self, alert: SlaAlert) -> None: ...


class LogNotifier:
    """Writes the alert to a logger (``context.log`` in a sensor, ``sales360.sla`` otherwise)."""

    def __init__(self, log: Any | None = None) -> None:
        self.log = log or logger
        self.sent: list[SlaAlert] = []

    def notify(self, alert: SlaAlert) -> None:
        (self.log.info if alert.state == "RECOVERED" else self.log.error)(alert.text())
        self.sent.append(alert)


class WebhookNotifier:
    """POSTs the alert as JSON to a webhook URL (Slack-style ``text`` plus structured fields)."""

    def __init__(self, url: str, timeout: float = 10.0) -> None:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise SlaConfigError(f"{WEBHOOK_ENV} must be an http(s) URL, got {url[:16]!r}…")
        self.url = url
        self.timeout = timeout
        # Webhook URLs embed their secret in the path: messages only ever show the host.
        self.display = f"{parts.scheme}://{parts.netloc}"

    def notify(self, alert: SlaAlert) -> None:
        request = urllib.request.Request(
            self.url,
            data=json.dumps(alert.payload()).encode(),
            headers={"Content-Type": "application/json", "User-Agent": "sales360-sla-alerts"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as exc:
            raise NotifierError(f"alert webhook {self.display} answered HTTP {exc.code}") from None
        except (urllib.error.URLError, TimeoutError, OSError) as exc:
            reason = getattr(exc, "reason", exc)
            raise NotifierError(f"alert webhook {self.display} unreachable: {reason}") from None


class FanoutNotifier:
    """Every notifier gets the alert; one failing does not stop the others, but is reported."""

    def __init__(self, notifiers: Sequence[Notifier]) -> None:
        self.notifiers = list(notifiers)

    def notify(self, alert: SlaAlert) -> None:
        errors = []
        for notifier in self.notifiers:
            try:
                notifier.notify(alert)
            except NotifierError as exc:
                errors.append(str(exc))
        if errors:
            raise NotifierError("; ".join(errors))


def notifier_from_env(log: Any | None = None) -> Notifier:
    """The log always; plus the webhook when ``SALES360_ALERT_WEBHOOK_URL`` is set."""
    url = os.environ.get(WEBHOOK_ENV, "").strip()
    if not url:
        return LogNotifier(log)
    return FanoutNotifier([LogNotifier(log), WebhookNotifier(url)])
