"""Commission SLAs: config, Dagster freshness policies, a partition-exact evaluator and alerting.

``sla.yaml`` (next to this module; a deployment overrides it with ``SALES360_SLA_CONFIG``) says
when each table must be ready. From it:

* every listed asset gets a Dagster ``FreshnessPolicy``, so the UI shows pass/warn/fail;
* ``evaluate_slas`` checks each SLA *per partition*: Dagster's policy only looks at the latest
  materialization of any partition, so backfilling last month turns it green while yesterday's
  ``emea`` partition is still missing. Here every region of the due date must have been
  materialized successfully by the deadline;
* ``sales360 freshness`` prints the evaluation, and ``sensors.sla_breach_alert_sensor`` sends
  each breach once through a ``Notifier`` (the log by default, a webhook when
  ``SALES360_ALERT_WEBHOOK_URL`` is set).
"""

from __future__ import annotations

import json
import logging
import os
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import dagster as dg
import yaml

from sales360_assets.partitions import date_region_partitions
from sales360_assets.settings import REGION_CODES, partitions_start_date

SLA_CONFIG_ENV = "SALES360_SLA_CONFIG"
WEBHOOK_ENV = "SALES360_ALERT_WEBHOOK_URL"
DEFAULT_SLA_CONFIG = Path(__file__).with_name("sla.yaml")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

logger = logging.getLogger("sales360.sla")


class SlaConfigError(ValueError):
    """The SLA configuration is unusable; the message names the file and the field."""


# --- configuration -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DailyPartitionSla:
    """Every region's partition of business date D is materialized by ``due_at`` on D + ``due_days_after``."""

    name: str
    description: str
    assets: tuple[str, ...]
    due_at: time
    due_days_after: int = 1
    regions: tuple[str, ...] = tuple(REGION_CODES)
    kind: str = field(default="daily_partitions", init=False)

    def deadline_for(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=self.due_days_after), self.due_at, tzinfo=UTC)

    def due_date_at(self, now: datetime) -> date:
        """The latest business date whose deadline has passed at ``now``."""
        candidate = now.astimezone(UTC).date() - timedelta(days=self.due_days_after)
        return candidate if self.deadline_for(candidate) <= now else candidate - timedelta(days=1)

    def freshness_policy(self) -> dg.FreshnessPolicy:
        # Must materialize between midnight and the deadline each day. The cron policy cannot say
        # *which* partition; evaluate_slas does.
        since_midnight = timedelta(hours=self.due_at.hour, minutes=self.due_at.minute)
        return dg.FreshnessPolicy.cron(
            deadline_cron=f"{self.due_at.minute} {self.due_at.hour} * * *",
            lower_bound_delta=since_midnight if since_midnight >= timedelta(minutes=1) else timedelta(hours=24),
            timezone="UTC",
        )

    def describe_rule(self) -> str:
        after = "the next day" if self.due_days_after == 1 else f"{self.due_days_after} days later"
        return f"each date × {len(self.regions)} regions by {self.due_at:%H:%M} UTC {after}"


@dataclass(frozen=True)
class MaxAgeSla:
    """The newest materialization of each asset is at most ``max_age`` old (checked on business days)."""

    name: str
    description: str
    assets: tuple[str, ...]
    max_age: timedelta
    warn_after: timedelta | None = None
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday = 0
    kind: str = field(default="max_age", init=False)

    def applies_on(self, now: datetime) -> bool:
        return now.astimezone(UTC).weekday() in self.business_days

    def freshness_policy(self) -> dg.FreshnessPolicy:
        # Dagster's time-window policy has no calendar, so the UI applies the window every day;
        # evaluate_slas and the alerts respect business_days.
        return dg.FreshnessPolicy.time_window(fail_window=self.max_age, warn_window=self.warn_after)

    def describe_rule(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in self.business_days)
        return f"at most {_hours(self.max_age)} old on {days}"


Sla = DailyPartitionSla | MaxAgeSla


