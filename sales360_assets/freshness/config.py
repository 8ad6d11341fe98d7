"""The SLA configuration: ``sla.yaml`` plus a deployment override, parsed into plain dataclasses.

No Dagster here: the config is read when the code location loads, by the CLI and by tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import yaml

from sales360_assets.settings import REGION_CODES

SLA_CONFIG_ENV = "SALES360_SLA_CONFIG"
DEFAULT_SLA_CONFIG = Path(__file__).resolve().parent.parent / "sla.yaml"
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Two weeks: long enough that a gap survives a weekend and a holiday, short enough to read quickly.
DEFAULT_LOOKBACK_DAYS = 14


class SlaConfigError(ValueError):
    """The SLA configuration is unusable; the message names the file and the field."""


def hours_text(delta: timedelta) -> str:
    minutes = int(delta.total_seconds() // 60)
    if minutes >= 48 * 60:
        return f"{minutes // (24 * 60)} days {minutes % (24 * 60) // 60} h"
    return f"{minutes // 60} h {minutes % 60:02d} min" if minutes >= 60 else f"{minutes} min"


@dataclass(frozen=True)
class _DeadlineSla:
    """Business date D is due by ``due_at`` (UTC) on D + ``due_days_after``, in every region of ``regions``.

    The fields and deadline arithmetic both date-deadline SLA types share, declared once; each type
    adds what it watches for (and ``subject``, ``kind``).
    """

    name: str
    description: str
    assets: tuple[str, ...]
    due_at: time
    due_days_after: int = 1
    regions: tuple[str, ...] = tuple(REGION_CODES)
    lookback_days: int = DEFAULT_LOOKBACK_DAYS

    def deadline_for(self, day: date) -> datetime:
        return datetime.combine(day + timedelta(days=self.due_days_after), self.due_at, tzinfo=UTC)

    def due_date_at(self, now: datetime) -> date:
        """The latest business date whose deadline has passed at ``now``."""
        candidate = now.astimezone(UTC).date() - timedelta(days=self.due_days_after)
        return candidate if self.deadline_for(candidate) <= now else candidate - timedelta(days=1)

    def due_text(self) -> str:
        """When a date is due and how far back it is checked: the end of each rule's description."""
        after = "the next day" if self.due_days_after == 1 else f"{self.due_days_after} days later"
        return f"by {self.due_at:%H:%M} UTC {after} (last {self.lookback_days} days checked)"


@dataclass(frozen=True)
class DailyPartitionSla(_DeadlineSla):
    """Every region's partition of business date D is delivered by ``due_at`` on D + ``due_days_after``.

    Delivered = materialized successfully by a run that started after D was over (UTC), so a
    partition written during its own day (partial data) does not count.
    """

    subject: str = "sales data"
    kind: str = field(default="daily_partitions", init=False)

    def describe_rule(self) -> str:
        return f"each date × {len(self.regions)} regions, from a run started after the day closed, {self.due_text()}"


@dataclass(frozen=True)
class AfterPartitionsSla(_DeadlineSla):
    """Unpartitioned tables rebuilt from date D's complete data, by ``due_at`` on D + ``due_days_after``.

    For the commission statements: they read all history, so they are up to date for D once a run
    that *started after* every region of D was delivered in ``after`` (the partitioned upstream)
    has materialized them.
    """

    # Keyword-only: it has no default, and the inherited fields before it do.
    after: tuple[str, ...] = field(kw_only=True)
    subject: str = "commission statement data"
    kind: str = field(default="after_partitions", init=False)

    def describe_rule(self) -> str:
        return f"rebuilt after every region of the date is in {', '.join(self.after)}, {self.due_text()}"


@dataclass(frozen=True)
class MaxAgeSla:
    """The newest materialization of each asset is at most ``max_age`` old (checked on business days)."""

    name: str
    description: str
    assets: tuple[str, ...]
    max_age: timedelta
    warn_after: timedelta | None = None
    business_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # Monday = 0
    subject: str = "data"
    kind: str = field(default="max_age", init=False)

    def applies_on(self, now: datetime) -> bool:
        return now.astimezone(UTC).weekday() in self.business_days

    def describe_rule(self) -> str:
        days = ",".join(WEEKDAYS[d] for d in self.business_days)
        return f"at most {hours_text(self.max_age)} old on {days}"


Sla = DailyPartitionSla | AfterPartitionsSla | MaxAgeSla


