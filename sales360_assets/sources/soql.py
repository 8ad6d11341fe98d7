"""SOQL text for the live client: names checked, then spliced; values through ``format_soql``.

Object and field names cannot be SOQL parameters. Each one must be a Salesforce API name
(``salesforce.API_NAME``) and one the object's ``describe()`` offers before it goes into a query,
so neither a setting nor a crafted describe() answer can change what a query selects or from where.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from simple_salesforce import format_soql

from sales360_assets.sources.salesforce import API_NAME
from sales360_assets.sources.salesforce_errors import SalesforcePermanentError


def _as_utc(value: datetime) -> datetime:
    # format_soql renders naive datetimes in host-local time; the platform's datetimes are UTC.
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _describe_field_names(describe: Mapping[str, Any]) -> set[str]:
    return {f["name"] for f in describe.get("fields", []) if isinstance(f, Mapping) and "name" in f}


def validate_object_name(object_name: str) -> str:
    """Refuse anything that is not a plain Salesforce API name before it reaches a URL or SOQL."""
    if not isinstance(object_name, str) or not API_NAME.fullmatch(object_name):
        raise SalesforcePermanentError(
            f"{object_name!r} is not a Salesforce object API name (letters, digits and underscores); "
            "check the object names in sales360_assets/sources/contract_salesforce.py"
        )
    return object_name


def build_window_soql(
    object_name: str,
    fields: Sequence[str],
    describe: Mapping[str, Any],
    since: datetime | None,
    until: datetime,
    *,
    count_only: bool = False,
    order_by: bool = True,
) -> str:
    """SOQL for ``since <= SystemModstamp < until`` on one object.

    Names cannot be SOQL parameters, so the object must be the one ``describe`` describes and
    every field must be one it offers; only then are they spliced in (``:literal``). Every value
    goes through ``format_soql``, which renders aware datetimes as UTC literals.
    """
    validate_object_name(object_name)
    described = describe.get("name")
    if described is not None and described != object_name:
        raise SalesforcePermanentError(
            f"describe() answered for {described!r}, not {object_name!r}; refusing to build SOQL"
        )
    offered = _describe_field_names(describe)
    for required in ("Id", "SystemModstamp"):
        if required not in offered:
            raise SalesforcePermanentError(
                f"Salesforce object {object_name} does not expose {required} to this user; "
                "grant field-level read access to it (incremental extraction depends on it)"
            )
    unknown = [f for f in fields if f not in offered]
    if unknown:
        raise SalesforcePermanentError(
            f"field(s) {', '.join(repr(f) for f in unknown)} are not in describe() of Salesforce "
            f"object {object_name}; refusing to put them into SOQL"
        )
    # describe() is an answer from the network, not a guarantee: a name it offers is still checked.
    malformed = [f for f in fields if not isinstance(f, str) or not API_NAME.fullmatch(f)]
    if malformed:
        raise SalesforcePermanentError(
            f"{', '.join(repr(f) for f in malformed)} offered by describe() of {object_name} is not a "
            "Salesforce field API name (letters, digits and underscores); refusing to put it into SOQL"
        )
    # dict.fromkeys keeps the order and drops repeats.
    select = "COUNT()" if count_only else ", ".join(dict.fromkeys(fields or ["Id"]))
    conditions = ["SystemModstamp < {until}"]
    values: dict[str, datetime] = {"until": _as_utc(until)}
    if since is not None:
        conditions.insert(0, "SystemModstamp >= {since}")
        values["since"] = _as_utc(since)
    soql = format_soql(
        "SELECT {select:literal} FROM {object_name:literal} WHERE " + " AND ".join(conditions),
        select=select,
        object_name=object_name,
        **values,
    )
    # COUNT() cannot be ordered, and ORDER BY switches off PK chunking in Bulk API 2.0.
    if order_by and not count_only:
        soql += " ORDER BY SystemModstamp, Id"
    return soql
