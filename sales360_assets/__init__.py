"""Sales 360: sales data platform assets (Dagster code location)."""
