"""Raw extracts: Salesforce, the warehouse and the POS/ERP files, as landed.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.raw.assets import raw_assets

defs = domain_definitions(raw_assets)
