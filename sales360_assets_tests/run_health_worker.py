"""Test helper process: one Salesforce extract run through the CLI's ``run_job`` path.

``python -m sales360_assets_tests.run_health_worker <sources_dir> <lake_uri>`` runs the real
``raw_salesforce_users`` asset (``salesforce`` pool) against the Dagster instance in
``$DAGSTER_HOME``. With ``STALL_SECONDS`` set, the extract writes ``STALL_MARKER`` once it is
executing (holding its pool slot) and then sleeps, so a test can ``kill -9`` it mid-extract.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import dagster as dg

from sales360_assets.cli import run_job
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.raw.assets import build_salesforce_raw_asset
from sales360_assets.sources.resources import SalesforceResource
from sales360_assets.sources.salesforce import CrmClient, LocalCrmClient

JOB = "crm_extract_job"


class StallingCrmClient(LocalCrmClient):
    def extract(
        self, object_name: str, fields: list[str], since: datetime | None, until: datetime
    ) -> Iterator[dict[str, Any]]:
        stall = float(os.environ.get("STALL_SECONDS", "0"))
        if stall:
            Path(os.environ["STALL_MARKER"]).write_text(str(os.getpid()))
            time.sleep(stall)
        yield from super().extract(object_name, fields, since, until)


class StallingSalesforceResource(SalesforceResource):
    def get_client(self) -> CrmClient:
        return StallingCrmClient(Path(self.sources_dir) / "crm")


def definitions(sources_dir: str, lake_uri: str) -> dg.Definitions:
    return dg.Definitions(
        assets=[build_salesforce_raw_asset("User", "raw_salesforce_users")],
        resources={
            "salesforce": StallingSalesforceResource(sources_dir=sources_dir),
            "lake": LakeResource(root_uri=lake_uri),
        },
        jobs=[dg.define_asset_job(JOB, selection="raw_salesforce_users")],
    )


def main(argv: list[str]) -> int:
    sources_dir, lake_uri = argv
    with dg.DagsterInstance.get() as instance:
        return 0 if run_job(definitions(sources_dir, lake_uri), instance, JOB) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
