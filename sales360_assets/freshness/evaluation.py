"""Where each SLA stands at a moment: pure functions over what a ``StatusReader`` observed.

No Dagster here (``reader.py`` reads the instance), so the rules are tested with fixed clocks:

* **window**: every due date of the last ``lookback_days`` (never before the partitions start) is
  judged, and the *oldest* gap per region is reported, so a missing 03-09|emea stays BREACHED on
  03-11 instead of disappearing once 03-10 is due;
* each due date of each asset (and region) gets a verdict (``verdicts.py``: complete means written
  by a run started after the day closed; a delivered partition stays delivered while re-run);
* the SLA state is the roll-up of the verdicts, and each region's line says it in words
  (``wording.py``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from enum import StrEnum

from sales360_assets.freshness.config import (
    AfterPartitionsSla,
    DailyPartitionSla,
    MaxAgeSla,
    Sla,
    SlaConfig,
    hours_text,
)
from sales360_assets.freshness.verdicts import (
    ALL_REGIONS,
    DELIVERED,
    OneReadPerPartition,
    PartitionObservation,
    PartitionState,
    StatusReader,
    Verdict,
    day_closes_at,
    judge_partition,
    worst,
)
from sales360_assets.freshness.wording import problem, sentence
from sales360_assets.partitions import partition_key


class SlaState(StrEnum):
    MET = "MET"
    LATE = "LATE"  # nothing missing, but the latest due date landed after its deadline
    BREACHED = "BREACHED"  # something due in the window is still not delivered
    NOT_APPLICABLE = "NOT APPLICABLE"


@dataclass(frozen=True)
class RegionStatus:
    region: str
    state: PartitionState  # of the oldest gap, or of the latest due date when there is none
    last_delivered: date | None  # newest due date in the window every SLA asset delivered
    oldest_gap: date | None
    gaps: int  # due dates in the window not delivered
    detail: str


@dataclass(frozen=True)
class AssetAge:
    asset: str
    last_materialized_at: datetime | None
    age: timedelta | None
    fresh: bool


@dataclass(frozen=True)
class SlaStatus:
    """One SLA (or, from ``for_asset``, one of its assets) at ``evaluated_at``."""

    sla: Sla
    evaluated_at: datetime
    state: SlaState
    lines: tuple[str, ...] = ()  # plain-language status for sales ops, one per region / asset
    problems: tuple[str, ...] = ()  # short technical form, e.g. "2026-03-09|emea: fact_sales missing"
    deadline: datetime | None = None  # of ``due_date``
    due_date: date | None = None  # the latest date whose deadline has passed
    window_start: date | None = None
    regions: tuple[RegionStatus, ...] = ()
    next_due_date: date | None = None
    next_deadline: datetime | None = None
    next_ready_regions: tuple[str, ...] = ()
    ages: tuple[AssetAge, ...] = ()
    verdicts: tuple[Verdict, ...] = ()
    asset: str | None = None  # set on a per-asset view

    @property
    def met(self) -> bool:
        return self.state in (SlaState.MET, SlaState.NOT_APPLICABLE)

    @property
    def gap_days(self) -> dict[date, tuple[str, ...]]:
        """Due dates with something undelivered, each with its problems: what a breach alert is about."""
        days: dict[date, list[str]] = {}
        for v in self.verdicts:
            if v.state not in DELIVERED:
                days.setdefault(v.day, []).append(problem(v))
        return {d: tuple(p) for d, p in sorted(days.items())}

    def delivered_lines(self, day: date) -> tuple[str, ...]:
        """What landed when for ``day``: the body of a recovery notice."""
        return tuple(
            f"{v.region}: {v.asset} landed {v.delivered_at:%Y-%m-%d %H:%M} UTC"
            + (
                f" ({hours_text(v.delivered_at - v.deadline)} after the deadline)"
                if v.state is PartitionState.LATE
                else ""
            )
            for v in self.verdicts
            if v.day == day and v.delivered_at is not None
        )

    @property
    def alert_key(self) -> str:
        """Identifies the current breach (oldest gap), so it is alerted once however often it is evaluated."""
        if self.due_date is not None:
            gaps = self.gap_days
            return f"{self.sla.name}:{(min(gaps) if gaps else self.due_date).isoformat()}"
        stalest = min((a.last_materialized_at for a in self.ages if a.last_materialized_at), default=None)
        missing = any(a.last_materialized_at is None for a in self.ages)
        return f"{self.sla.name}:{'never' if missing or stalest is None else stalest.isoformat()}"

    def headline(self) -> str:
        head = f"SLA {self.sla.name} {self.state.value}: {self.sla.description}"
        if self.deadline is not None and self.due_date is not None:
            head += f" — {self.due_date} due by {self.deadline:%Y-%m-%d %H:%M} UTC"
        return head

    summary = headline

    def for_asset(self, asset: str) -> SlaStatus:
        """The same evaluation restricted to one asset: what that asset's ``sla_<name>`` check shows."""
        if self.ages:
            ages = tuple(a for a in self.ages if a.asset == asset)
            return _max_age_status(self.sla, self.evaluated_at, ages, asset)  # type: ignore[arg-type]
        mine = tuple(v for v in self.verdicts if v.asset == asset)
        if not mine and self.state is SlaState.NOT_APPLICABLE:
            return SlaStatus(self.sla, self.evaluated_at, self.state, self.lines, self.problems, asset=asset)
        return _summarize(self.sla, self.evaluated_at, mine, self, asset)


