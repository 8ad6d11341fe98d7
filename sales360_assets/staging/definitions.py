"""Staging: validated source tables; what fails validation goes to the dead-letter table with its reason.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.staging.assets import staging_assets
from sales360_assets.staging.dead_letter_asset import dead_letter

defs = domain_definitions([*staging_assets, dead_letter])
