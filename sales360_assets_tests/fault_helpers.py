"""Shared set-up for the operations tests: a small materialized lake to copy, and table snapshots.

Building a lake costs a reference run and a few daily runs, so it happens once per test
process into a template directory; each test copies the template (Delta tables are plain
files with relative paths) and gets its own Dagster instance.
"""

import atexit
import json
import shutil
import tempfile
import threading
from collections.abc import Sequence
from datetime import date
from functools import cache
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import dagster as dg
import polars as pl

from sales360_assets.cli import QUIET_CONSOLE
from sales360_assets.definitions import build_definitions
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.selection import PartitionSelection
from sales360_assets_tests.servers import project_instance

# Inside the session's sample window (2026-03-02..08). One range run covers emea..uk (Dagster's
# region order puts na between them): runs cost far more per step than per row.
DAYS = (date(2026, 3, 2), date(2026, 3, 4))
REGIONS = ("emea", "na", "uk")
# Columns that say when and by which run a row was written; everything else must be identical.
RUN_COLUMNS = {"_ingested_at", "_run_id", "run_id", "rejected_at"}


def range_tags(start: date, end: date, region: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": f"{start.isoformat()}|{region}",
        "dagster/asset_partition_range_end": f"{end.isoformat()}|{region}",
    }


def partition_key(day: date, region: str) -> dg.MultiPartitionKey:
    return dg.MultiPartitionKey({"date": day.isoformat(), "region": region})


def run_job(
    defs: dg.Definitions,
    job: str,
    instance: dg.DagsterInstance,
    *,
    partition: tuple[date, str] | None = None,
    tags: dict[str, str] | None = None,
    raise_on_error: bool = True,
) -> dg.ExecuteInProcessResult:
    return defs.resolve_job_def(job).execute_in_process(
        instance=instance,
        partition_key=partition_key(*partition) if partition else None,
        tags=tags,
        run_config=QUIET_CONSOLE,
        raise_on_error=raise_on_error,
    )


@cache
def _template(sources_root: str) -> Path:
    root = Path(tempfile.mkdtemp(prefix="sales360-lake-template-"))
    atexit.register(shutil.rmtree, root, True)
    lake_uri = str(root / "lake")
    defs = build_definitions(sources_root, lake_uri)
    with project_instance() as instance:
        run_job(defs, "reference_data_job", instance)
        run_job(
            defs,
            "daily_sales_job",
            instance,
            tags={
                "dagster/asset_partition_range_start": f"{DAYS[0].isoformat()}|{REGIONS[0]}",
                "dagster/asset_partition_range_end": f"{DAYS[1].isoformat()}|{REGIONS[-1]}",
            },
        )
    return root / "lake"


def fresh_lake(sources_root: Path, dest: Path) -> str:
    """A private copy of the template lake (reference data + DAYS × REGIONS) at ``dest``."""
    shutil.copytree(_template(str(sources_root)), dest)
    return str(dest)


def copy_sources(sources_root: Path, dest: Path) -> Path:
    shutil.copytree(sources_root, dest)
    return dest


def snapshot(lake: DeltaLake, table: str, selection: PartitionSelection | None = None) -> pl.DataFrame:
    """The table's rows without run bookkeeping, sorted: equal snapshots mean identical data."""
    frame = lake.read(table, selection)
    frame = frame.select(sorted(c for c in frame.columns if c not in RUN_COLUMNS))
    return frame.sort(frame.columns, nulls_last=True)


def table_versions(lake_uri: str) -> dict[str, int | None]:
    lake = DeltaLake(lake_uri)
    return {p.name: lake.version(p.name) for p in sorted(Path(lake_uri).iterdir()) if (p / "_delta_log").is_dir()}


def materialized_assets(result: dg.ExecuteInProcessResult) -> set[str]:
    return {
        event.asset_key.to_user_string()
        for event in result.all_events
        if event.event_type_value == "ASSET_MATERIALIZATION" and event.asset_key is not None
    }


class WebhookSink:
    """A webhook receiver on 127.0.0.1: records JSON bodies, answers with queued statuses (then 200)."""

    def __init__(self, statuses: Sequence[int] = ()) -> None:
        self.received: list[dict] = []
        self.paths: list[str] = []
        self.statuses = list(statuses)
        sink = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                sink.received.append(json.loads(body))
                sink.paths.append(self.path)
                status = sink.statuses.pop(0) if sink.statuses else 200
                self.send_response(status)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hooks/T000/SECRET-TOKEN"

    def __enter__(self) -> "WebhookSink":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=5)
