"""Regions and currencies from a deployment YAML (``SALES360_CONFIG``), validated naming the field.

Before: regions and currencies were hard-coded in settings.py; a company with other regions had
to change code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from sales360_assets.deployment_config import (
    DEFAULT_REGIONS,
    DeploymentConfigError,
    load_deployment_config,
)

PROJECT = Path(__file__).resolve().parents[1]
TWO_REGIONS = """\
regions:
  - code: dach
    name: Germany, Austria & Switzerland
    currency: EUR
    countries: [DE, AT]
    timezone: Europe/Berlin
  - code: us
    name: United States
    currency: USD
    countries: [US]
    timezone: America/New_York
currencies: [CHF]
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "sales360.yaml"
    path.write_text(text)
    return path


def test_no_file_keeps_the_four_regions() -> None:
    config = load_deployment_config(None)
    assert sorted(config.regions) == ["apac", "emea", "na", "uk"]
    assert config.regions == DEFAULT_REGIONS
    assert config.known_currencies == frozenset({"USD", "EUR", "GBP", "JPY"})


def test_a_file_replaces_regions_and_adds_currencies(tmp_path: Path) -> None:
    config = load_deployment_config(write(tmp_path, TWO_REGIONS))
    assert sorted(config.regions) == ["dach", "us"]
    assert config.regions["dach"].countries == ("DE", "AT")
    assert config.regions["dach"].timezone == "Europe/Berlin"
    # The reporting currency is always known; CHF is accepted although no region books in it.
    assert config.known_currencies == frozenset({"USD", "EUR", "CHF"})


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("regions: []\n", "regions: at least one region"),
        ("regions:\n  - {code: NA, currency: USD, countries: [US]}\n", "regions[0].code"),
        ("regions:\n  - {code: na, currency: usd, countries: [US]}\n", "regions[0].currency"),
        ("regions:\n  - {code: na, currency: USD, countries: []}\n", "regions[0].countries"),
        ("regions:\n  - {code: na, currency: USD, countries: [USA]}\n", "regions[0].countries"),
        ("regions:\n  - {code: nordics, currency: NOK, countries: [NO, SE]}\n", 'quote the code, e.g. "NO"'),
        ("regions:\n  - {code: na, currency: USD, countries: [US], timezone: Mars/Base}\n", "regions[0].timezone"),
        ("regions:\n  - {code: na, currency: USD, countries: [US], colour: red}\n", "regions[0]: unknown field"),
        ("regions:\n  - {currency: USD, countries: [US]}\n", "regions[0].code"),
        (
            "regions:\n  - {code: a, currency: USD, countries: [US]}\n  - {code: a, currency: EUR, countries: [DE]}\n",
            "regions[1].code",
        ),
        (
            "regions:\n  - {code: a, currency: EUR, countries: [FR]}\n  - {code: b, currency: EUR, countries: [DE]}\n",
            "regions[1].currency",
        ),
        (
            "regions:\n  - {code: a, currency: USD, countries: [US]}\n  - {code: b, currency: EUR, countries: [US]}\n",
            "regions[1].countries",
        ),
        ("regions:\n  - {code: a, currency: USD, countries: [US]}\ncurrencies: [chf]\n", "currencies[0]"),
        ("regoins: []\n", "unknown field 'regoins'"),
        ("regions: [\n", "not valid YAML"),
    ],
)
def test_a_bad_file_is_refused_naming_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(DeploymentConfigError) as raised:
        load_deployment_config(path)
    assert message in str(raised.value) and str(path) in str(raised.value)


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DeploymentConfigError, match="SALES360_CONFIG"):
        load_deployment_config(tmp_path / "nope.yaml")


def test_the_partitions_and_rules_follow_the_configured_regions(tmp_path: Path) -> None:
    # A fresh interpreter: settings are read once, when the code location loads.
    probe = (
        "import json\n"
        "from sales360_assets.partitions import region_partitions\n"
        "from sales360_assets.settings import KNOWN_CURRENCIES, REGION_BY_CURRENCY\n"
        "from sales360_assets.sources.routing import UNROUTED_REGION_OWNER\n"
        "print(json.dumps([region_partitions.get_partition_keys(), sorted(KNOWN_CURRENCIES), "
        "REGION_BY_CURRENCY, UNROUTED_REGION_OWNER]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(PROJECT), "SALES360_CONFIG": str(write(tmp_path, TWO_REGIONS))}
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    keys, currencies, by_currency, owner = json.loads(done.stdout.strip().splitlines()[-1])
    assert keys == ["dach", "us"]
    assert currencies == ["CHF", "EUR", "USD"]
    assert by_currency == {"EUR": "dach", "USD": "us"}
    assert owner == "dach"


def test_the_cli_reports_a_bad_file_in_one_line_not_a_traceback(tmp_path: Path) -> None:
    """`sales360 …` with a broken SALES360_CONFIG: the field and what to do, exit 2 (was an import traceback)."""
    config = tmp_path / "sales360.yaml"
    config.write_text("regions:\n  - code: na\n    currency: 12\n")
    env = {**os.environ, "SALES360_CONFIG": str(config)}
    # The installed console script, as a user runs it (the same entry point pyproject declares).
    script = Path(sys.executable).with_name("sales360")
    done = subprocess.run([str(script), "dead-letters"], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
    assert done.stderr.startswith(f"error: {config}: regions[0].currency: 12 is not an upper-case ISO 4217 code")
    assert "unset SALES360_CONFIG" in done.stderr
