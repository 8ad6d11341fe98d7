"""The machinery the Dagster UI and daemon use, in-process: a real instance, a workspace, GraphQL.

A data engineer's backfill goes UI → GraphQL ``launchPartitionBackfill`` → backfill daemon
(``execute_backfill_iteration``) → run coordinator → run launcher. Tests here drive exactly that
path: the same GraphQL mutation the UI sends, the daemon's own iteration function, and Dagster's
synchronous in-memory run launcher (the one thing swapped out: runs execute in this process
instead of a subprocess, so a test finishes in seconds). Schedules and sensors are evaluated
through the same workspace with their real evaluation contexts.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import dagster as dg
from dagster._core.execution.backfill import BulkActionStatus
from dagster._core.remote_origin import InProcessCodeLocationOrigin
from dagster._core.test_utils import InProcessTestWorkspaceLoadTarget, create_test_daemon_workspace_context
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._core.workspace.context import WorkspaceProcessContext
from dagster._daemon.backfill import execute_backfill_iteration
from dagster_graphql.test.utils import execute_dagster_graphql

from sales360_assets_tests.servers import project_instance

LOCATION = "sales360_test"
REPOSITORY = "__repository__"

# Runs execute in this process, one step after another: the executor is not what is under test
# (backfill and schedule tags, partition resolution and writes are), and a process per step
# would make every run cost tens of seconds.
IN_PROCESS_RUN_CONFIG = {"execution": {"config": {"in_process": {}}}}

LAUNCH_BACKFILL = """
mutation($params: LaunchBackfillParams!) {
  launchPartitionBackfill(backfillParams: $params) {
    __typename
    ... on LaunchBackfillSuccess { backfillId }
    ... on PythonError { message stack }
    ... on PartitionSetNotFoundError { message }
    ... on InvalidStepError { invalidStepKey }
    ... on InvalidOutputError { stepKey invalidOutputName }
    ... on UnauthorizedError { message }
  }
}
"""


def write_definitions_file(directory: Path, sources_dir: Path, lake_uri: str) -> Path:
    """A code location file like a deployment's, bound to a test's sources and lake.

    The package's ``sales360_assets.definitions`` reads its paths from the environment once, at
    import; a file per test lets the run launcher rebuild *this* test's definitions from the
    run's code origin, as a real launcher does.
    """
    path = directory / f"sales360_defs_{uuid.uuid4().hex[:8]}.py"
    path.write_text(
        "from sales360_assets.definitions import build_definitions\n"
        f"defs = build_definitions({str(sources_dir)!r}, {lake_uri!r})\n"
    )
    return path


@dataclass
class Deployment:
    instance: dg.DagsterInstance
    process_context: WorkspaceProcessContext
    definitions_file: Path

    def graphql(self, query: str, variables: dict[str, Any]) -> dict[str, Any]:
        result = execute_dagster_graphql(self.process_context.create_request_context(), query, variables)
        assert not result.errors, result.errors
        return result.data

    def launch_backfill(self, params: dict[str, Any]) -> str:
        data = self.graphql(LAUNCH_BACKFILL, {"params": params})["launchPartitionBackfill"]
        assert data["__typename"] == "LaunchBackfillSuccess", data
        return data["backfillId"]

    def launch_job_backfill(self, job_name: str, partition_keys: Sequence[str]) -> str:
        """What the UI's job page → Partitions → "Launch backfill" sends."""
        return self.launch_backfill(
            {
                "selector": {
                    "partitionSetName": f"{job_name}_partition_set",
                    "repositorySelector": {"repositoryName": REPOSITORY, "repositoryLocationName": LOCATION},
                },
                "partitionNames": list(partition_keys),
                "runConfigData": IN_PROCESS_RUN_CONFIG,
            }
        )

    def launch_asset_backfill(
        self,
        asset_names: Sequence[str],
        partition_keys: Sequence[str],
        run_config: dict[str, Any] | None = IN_PROCESS_RUN_CONFIG,
    ) -> str:
        """What the UI's asset graph → "Materialize selected" with a partition selection sends
        (the asset page sends no run config: ``run_config=None``)."""
        params: dict[str, Any] = {
            "assetSelection": [{"path": [name]} for name in asset_names],
            "partitionNames": list(partition_keys),
        }
        if run_config is not None:
            params["runConfigData"] = run_config
        return self.launch_backfill(params)

    def run_backfill_daemon(self, backfill_id: str, max_iterations: int = 30) -> BulkActionStatus:
        """Iterate the backfill daemon until the backfill is done (its runs execute synchronously)."""
        logger = logging.getLogger("sales360.test.backfill_daemon")
        for _ in range(max_iterations):
            list(execute_backfill_iteration(self.process_context, logger))
            backfill = self.instance.get_backfill(backfill_id)
            assert backfill is not None
            if backfill.status not in (BulkActionStatus.REQUESTED,):
                return backfill.status
        raise AssertionError(f"backfill {backfill_id} not finished after {max_iterations} daemon iterations")

    def backfill_runs(self, backfill_id: str) -> list[dg.DagsterRun]:
        return list(self.instance.get_runs(dg.RunsFilter(tags={"dagster/backfill": backfill_id})))


@contextmanager
def deployment(directory: Path, sources_dir: Path, lake_uri: str) -> Iterator[Deployment]:
    """A fresh instance whose launcher executes runs synchronously, and a workspace over the code location."""
    definitions_file = write_definitions_file(directory, sources_dir, lake_uri)
    overrides = {
        "run_launcher": {
            "module": "dagster._core.launcher.sync_in_memory_run_launcher",
            "class": "SyncInMemoryRunLauncher",
        },
        "run_coordinator": {"module": "dagster._core.run_coordinator", "class": "DefaultRunCoordinator"},
    }
    origin = InProcessCodeLocationOrigin(
        LoadableTargetOrigin(python_file=str(definitions_file), attribute="defs", working_directory=str(directory)),
        location_name=LOCATION,
    )
    with (
        project_instance(overrides) as instance,
        create_test_daemon_workspace_context(InProcessTestWorkspaceLoadTarget(origin), instance) as context,
    ):
        yield Deployment(instance, context, definitions_file)
