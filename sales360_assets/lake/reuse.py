"""Hand back an asset's last output when what it is computed from has not changed.

Dagster runs every step a job selects: data versions make an asset *show* stale in the UI, they do not
skip a step of a job run, and ``sales_reporting_job`` runs every day. A few marts are costly and
depend on inputs that change less often than that (the forecast marts fit statsforecast models on
complete weeks, which change once a week). Such an asset fingerprints what it is computed from —
its inputs, its settings, its own code — and when the fingerprint equals the one its latest
materialization recorded, it returns the table version that materialization wrote (Delta time
travel) instead of computing it again. Anything that cannot be reused (no earlier run, another
fingerprint, the version gone) means computing, never failing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from types import ModuleType

import dagster as dg
import polars as pl

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import last_recorded_write, table_name_for

INPUTS_FINGERPRINT = "inputs_fingerprint"
COMPUTED = "fitted"  # metadata: True when this materialization computed its table, False when it reused one


def fingerprint(*parts: pl.DataFrame | str | int | float) -> str:
    """SHA-256 over the parts: frames by their CSV text (deterministic, independent of memory layout)."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update((part.write_csv() if isinstance(part, pl.DataFrame) else repr(part)).encode())
        digest.update(b"\0")
    return digest.hexdigest()


def code_fingerprint(modules: Iterable[ModuleType], *versions: str) -> str:
    """The source of ``modules`` and library ``versions``: a new release of either computes again."""
    sources = [Path(str(module.__file__)).read_text() for module in modules]
    return fingerprint(*sources, *versions)


def previous_output(context: dg.AssetExecutionContext, lake: DeltaLake, inputs: str) -> pl.DataFrame | None:
    """The table the asset's latest materialization wrote, if it recorded the fingerprint ``inputs``
    and was written to this lake's table (not another lake root the instance once pointed at)."""
    written = last_recorded_write(context)
    recorded, version, uri = (written.get(k) for k in (INPUTS_FINGERPRINT, "delta_version", "dagster/uri"))
    name = table_name_for(context.asset_key)
    if recorded is None or recorded.value != inputs or version is None or uri is None:
        return None
    if str(uri.value) != lake.table_uri(name):
        return None
    try:
        return lake.read_version(name, int(str(version.value)))
    except Exception as exc:  # deleted or vacuumed by hand: compute instead
        context.log.info(f"Not reusing version {version.value}: {exc}; computing again")
        return None


def reused_or_computed(
    context: dg.AssetExecutionContext,
    lake: DeltaLake,
    inputs: Sequence[pl.DataFrame | str | int | float],
    compute: Callable[[], pl.DataFrame],
) -> tuple[pl.DataFrame, dict[str, object]]:
    """The previous table if it was computed from the same ``inputs``, else ``compute()``; and the
    metadata that records the inputs' fingerprint and which of the two happened."""
    key = fingerprint(*inputs)
    previous = previous_output(context, lake, key)
    table = compute() if previous is None else previous
    return table, {INPUTS_FINGERPRINT: key, COMPUTED: previous is None}
