"""Offline POS/ERP landing zone: daily CSV drops per store.

Files are parsed with the standard ``csv`` module line by line instead of a fast columnar
reader on purpose: a line with the wrong number of fields must survive ingestion with its
original text and the reason, so staging can dead-letter it. Columnar readers either fail the
whole file or silently pad/truncate such lines.
"""

from __future__ import annotations

import codecs
import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from sales360_assets.settings import source_switched_off
from sales360_assets.sources.contract import POS_STORES, POS_TRANSACTIONS, SchemaDriftError, check_schema_drift
from sales360_assets.sources.routing import SOURCE_REGION, route_region_value

LINEAGE_COLUMNS = {
    "_source_file": pl.String,
    "_line_number": pl.Int64,
    "_raw_line": pl.String,
    "_parse_error": pl.String,
    "_encoding": pl.String,
    SOURCE_REGION: pl.String,
}
# Store exports come from tills and spreadsheets: ';' (European Excel), tabs and pipes are common.
DELIMITERS = (",", ";", "\t", "|")


# A store's business day is over at midnight in its own time zone; ``stores.csv`` may name the
# zone per store (``timezone``, an IANA name). Without it, the zone comes from the country. For
# countries spanning several zones this is the westernmost mainland zone: its day ends last, so
# a file is never taken for complete before its store could have closed (at worst a few hours
# late). Set ``timezone`` for precision (e.g. America/New_York), and always for overseas
# territories (Hawaii, the Canaries, the Azores).
COUNTRY_TIMEZONES: dict[str, str] = {
    "US": "America/Los_Angeles",
    "CA": "America/Vancouver",
    "MX": "America/Tijuana",
    "BR": "America/Rio_Branco",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "PT": "Europe/Lisbon",
    "ES": "Europe/Madrid",
    "FR": "Europe/Paris",
    "BE": "Europe/Brussels",
    "NL": "Europe/Amsterdam",
    "LU": "Europe/Luxembourg",
    "DE": "Europe/Berlin",
    "AT": "Europe/Vienna",
    "CH": "Europe/Zurich",
    "IT": "Europe/Rome",
    "DK": "Europe/Copenhagen",
    "NO": "Europe/Oslo",
    "SE": "Europe/Stockholm",
    "FI": "Europe/Helsinki",
    "PL": "Europe/Warsaw",
    "CZ": "Europe/Prague",
    "GR": "Europe/Athens",
    "AE": "Asia/Dubai",
    "IN": "Asia/Kolkata",
    "SG": "Asia/Singapore",
    "HK": "Asia/Hong_Kong",
    "CN": "Asia/Shanghai",
    "TW": "Asia/Taipei",
    "KR": "Asia/Seoul",
    "JP": "Asia/Tokyo",
    "AU": "Australia/Perth",
    "NZ": "Pacific/Auckland",
}
# Unknown country and no ``timezone``: "anywhere on earth" (UTC-12), the last place a day ends.
FALLBACK_TIMEZONE = "Etc/GMT+12"


def store_timezone(country: str | None, timezone: str | None = None) -> ZoneInfo:
    """The store's zone: its own ``timezone`` if given, else its country's default (see above)."""
    if timezone and timezone.strip():
        try:
            return ZoneInfo(timezone.strip())
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(
                f"stores.csv timezone {timezone!r} is not an IANA time zone name (e.g. Europe/Berlin)"
            ) from exc
    return ZoneInfo(COUNTRY_TIMEZONES.get((country or "").strip().upper(), FALLBACK_TIMEZONE))


def business_day_closes_at(day: date, zone: ZoneInfo) -> datetime:
    """When business day ``day`` is over for a store in ``zone``: the next local midnight, in UTC.

    zoneinfo resolves daylight saving time, so a store's day closes at 23:00 or 22:00 UTC in
    Berlin depending on the season.
    """
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone).astimezone(UTC)


