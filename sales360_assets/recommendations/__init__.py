"""Market basket, cross-sell, upsell and recommendations: pure Polars (and ``implicit`` ALS), no Dagster."""
