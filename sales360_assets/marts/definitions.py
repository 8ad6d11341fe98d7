"""Marts: the daily date × region marts and the history-wide reporting marts.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.marts.assets import partitioned_mart_assets, reporting_mart_assets

defs = domain_definitions([*partitioned_mart_assets, *reporting_mart_assets])
