"""Salesforce CRM source: record parsing shared by every backend, and the embedded backend.

A backend answers two questions, exactly as the Salesforce API does: ``describe`` (which
fields an object has) and ``extract`` (the records whose current version was modified in a
window, deleted ones included, as SOQL/queryAll returns them: one row per record). ``extract_object`` turns those into a typed Polars frame with
the same code whatever the backend, so the local files and the live org parse identically.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME, SourceTable, check_schema_drift
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS

logger = logging.getLogger(__name__)

# Salesforce API names (standard and custom objects and fields): letters, digits, underscores.
# Names cannot be SOQL parameters, so nothing else may ever be spliced into a query.
API_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]*$")

# describe() types Bulk API 2.0 cannot select: compound fields ("Selecting compound data not
# supported in Bulk Query"; describe() lists their components as fields of their own) and blobs.
UNSELECTABLE_TYPES = frozenset({"address", "location", "base64", "complexvalue"})

# REST returns 2024-05-01T10:00:00.000+0000; Bulk API 2.0 CSV returns 2024-05-01T10:00:00.000Z.
_SF_DATETIME_FORMAT = "%Y-%m-%dT%H:%M:%S%.f%z"


def format_sf_datetime(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{value.microsecond // 1000:03d}+0000"


class CrmClient(Protocol):
    def describe(self, object_name: str) -> dict[str, Any]: ...

    def extract(
        self, object_name: str, fields: list[str], since: datetime | None, until: datetime
    ) -> Iterator[dict[str, Any]]:
        """Each record's current version when ``since <= SystemModstamp < until`` (all when since is
        None), deleted records included: what queryAll returns."""
        ...

    def usage_metadata(self) -> dict[str, Any]: ...


def _parse_column(name: str, dtype: pl.DataType, target: pl.DataType) -> pl.Expr:
    col = pl.col(name)
    if dtype == pl.String:
        # Bulk API 2.0 CSV has no null, for any type: an empty cell is empty text. Null it once
        # here, before any typed parsing (REST sends JSON null, never "", so nothing is lost).
        col = pl.when(col == "").then(None).otherwise(col)
    if target == UTC_DATETIME and dtype == pl.String:
        return col.str.replace(r"Z$", "+0000").str.to_datetime(_SF_DATETIME_FORMAT, time_zone="UTC")
    if target == pl.Date and dtype == pl.String:
        return col.str.to_date("%Y-%m-%d")
    if target == pl.Boolean and dtype == pl.String:
        # Bulk API CSV: every value is text.
        return col.str.to_lowercase().replace_strict({"true": True, "false": False}, default=None)
    return col.cast(target)


def parse_records(table: SourceTable, records: Iterable[dict[str, Any]]) -> pl.DataFrame:
    """SOQL records (REST dicts or Bulk CSV rows) to a frame typed by the contract.

    Fields outside the contract (additive drift) are kept; nested compound values become JSON
    text so nothing a source sends is lost.
    """
    rows = [{k: v for k, v in r.items() if k != "attributes"} for r in records]
    if not rows:
        return pl.DataFrame(schema=table.columns)
    for row in rows:
        for key, value in row.items():
            if isinstance(value, dict | list):
                row[key] = json.dumps(value, sort_keys=True)
    frame = pl.from_dicts(rows, infer_schema_length=None)
    exprs = []
    for name, dtype in frame.schema.items():
        target = table.columns.get(name)
        if target is None:
            exprs.append(pl.col(name) if dtype != pl.Null else pl.col(name).cast(pl.String))
        else:
            exprs.append(_parse_column(name, dtype, target).alias(name))
    frame = frame.select(exprs)
    missing = [c for c in table.columns if c not in frame.columns]
    if missing:
        frame = frame.with_columns(pl.lit(None, dtype=table.columns[c]).alias(c) for c in missing)
    ordered = [c for c in table.columns] + [c for c in frame.columns if c not in table.columns]
    return frame.select(ordered)


def fields_to_extract(table: SourceTable, describe: dict[str, Any]) -> tuple[list[str], list[str]]:
    """The contract's fields the object offers plus any new ones; raises on a lost required field.

    New (additive drift) fields are left out when Bulk API 2.0 cannot select them (compound and
    binary types: their components are selected instead) or when their name is not an API name.
    Left out for REST too, so both paths return frames of one shape.
    """
    described = [f for f in describe.get("fields", []) if isinstance(f, Mapping) and "name" in f]
    offered = [f["name"] for f in described]
    added = check_schema_drift(table, offered)
    types = {f["name"]: f.get("type") for f in described}
    unselectable = [f for f in added if types.get(f) in UNSELECTABLE_TYPES]
    if unselectable:
        logger.info(
            "Salesforce %s: not selecting compound/binary field(s) %s (Bulk API 2.0 refuses them; "
            "their component fields are selected)",
            table.name,
            ", ".join(unselectable),
        )
    malformed = [f for f in added if not API_NAME.fullmatch(f)]
    for name in malformed:
        logger.warning(
            "Salesforce %s: skipping field %r from describe(): not an API name (letters, digits, "
            "underscores), so it must not go into SOQL",
            table.name,
            name,
        )
    added = [f for f in added if f not in unselectable and f not in malformed]
    fields = [c for c in table.columns if c in offered] + added
    return fields, added


def extract_object(
    client: CrmClient, table: SourceTable, since: datetime | None, until: datetime
) -> tuple[pl.DataFrame, list[str]]:
    """Extract one object's changes in a window; returns the typed frame and any added fields."""
    fields, added = fields_to_extract(table, client.describe(table.name))
    return parse_records(table, client.extract(table.name, fields, since, until)), added