@dataclass(frozen=True)
class SlaConfig:
    slas: tuple[Sla, ...]
    sources: tuple[str, ...]

    def policies_by_asset(self) -> dict[str, dg.FreshnessPolicy]:
        return {asset: sla.freshness_policy() for sla in self.slas for asset in sla.assets}

    def validate_assets(self, partitioned: Iterable[str], unpartitioned: Iterable[str]) -> None:
        """Fail when an SLA names an asset that does not exist or has the wrong partitioning."""
        partitioned, unpartitioned = set(partitioned), set(unpartitioned)
        where = " + ".join(self.sources)
        for sla in self.slas:
            for asset in sla.assets:
                if asset not in partitioned | unpartitioned:
                    raise SlaConfigError(
                        f"{where}: slas.{sla.name}.assets: no asset named {asset!r} "
                        f"(known: {', '.join(sorted(partitioned | unpartitioned))})"
                    )
                if isinstance(sla, DailyPartitionSla) and asset not in partitioned:
                    raise SlaConfigError(
                        f"{where}: slas.{sla.name}: {asset!r} is not partitioned by date × region, so a "
                        "daily_partitions SLA cannot apply; use type: max_age"
                    )


_COMMON_FIELDS = {"description", "type", "assets", "enabled"}
_FIELDS = {
    "daily_partitions": _COMMON_FIELDS | {"due_at", "due_days_after", "regions"},
    "max_age": _COMMON_FIELDS | {"max_age_hours", "warn_after_hours", "business_days"},
}


