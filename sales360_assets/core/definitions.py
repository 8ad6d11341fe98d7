"""Core star schema: dimensions (type 2 where history matters) and the sales and opportunity facts.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.core.assets import core_assets

defs = domain_definitions(core_assets)
