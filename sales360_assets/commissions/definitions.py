"""Commissions: credit, attainment, statements and the ledger of closed months.

This domain's assets and their blocking checks (rules in ``checks/``). ``sales360_assets/definitions.py``
merges every domain's and adds what spans them: jobs, schedules, sensors, SLA checks, automation
and resources.
"""

import dagster as dg

from sales360_assets.checks.asset_checks import build_all_checks
from sales360_assets.commissions.assets import commission_assets

defs = dg.Definitions(assets=commission_assets, asset_checks=build_all_checks(commission_assets))