def _fail(source: str, path: str, message: str) -> SlaConfigError:
    return SlaConfigError(f"SLA config {source}: {path}: {message}")


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SlaConfigError(f"cannot read SLA config {path}: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or str(exc)
        raise SlaConfigError(f"SLA config {path} is not valid YAML{where}: {problem}") from exc
    if not isinstance(data, Mapping):
        raise SlaConfigError(
            f"SLA config {path}: expected a mapping with `version` and `slas`, got {type(data).__name__}"
        )
    unknown = set(data) - {"version", "slas"}
    if unknown:
        raise SlaConfigError(f"SLA config {path}: unknown top-level key(s) {sorted(unknown)}; expected version, slas")
    if data.get("version", 1) != 1:
        raise SlaConfigError(f"SLA config {path}: version {data.get('version')!r} is not supported (expected 1)")
    slas = data.get("slas", {})
    if not isinstance(slas, Mapping) or not all(isinstance(v, Mapping) for v in slas.values()):
        raise SlaConfigError(f"SLA config {path}: `slas` must map each SLA name to its fields")
    return data


def _time_of_day(source: str, path: str, value: Any) -> time:
    if isinstance(value, int):
        # YAML 1.1 reads an unquoted 06:00 as the base-60 number 360.
        raise _fail(source, path, f'write the time in quotes, e.g. "06:00" (unquoted YAML read it as {value})')
    try:
        hours, minutes = str(value).split(":")
        return time(int(hours), int(minutes))
    except ValueError:
        raise _fail(source, path, f"{value!r} is not a time of day (HH:MM, UTC)") from None


def _positive_hours(source: str, path: str, value: Any) -> timedelta:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        raise _fail(source, path, f"{value!r} is not a positive number of hours")
    return timedelta(hours=value)


def _parse_sla(name: str, raw: Mapping[str, Any], source: str) -> Sla | None:
    base = f"slas.{name}"
    if not name.replace("_", "").isalnum():
        raise _fail(source, base, "SLA names may use letters, digits and underscores only")
    kind = raw.get("type")
    if kind not in _FIELDS:
        raise _fail(source, f"{base}.type", f"{kind!r} is not one of {sorted(_FIELDS)}")
    unknown = set(raw) - _FIELDS[kind]
    if unknown:
        raise _fail(
            source, base, f"unknown field(s) {sorted(unknown)} for type {kind}; allowed: {sorted(_FIELDS[kind])}"
        )
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(source, f"{base}.enabled", f"{enabled!r} is not true/false")
    if not enabled:
        return None
    description = raw.get("description")
    if not isinstance(description, str) or not description.strip():
        raise _fail(source, f"{base}.description", "say in one line what sales ops can rely on")
    assets = raw.get("assets")
    if not isinstance(assets, list) or not assets or not all(isinstance(a, str) and a for a in assets):
        raise _fail(source, f"{base}.assets", "a non-empty list of asset names")
    if kind == "daily_partitions":
        if "due_at" not in raw:
            raise _fail(source, f"{base}.due_at", 'missing; the deadline as "HH:MM" UTC')
        due_days_after = raw.get("due_days_after", 1)
        if isinstance(due_days_after, bool) or not isinstance(due_days_after, int) or due_days_after < 0:
            raise _fail(source, f"{base}.due_days_after", f"{due_days_after!r} is not a whole number of days >= 0")
        regions_raw = raw.get("regions", "all")
        if regions_raw == "all":
            regions = tuple(REGION_CODES)
        elif isinstance(regions_raw, list) and regions_raw:
            unknown_regions = [r for r in regions_raw if r not in REGION_CODES]
            if unknown_regions:
                raise _fail(
                    source, f"{base}.regions", f"unknown region(s) {unknown_regions}; known: {', '.join(REGION_CODES)}"
                )
            regions = tuple(sorted(set(regions_raw)))
        else:
            raise _fail(source, f"{base}.regions", f"`all` or a list of region codes, got {regions_raw!r}")
        return DailyPartitionSla(
            name=name,
            description=description.strip(),
            assets=tuple(assets),
            due_at=_time_of_day(source, f"{base}.due_at", raw["due_at"]),
            due_days_after=due_days_after,
            regions=regions,
        )
    if "max_age_hours" not in raw:
        raise _fail(source, f"{base}.max_age_hours", "missing; how old the newest materialization may be")
    max_age = _positive_hours(source, f"{base}.max_age_hours", raw["max_age_hours"])
    warn_after = None
    if raw.get("warn_after_hours") is not None:
        warn_after = _positive_hours(source, f"{base}.warn_after_hours", raw["warn_after_hours"])
        if warn_after >= max_age:
            raise _fail(source, f"{base}.warn_after_hours", "must be less than max_age_hours")
    days_raw = raw.get("business_days", list(WEEKDAYS))
    if not isinstance(days_raw, list) or not days_raw or any(str(d).lower() not in WEEKDAYS for d in days_raw):
        raise _fail(source, f"{base}.business_days", f"a list of {', '.join(WEEKDAYS)}, got {days_raw!r}")
    return MaxAgeSla(
        name=name,
        description=description.strip(),
        assets=tuple(assets),
        max_age=max_age,
        warn_after=warn_after,
        business_days=tuple(sorted({WEEKDAYS.index(str(d).lower()) for d in days_raw})),
    )


def parse_sla_config(slas: Mapping[str, Mapping[str, Any]], sources: Sequence[str]) -> SlaConfig:
    source = " + ".join(sources)
    parsed = [sla for name, raw in slas.items() if (sla := _parse_sla(str(name), raw, source)) is not None]
    seen: dict[str, str] = {}
    for sla in parsed:
        for asset in sla.assets:
            if asset in seen:
                raise _fail(
                    source,
                    f"slas.{sla.name}.assets",
                    f"{asset!r} is already covered by SLA {seen[asset]!r}; an asset carries one freshness policy",
                )
            seen[asset] = sla.name
    return SlaConfig(tuple(parsed), tuple(sources))


def load_sla_config(path: str | Path | None = None, override: str | Path | None = None) -> SlaConfig:
    """The default SLAs (or ``path``) with ``override`` (default: ``$SALES360_SLA_CONFIG``) merged in by name."""
    base_path = Path(path) if path else DEFAULT_SLA_CONFIG
    slas = {name: dict(fields) for name, fields in _read_yaml(base_path)["slas"].items()}
    sources = [str(base_path)]
    override = override if override is not None else os.environ.get(SLA_CONFIG_ENV) or None
    if override:
        override_path = Path(override)
        if not override_path.is_file():
            raise SlaConfigError(f"{SLA_CONFIG_ENV} points at {override_path}, which is not a file")
        for name, fields in _read_yaml(override_path).get("slas", {}).items():
            slas[name] = {**slas.get(name, {}), **fields}
        sources.append(str(override_path))
    return parse_sla_config(slas, sources)


def apply_freshness_policies(assets: Sequence[dg.AssetsDefinition], config: SlaConfig) -> list[dg.AssetsDefinition]:
    """The same assets, each listed in an SLA carrying that SLA's freshness policy."""
    policies = config.policies_by_asset()

    def attach(spec: dg.AssetSpec) -> dg.AssetSpec:
        policy = policies.get(spec.key.to_user_string())
        return dg.apply_freshness_policy(spec, policy) if policy is not None else spec

    return list(dg.map_asset_specs(attach, assets))  # type: ignore[arg-type]


# --- partition-exact evaluation ------------------------------------------------------------------


class PartitionState(StrEnum):
    OK = "ok"
    LATE = "late"
    IN_PROGRESS = "in progress"
    FAILED = "failed"
    MISSING = "missing"


_SEVERITY = [
    PartitionState.OK,
    PartitionState.LATE,
    PartitionState.IN_PROGRESS,
    PartitionState.FAILED,
    PartitionState.MISSING,
]


class SlaState(StrEnum):
    MET = "MET"
    LATE = "LATE"  # everything is there now, but something landed after the deadline
    BREACHED = "BREACHED"
    NOT_APPLICABLE = "NOT APPLICABLE"


@dataclass(frozen=True)
class PartitionObservation:
    status: str  # "materialized" | "failed" | "in_progress" | "missing"
    first_materialized_at: datetime | None = None


class StatusReader(Protocol):
    """What the evaluator needs to know about materializations (an instance or a test double)."""

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]: ...

    def successful_keys(self, asset: str) -> set[str]: ...

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None: ...