@dataclass(frozen=True)
class SlaConfig:
    slas: tuple[Sla, ...]
    sources: tuple[str, ...]

    def sla_by_name(self) -> dict[str, Sla]:
        return {sla.name: sla for sla in self.slas}

    def validate_assets(self, partitioned: Iterable[str], unpartitioned: Iterable[str]) -> None:
        """Fail when an SLA names an asset that does not exist or has the wrong partitioning."""
        partitioned, unpartitioned = set(partitioned), set(unpartitioned)
        known = partitioned | unpartitioned
        where = " + ".join(self.sources)
        for sla in self.slas:
            upstream = sla.after if isinstance(sla, AfterPartitionsSla) else ()
            for field_name, names in (("assets", sla.assets), ("after", upstream)):
                for asset in names:
                    if asset not in known:
                        raise SlaConfigError(
                            f"{where}: slas.{sla.name}.{field_name}: no asset named {asset!r} "
                            f"(known: {', '.join(sorted(known))})"
                        )
            if isinstance(sla, DailyPartitionSla):
                for asset in sla.assets:
                    if asset not in partitioned:
                        raise SlaConfigError(
                            f"{where}: slas.{sla.name}: {asset!r} is not partitioned by date × region, so a "
                            "daily_partitions SLA cannot apply; use type: max_age or after_partitions"
                        )
            if isinstance(sla, AfterPartitionsSla):
                for asset in sla.after:
                    if asset not in partitioned:
                        raise SlaConfigError(
                            f"{where}: slas.{sla.name}.after: {asset!r} is not partitioned by date × region"
                        )


_COMMON_FIELDS = {"description", "type", "assets", "enabled", "subject"}
_DAILY_FIELDS = {"due_at", "due_days_after", "regions", "lookback_days"}
_FIELDS = {
    "daily_partitions": _COMMON_FIELDS | _DAILY_FIELDS,
    "after_partitions": _COMMON_FIELDS | _DAILY_FIELDS | {"after"},
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


def _whole_number(source: str, path: str, value: Any, minimum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise _fail(source, path, f"{value!r} is not a whole number of days >= {minimum}")
    return value


def _asset_list(source: str, path: str, value: Any) -> tuple[str, ...]:
    if not isinstance(value, list) or not value or not all(isinstance(a, str) and a for a in value):
        raise _fail(source, path, "a non-empty list of asset names")
    return tuple(value)


def _regions(source: str, path: str, value: Any) -> tuple[str, ...]:
    if value == "all":
        return tuple(REGION_CODES)
    if isinstance(value, list) and value:
        unknown_regions = [r for r in value if r not in REGION_CODES]
        if unknown_regions:
            raise _fail(source, path, f"unknown region(s) {unknown_regions}; known: {', '.join(REGION_CODES)}")
        return tuple(sorted(set(value)))
    raise _fail(source, path, f"`all` or a list of region codes, got {value!r}")


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
    assets = _asset_list(source, f"{base}.assets", raw.get("assets"))
    subject = raw.get("subject")
    if subject is not None and (not isinstance(subject, str) or not subject.strip()):
        raise _fail(source, f"{base}.subject", "what sales ops call this data, e.g. `sales data`")
    if kind in ("daily_partitions", "after_partitions"):
        if "due_at" not in raw:
            raise _fail(source, f"{base}.due_at", 'missing; the deadline as "HH:MM" UTC')
        common: dict[str, Any] = {
            "name": name,
            "description": description.strip(),
            "assets": assets,
            "due_at": _time_of_day(source, f"{base}.due_at", raw["due_at"]),
            "due_days_after": _whole_number(source, f"{base}.due_days_after", raw.get("due_days_after", 1), 0),
            "regions": _regions(source, f"{base}.regions", raw.get("regions", "all")),
            "lookback_days": _whole_number(
                source, f"{base}.lookback_days", raw.get("lookback_days", DEFAULT_LOOKBACK_DAYS), 1
            ),
        }
        if subject:
            common["subject"] = subject.strip()
        if kind == "daily_partitions":
            return DailyPartitionSla(**common)
        after = _asset_list(source, f"{base}.after", raw.get("after"))
        return AfterPartitionsSla(after=after, **common)
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
        assets=assets,
        max_age=max_age,
        warn_after=warn_after,
        business_days=tuple(sorted({WEEKDAYS.index(str(d).lower()) for d in days_raw})),
        **({"subject": subject.strip()} if subject else {}),
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
                    f"{asset!r} is already covered by SLA {seen[asset]!r}; an asset is in one SLA only",
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
