"""The source contract: every table each source hands over, its columns and their types.

This module holds what every source shares: ``SourceTable``, the layout below and the schema
drift check. Each system's tables live next to it, one module a system: ``contract_salesforce``,
``contract_warehouse`` and ``contract_pos``. Together they are the one definition the sample
generator writes, the readers validate against (schema drift is detected here), and
``docs/source_contract.md`` documents. To point the
platform at your own export, produce files in the layout below and set
``SALES360_SOURCES_DIR``; no code change is needed.

Layout under the sources directory::

    crm/<Object>/<YYYY-MM-DD>.json        Salesforce record versions as REST query pages, one file per
                                          SystemModstamp day: the org's change log. The embedded client
                                          answers a query as a real org does at that moment: one row per
                                          record, its latest version (see sources/salesforce.py)
    warehouse/<table>/<table>.parquet      unpartitioned warehouse tables
    warehouse/<table>/<date_col>=<YYYY-MM-DD>/part-0.parquet   date-partitioned warehouse tables
    warehouse/<table>/*.parquet            ... or flat files, rows selected by <date_col> (sources/warehouse.py)
    landing/pos/stores.csv                 store registry (store -> region, currency)
    landing/pos/<YYYY-MM-DD>/<store_id>.csv   one POS/ERP log drop per store and business day
    _ground_truth/                         generator-only answers (identity of customers); never read by assets

Types are the types *after* the source's own wire format is parsed (SOQL JSON, BigQuery rows,
CSV text). POS logs are CSV: every column arrives as text and staging casts it, because a
malformed line must survive ingestion to be dead-lettered with its reason.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

UTC_DATETIME = pl.Datetime("us", "UTC")


@dataclass(frozen=True)
class SourceTable:
    """One table as a source delivers it."""

    system: str  # "salesforce" | "warehouse" | "pos"
    name: str  # Salesforce object API name, warehouse table name, or landing feed name
    columns: dict[str, pl.DataType]
    primary_key: tuple[str, ...]
    description: str
    # Columns a source must deliver; losing one is breaking schema drift (a clear error).
    required: tuple[str, ...] = ()
    # For date-partitioned tables: the column the source partitions on (BigQuery partition column).
    date_column: str | None = None
    # Column carrying the region, for tables with both a date and a region.
    region_column: str | None = None
    # Column giving the latest modification (used to collapse retry duplicates).
    modified_column: str | None = None
    notes: tuple[str, ...] = field(default=())

    @property
    def required_columns(self) -> tuple[str, ...]:
        return self.required or tuple(self.columns)


class SchemaDriftError(ValueError):
    """A source stopped delivering a column the platform requires."""


def check_schema_drift(table: SourceTable, delivered_columns: list[str] | tuple[str, ...]) -> list[str]:
    """Raise when a required column is missing; return the added (unknown) columns.

    Added columns are additive drift: they are kept and merged into the Delta schema.
    """
    delivered = set(delivered_columns)
    missing = [c for c in table.required_columns if c not in delivered]
    if missing:
        raise SchemaDriftError(
            f"{table.system} table {table.name!r} no longer delivers required column(s) "
            f"{', '.join(missing)}; refusing to ingest (nothing was written). "
            f"Fix the source or update sales360_assets/sources/contract_{table.system}.py."
        )
    return sorted(c for c in delivered if c not in table.columns and not c.startswith("_"))