class InstanceStatusReader:
    """Reads the Dagster instance: partition statuses and materialization records."""

    def __init__(self, instance: dg.DagsterInstance, partitions_def: dg.PartitionsDefinition | None = None) -> None:
        self.instance = instance
        self.partitions_def = partitions_def or date_region_partitions

    def partitions(self, asset: str, keys: Sequence[str]) -> dict[str, PartitionObservation]:
        key = dg.AssetKey(asset)
        statuses = self.instance.get_status_by_partition(key, list(keys), self.partitions_def) or {}
        first: dict[str, datetime] = {}
        cursor = None
        while True:
            page = self.instance.fetch_materializations(
                dg.AssetRecordsFilter(asset_key=key, asset_partitions=list(keys)),
                limit=1000,
                cursor=cursor,
                ascending=True,
            )
            for record in page.records:
                if record.partition_key is not None and record.partition_key not in first:
                    first[record.partition_key] = datetime.fromtimestamp(record.timestamp, UTC)
            if not page.has_more:
                break
            cursor = page.cursor
        result = {}
        for k in keys:
            status = statuses.get(k)
            name = status.value.lower() if status is not None else "missing"
            result[k] = PartitionObservation(name, first.get(k))
        return result

    def successful_keys(self, asset: str) -> set[str]:
        key = dg.AssetKey(asset)
        materialized = sorted(self.instance.get_materialized_partitions(key))
        if not materialized:
            return set()
        # A partition whose latest attempt failed after an earlier success is not "successful".
        statuses = self.instance.get_status_by_partition(key, materialized, self.partitions_def) or {}
        return {k for k, s in statuses.items() if s == dg.AssetPartitionStatus.MATERIALIZED}

    def last_materialized_at(self, asset: str, before: datetime) -> datetime | None:
        # "As of" ``before``, so evaluating a past moment ignores what happened after it.
        page = self.instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey(asset), before_timestamp=before.timestamp()), limit=1
        )
        return datetime.fromtimestamp(page.records[0].timestamp, UTC) if page.records else None


@dataclass(frozen=True)
class RegionStatus:
    region: str
    state: PartitionState  # of the due date, worst over the SLA's assets
    last_successful: date | None  # newest date every SLA asset has materialized successfully
    detail: str


@dataclass(frozen=True)
class AssetAge:
    asset: str
    last_materialized_at: datetime | None
    age: timedelta | None
    fresh: bool


