"""Forecast: the weekly revenue forecast, its backtest and team vs target.

Its assets and their blocking checks (``checks.asset_checks.domain_definitions``).
"""

from sales360_assets.checks.asset_checks import domain_definitions
from sales360_assets.forecast.assets import forecast_assets

defs = domain_definitions(forecast_assets)
