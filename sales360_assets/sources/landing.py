"""Offline POS/ERP landing zone: daily CSV drops per store.

Files are parsed with the standard ``csv`` module line by line instead of a fast columnar
reader on purpose: a line with the wrong number of fields must survive ingestion with its
original text and the reason, so staging can dead-letter it. Columnar readers either fail the
whole file or silently pad/truncate such lines.
"""

from __future__ import annotations

import csv
from collections.abc import Mapping, Sequence
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from sales360_assets.sources.contract import POS_STORES, POS_TRANSACTIONS, check_schema_drift

LINEAGE_COLUMNS = {
    "_source_file": pl.String,
    "_line_number": pl.Int64,
    "_raw_line": pl.String,
    "_parse_error": pl.String,
}


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


def parse_pos_file(path: Path, relative_to: Path | None = None) -> pl.DataFrame:
    """Every data line of one drop becomes one row: parsed fields, or its text and a parse error."""
    lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    if not lines:
        raise ValueError(f"POS file {path} is empty (it has no header line)")
    header = next(csv.reader([lines[0]]))
    check_schema_drift(POS_TRANSACTIONS, header)
    source_file = str(path.relative_to(relative_to)) if relative_to else str(path)
    columns: dict[str, list[str | None]] = {name: [] for name in header}
    line_numbers: list[int] = []
    raw_lines: list[str] = []
    errors: list[str | None] = []
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        fields = next(csv.reader([line]))
        ok = len(fields) == len(header)
        for name, value in zip(header, fields if ok else [None] * len(header), strict=True):
            columns[name].append(value)
        line_numbers.append(number)
        raw_lines.append(line)
        errors.append(None if ok else f"malformed line: expected {len(header)} fields, got {len(fields)}")
    frame = pl.DataFrame(
        {**columns, "_line_number": line_numbers, "_raw_line": raw_lines, "_parse_error": errors},
        schema={
            **dict.fromkeys(header, pl.String),
            **{k: v for k, v in LINEAGE_COLUMNS.items() if k != "_source_file"},
        },
    )
    return frame.with_columns(pl.lit(source_file).alias("_source_file"))


class LandingZone:
    """The embedded default landing folder (``<sources>/landing``)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    @property
    def pos_root(self) -> Path:
        return self.root / "pos"

    def read_pos_stores(self) -> pl.DataFrame:
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
        folder = self.pos_root / day.isoformat()
        files = sorted(folder.glob("*.csv")) if folder.is_dir() else []
        return [f for f in files if stores is None or f.stem in stores]

    def read_pos_transactions(self, start: date, end: date, regions: Sequence[str]) -> pl.DataFrame:
        """All POS lines dropped for stores of ``regions`` on days start..end, with date and region."""
        stores = self.read_pos_stores()
        region_of = dict(zip(stores["store_id"], stores["region"], strict=True))
        frames = []
        day = start
        while day <= end:
            for path in self.pos_files(day):
                region = region_of.get(path.stem)
                if region is None:
                    raise ValueError(
                        f"POS file {path} comes from store {path.stem!r}, which is not in "
                        f"{self.pos_root / 'stores.csv'}; register the store so its sales get a region"
                    )
                if region in regions:
                    frames.append(
                        parse_pos_file(path, self.root).with_columns(
                            pl.lit(day).alias("date"), pl.lit(region).alias("region")
                        )
                    )
            day += timedelta(days=1)
        if not frames:
            return pl.DataFrame(
                schema={**POS_TRANSACTIONS.columns, **LINEAGE_COLUMNS, "date": pl.Date, "region": pl.String}
            )
        return pl.concat(frames, how="diagonal_relaxed")
