"""The local warehouse reader: every documented layout is read, anything else fails naming the file.

An export with orders in one flat ``orders.parquet`` used to read as 0 rows without an error.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import polars as pl
import pytest

from sales360_assets.settings import history_start_in
from sales360_assets.sources.contract import WAREHOUSE_TABLES
from sales360_assets.sources.warehouse import LocalWarehouseClient, WarehouseLayoutError

ORDERS = WAREHOUSE_TABLES["orders"]
DAYS = [date(2026, 3, 2) + timedelta(days=i) for i in range(3)]
LOADED = datetime(2026, 3, 5, 6, tzinfo=UTC)


def orders_frame(days: list[date], per_day: int = 2) -> pl.DataFrame:
    rows = [
        {
            "order_id": f"o-{d:%m%d}-{i}",
            "customer_id": "c-1",
            "order_ts": datetime(d.year, d.month, d.day, 10, tzinfo=UTC),
            "order_date": d,
            "region": ["na", "emea"][i % 2],
            "currency": ["USD", "EUR"][i % 2],
            "status": "completed",
            "_loaded_at": LOADED,
        }
        for d in days
        for i in range(per_day)
    ]
    return pl.DataFrame(rows, schema=ORDERS.columns)


def read(root: Path, start: date, end: date) -> pl.DataFrame:
    return LocalWarehouseClient(root).read_partitioned(ORDERS, start, end, ["na", "emea"])


def test_a_flat_file_is_read_and_filtered_by_its_date_column(tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    orders_frame(DAYS).write_parquet(tmp_path / "orders" / "orders.parquet")
    day = read(tmp_path, DAYS[1], DAYS[1])
    assert day.height == 2
    assert day["order_date"].unique().to_list() == [DAYS[1]]
    assert read(tmp_path, DAYS[0], DAYS[2]).height == 6


def test_date_folders_still_read(tmp_path: Path) -> None:
    for d in DAYS:
        folder = tmp_path / "orders" / f"order_date={d}"
        folder.mkdir(parents=True)
        orders_frame([d]).write_parquet(folder / "part-0.parquet")
    assert read(tmp_path, DAYS[0], DAYS[1]).height == 4


@pytest.mark.parametrize(
    "stray",
    [
        "orders/2026-03-02/part-0.parquet",  # a folder without the order_date= prefix
        "orders/order_date=2026-3-2/part-0.parquet",  # not an ISO date
        "orders/orders.csv",  # not Parquet
        "orders/order_date=2026-03-02/part-0.csv",
    ],
)
def test_any_other_layout_fails_naming_the_file_and_the_expected_path(tmp_path: Path, stray: str) -> None:
    path = tmp_path / stray
    path.parent.mkdir(parents=True)
    path.write_bytes(b"x")
    with pytest.raises(WarehouseLayoutError) as raised:
        read(tmp_path, DAYS[0], DAYS[0])
    text = str(raised.value)
    # The entry of the table folder that is wrong (the file itself, or the folder holding it).
    assert str(tmp_path / "/".join(stray.split("/")[:2])) in text
    assert "order_date=YYYY-MM-DD/" in text and "orders/*.parquet" in text


def test_a_run_opens_only_its_own_days_folders(tmp_path: Path) -> None:
    """A daily run lists one day's files, not every folder of the history (cost flat in history), so a
    bad file delivered into another day stops that day's run, with its name, and no other."""
    for d in DAYS:
        folder = tmp_path / "orders" / f"order_date={d}"
        folder.mkdir(parents=True)
        orders_frame([d]).write_parquet(folder / "part-0.parquet")
    stray = tmp_path / "orders" / f"order_date={DAYS[2]}" / "part-1.csv"
    stray.write_bytes(b"x")
    assert read(tmp_path, DAYS[0], DAYS[1]).height == 4
    with pytest.raises(WarehouseLayoutError, match="not a Parquet file") as raised:
        read(tmp_path, DAYS[1], DAYS[2])
    assert str(stray) in str(raised.value)


def test_a_table_folder_without_data_files_is_an_error_not_zero_rows(tmp_path: Path) -> None:
    (tmp_path / "orders").mkdir()
    with pytest.raises(WarehouseLayoutError, match="no Parquet files"):
        read(tmp_path, DAYS[0], DAYS[0])
    # Day folders with no file in any of them (an export that made its folders and failed) too,
    # although a daily run opens only its own day's folder.
    for d in DAYS:
        (tmp_path / "orders" / f"order_date={d}").mkdir()
    with pytest.raises(WarehouseLayoutError, match="no Parquet files"):
        read(tmp_path, DAYS[0], DAYS[0])


def test_mixing_both_layouts_is_refused(tmp_path: Path) -> None:
    # Rows would be read twice (or from two versions of one day): which copy is true is unknowable.
    folder = tmp_path / "orders" / f"order_date={DAYS[0]}"
    folder.mkdir(parents=True)
    orders_frame([DAYS[0]]).write_parquet(folder / "part-0.parquet")
    orders_frame(DAYS).write_parquet(tmp_path / "orders" / "orders.parquet")
    with pytest.raises(WarehouseLayoutError, match="both"):
        read(tmp_path, DAYS[0], DAYS[0])


def test_arrivals_and_history_start_read_a_flat_file(tmp_path: Path) -> None:
    (tmp_path / "warehouse" / "orders").mkdir(parents=True)
    orders_frame(DAYS).write_parquet(tmp_path / "warehouse" / "orders" / "orders.parquet")
    client = LocalWarehouseClient(tmp_path / "warehouse")
    arrived = client.read_loaded_between(ORDERS, LOADED - timedelta(hours=1), LOADED + timedelta(hours=1))
    assert arrived.height == 6
    assert history_start_in(tmp_path) == DAYS[0]
