"""pos_landing_sensor on a populated deployment: no replay, store-local day close, compact cursor."""

import hashlib
import json
import os
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import dagster as dg
import pytest

from sales360_assets.definitions import build_definitions, build_resources
from sales360_assets.raw.assets import raw_pos_transactions
from sales360_assets.sensors.pos_cursor import dump_landing_cursor, load_landing_cursor
from sales360_assets.sensors.pos_landing import LandingPlan, build_pos_landing_sensor, plan_pos_runs
from sales360_assets.sources.landing import LandingZone, business_day_closes_at, store_timezone
from sales360_assets.sources.resources import LandingZoneResource
from sales360_assets_tests.servers import project_instance

HEADER = "transaction_id,line_no,store_id,transaction_ts,sku,quantity,unit_price,discount,currency,loyalty_id,customer_name,customer_email,customer_phone"
STORES_HEADER = "store_id,store_name,region,country,city,currency,opened_on,timezone\n"


def write_stores(root: Path, rows: list[str]) -> None:
    (root / "pos").mkdir(parents=True, exist_ok=True)
    (root / "pos" / "stores.csv").write_text(STORES_HEADER + "".join(f"{r}\n" for r in rows))


def drop(root: Path, day: date, store: str, n_lines: int = 1) -> Path:
    path = root / "pos" / day.isoformat() / f"{store}.csv"
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{store}-T{i},1,{store},{day}T10:00:00+00:00,SKU-1,1,9.99,0.00,EUR,,,," for i in range(n_lines)]
    path.write_text("\n".join([HEADER, *lines]) + "\n")
    return path


def age(path: Path, seconds: float) -> None:
    """Pretend the file was last written ``seconds`` ago (the runs in the test start after it)."""
    at = datetime.now(UTC).timestamp() - seconds
    os.utime(path, (at, at))


# --- first enable on a populated deployment ---------------------------------------------------


def test_first_enable_records_what_the_lake_holds_and_starts_no_run(tmp_path: Path) -> None:
    sources, landing = tmp_path / "sources", tmp_path / "sources" / "landing"
    write_stores(
        landing, ["emea-001,Berlin,emea,DE,Berlin,EUR,2021-01-01,", "uk-001,Leeds,uk,GB,Leeds,GBP,2021-01-01,"]
    )
    today = datetime.now(UTC).date()
    days = [today - timedelta(days=3), today - timedelta(days=2)]
    files = [drop(landing, day, store, 2) for day in days for store in ("emea-001", "uk-001")]
    for path in files:
        age(path, 600)
    resources = build_resources(str(sources), str(tmp_path / "lake"))
    location = build_definitions(str(sources), str(tmp_path / "lake"))
    sensor = build_pos_landing_sensor(settle=timedelta(0))

    def tick(instance: dg.DagsterInstance, cursor: str | None) -> dg.SensorResult:
        context = dg.build_sensor_context(
            instance=instance, cursor=cursor, resources={"landing": resources["landing"]}, definitions=location
        )
        return sensor.evaluate_tick(context)

    with project_instance() as instance:
        # The deployment already loaded every partition (what `./dev up` / the nightly job does).
        for day in days:
            for region in ("emea", "uk"):
                key = dg.MultiPartitionKey({"date": day.isoformat(), "region": region})
                assert dg.materialize(
                    [raw_pos_transactions], partition_key=key, resources=resources, instance=instance
                ).success

        first = tick(instance, None)
        assert first.run_requests == []  # the old sensor requested 4 runs here
        assert "Recorded 4 partition(s) as already loaded" in (first.skip_message or "")

        # A file changed after its partition was loaded runs; the others stay quiet.
        drop(landing, days[0], "uk-001", 5)
        second = tick(instance, first.cursor)
        assert [r.partition_key for r in second.run_requests] == [f"{days[0].isoformat()}|uk"]
        assert tick(instance, second.cursor).run_requests == []

        # A partition nobody loaded yet (a late file for a new day) runs once.
        drop(landing, today - timedelta(days=1), "emea-001")
        third = tick(instance, second.cursor)
        assert [r.partition_key for r in third.run_requests] == [f"{(today - timedelta(days=1)).isoformat()}|emea"]


# --- the store's own day ----------------------------------------------------------------------


