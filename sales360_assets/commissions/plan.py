"""Commission plan: load ``plan.yaml`` and refuse anything ambiguous, with a message naming the field.

Compensation mistakes are expensive and hard to reverse, so the loader is strict: unknown keys,
gaps or overlaps between accelerator bands, negative rates or a missing clawback window stop the
run before a single statement is computed.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import yaml

DEFAULT_PLAN_PATH = Path(__file__).with_name("plan.yaml")


class PlanError(ValueError):
    """The commission plan file is invalid; the message says where and why."""


@dataclass(frozen=True)
class AcceleratorBand:
    from_pct: float  # inclusive
    to_pct: float | None  # exclusive; None: open-ended
    multiplier: float

    @property
    def label(self) -> str:
        upper = f"{self.to_pct:g} %" if self.to_pct is not None else "∞"
        return f"{self.from_pct:g}–{upper}: {self.multiplier:g}×"


@dataclass(frozen=True)
class CommissionPlan:
    name: str
    effective_from: date | None
    base_rate_pct_by_product_family: dict[str, float]
    default_base_rate_pct: float
    accelerators: tuple[AcceleratorBand, ...]
    no_quota_multiplier: float
    monthly_cap_usd: float | None
    clawback_window_days: int

    def base_rate_pct(self, family: str | None) -> float:
        return self.base_rate_pct_by_product_family.get(family or "", self.default_base_rate_pct)

    def band(self, attainment_pct: float | None) -> AcceleratorBand | None:
        """The band containing the attainment (None without a quota)."""
        if attainment_pct is None:
            return None
        for band in self.accelerators:
            if attainment_pct >= band.from_pct and (band.to_pct is None or attainment_pct < band.to_pct):
                return band
        return self.accelerators[0]  # below the first band's floor: negative attainment is not possible

    def base_rate_expr(self, family: pl.Expr) -> pl.Expr:
        return family.replace_strict(
            self.base_rate_pct_by_product_family, default=self.default_base_rate_pct, return_dtype=pl.Float64
        )

    def multiplier_expr(self, attainment_pct: pl.Expr) -> pl.Expr:
        """The band's multiplier for an attainment column (the no-quota multiplier for null)."""
        expr: pl.Expr = pl.lit(self.no_quota_multiplier)
        for band in reversed(self.accelerators):
            inside = attainment_pct >= band.from_pct
            if band.to_pct is not None:
                inside = inside & (attainment_pct < band.to_pct)
            expr = pl.when(inside).then(pl.lit(band.multiplier)).otherwise(expr)
        return expr.cast(pl.Float64)

    def band_label_expr(self, attainment_pct: pl.Expr) -> pl.Expr:
        expr: pl.Expr = pl.lit("no quota")
        for band in reversed(self.accelerators):
            inside = attainment_pct >= band.from_pct
            if band.to_pct is not None:
                inside = inside & (attainment_pct < band.to_pct)
            expr = pl.when(inside).then(pl.lit(band.label)).otherwise(expr)
        return expr

    def summary(self) -> str:
        rates = ", ".join(f"{k} {v:g} %" for k, v in sorted(self.base_rate_pct_by_product_family.items()))
        bands = "; ".join(b.label for b in self.accelerators)
        cap = f"{self.monthly_cap_usd:,.0f} USD a month" if self.monthly_cap_usd is not None else "none"
        return (
            f"{self.name}: base rates {rates} (other families {self.default_base_rate_pct:g} %); accelerators "
            f"{bands}; cap {cap}; clawback within {self.clawback_window_days} days of booking."
        )


# The families dim_product can carry (the CRM Product2 family, else the catalogue category, else
# "Unmapped"). A plan may declare its own list (``product_families``); a rate for any other name
# is a typo that would silently pay the default rate.
PRODUCT_FAMILIES = ("Apparel", "Beauty", "Electronics", "Home", "Services", "Sports", "Unmapped")

_KEYS = {
    "name",
    "product_families",
    "effective_from",
    "base_rate_pct_by_product_family",
    "default_base_rate_pct",
    "accelerators",
    "no_quota_multiplier",
    "monthly_cap_usd",
    "clawback_window_days",
}
_REQUIRED = _KEYS - {"effective_from", "monthly_cap_usd", "no_quota_multiplier", "product_families"}


