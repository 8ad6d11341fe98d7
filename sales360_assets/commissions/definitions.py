"""Commissions: credit, attainment, statements and the ledger of closed months.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.commissions.assets import commission_assets

defs = domain_definitions(commission_assets)
