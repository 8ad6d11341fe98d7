"""Core star schema: dimensions (type 2 where history matters) and the sales and opportunity facts.

This domain's assets and their blocking checks (rules in ``checks/``). ``sales360_assets/definitions.py``
merges every domain's and adds what spans them: jobs, schedules, sensors, SLA checks, automation
and resources.
"""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.core.assets import core_assets

defs = dg.Definitions(assets=core_assets, asset_checks=build_all_checks(core_assets))
