"""Free the frames of finished steps when the next step of an in-process run starts loading inputs.

Dagster's step machinery leaves reference cycles (step contexts, event generators) that still
point at the frames a finished step loaded and returned. Python frees cycles only when its
collector runs, and it counts Python objects, not the gigabytes behind one Polars frame, so in
an in-process run (``sales360 materialize``, range backfills) a step could start on top of the
previous steps' frames. Collecting once when a step loads its first input frees them: the step
has not allocated anything yet. (A Dagster hook would run at the right moment, but any hook makes
Dagster keep every step output for the hook's ``op_output_values``, the opposite of the aim.) In a
multiprocess run each step's process ends, so this changes nothing there.
"""

from __future__ import annotations

import gc

import dagster as dg

_collected_for: tuple[str, str] | None = None


def free_finished_steps(context: dg.InputContext) -> None:
    """A full collection, once per step (the first input it loads); nothing outside a run."""
    global _collected_for
    # ``Definitions.load_asset_value`` and ``build_input_context`` load without a step, and
    # ``InputContext.step_context`` raises then: Dagster offers no public "has a step" test.
    step_context = context._step_context
    if step_context is None:
        return
    step = (step_context.run_id, step_context.step.key)
    if step != _collected_for:
        _collected_for = step
        gc.collect()
