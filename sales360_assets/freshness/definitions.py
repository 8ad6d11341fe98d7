"""The commission SLAs' definitions: the ``sla_<name>`` checks the UI shows and the sensor that
evaluates and records them (and alerts on breaches). Built from the loaded SLA config, so a
deployment's ``SALES360_SLA_CONFIG`` decides which checks exist.
"""

import dagster as dg

from sales360_assets.freshness.checks import build_sla_checks
from sales360_assets.freshness.config import SlaConfig
from sales360_assets.sensors.sla_alerts import build_sla_alert_sensor


def build_freshness_definitions(config: SlaConfig) -> dg.Definitions:
    return dg.Definitions(asset_checks=[build_sla_checks(config)], sensors=[build_sla_alert_sensor(config)])