class LocalCrmClient:
    """The embedded default: an org kept as its change log on disk, answering queries as a real org does.

    ``crm/<Object>/<YYYY-MM-DD>.json`` pages hold record versions by SystemModstamp day (the
    sample generator writes every version a record went through; a daily export of changed
    records has the same shape). A real org's query/queryAll returns one row per record — its
    current version — and never an earlier one, so this client answers with each record's latest
    version before the query's upper bound, and only when that version falls in the window.
    Earlier versions reach the platform only through history objects (``OpportunityHistory``) or
    the platform's own snapshots of earlier extracts, exactly as with a live org.
    """

    def __init__(self, root: Path) -> None:
        self.root = root

    def _object_dir(self, object_name: str) -> Path:
        path = self.root / object_name
        if not path.is_dir():
            raise FileNotFoundError(
                f"no CRM export for {object_name} at {path}; generate sample sources "
                "(`sales360 generate`) or point SALES360_SOURCES_DIR at your export"
            )
        return path

    def describe(self, object_name: str) -> dict[str, Any]:
        return json.loads((self._object_dir(object_name) / "_describe.json").read_text())

    def extract(
        self, object_name: str, fields: list[str], since: datetime | None, until: datetime
    ) -> Iterator[dict[str, Any]]:
        first_day = since.astimezone(UTC).date() if since else date.min
        last_day = until.astimezone(UTC).date()
        # A record's newest version before `until` lies in a page from `since`'s day on when it is
        # in the window at all, so earlier pages need not be read.
        current: dict[str, tuple[datetime, dict[str, Any]]] = {}
        for page in sorted(self._object_dir(object_name).glob("????-??-??.json")):
            day = date.fromisoformat(page.stem)
            if not first_day <= day <= last_day:
                continue
            for record in json.loads(page.read_text())["records"]:
                modstamp = datetime.strptime(record["SystemModstamp"], "%Y-%m-%dT%H:%M:%S.%f%z")
                seen = current.get(record["Id"])
                # Later in the log wins a tie, as the later write would in the org.
                if modstamp < until and (seen is None or modstamp >= seen[0]):
                    current[record["Id"]] = (modstamp, record)
        for modstamp, record in current.values():
            if since is None or modstamp >= since:
                yield {"attributes": record.get("attributes"), **{f: record.get(f) for f in fields}}

    def usage_metadata(self) -> dict[str, Any]:
        return {"crm_backend": "local files"}


class SwitchedOffCrmClient:
    """The CRM of a deployment without one: every object offers its contract fields and has no records.

    The raw assets then write empty tables with the contract schema, so staging, the star schema
    and the marts run as for an org with nothing in it, instead of an export faking one.
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason

    def describe(self, object_name: str) -> dict[str, Any]:
        columns = SALESFORCE_OBJECTS[object_name].columns
        return {"name": object_name, "queryable": True, "fields": [{"name": c} for c in columns]}

    def extract(
        self, object_name: str, fields: list[str], since: datetime | None, until: datetime
    ) -> Iterator[dict[str, Any]]:
        return iter(())

    def usage_metadata(self) -> dict[str, Any]:
        return {"crm_backend": "none", "source_disabled": self.reason}


def extraction_window(
    watermark: datetime | None, run_start: datetime, lookback: timedelta
) -> tuple[datetime | None, datetime]:
    """[watermark - lookback, run_start): the overlap re-reads records committed late in Salesforce.

    Both bounds are whole seconds: SOQL datetime literals carry no fractions, so a finer bound
    would make the query window and the window the raw table replaces disagree. Records in the
    last partial second are read by the next run's look-back.
    """
    until = run_start.replace(microsecond=0)
    if watermark is None:
        return None, until
    return (watermark - lookback).replace(microsecond=0), until
