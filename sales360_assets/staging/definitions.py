"""Staging: validated source tables; what fails validation goes to the dead-letter table with its reason.

This domain's assets and their blocking checks (rules in ``checks/``). ``sales360_assets/definitions.py``
merges every domain's and adds what spans them: jobs, schedules, sensors, SLA checks, automation
and resources.
"""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.staging.assets import staging_assets
from sales360_assets.staging.dead_letter_asset import dead_letter

assets = [*staging_assets, dead_letter]
defs = dg.Definitions(assets=assets, asset_checks=build_all_checks(assets))