def _summarize(
    sla: Sla, now: datetime, verdicts: Sequence[Verdict], frame: SlaStatus, asset: str | None = None
) -> SlaStatus:
    """SLA state, per-region rows and plain-language lines from per-asset verdicts."""
    regions = list(dict.fromkeys(v.region for v in verdicts))
    region_rows: list[RegionStatus] = []
    lines: list[str] = []
    problems: list[str] = []
    any_gap = False
    latest_late = False
    for region in regions:
        by_day: dict[date, list[Verdict]] = {}
        for v in verdicts:
            if v.region == region:
                by_day.setdefault(v.day, []).append(v)
        gaps = sorted(d for d, vs in by_day.items() if any(v.state not in DELIVERED for v in vs))
        delivered = [d for d in by_day if d not in gaps]
        latest = max(by_day)
        if gaps:
            any_gap = True
            oldest = [v for v in by_day[gaps[0]] if v.state not in DELIVERED]
            shown = worst(oldest)
            problems.extend(problem(v) for v in oldest)
            line = sentence(sla, shown, now, len(gaps) - 1)
            detail = f"{gaps[0]}: " + "; ".join(f"{v.asset} {v.state.value}" for v in oldest)
            if len(gaps) > 1:
                detail += f" (+{len(gaps) - 1} later day(s))"
        else:
            shown = max(by_day[latest], key=lambda v: v.delivered_at or now)
            if shown.state is PartitionState.LATE or any(v.state is PartitionState.LATE for v in by_day[latest]):
                latest_late = True
                shown = max((v for v in by_day[latest] if v.state is PartitionState.LATE), key=lambda v: v.delivered_at)  # type: ignore[arg-type, return-value]
                problems.append(problem(shown))
            line = sentence(sla, shown, now, 0)
            detail = f"{shown.state.value} ({shown.delivered_at:%Y-%m-%d %H:%M} UTC)"
        lines.append(line)
        region_rows.append(
            RegionStatus(
                region, shown.state, max(delivered, default=None), gaps[0] if gaps else None, len(gaps), detail
            )
        )
    state = SlaState.BREACHED if any_gap else SlaState.LATE if latest_late else SlaState.MET
    return SlaStatus(
        sla,
        now,
        state,
        tuple(lines),
        tuple(problems),
        frame.deadline,
        frame.due_date,
        frame.window_start,
        tuple(region_rows),
        frame.next_due_date,
        frame.next_deadline,
        frame.next_ready_regions,
        verdicts=tuple(verdicts),
        asset=asset,
    )


def _window(sla: DailyPartitionSla | AfterPartitionsSla, now: datetime, start: date) -> list[date]:
    due = sla.due_date_at(now)
    first = max(start, due - timedelta(days=sla.lookback_days - 1))
    return [first + timedelta(days=i) for i in range((due - first).days + 1)]


def _not_applicable(sla: DailyPartitionSla | AfterPartitionsSla, now: datetime) -> SlaStatus:
    due = sla.due_date_at(now)
    line = f"Nothing is due yet: the first date of the data is after {due}."
    return SlaStatus(sla, now, SlaState.NOT_APPLICABLE, (line,), (), sla.deadline_for(due), due)


def _frame(sla: DailyPartitionSla | AfterPartitionsSla, now: datetime, days: list[date]) -> SlaStatus:
    due = days[-1]
    return SlaStatus(
        sla,
        now,
        SlaState.MET,
        deadline=sla.deadline_for(due),
        due_date=due,
        window_start=days[0],
        next_due_date=due + timedelta(days=1),
        next_deadline=sla.deadline_for(due + timedelta(days=1)),
    )


def _daily_verdicts(
    assets: Sequence[str],
    regions: Sequence[str],
    days: Sequence[date],
    deadline_for: Callable[[date], datetime],
    reader: StatusReader,
    now: datetime,
) -> tuple[list[Verdict], dict[str, dict[str, PartitionObservation]]]:
    keys = [partition_key(d, r) for d in days for r in regions]
    observed = {asset: reader.partitions(asset, keys) for asset in assets}
    verdicts = [
        judge_partition(
            asset, d, r, deadline_for(d), observed[asset].get(partition_key(d, r), PartitionObservation()), now
        )
        for r in regions
        for d in days
        for asset in assets
    ]
    return verdicts, observed


def evaluate_daily(sla: DailyPartitionSla, reader: StatusReader, now: datetime, start: date) -> SlaStatus:
    days = _window(sla, now, start)
    if not days:
        return _not_applicable(sla, now)
    frame = _frame(sla, now, days)
    next_day = days[-1] + timedelta(days=1)
    # The window and the day after it in one read of each asset's partitions.
    judged, _ = _daily_verdicts(sla.assets, sla.regions, [*days, next_day], sla.deadline_for, reader, now)
    verdicts = [v for v in judged if v.day != next_day]
    upcoming = [v for v in judged if v.day == next_day]
    ready = tuple(r for r in sla.regions if all(v.state in DELIVERED for v in upcoming if v.region == r))
    frame = replace(frame, next_ready_regions=ready)
    return _summarize(sla, now, verdicts, frame)