def test_todays_files_run_once_the_stores_day_is_over_in_its_own_time_zone(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_stores(
        landing,
        [
            "apac-001,Tokyo,apac,JP,Tokyo,JPY,2021-01-01,",  # from the country: Asia/Tokyo
            "emea-001,Berlin,emea,DE,Berlin,EUR,2021-01-01,",  # Europe/Berlin
            "na-001,New York,na,US,New York,USD,2021-01-01,America/New_York",  # explicit, not the US default
        ],
    )
    day = date(2026, 3, 10)  # New York is on daylight time since 8 March, Berlin is not yet
    for store in ("apac-001", "emea-001", "na-001"):
        drop(landing, day, store)
    zone = LandingZone(landing)

    def plan(now: datetime, cursor: str | None = None) -> LandingPlan:
        return plan_pos_runs(
            zone, load_landing_cursor(cursor), now, "pos_landing_job", settle=timedelta(0), lookback_days=5
        )

    # 16:00 UTC: Tokyo's day ended at 15:00 UTC; Berlin's ends at 23:00, New York's at 04:00 the next day.
    afternoon = plan(datetime(2026, 3, 10, 16, tzinfo=UTC))
    assert [r.partition_key for r in afternoon.requests] == ["2026-03-10|apac"]  # the business date stays
    assert {w.partition: w.until for w in afternoon.waiting} == {
        "2026-03-10|emea": datetime(2026, 3, 10, 23, tzinfo=UTC),
        "2026-03-10|na": datetime(2026, 3, 11, 4, tzinfo=UTC),
    }
    # A tick with nothing to run says in the UI what waits and until when.
    evening = plan(datetime(2026, 3, 10, 22, tzinfo=UTC), dump_landing_cursor(afternoon.seen))
    assert evening.requests == []
    assert evening.skip_reason is not None
    assert "2026-03-10|emea until 2026-03-10 23:00 UTC" in evening.skip_reason
    assert "2026-03-10|na until 2026-03-11 04:00 UTC" in evening.skip_reason
    assert "business day of na-001 is not over yet" in evening.skip_reason
    night = plan(datetime(2026, 3, 10, 23, 30, tzinfo=UTC), dump_landing_cursor(evening.seen))
    assert [r.partition_key for r in night.requests] == ["2026-03-10|emea"]
    morning = plan(datetime(2026, 3, 11, 4, 1, tzinfo=UTC), dump_landing_cursor(night.seen))
    assert [r.partition_key for r in morning.requests] == ["2026-03-10|na"]
    assert plan(datetime(2026, 3, 11, 5, tzinfo=UTC), dump_landing_cursor(morning.seen)).requests == []


def test_store_time_zones_default_from_the_country_and_follow_daylight_saving() -> None:
    day = date(2026, 7, 1)
    assert business_day_closes_at(day, store_timezone("DE")) == datetime(2026, 7, 1, 22, tzinfo=UTC)  # CEST
    assert business_day_closes_at(date(2026, 1, 5), store_timezone("DE")) == datetime(2026, 1, 5, 23, tzinfo=UTC)
    # A country spanning zones defaults to its westernmost mainland zone: never too early.
    assert business_day_closes_at(day, store_timezone("US")) == datetime(2026, 7, 2, 7, tzinfo=UTC)
    assert business_day_closes_at(day, store_timezone("US", "America/New_York")) == datetime(2026, 7, 2, 4, tzinfo=UTC)
    # Unknown country: the day is over everywhere on earth (UTC-12).
    assert business_day_closes_at(day, store_timezone("XX")) == datetime(2026, 7, 2, 12, tzinfo=UTC)
    with pytest.raises(ValueError, match="not an IANA time zone"):
        store_timezone("DE", "Berlin/Mitte")


# --- cursor -----------------------------------------------------------------------------------


def test_the_cursor_is_a_few_bytes_per_partition_and_an_old_cursor_migrates_without_runs(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    stores = [f"{r}-{i:03d}" for r in ("apac", "emea", "na", "uk") for i in (1, 2, 3)][:10]
    country = {"apac": "JP", "emea": "NL", "na": "CA", "uk": "GB"}
    write_stores(landing, [f"{s},{s},{s[:-4]},{country[s[:-4]]},x,EUR,2021-01-01," for s in stores])
    now = datetime(2026, 3, 20, 12, tzinfo=UTC)
    for offset in range(1, 15):  # the default sample's shape: 14 days × 10 stores in 4 regions
        for store in stores:
            drop(landing, now.date() - timedelta(days=offset), store)
    zone = LandingZone(landing)
    first = plan_pos_runs(zone, None, now, "pos_landing_job", settle=timedelta(0))
    assert len(first.requests) == 56
    cursor = dump_landing_cursor(first.seen)
    assert len(cursor) < 2_600, len(cursor)  # the per-file cursor was 17 KB for the same folder
    assert plan_pos_runs(zone, load_landing_cursor(cursor), now, "pos_landing_job", settle=timedelta(0)).requests == []

    # A deployment upgrading from the per-file (v1) cursor reprocesses nothing it already ran.
    v1 = {
        "v": 1,
        "files": {
            str(p.relative_to(landing)): [
                p.stat().st_size,
                p.stat().st_mtime_ns,
                hashlib.sha256(p.read_bytes()).hexdigest(),
            ]
            for p in landing.glob("pos/*/*.csv")
        },
    }
    migrated = plan_pos_runs(zone, load_landing_cursor(json.dumps(v1)), now, "pos_landing_job", settle=timedelta(0))
    assert migrated.requests == [] and len(migrated.seen.partitions) == 56


def test_the_sensor_reports_its_skip_reason_in_the_tick(tmp_path: Path) -> None:
    landing = tmp_path / "landing"
    write_stores(landing, ["na-001,Vancouver,na,CA,Vancouver,USD,2021-01-01,"])
    today = datetime.now(UTC).date()
    drop(landing, today + timedelta(days=1), "na-001")  # tomorrow's business day is not over anywhere
    sensor = build_pos_landing_sensor(settle=timedelta(0))
    location = build_definitions(str(tmp_path), str(tmp_path / "lake"))
    with project_instance() as instance:
        result = sensor.evaluate_tick(
            dg.build_sensor_context(
                instance=instance, resources={"landing": LandingZoneResource(root=str(landing))}, definitions=location
            )
        )
    assert result.run_requests == []
    assert f"{(today + timedelta(days=1)).isoformat()}|na until" in (result.skip_message or "")
