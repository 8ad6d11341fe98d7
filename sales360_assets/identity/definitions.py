"""Identity: the crosswalk across CRM, web and store customers, the golden record and customer 360.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.identity.assets import identity_assets

defs = domain_definitions(identity_assets)
