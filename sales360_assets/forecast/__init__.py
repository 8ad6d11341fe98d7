"""Weekly revenue forecast, its backtest and team vs target: pure Polars and ``statsforecast``, no Dagster."""