@dataclass(frozen=True)
class SlaStatus:
    sla: Sla
    evaluated_at: datetime
    state: SlaState
    problems: tuple[str, ...] = ()
    deadline: datetime | None = None
    due_date: date | None = None
    regions: tuple[RegionStatus, ...] = ()
    next_due_date: date | None = None
    next_deadline: datetime | None = None
    next_ready_regions: tuple[str, ...] = ()
    ages: tuple[AssetAge, ...] = ()

    @property
    def met(self) -> bool:
        return self.state in (SlaState.MET, SlaState.NOT_APPLICABLE)

    @property
    def alert_key(self) -> str:
        """Identifies one breach, so it is alerted once however often it is evaluated."""
        if self.due_date is not None:
            return f"{self.sla.name}:{self.due_date.isoformat()}"
        stalest = min((a.last_materialized_at for a in self.ages if a.last_materialized_at), default=None)
        missing = any(a.last_materialized_at is None for a in self.ages)
        return f"{self.sla.name}:{'never' if missing or stalest is None else stalest.isoformat()}"

    def summary(self) -> str:
        head = f"SLA {self.sla.name} {self.state.value}: {self.sla.description}"
        if self.deadline is not None and self.due_date is not None:
            head += f" — {self.due_date} due by {self.deadline:%Y-%m-%d %H:%M} UTC"
        return head


def _key(day: date, region: str) -> str:
    return str(dg.MultiPartitionKey({"date": day.isoformat(), "region": region}))


def _split(key: str) -> tuple[date, str]:
    day, region = key.split("|")
    return date.fromisoformat(day), region


def _partition_state(observation: PartitionObservation, deadline: datetime) -> PartitionState:
    if observation.status == "materialized":
        first = observation.first_materialized_at
        return PartitionState.OK if first is not None and first <= deadline else PartitionState.LATE
    if observation.status == "failed":
        return PartitionState.FAILED
    if observation.status == "in_progress":
        return PartitionState.IN_PROGRESS
    return PartitionState.MISSING


def _evaluate_daily(sla: DailyPartitionSla, reader: StatusReader, now: datetime) -> SlaStatus:
    due = sla.due_date_at(now)
    deadline = sla.deadline_for(due)
    if due < partitions_start_date():
        return SlaStatus(sla, now, SlaState.NOT_APPLICABLE, ("no partition is due yet",), deadline, due)
    keys = [_key(due, r) for r in sla.regions]
    next_due = due + timedelta(days=1)
    next_keys = [_key(next_due, r) for r in sla.regions]
    observed = {asset: reader.partitions(asset, keys + next_keys) for asset in sla.assets}
    successful = {asset: reader.successful_keys(asset) for asset in sla.assets}

    regions: list[RegionStatus] = []
    problems: list[str] = []
    for region, key in zip(sla.regions, keys, strict=True):
        states = {asset: _partition_state(observed[asset][key], deadline) for asset in sla.assets}
        worst = max(states.values(), key=_SEVERITY.index)
        bad = [f"{asset} {state.value}" for asset, state in states.items() if state is not PartitionState.OK]
        if len(bad) > 1 and len(set(states.values())) == 1:
            bad = [f"{worst.value} (all {len(states)} assets)"]
        if worst is PartitionState.LATE:
            landed = max(observed[a][key].first_materialized_at for a in sla.assets)  # type: ignore[type-var]
            bad[-1] += f", landed {landed:%Y-%m-%d %H:%M} UTC"
        if worst is PartitionState.OK:
            first = max(observed[a][key].first_materialized_at for a in sla.assets)  # type: ignore[type-var]
            detail = f"ok ({first:%Y-%m-%d %H:%M} UTC)"
        else:
            detail = "; ".join(bad)
            problems.extend(f"{due}|{region}: {b}" for b in bad)
        dates_everywhere = set.intersection(
            *({d for d, r in map(_split, successful[a]) if r == region} for a in sla.assets)
        )
        last = max(dates_everywhere, default=None)
        regions.append(RegionStatus(region, worst, last, detail))

    states = {r.state for r in regions}
    if states == {PartitionState.OK}:
        state = SlaState.MET
    elif states <= {PartitionState.OK, PartitionState.LATE}:
        state = SlaState.LATE
    else:
        state = SlaState.BREACHED
    ready = tuple(
        region
        for region, key in zip(sla.regions, next_keys, strict=True)
        if all(observed[a][key].status == "materialized" for a in sla.assets)
    )
    return SlaStatus(
        sla,
        now,
        state,
        tuple(problems),
        deadline,
        due,
        tuple(regions),
        next_due,
        sla.deadline_for(next_due),
        ready,
    )


