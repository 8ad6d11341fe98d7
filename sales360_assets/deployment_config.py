"""The deployment's regions and currencies: ``SALES360_CONFIG`` (a YAML file), else the four defaults.

Read once, when ``settings`` is imported, so every module that imports ``REGIONS``,
``REGION_CODES``, ``REGION_BY_CURRENCY`` or ``KNOWN_CURRENCIES`` from ``settings`` follows the file
without a code change. A bad file is refused with the file and the field named, before any run::

    regions:
      - code: dach                  # lower case, a partition key: [a-z][a-z0-9_]*
        name: DACH                  # optional, default: the code
        currency: EUR               # the currency the region books in (ISO 4217), one region each
        countries: [DE, AT, CH]     # ISO 3166 alpha-2; a country belongs to one region
        timezone: Europe/Berlin     # optional IANA name, default UTC
    currencies: [CHF]               # optional: more currencies sources may use (they need FX rates)

The reporting currency stays USD (the ``*_usd`` columns say so).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml

CONFIG_ENV = "SALES360_CONFIG"
REPORTING_CURRENCY = "USD"
REGION_FIELDS = ("code", "name", "currency", "countries", "timezone")
# A region code is a Dagster partition key and a Delta partition value: keep it plain.
_CODE = re.compile(r"[a-z][a-z0-9_]*")
_CURRENCY = re.compile(r"[A-Z]{3}")
_COUNTRY = re.compile(r"[A-Z]{2}")


class DeploymentConfigError(ValueError):
    """The deployment configuration is unusable; the message names the file and the field."""


@dataclass(frozen=True)
class Region:
    code: str
    name: str
    currency: str
    countries: tuple[str, ...]
    timezone: str = "UTC"


DEFAULT_REGIONS: dict[str, Region] = {
    "na": Region("na", "North America", "USD", ("US", "CA"), "America/New_York"),
    "emea": Region("emea", "Europe, Middle East & Africa", "EUR", ("DE", "FR", "NL", "ES", "IT"), "Europe/Berlin"),
    "uk": Region("uk", "United Kingdom & Ireland", "GBP", ("GB", "IE"), "Europe/London"),
    "apac": Region("apac", "Asia Pacific", "JPY", ("JP",), "Asia/Tokyo"),
}


@dataclass(frozen=True)
class DeploymentConfig:
    regions: dict[str, Region]
    extra_currencies: frozenset[str] = frozenset()

    @property
    def known_currencies(self) -> frozenset[str]:
        """Every currency a source may use; anything else is a defect (dead letter)."""
        return frozenset({REPORTING_CURRENCY, *(r.currency for r in self.regions.values()), *self.extra_currencies})


def load_deployment_config(path: Path | None) -> DeploymentConfig:
    """The configuration in ``path``; the four default regions when None."""
    if path is None:
        return DeploymentConfig(dict(DEFAULT_REGIONS))
    if not path.is_file():
        raise DeploymentConfigError(f"{CONFIG_ENV}={path}: no such file")
    try:
        document = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise DeploymentConfigError(f"{path}: not valid YAML ({str(exc).splitlines()[0]})") from None

    def fail(field: str, problem: str) -> DeploymentConfigError:
        return DeploymentConfigError(f"{path}: {field}: {problem}" if field else f"{path}: {problem}")

    if not isinstance(document, Mapping):
        raise fail("", "expected a mapping with 'regions' (and optionally 'currencies')")
    unknown = sorted(set(document) - {"regions", "currencies"})
    if unknown:
        raise fail("", f"unknown field {unknown[0]!r}; expected 'regions' and optionally 'currencies'")
    items = document.get("regions")
    if not isinstance(items, list) or not items:
        raise fail("regions", "at least one region is needed, as a list of mappings")
    regions: dict[str, Region] = {}
    by_currency: dict[str, str] = {}
    by_country: dict[str, str] = {}
    for index, item in enumerate(items):
        where = f"regions[{index}]"
        region = _region(item, where, fail)
        if region.code in regions:
            raise fail(f"{where}.code", f"{region.code!r} is already a region")
        if region.currency in by_currency:
            # core.deals derives a CRM deal's region from its currency (REGION_BY_CURRENCY).
            raise fail(
                f"{where}.currency",
                f"{region.currency} is already the currency of region {by_currency[region.currency]!r}; "
                "each region books in its own currency",
            )
        for country in region.countries:
            if country in by_country:
                raise fail(f"{where}.countries", f"{country} already belongs to region {by_country[country]!r}")
            by_country[country] = region.code
        by_currency[region.currency] = region.code
        regions[region.code] = region
    extra = document.get("currencies") or []
    if not isinstance(extra, list):
        raise fail("currencies", "expected a list of ISO 4217 codes such as [CHF]")
    for index, code in enumerate(extra):
        if not isinstance(code, str) or not _CURRENCY.fullmatch(code):
            raise fail(f"currencies[{index}]", f"{code!r} is not an upper-case ISO 4217 code such as CHF")
    return DeploymentConfig(regions, frozenset(extra))


def _region(item: Any, where: str, fail: Any) -> Region:
    if not isinstance(item, Mapping):
        raise fail(where, "expected a mapping with code, currency and countries")
    unknown = sorted(set(item) - set(REGION_FIELDS))
    if unknown:
        raise fail(where, f"unknown field {unknown[0]!r}; expected {', '.join(REGION_FIELDS)}")
    code = item.get("code")
    if not isinstance(code, str) or not _CODE.fullmatch(code):
        raise fail(f"{where}.code", f"{code!r} must be lower case letters, digits or _ (e.g. emea)")
    currency = item.get("currency")
    if not isinstance(currency, str) or not _CURRENCY.fullmatch(currency):
        raise fail(f"{where}.currency", f"{currency!r} is not an upper-case ISO 4217 code such as EUR")
    countries = item.get("countries")
    if not isinstance(countries, list) or not countries:
        raise fail(f"{where}.countries", "at least one ISO 3166 alpha-2 code, e.g. [DE, AT]")
    for country in countries:
        if isinstance(country, bool):  # YAML 1.1 reads NO (Norway) and similar as a boolean
            raise fail(f"{where}.countries", f'{country!r} is a YAML boolean: quote the code, e.g. "NO" for Norway')
        if not isinstance(country, str) or not _COUNTRY.fullmatch(country):
            raise fail(f"{where}.countries", f"{country!r} is not an upper-case ISO 3166 alpha-2 code such as DE")
    timezone = item.get("timezone", "UTC")
    try:
        ZoneInfo(str(timezone))
    except (ZoneInfoNotFoundError, ValueError):
        raise fail(f"{where}.timezone", f"{timezone!r} is not an IANA time zone name (e.g. Europe/Berlin)") from None
    name = item.get("name", code)
    return Region(code, str(name), currency, tuple(countries), str(timezone))


def deployment_config_from_env() -> DeploymentConfig:
    raw = os.environ.get(CONFIG_ENV, "").strip()
    return load_deployment_config(Path(raw) if raw else None)