def evaluate_after_partitions(sla: AfterPartitionsSla, reader: StatusReader, now: datetime, start: date) -> SlaStatus:
    days = _window(sla, now, start)
    if not days:
        return _not_applicable(sla, now)
    frame = _frame(sla, now, days)
    upstream, _ = _daily_verdicts(sla.after, sla.regions, days, sla.deadline_for, reader, now)
    since = day_closes_at(days[0])
    built = {asset: sorted(reader.materializations(asset, since), key=lambda m: m.at) for asset in sla.assets}
    verdicts = []
    for day in days:
        inputs = [v for v in upstream if v.day == day]
        undelivered = [v for v in inputs if v.state not in DELIVERED]
        for asset in sla.assets:
            deadline = sla.deadline_for(day)
            if undelivered:
                # The statements cannot be complete for a day whose sales are not all in.
                first = undelivered[0]
                note = f"waiting for {first.asset} {partition_key(day, first.region)} ({first.state.value})" + (
                    f" and {len(undelivered) - 1} more partition(s)" if len(undelivered) > 1 else ""
                )
                verdicts.append(Verdict(asset, day, ALL_REGIONS, deadline, PartitionState.WAITING, note=note))
                continue
            ready_at = max(v.delivered_at for v in inputs)  # type: ignore[type-var]
            after = [m for m in built[asset] if m.started_at >= ready_at and m.at <= now]
            if after:
                at = after[0].at
                state = PartitionState.OK if at <= deadline else PartitionState.LATE
                verdicts.append(Verdict(asset, day, ALL_REGIONS, deadline, state, delivered_at=at))
            else:
                note = f"the sales data of {day} was complete at {ready_at:%Y-%m-%d %H:%M} UTC and no run started since"
                verdicts.append(Verdict(asset, day, ALL_REGIONS, deadline, PartitionState.WAITING, note=note))
    return _summarize(sla, now, verdicts, frame)


def _max_age_status(sla: MaxAgeSla, now: datetime, ages: Sequence[AssetAge], asset: str | None = None) -> SlaStatus:
    lines, problems = [], []
    for age in ages:
        if age.last_materialized_at is None or age.age is None:
            problems.append(f"{age.asset} never materialized")
            lines.append(f"{sla.subject[:1].upper()}{sla.subject[1:]}: {age.asset} has never been loaded.")
            continue
        when = f"{age.asset} was last loaded {age.last_materialized_at:%Y-%m-%d %H:%M} UTC ({hours_text(age.age)} ago"
        if age.fresh and sla.warn_after is not None and age.age > sla.warn_after:
            lines.append(
                f"{sla.subject[:1].upper()}{sla.subject[1:]} is current but ageing: {when}; "
                f"the limit is {hours_text(sla.max_age)})."
            )
        elif age.fresh:
            lines.append(f"{sla.subject[:1].upper()}{sla.subject[1:]} is current: {when}).")
        else:
            problems.append(f"{age.asset} is {hours_text(age.age)} old (max {hours_text(sla.max_age)})")
            lines.append(
                f"{sla.subject[:1].upper()}{sla.subject[1:]} is out of date: {when}; the limit is {hours_text(sla.max_age)})."
            )
    if not sla.applies_on(now):
        # Outside business days the ages are still shown, but nothing is due and nothing alerts.
        state = SlaState.NOT_APPLICABLE
        lines.append("Not checked today: outside business days.")
    else:
        state = SlaState.BREACHED if problems else SlaState.MET
    return SlaStatus(sla, now, state, tuple(lines), tuple(problems), ages=tuple(ages), asset=asset)


def evaluate_max_age(sla: MaxAgeSla, reader: StatusReader, now: datetime) -> SlaStatus:
    ages = []
    for asset in sla.assets:
        last = reader.last_materialized_at(asset, now)
        age = now - last if last is not None else None
        ages.append(AssetAge(asset, last, age, age is not None and age <= sla.max_age))
    return _max_age_status(sla, now, ages)


def evaluate_config(config: SlaConfig, reader: StatusReader, now: datetime, start: date) -> list[SlaStatus]:
    """Every SLA of ``config`` at ``now`` (aware); ``start`` is the first date of the partitions."""
    if now.tzinfo is None:
        raise ValueError("evaluate_slas needs an aware datetime (UTC)")
    reader = OneReadPerPartition(reader)
    statuses = []
    for sla in config.slas:
        if isinstance(sla, DailyPartitionSla):
            statuses.append(evaluate_daily(sla, reader, now, start))
        elif isinstance(sla, AfterPartitionsSla):
            statuses.append(evaluate_after_partitions(sla, reader, now, start))
        else:
            statuses.append(evaluate_max_age(sla, reader, now))
    return statuses
