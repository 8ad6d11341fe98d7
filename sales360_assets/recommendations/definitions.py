"""Recommendations: market basket, cross-sell, upsell and per-customer recommendations.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.recommendations.assets import recommendation_assets

defs = domain_definitions(recommendation_assets)