def decode_landing_file(data: bytes) -> tuple[str, str]:
    """(text, encoding): a BOM wins, then strict UTF-8, then Windows-1252, then Latin-1.

    Reading with ``errors="replace"`` turned every é of a Latin-1 till export into U+FFFD, and a
    UTF-8 BOM glued to the first header made ``transaction_id`` look missing. Windows-1252 is
    what European tills and Excel write; Latin-1 decodes any byte, so no file is refused.
    """
    for bom, encoding in (
        (codecs.BOM_UTF8, "utf-8-sig"),
        (codecs.BOM_UTF16_LE, "utf-16"),
        (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return data.decode(encoding), encoding
    for encoding in ("utf-8", "cp1252"):
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    return data.decode("latin-1"), "latin-1"


def sniff_delimiter(header_line: str) -> str:
    """The delimiter that splits the header into the most fields (',' when none splits it)."""
    return max(DELIMITERS, key=lambda d: len(next(csv.reader([header_line], delimiter=d))))


def parse_pos_file(path: Path, relative_to: Path | None = None, store_error: str | None = None) -> pl.DataFrame:
    """Every data line of one drop becomes one row: parsed fields, or its text and a parse error.

    ``store_error`` marks every line of a file that cannot be attributed (an unregistered store):
    the lines are kept for staging to dead-letter, and the other files of the day go on.
    """
    source_file = str(path.relative_to(relative_to)) if relative_to else str(path)
    text, encoding = decode_landing_file(path.read_bytes())
    lines = text.splitlines()
    if not lines:
        raise ValueError(f"POS file {source_file} is empty (it has no header line)")
    delimiter = sniff_delimiter(lines[0])
    header = [name.strip() for name in next(csv.reader([lines[0]], delimiter=delimiter))]
    try:
        check_schema_drift(POS_TRANSACTIONS, header)
    except SchemaDriftError as exc:
        raise SchemaDriftError(
            f"POS file {source_file} (read as {encoding}, delimiter {delimiter!r}, header {lines[0][:120]!r}): {exc}"
        ) from exc
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    line_numbers: list[int] = []
    raw_lines: list[str] = []
    errors: list[str | None] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = next(csv.reader([line], delimiter=delimiter))
        ok = len(fields) == len(header)
        for name, value in zip(header, fields if ok else [None] * len(header), strict=True):
            columns[name].append(value)
        line_numbers.append(number)
        raw_lines.append(line)
        errors.append(
            store_error or (None if ok else f"malformed line: expected {len(header)} fields, got {len(fields)}")
        )
    frame = pl.DataFrame(
        {**columns, "_line_number": line_numbers, "_raw_line": raw_lines, "_parse_error": errors},
        schema={
            **dict.fromkeys(header, pl.String),
            "_line_number": pl.Int64,
            "_raw_line": pl.String,
            "_parse_error": pl.String,
        },
    )
    return frame.with_columns(pl.lit(source_file).alias("_source_file"), pl.lit(encoding).alias("_encoding"))


class LandingZone:
    """The embedded default landing folder (``<sources>/landing``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pos_root(self) -> Path:
        return self.root / "pos"

    @property
    def disabled_reason(self) -> str | None:
        """Why POS is off (``SALES360_SOURCES``, or no ``landing/pos`` folder), else None."""
        return source_switched_off("pos", self.pos_root)

    def read_pos_stores(self) -> pl.DataFrame:
        if self.disabled_reason is not None:
            # A company without stores has no registry: no store files can be read either.
            return pl.DataFrame(schema=POS_STORES.columns)
        path = self.pos_root / "stores.csv"
        if not path.exists():
            raise FileNotFoundError(
                f"no POS store registry at {path}; generate sample sources (`sales360 generate`) "
                "or point SALES360_SOURCES_DIR at your landing zone"
            )
        frame = pl.read_csv(path, infer_schema=False)
        check_schema_drift(POS_STORES, frame.columns)
        return frame

    def read_pos_store_timezones(self) -> Mapping[str, ZoneInfo]:
        """store_id -> the store's time zone (``timezone`` column, else from its country)."""
        stores = self.read_pos_stores()
        zones = stores["timezone"] if "timezone" in stores.columns else [None] * stores.height
        return {
            store: store_timezone(country, zone)
            for store, country, zone in zip(stores["store_id"], stores["country"], zones, strict=True)
        }

    def pos_files(self, day: date, stores: Sequence[str] | None = None) -> list[Path]:
        if self.disabled_reason is not None:
            return []
        folder = self.pos_root / day.isoformat()
        files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        return [f for f in files if stores is None or f.stem in stores]

    def store_regions(self) -> dict[str, str | None]:
        """store_id -> its region as registered (as delivered: staging judges it)."""
        stores = self.read_pos_stores()
        return dict(zip(stores["store_id"], stores["region"], strict=True))

    def read_pos_transactions(self, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame:
        """All POS lines dropped for stores of ``regions`` on days start..end, with date and region.

        A store's region is matched case-insensitively. Files of unregistered stores, or of stores
        whose region is unknown, are read by the run of ``UNROUTED_REGION_OWNER``'s partitions and
        dead-lettered by staging, per file: they no longer stop every other store and region.
        """
        region_of = self.store_regions()
        frames = []
        day = start
        while day <= end:
            for path in self.pos_files(day):
                registered = path.stem in region_of
                delivered = region_of.get(path.stem)
                region = route_region_value(delivered)
                if region not in regions:
                    continue
                store_error = (
                    None
                    if registered
                    else f"store {path.stem!r} is not in stores.csv; register the store and re-run the partition"
                )
                frames.append(
                    parse_pos_file(path, self.root, store_error).with_columns(
                        pl.lit(day).alias("date"),
                        pl.lit(region).alias("region"),
                        pl.lit(delivered, dtype=pl.String).alias(SOURCE_REGION),
                    )
                )
            day += timedelta(days=1)
        if not frames:
            return pl.DataFrame(
                schema={**POS_TRANSACTIONS.columns, **LINEAGE_COLUMNS, "date": pl.Date, "region": pl.String}
            )
        return pl.concat(frames, how="diagonal_relaxed")
