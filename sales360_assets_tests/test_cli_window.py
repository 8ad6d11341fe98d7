"""``sales360 materialize`` windows: --start/--end/--days agree, and are checked before any run."""

from __future__ import annotations

from datetime import date

import pytest

from sales360_assets.cli import main
from sales360_assets.cli_support import CliError, validate_window

TODAY = date(2026, 3, 10)
FIRST = date(2023, 1, 1)


def window(days: int | None = None, end: str | None = None, start: str | None = None) -> tuple[date, date]:
    return validate_window(days, end, TODAY, FIRST, start_text=start)


def test_start_alone_runs_to_yesterday() -> None:
    assert window(start="2026-03-01") == (date(2026, 3, 1), date(2026, 3, 9))


def test_start_and_end_give_the_window_without_counting_days() -> None:
    assert window(start="2024-01-01", end="2026-03-09") == (
        date(2024, 1, 1),
        date(2026, 3, 9),
    )


def test_start_and_days_give_the_end() -> None:
    assert window(start="2026-03-01", days=3) == (date(2026, 3, 1), date(2026, 3, 3))


def test_days_alone_keeps_its_meaning() -> None:
    assert window(days=7, end="2026-03-08") == (date(2026, 3, 2), date(2026, 3, 8))
    assert window() == (date(2026, 2, 8), date(2026, 3, 9))  # 30 days up to yesterday, as before


def test_start_end_and_days_must_agree() -> None:
    assert window(start="2026-03-01", end="2026-03-03", days=3) == (date(2026, 3, 1), date(2026, 3, 3))
    with pytest.raises(CliError, match="--days 5 disagrees with --start 2026-03-01 --end 2026-03-03"):
        window(start="2026-03-01", end="2026-03-03", days=5)


@pytest.mark.parametrize(
    ("start", "end", "message"),
    [
        ("2026-3-1", None, "--start must be a date as YYYY-MM-DD"),
        ("2026-03-05", "2026-03-04", "--start 2026-03-05 is after --end 2026-03-04"),
    ],
)
def test_bad_start_is_named(start: str, end: str | None, message: str) -> None:
    with pytest.raises(CliError, match=message):
        window(start=start, end=end)


def test_start_before_the_partitions_names_the_setting_and_its_value() -> None:
    with pytest.raises(CliError) as raised:
        window(start="2022-06-01")
    text = str(raised.value)
    assert "SALES360_PARTITIONS_START" in text and "2023-01-01" in text and "2022-06-01" in text
    assert "\n" not in text


def test_cli_refuses_an_early_start_in_one_line_before_any_run(capsys: pytest.CaptureFixture[str]) -> None:
    # conftest sets SALES360_PARTITIONS_START=2023-01-01; the check comes before the lake or a run.
    assert main(["materialize", "--start", "2022-06-01", "--end", "2022-06-30"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert "SALES360_PARTITIONS_START" in err and "2023-01-01" in err
