"""Run a job in this process without Dagster holding every step's output until the run ends.

``JobDefinition.execute_in_process`` is Dagster's test API: it keeps each step's returned value
in a dict for its result object (``output_for_node``) even when an IO manager has already stored
it (dagster-io/dagster#9731, open). Our assets return whole frames that the Delta IO manager
writes, so in a range run every raw, staged, fact and mart frame of a region-year stayed alive
until the run finished: the run's peak was the sum of its outputs (12.66 GiB at 10 M order lines).

``execute_job`` (public) captures nothing but needs a reconstructable job, i.e. definitions
rebuilt from the environment instead of the ``Definitions`` object the caller holds (tests and
benchmarks build theirs for temporary lakes). So this is ``execute_in_process``'s own code path
(same ephemeral in-process job, tags, events and errors) with the capture switched off. It
touches two internal functions of Dagster 1.13; ``test_in_process`` fails if they change.
"""

from __future__ import annotations

from collections.abc import Mapping

import dagster as dg
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.execute_in_process import core_execute_in_process, merge_run_tags


def execute_without_output_capture(
    job_def: dg.JobDefinition,
    instance: dg.DagsterInstance,
    tags: Mapping[str, str] | None = None,
    run_config: Mapping[str, object] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    """``job_def.execute_in_process(...)`` minus the output capture: each output is freed once stored.

    The result has the run, its events and ``success``; ``output_for_node`` has nothing to return.
    """
    run_config = dict(run_config or {})
    ephemeral = job_def.as_ephemeral_job(resource_defs={}, input_values={})
    return core_execute_in_process(
        run_config=run_config,
        job=InMemoryJob(job_def=ephemeral),
        instance=instance,
        output_capturing_enabled=False,
        raise_on_error=raise_on_error,
        run_tags=merge_run_tags(job_def, None, tags, None, instance, run_config),
    )
