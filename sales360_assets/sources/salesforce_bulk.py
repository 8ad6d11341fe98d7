"""Bulk API 2.0 query jobs: create one, wait for it, read its result pages.

The live client switches to Bulk API 2.0 above a record count. Every request goes through the
client's ``_call`` (retries, re-login, redaction), so a failed status poll or result page is
retried alone and pages already read are never read again.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from simple_salesforce import Salesforce
from simple_salesforce.bulk2 import JobState, Operation

from sales360_assets.sources.salesforce_errors import SalesforcePermanentError, SalesforceTransientError

# The client's request runner: (operation for messages, request) -> the request's result.
Call = Callable[[str, Callable[[Salesforce], Any]], Any]


@dataclass(frozen=True)
class BulkQuery:
    """One object's Bulk API 2.0 queryAll, with the client's request runner and settings."""

    call: Call
    object_name: str
    page_size: int
    poll_interval: float
    timeout: float
    sleep: Callable[[float], None]
    redact: Callable[[str], str]

    def create(self, soql: str) -> str:
        """Start the query job; its id."""
        job = self.call(
            f"Bulk API 2.0 job creation for {self.object_name}",
            lambda sf: _bulk(sf, self.object_name).create_job(Operation.query_all, soql),
        )
        return str(job["id"])

    def await_completion(self, job_id: str) -> None:
        """Poll the query job until it completes; a failed job is permanent, a slow one transient."""
        waited = 0.0
        while True:
            info = self.call(
                f"Bulk API 2.0 job status for {self.object_name}",
                lambda sf: _bulk(sf, self.object_name).get_job(job_id, True),
            )
            state = info.get("state")
            if state == JobState.job_complete:
                return
            if state in (JobState.failed, JobState.aborted):
                raise SalesforcePermanentError(
                    f"Bulk API 2.0 query job {job_id} for {self.object_name} ended {state}: "
                    f"{self.redact(str(info.get('errorMessage') or ''))}"
                )
            if waited >= self.timeout:
                raise SalesforceTransientError(
                    f"Bulk API 2.0 query job {job_id} for {self.object_name} still {state} after "
                    f"{waited:.0f}s; run again later or raise the bulk timeout"
                )
            self.sleep(self.poll_interval)
            waited += self.poll_interval

    def results(self, job_id: str) -> Iterator[dict[str, Any]]:
        """The finished job's records, page by page from the results locator."""
        locator = ""
        while True:
            result = self.call(
                f"Bulk API 2.0 results for {self.object_name}",
                lambda sf, loc=locator: _bulk(sf, self.object_name).get_query_results(job_id, loc, self.page_size),
            )
            # newline="" keeps line breaks inside quoted CSV values intact.
            yield from csv.DictReader(io.StringIO(result["records"], newline=""))
            locator = result["locator"]
            if not locator:
                return


def _bulk(sf: Salesforce, object_name: str) -> Any:
    # The job-level client rather than bulk2.<Obj>.query_all(): that generator cannot resume at a
    # results locator after a failed page, so a retry would restart and duplicate pages.
    return getattr(sf.bulk2, object_name)._client
