"""Reports: the sales team report.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.reports.assets import report_assets

defs = domain_definitions(report_assets)
