"""Runs whose worker process died: mark them failed and give back their concurrency-pool slots.

A run whose process is killed (``kill -9``, OOM killer, a closed laptop lid) never writes its
end event: Dagster keeps it STARTED forever, its steps keep their ``salesforce`` pool slots, and
the next run waits silently for slots nobody will free. The daemon's ``run_monitoring``
(``dagster.yaml``) cannot tell that the worker is gone for runs executed in-process by
``sales360 materialize`` (no run launcher started them) nor, with the default run launcher, for
local daemon runs: it only fails them once ``max_runtime_seconds`` has passed.

So the CLI checks before each run: every STARTED run whose worker ran on this host is looked up
by its process id; if that process is gone (or the id now belongs to a younger process), the
run is reported failed with a message saying so and its pool slots are freed.

Where the worker's identity comes from:

* runs started through ``sales360_assets.cli.run_job`` carry ``sales360/worker_host`` and
  ``sales360/worker_pid`` tags (set by the CLI before the run starts);
* other runs (launched by the daemon or the UI on this machine) have the pid Dagster records on
  their RUN_START event, and the ``dagster/grpc_info`` tag naming the code server's host.

Runs of another host are never touched: a process id means nothing elsewhere.
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Callable, Collection
from dataclasses import dataclass

import dagster as dg
import psutil

WORKER_HOST_TAG = "sales360/worker_host"
WORKER_PID_TAG = "sales360/worker_pid"
GRPC_INFO_TAG = "dagster/grpc_info"
LOCAL_HOSTS = {"localhost", "127.0.0.1", "::1", "0.0.0.0"}
# A process started this long after the run did cannot be its worker (its pid was reused);
# psutil derives create times from boot time + clock ticks, so allow for rounding.
CREATE_TIME_SLACK_SECONDS = 2.0


def worker_tags() -> dict[str, str]:
    """Tags naming the current process as the run's worker (for runs executed in this process)."""
    return {WORKER_HOST_TAG: socket.gethostname(), WORKER_PID_TAG: str(os.getpid())}


@dataclass(frozen=True)
class Worker:
    host: str
    pid: int


@dataclass(frozen=True)
class DeadRun:
    run_id: str
    job_name: str
    worker: Worker
    reason: str


def process_is_alive(pid: int, started_by: float | None) -> bool:
    """Whether ``pid`` is a live process that already existed when the run started (``started_by``)."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            return False  # killed, only waiting for its parent to reap it
        created = process.create_time()
    except (psutil.NoSuchProcess, psutil.ZombieProcess):
        return False
    except psutil.AccessDenied:
        return True  # it exists; we may not inspect it, so do not claim it is dead
    return started_by is None or created <= started_by + CREATE_TIME_SLACK_SECONDS


def _is_this_host(host: str, this_host: str) -> bool:
    return host == this_host or host in LOCAL_HOSTS


def run_worker(instance: dg.DagsterInstance, run: dg.DagsterRun, this_host: str) -> Worker | None:
    """The run's worker process on this host, or None when unknown or on another host."""
    tags = run.tags
    if WORKER_PID_TAG in tags and WORKER_HOST_TAG in tags:
        host = tags[WORKER_HOST_TAG]
        return Worker(host, int(tags[WORKER_PID_TAG])) if _is_this_host(host, this_host) else None
    grpc_host = json.loads(tags[GRPC_INFO_TAG]).get("host", "") if GRPC_INFO_TAG in tags else ""
    if not _is_this_host(grpc_host, this_host):
        return None
    # Launched by a code server on this machine: the worker logged RUN_START from its own process.
    for record in instance.get_records_for_run(run.run_id, of_type=dg.DagsterEventType.RUN_START).records:
        event = record.event_log_entry.dagster_event
        if event is not None and event.pid is not None:
            return Worker(this_host, event.pid)
    return None


def find_dead_runs(
    instance: dg.DagsterInstance,
    job_names: Collection[str] | None = None,
    is_alive: Callable[[int, float | None], bool] = process_is_alive,
) -> list[DeadRun]:
    """STARTED runs (of ``job_names``, when given) whose worker process on this host is gone."""
    this_host = socket.gethostname()
    dead = []
    for record in instance.get_run_records(dg.RunsFilter(statuses=[dg.DagsterRunStatus.STARTED])):
        run = record.dagster_run
        if job_names is not None and run.job_name not in job_names:
            continue
        worker = run_worker(instance, run, this_host)
        if worker is None or worker.pid == os.getpid() or is_alive(worker.pid, record.start_time):
            continue
        dead.append(
            DeadRun(
                run.run_id,
                run.job_name,
                worker,
                f"The run worker (pid {worker.pid} on {worker.host}) is gone: the process was killed or crashed "
                "without reporting an end (e.g. kill -9, out of memory). Marked failed by sales360 so its "
                "concurrency-pool slots are freed and later runs do not wait for them. Partitions it was writing "
                "kept their previous Delta version; re-run them (the retry sensor or a backfill does).",
            )
        )
    return dead


def fail_dead_runs(instance: dg.DagsterInstance, job_names: Collection[str] | None = None) -> list[DeadRun]:
    """Report every dead run (``find_dead_runs``) failed, with the reason, and free the pool slots its steps held."""
    dead = find_dead_runs(instance, job_names)
    for item in dead:
        run = instance.get_run_by_id(item.run_id)
        if run is None or run.status != dg.DagsterRunStatus.STARTED:
            continue  # it ended (or someone else failed it) since we looked
        instance.report_run_failed(run, item.reason)
        storage = instance.event_log_storage
        if storage.supports_global_concurrency_limits:
            # Frees the slots the run's steps claimed and drops its pending steps, then hands the
            # freed slots to steps of other runs waiting in the pool.
            storage.free_concurrency_slots_for_run(item.run_id)
    return dead


def main() -> int:
    """``python -m sales360_assets.run_health``: fail dead runs in ``$DAGSTER_HOME`` now (on-call)."""
    with dg.DagsterInstance.get() as instance:
        dead = fail_dead_runs(instance)
    for item in dead:
        print(f"marked run {item.run_id} ({item.job_name}) failed: worker pid {item.worker.pid} is gone")
    if not dead:
        print("no STARTED run with a dead worker on this host")
    return 0


if __name__ == "__main__":
    sys.exit(main())