def _number(value: Any, where: str, minimum: float = 0.0, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise PlanError(f"{where} must be a number, got {value!r}")
    if value < minimum or (maximum is not None and value > maximum):
        bound = f"between {minimum:g} and {maximum:g}" if maximum is not None else f"at least {minimum:g}"
        raise PlanError(f"{where} must be {bound}, got {value!r}")
    return float(value)


def _check_families(rates: dict[str, float], declared: Any, source: str) -> None:
    if not isinstance(declared, list | tuple) or not declared or not all(isinstance(f, str) for f in declared):
        raise PlanError(f"{source}: product_families must be a list of product family names")
    for family in rates:
        if family not in declared:
            close = difflib.get_close_matches(family, declared, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise PlanError(
                f"{source}: base_rate_pct_by_product_family.{family}: unknown product family {family!r}{hint}; "
                f"known: {', '.join(declared)}. Its sales would be paid the default rate"
            )


def parse_plan(raw: Any, source: str = "plan") -> CommissionPlan:
    """Validate a parsed YAML document into a plan; raise ``PlanError`` naming the offending field."""
    if not isinstance(raw, dict):
        raise PlanError(f"{source}: the plan must be a mapping of settings, got {type(raw).__name__}")
    unknown = sorted(set(raw) - _KEYS)
    if unknown:
        raise PlanError(f"{source}: unknown setting(s) {', '.join(unknown)} (allowed: {', '.join(sorted(_KEYS))})")
    missing = sorted(_REQUIRED - set(raw))
    if missing:
        raise PlanError(f"{source}: missing setting(s) {', '.join(missing)}")

    rates_raw = raw["base_rate_pct_by_product_family"]
    if not isinstance(rates_raw, dict) or not rates_raw:
        raise PlanError(f"{source}: base_rate_pct_by_product_family must map product families to percentages")
    rates = {
        str(family): _number(rate, f"{source}: base_rate_pct_by_product_family.{family}", 0.0, 100.0)
        for family, rate in rates_raw.items()
    }
    _check_families(rates, raw.get("product_families", PRODUCT_FAMILIES), source)
    default_rate = _number(raw["default_base_rate_pct"], f"{source}: default_base_rate_pct", 0.0, 100.0)

    bands_raw = raw["accelerators"]
    if not isinstance(bands_raw, list) or not bands_raw:
        raise PlanError(f"{source}: accelerators must be a non-empty list of bands")
    bands: list[AcceleratorBand] = []
    for i, band in enumerate(bands_raw):
        where = f"{source}: accelerators[{i}]"
        if not isinstance(band, dict) or set(band) != {"from_pct", "to_pct", "multiplier"}:
            raise PlanError(f"{where} must have exactly from_pct, to_pct and multiplier")
        low = _number(band["from_pct"], f"{where}.from_pct")
        high = None if band["to_pct"] is None else _number(band["to_pct"], f"{where}.to_pct")
        multiplier = _number(band["multiplier"], f"{where}.multiplier")
        if i == 0 and low != 0:
            raise PlanError(f"{where}.from_pct must be 0 so that every attainment has a band, got {low:g}")
        if i > 0:
            previous = bands[-1]
            if previous.to_pct is None:
                raise PlanError(
                    f"{source}: accelerators[{i - 1}] is open-ended (to_pct: null) but is not the last band"
                )
            if low != previous.to_pct:
                kind = "gap" if low > previous.to_pct else "overlap"
                raise PlanError(
                    f"{where}.from_pct ({low:g}) must equal accelerators[{i - 1}].to_pct ({previous.to_pct:g}): "
                    f"bands would {kind}"
                )
        if high is not None and high <= low:
            raise PlanError(f"{where}.to_pct ({high:g}) must be above from_pct ({low:g})")
        bands.append(AcceleratorBand(low, high, multiplier))
    if bands[-1].to_pct is not None:
        raise PlanError(
            f"{source}: the last accelerator band must be open-ended (to_pct: null); attainment above "
            f"{bands[-1].to_pct:g} % would have no band"
        )

    cap = raw.get("monthly_cap_usd")
    window = raw["clawback_window_days"]
    if isinstance(window, bool) or not isinstance(window, int) or window < 0:
        raise PlanError(f"{source}: clawback_window_days must be a whole number of days ≥ 0, got {window!r}")
    effective = raw.get("effective_from")
    if effective is not None and not isinstance(effective, date):
        raise PlanError(f"{source}: effective_from must be a date (YYYY-MM-DD), got {effective!r}")
    name = raw["name"]
    if not isinstance(name, str) or not name.strip():
        raise PlanError(f"{source}: name must be a non-empty text")
    return CommissionPlan(
        name=name.strip(),
        effective_from=effective,
        base_rate_pct_by_product_family=rates,
        default_base_rate_pct=default_rate,
        accelerators=tuple(bands),
        no_quota_multiplier=_number(raw.get("no_quota_multiplier", 1.0), f"{source}: no_quota_multiplier"),
        monthly_cap_usd=None if cap is None else _number(cap, f"{source}: monthly_cap_usd"),
        clawback_window_days=window,
    )


def load_plan(path: Path | str = DEFAULT_PLAN_PATH) -> CommissionPlan:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise PlanError(f"{path}: not valid YAML: {exc}") from exc
    return parse_plan(raw, str(path))
