"""The text ``sales360 freshness`` prints: readable by sales ops without the UI."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

from sales360_assets.freshness.config import AfterPartitionsSla, DailyPartitionSla, SlaConfig, hours_text
from sales360_assets.freshness.evaluation import SlaStatus
from sales360_assets.freshness.verdicts import ALL_REGIONS

if TYPE_CHECKING:
    from sales360_assets.freshness.checks import RecordedCheck


def format_status(status: SlaStatus) -> list[str]:
    """One SLA: its state, rule, the plain-language lines (the same the UI check shows) and the details."""
    sla = status.sla
    lines = [f"[{status.state.value}] {sla.name}: {sla.description}"]
    lines.append(f"  assets: {', '.join(sla.assets)}  —  rule: {sla.describe_rule()}")
    # The same sentences the sla_<name> checks show in the UI.
    lines += [f"  {line}" for line in status.lines]
    if isinstance(sla, DailyPartitionSla | AfterPartitionsSla) and status.window_start is not None:
        lines.append(
            f"  checked: {status.window_start} … {status.due_date} (latest due by {status.deadline:%Y-%m-%d %H:%M} UTC)"
        )
        if status.regions:
            label = "region" if status.regions[0].region != ALL_REGIONS else "scope"
            lines.append(f"    {label:<13}{'last delivered':<17}oldest gap / latest due date")
            for region in status.regions:
                last = region.last_delivered.isoformat() if region.last_delivered else "none"
                lines.append(f"    {region.region:<13}{last:<17}{region.detail}")
        if isinstance(sla, DailyPartitionSla):
            lines.append(
                f"  next: {status.next_due_date} due by {status.next_deadline:%Y-%m-%d %H:%M} UTC — "
                f"{len(status.next_ready_regions)}/{len(sla.regions)} regions ready"
            )
    else:
        for age in status.ages:
            when = (
                f"last materialized {age.last_materialized_at:%Y-%m-%d %H:%M} UTC ({hours_text(age.age)} ago)"
                if age.last_materialized_at is not None and age.age is not None
                else "never materialized"
            )
            lines.append(f"    {age.asset:<32}{when}{'' if age.fresh else '  STALE'}")
    return lines


def ui_check_line(status: SlaStatus, recorded: Mapping[tuple[str, str], RecordedCheck]) -> str:
    """What the UI's ``sla_<name>`` checks show for this SLA, and whether it agrees with ``status``."""
    name = status.sla.name
    shown = {asset: recorded[(name, asset)] for asset in status.sla.assets if (name, asset) in recorded}
    if not shown:
        return f"  UI check sla_{name}: not evaluated yet (turn on sla_breach_alert_sensor, or Execute the check)"
    when = min(r.evaluated_at or r.recorded_at for r in shown.values())
    differs = [a for a, r in shown.items() if r.state != status.for_asset(a).state.value]
    states = "/".join(sorted({r.state for r in shown.values()}))
    text = f"  UI check sla_{name}: {states} as of {when:%Y-%m-%d %H:%M} UTC"
    if differs or len(shown) < len(status.sla.assets):
        text += " — not yet updated to the evaluation above (the alert sensor records it on its next tick)"
    return text


def format_statuses(
    statuses: Sequence[SlaStatus],
    config: SlaConfig | None = None,
    recorded: Mapping[tuple[str, str], RecordedCheck] | None = None,
) -> str:
    """The report ``sales360 freshness`` prints; with ``recorded``, also what the UI's checks show."""
    if not statuses:
        return "no SLAs configured"
    now = statuses[0].evaluated_at
    lines = [f"Commission SLAs at {now:%Y-%m-%d %H:%M} UTC"]
    if config is not None:
        lines[0] += f"  (config: {' + '.join(config.sources)})"
    for status in statuses:
        lines += ["", *format_status(status)]
        if recorded is not None:
            lines.append(ui_check_line(status, recorded))
    met = sum(s.met for s in statuses)
    lines += ["", f"{met}/{len(statuses)} SLAs met"]
    return "\n".join(lines)
