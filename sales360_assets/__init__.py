"""Sales 360: sales data platform assets (Dagster code location)."""

import warnings

import dagster as dg

# Single-run backfills (``backfill_policy``) are a deliberate choice (one run per date range, see
# partitions.py); Dagster marks the parameter beta and warned once per partitioned asset every time
# the definitions loaded — 11 identical lines in every CLI call, test and daemon tick. Only this
# one message is silenced; any other beta or preview API still warns.
warnings.filterwarnings(
    "ignore", message=r"Parameter `backfill_policy` of function `asset` is currently in beta", category=dg.BetaWarning
)
