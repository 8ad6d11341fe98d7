"""Servers the production-profile tests and the benchmark run against, on this machine only.

* PostgreSQL: ``scripts/postgres_server.sh`` (what ``./dev test`` starts for the whole suite). When
  its ``DAGSTER_PG_*`` variables are absent (a single test file run by hand) a server is started
  here for the session instead, so the PostgreSQL tests never skip.
* S3: moto's ``ThreadedMotoServer`` on 127.0.0.1 and a free port.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import psycopg2
import psycopg2.extensions
import yaml

REPO = Path(__file__).resolve().parents[1]
POSTGRES_SCRIPT = REPO / "scripts" / "postgres_server.sh"
POSTGRES_PROFILE = REPO / "deploy" / "postgres" / "dagster.yaml"
PG_VARS = ("DAGSTER_PG_HOST", "DAGSTER_PG_PORT", "DAGSTER_PG_USERNAME", "DAGSTER_PG_PASSWORD", "DAGSTER_PG_DB")


def _parse_exports(text: str) -> dict[str, str]:
    pairs = (line.removeprefix("export ").split("=", 1) for line in text.splitlines() if line.startswith("export "))
    return {name: value for name, value in pairs}


@contextmanager
def postgres_server(durable: bool = False) -> Iterator[dict[str, str]]:
    """The ``DAGSTER_PG_*`` connection of a running server: the environment's, else a throwaway one."""
    if all(name in os.environ for name in PG_VARS):
        yield {name: os.environ[name] for name in PG_VARS}
        return
    with start_postgres_server(durable) as server:
        yield server


@contextmanager
def start_postgres_server(durable: bool = False) -> Iterator[dict[str, str]]:
    """A throwaway server from ``scripts/postgres_server.sh``, stopped and removed afterwards.

    ``durable`` keeps a production server's flush to disk at commit (``fsync``), which the tests
    skip: the benchmark compares the server with SQLite, which flushes at every commit.
    """
    env = {**os.environ, "SALES360_PG_FSYNC": "on" if durable else "off"}
    started = subprocess.run(
        ["bash", str(POSTGRES_SCRIPT), "start"], check=True, capture_output=True, text=True, env=env
    )
    exports = _parse_exports(started.stdout)
    try:
        yield {name: exports[name] for name in PG_VARS}
    finally:
        subprocess.run(
            ["bash", str(POSTGRES_SCRIPT), "stop", exports["SALES360_PG_DATA"]], check=False, capture_output=True
        )


def connect(server: dict[str, str]) -> psycopg2.extensions.connection:
    """A psycopg2 connection from the profile's DAGSTER_PG_* variables."""
    return psycopg2.connect(
        host=server["DAGSTER_PG_HOST"],
        port=int(server["DAGSTER_PG_PORT"]),
        user=server["DAGSTER_PG_USERNAME"],
        password=server["DAGSTER_PG_PASSWORD"],
        dbname=server["DAGSTER_PG_DB"],
    )


def create_database(server: dict[str, str]) -> str:
    """A fresh database on the server, so each test's event log starts empty whoever shares the server."""
    name = f"sales360_{uuid.uuid4().hex[:12]}"
    conn = connect(server)
    conn.autocommit = True  # CREATE DATABASE cannot run inside a transaction
    with conn.cursor() as cur:
        cur.execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return name


LOCAL_PROFILE = REPO / "dagster.yaml"


def project_instance(overrides: Mapping[str, Any] | None = None) -> AbstractContextManager[dg.DagsterInstance]:
    """A temporary instance (``dg.instance_for_test``) on the project's own storage from dagster.yaml.

    Tests run on the storage a user's instance has (batched event writes), not Dagster's default;
    ``instance_for_test`` points DAGSTER_HOME at its folder, which the storage's base_dir reads.
    """
    storage = yaml.safe_load(LOCAL_PROFILE.read_text())["storage"]
    return dg.instance_for_test(overrides={"storage": storage, **(overrides or {})})


def instance_from_profile(profile: Path, home: Path) -> dg.DagsterInstance:
    """An instance whose dagster.yaml is ``profile``, as a deployment's DAGSTER_HOME would hold it.

    DAGSTER_HOME names ``home`` while the profile loads (the local profile's storage reads it), and
    is restored afterwards: the loaded storages keep absolute paths.
    """
    home.mkdir(parents=True, exist_ok=True)
    shutil.copy(profile, home / "dagster.yaml")
    previous = os.environ.get("DAGSTER_HOME")
    os.environ["DAGSTER_HOME"] = str(home)
    try:
        return dg.DagsterInstance.from_config(str(home))
    finally:
        if previous is None:
            del os.environ["DAGSTER_HOME"]
        else:
            os.environ["DAGSTER_HOME"] = previous


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