def _evaluate_max_age(sla: MaxAgeSla, reader: StatusReader, now: datetime) -> SlaStatus:
    ages = []
    problems = []
    for asset in sla.assets:
        last = reader.last_materialized_at(asset, now)
        age = now - last if last is not None else None
        fresh = age is not None and age <= sla.max_age
        ages.append(AssetAge(asset, last, age, fresh))
        if not fresh:
            problems.append(
                f"{asset} never materialized"
                if age is None
                else f"{asset} is {_hours(age)} old (max {_hours(sla.max_age)})"
            )
    # Outside business days the ages are still shown, but nothing is due and nothing alerts.
    state = SlaState.NOT_APPLICABLE if not sla.applies_on(now) else SlaState.BREACHED if problems else SlaState.MET
    return SlaStatus(sla, now, state, tuple(problems), ages=tuple(ages))


def evaluate_slas(
    source: dg.DagsterInstance | StatusReader, now: datetime, config: SlaConfig | None = None
) -> list[SlaStatus]:
    """Where every SLA stands at ``now`` (aware UTC), partition by partition."""
    if now.tzinfo is None:
        raise ValueError("evaluate_slas needs an aware datetime (UTC)")
    config = config or load_sla_config()
    reader: StatusReader = InstanceStatusReader(source) if isinstance(source, dg.DagsterInstance) else source
    return [
        _evaluate_daily(sla, reader, now) if isinstance(sla, DailyPartitionSla) else _evaluate_max_age(sla, reader, now)
        for sla in config.slas
    ]


def _hours(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


def format_statuses(statuses: Sequence[SlaStatus], config: SlaConfig | None = None) -> str:
    """The report ``sales360 freshness`` prints: readable by sales ops without the UI."""
    if not statuses:
        return "no SLAs configured"
    now = statuses[0].evaluated_at
    lines = [f"Commission SLAs at {now:%Y-%m-%d %H:%M} UTC"]
    if config is not None:
        lines[0] += f"  (config: {' + '.join(config.sources)})"
    for status in statuses:
        sla = status.sla
        lines += ["", f"[{status.state.value}] {sla.name}: {sla.description}"]
        lines.append(f"  assets: {', '.join(sla.assets)}  —  rule: {sla.describe_rule()}")
        if isinstance(sla, DailyPartitionSla) and status.deadline is not None:
            lines.append(f"  due: {status.due_date} for every region by {status.deadline:%Y-%m-%d %H:%M} UTC")
            if status.regions:
                lines.append(f"    {'region':<8}{'last successful':<18}due date")
                for region in status.regions:
                    last = region.last_successful.isoformat() if region.last_successful else "none"
                    lines.append(f"    {region.region:<8}{last:<18}{region.detail}")
                lines.append(
                    f"  next: {status.next_due_date} due by {status.next_deadline:%Y-%m-%d %H:%M} UTC — "
                    f"{len(status.next_ready_regions)}/{len(sla.regions)} regions ready"
                )
            elif status.problems:
                lines.append(f"  {status.problems[0]}")
        else:
            for age in status.ages:
                when = (
                    f"last materialized {age.last_materialized_at:%Y-%m-%d %H:%M} UTC ({_hours(age.age)} ago)"
                    if age.last_materialized_at is not None and age.age is not None
                    else "never materialized"
                )
                lines.append(f"    {age.asset:<32}{when}{'' if age.fresh else '  STALE'}")
            if status.state is SlaState.NOT_APPLICABLE:
                lines.append("  (not checked today: outside business days)")
    met = sum(s.met for s in statuses)
    lines += ["", f"{met}/{len(statuses)} SLAs met"]
    return "\n".join(lines)


# --- alerting -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlaAlert:
    key: str
    sla: str
    state: str
    summary: str
    problems: tuple[str, ...]
    evaluated_at: datetime

    @classmethod
    def from_status(cls, status: SlaStatus) -> SlaAlert:
        return cls(
            status.alert_key,
            status.sla.name,
            status.state.value,
            status.summary(),
            status.problems,
            status.evaluated_at,
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
            "evaluated_at": self.evaluated_at.isoformat(),
        }


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
        self.log.error(alert.text())
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
