"""The production deployment files load, and say the same as the local instance except where they must differ.

The PostgreSQL profile is run for real in test_postgres_instance.py; here it is checked against
Dagster's instance schema without a server, and against the local dagster.yaml and the Helm
values, so a limit changed in one place is not silently left behind in another.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from dagster._core.instance.config import dagster_instance_config

from sales360_assets_tests.servers import LOCAL_PROFILE, POSTGRES_PROFILE, REPO

HELM_VALUES = REPO / "deploy" / "k8s" / "values.yaml"


def _load(path: Path) -> dict:
    return yaml.safe_load(path.read_text())


def test_the_postgres_profile_passes_dagsters_instance_schema() -> None:
    # Dagster's own loader: an unknown or misspelt key fails here, before any deployment.
    config, custom_class = dagster_instance_config(str(POSTGRES_PROFILE.parent))
    assert custom_class is None
    assert (config["event_log_storage"]["module"], config["event_log_storage"]["class"]) == (
        "sales360_assets.instance.postgres_event_log",
        "BatchedPostgresEventLogStorage",
    )
    # One connection block for the three storages: they cannot drift apart.
    db = config["run_storage"]["config"]["postgres_db"]
    for storage in ("event_log_storage", "schedule_storage"):
        assert config[storage]["config"]["postgres_db"] == db
    assert {key: value["env"] for key, value in db.items() if isinstance(value, dict)} == {
        "hostname": "DAGSTER_PG_HOST",
        "port": "DAGSTER_PG_PORT",
        "username": "DAGSTER_PG_USERNAME",
        "password": "DAGSTER_PG_PASSWORD",
        "db_name": "DAGSTER_PG_DB",
    }
    assert db["scheme"] == "postgresql+psycopg2"


@pytest.mark.parametrize("section", ["concurrency", "run_retries", "run_monitoring", "telemetry"])
def test_the_postgres_profile_keeps_the_local_instance_settings(section: str) -> None:
    assert _load(POSTGRES_PROFILE)[section] == _load(LOCAL_PROFILE)[section]


def test_the_local_instance_stays_on_embedded_sqlite_in_its_own_home() -> None:
    from dagster._core.storage.sqlite_storage import DagsterSqliteStorage

    from sales360_assets.instance.sqlite_event_log import BatchedSqliteStorage

    local = _load(LOCAL_PROFILE)
    assert not {"run_storage", "event_log_storage", "schedule_storage"} & local.keys()
    storage = local["storage"]["custom"]
    assert (storage["module"], storage["class"]) == (
        "sales360_assets.instance.sqlite_event_log",
        "BatchedSqliteStorage",
    )
    assert issubclass(BatchedSqliteStorage, DagsterSqliteStorage)
    assert storage["config"] == {"base_dir": {"env": "DAGSTER_HOME"}}


def test_the_helm_values_match_the_profile() -> None:
    values, profile = _load(HELM_VALUES), _load(POSTGRES_PROFILE)
    queued = values["dagsterDaemon"]["runCoordinator"]["config"]["queuedRunCoordinator"]
    assert queued["maxConcurrentRuns"] == profile["concurrency"]["runs"]["max_concurrent_runs"]
    assert values["postgresql"]["postgresqlScheme"] == profile["run_storage"]["config"]["postgres_db"]["scheme"]
    [deployment] = values["dagster-user-deployments"]["deployments"]
    assert deployment["dagsterApiGrpcArgs"] == ["--module-name", "sales360_assets.definitions"]
    monitoring = values["dagsterDaemon"]["runMonitoring"]
    assert monitoring["maxRuntimeSeconds"] == profile["run_monitoring"]["max_runtime_seconds"]
