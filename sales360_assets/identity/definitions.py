"""Identity: the crosswalk across CRM, web and store customers, the golden record and customer 360.

This domain's assets and their blocking checks (rules in ``checks/``). ``sales360_assets/definitions.py``
merges every domain's and adds what spans them: jobs, schedules, sensors, SLA checks, automation
and resources.
"""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.identity.assets import identity_assets

defs = dg.Definitions(assets=identity_assets, asset_checks=build_all_checks(identity_assets))
