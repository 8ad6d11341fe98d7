"""Marts: the daily date × region marts and the history-wide reporting marts.

This domain's assets and their blocking checks (rules in ``checks/``). ``sales360_assets/definitions.py``
merges every domain's and adds what spans them: jobs, schedules, sensors, SLA checks, automation
and resources.
"""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.marts.assets import partitioned_mart_assets, reporting_mart_assets

assets = [*partitioned_mart_assets, *reporting_mart_assets]
defs = dg.Definitions(assets=assets, asset_checks=build_all_checks(assets))
