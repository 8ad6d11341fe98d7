"""How the sample writes the CRM: a folder per object of REST query-result pages and its describe().

Each object's record versions become one JSON page per ``SystemModstamp`` day, in the shape
``/services/data/vXX.X/query`` answers (``totalSize``, ``done``, ``records`` with ``attributes``);
``_describe.json`` holds what the readers use of the object's describe() answer.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME, SourceTable

SF_API_VERSION = "v59.0"


def _sf_field_type(name: str, dtype: pl.DataType) -> str:
    if name == "Id":
        return "id"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == UTC_DATETIME:
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if name in ("Amount", "UnitPrice", "TotalPrice", "BudgetedCost", "ActualCost", "Amount__c"):
        return "currency"
    if name in ("Probability", "Credit_Split__c"):
        return "percent"
    if dtype == pl.Float64:
        return "double"
    if name.endswith("Id") or name == "User__c":
        return "reference"
    if name == "Email":
        return "email"
    if name == "Phone":
        return "phone"
    picklists = {"Type", "Industry", "StageName", "LeadSource", "Status", "Family", "CurrencyIsoCode", "TeamMemberRole"}
    if name in picklists or name in ("Region__c", "Territory__c"):
        return "picklist"
    return "string"


_SF_NOT_NILLABLE = {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "LastName", "StageName", "CloseDate"}


def describe_object(table: SourceTable) -> dict[str, Any]:
    """The object's describe() answer, reduced to what the readers use."""
    return {
        "name": table.name,
        "queryable": True,
        "fields": [
            {"name": c, "type": _sf_field_type(c, t), "nillable": c not in _SF_NOT_NILLABLE}
            for c, t in table.columns.items()
        ],
    }


def write_sf_object(crm_dir: Path, table: SourceTable, frame: pl.DataFrame) -> int:
    """Write REST query-result pages, one per SystemModstamp day (or ``_page_day`` if given)."""
    folder = crm_dir / table.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_describe.json").write_text(json.dumps(describe_object(table), indent=2) + "\n")
    if "_page_day" not in frame.columns:
        frame = frame.with_columns(_page_day=pl.col("SystemModstamp").dt.date())
    frame = frame.with_row_index("_seq").sort("_page_day", "SystemModstamp", "Id", "_seq")
    formatted = [
        pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000")
        if t == UTC_DATETIME
        else pl.col(c).dt.strftime("%Y-%m-%d")
        if t == pl.Date
        else pl.col(c).cast(t)
        for c, t in table.columns.items()
    ]
    url = f"/services/data/{SF_API_VERSION}/sobjects/{table.name}/"
    pages = frame.select(
        "_page_day",
        pl.struct(type=pl.lit(table.name), url=pl.concat_str(pl.lit(url), pl.col("Id"))).alias("attributes"),
        *formatted,
    )
    for (day,), page in pages.partition_by("_page_day", maintain_order=True, as_dict=True).items():
        records = page.drop("_page_day").write_json()
        (folder / f"{day.isoformat()}.json").write_text(
            f'{{"totalSize": {page.height}, "done": true, "records": {records}}}\n', encoding="utf-8"
        )
    return frame.height
