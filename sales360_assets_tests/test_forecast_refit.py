"""The forecast marts refit only when what they are fitted on changed, through real Dagster runs.

The reporting job runs every day, but the weekly series only changes when a week completes or a late
sale lands in a past week: a day in mid-week must give the same forecast without fitting it again,
and any change of the series, the settings or the stored table must fit it again.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import dagster as dg
import polars as pl
import pytest
from polars.testing import assert_frame_equal

from sales360_assets.forecast import model
from sales360_assets.forecast.assets import mart_forecast_vs_actual, mart_revenue_forecast
from sales360_assets.lake.delta import DeltaLake
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource
from sales360_assets_tests.servers import project_instance

pytestmark = pytest.mark.integration

FORECAST_MARTS = ["mart_revenue_forecast", "mart_forecast_vs_actual"]


def weekly_series(weeks: int, bump: float = 0.0) -> pl.DataFrame:
    first = date(2025, 1, 6)
    rows = [
        (level, name, first + timedelta(weeks=w), 1_000.0 + 50.0 * (w % 13) + scale * w + (bump if w == 3 else 0.0))
        for level, name, scale in [("region", "na", 3.0), ("region", "emea", 1.0), ("total", "all", 4.0)]
        for w in range(weeks)
    ]
    return pl.DataFrame(rows, schema=["level", "series", "week_start", "revenue_usd"], orient="row")


class ForecastLake:
    """A lake holding a weekly series, and the two forecast marts materialized from it on one instance."""

    def __init__(self, root: Path, instance: dg.DagsterInstance) -> None:
        self.uri = str(root)
        self.lake = DeltaLake(self.uri)
        self.instance = instance

    def materialize(self, series: pl.DataFrame | None = None, horizon: int = model.HORIZON) -> dict[str, bool]:
        """Runs the two marts; returns whether each one fitted (from its materialization metadata)."""
        if series is not None:
            self.lake.overwrite("mart_weekly_revenue", series)
        resource = LakeResource(root_uri=self.uri)
        config = {"horizon_weeks": horizon}
        result = dg.materialize(
            [mart_revenue_forecast, mart_forecast_vs_actual, dg.AssetSpec("mart_weekly_revenue")],
            selection=FORECAST_MARTS,
            resources={"io_manager": DeltaPolarsIOManager(lake=resource), "lake": resource},
            instance=self.instance,
            run_config={"ops": {name: {"config": config} for name in FORECAST_MARTS}},
        )
        assert result.success
        return {
            m.asset_key.to_user_string(): bool(m.metadata["fitted"].value)
            for m in result.asset_materializations_for_node("mart_revenue_forecast")
            + result.asset_materializations_for_node("mart_forecast_vs_actual")
        }


@pytest.fixture
def fits(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts calls of ``model.forecast`` (the mart calls it once, the backtest twice)."""
    calls: list[int] = []
    fit: Callable[..., Any] = model.forecast

    def counting(*args: Any, **kwargs: Any) -> pl.DataFrame:
        calls.append(1)
        return fit(*args, **kwargs)

    monkeypatch.setattr(model, "forecast", counting)
    return calls


def test_an_unchanged_series_is_not_fitted_again_and_gives_the_same_tables(tmp_path: Path, fits: list[int]) -> None:
    with project_instance() as instance:
        lake = ForecastLake(tmp_path / "lake", instance)
        assert lake.materialize(weekly_series(70)) == {name: True for name in FORECAST_MARTS}
        assert len(fits) == 3
        first = {name: lake.lake.read(name) for name in FORECAST_MARTS}

        assert lake.materialize() == {name: False for name in FORECAST_MARTS}  # a day in mid-week
        assert len(fits) == 3
        for name in FORECAST_MARTS:
            assert_frame_equal(lake.lake.read(name), first[name], check_row_order=False)


def test_a_changed_series_setting_or_lost_table_is_fitted_again(tmp_path: Path, fits: list[int]) -> None:
    with project_instance() as instance:
        lake = ForecastLake(tmp_path / "lake", instance)
        lake.materialize(weekly_series(70))
        before = lake.lake.read("mart_revenue_forecast")

        # A late sale in a past week: both marts fit again, and the forecast moves.
        assert lake.materialize(weekly_series(70, bump=900.0)) == {name: True for name in FORECAST_MARTS}
        after = lake.lake.read("mart_revenue_forecast")
        moved = before.join(after, on=["level", "series", "week_start"]).filter(
            pl.col("forecast_usd") != pl.col("forecast_usd_right")
        )
        assert moved.height > 0

        # Another horizon: the forecast fits again and has the new length.
        assert lake.materialize(horizon=5) == {"mart_revenue_forecast": True, "mart_forecast_vs_actual": False}
        lengths = lake.lake.read("mart_revenue_forecast").group_by("level", "series").len()["len"]
        assert lengths.unique().to_list() == [5]

        # The table the last fit wrote is gone (deleted by hand): fit again rather than fail.
        shutil.rmtree(Path(lake.uri) / "mart_revenue_forecast")
        assert lake.materialize(horizon=5)["mart_revenue_forecast"]
        assert lake.lake.read("mart_revenue_forecast").height > 0


def test_the_fit_fingerprint_covers_every_project_module_the_fits_import() -> None:
    """A change in a module the fits import must refit: each one is in FIT_MODULES (FIT_CODE hashes them)."""
    import ast
    import importlib
    import inspect

    from sales360_assets.forecast import assets as forecast_assets

    covered = {m.__name__ for m in forecast_assets.FIT_MODULES}
    fitted = {forecast_assets.model.forecast.__module__, forecast_assets.backtest.backtest.__module__}
    assert fitted <= covered
    imported: set[str] = set()
    for name in covered:
        tree = ast.parse(inspect.getsource(importlib.import_module(name)))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("sales360_assets"):
                is_package = hasattr(importlib.import_module(node.module), "__path__")
                # "from package import module" names modules; "from module import name" the module itself.
                imported |= {f"{node.module}.{a.name}" for a in node.names} if is_package else {node.module}
            elif isinstance(node, ast.Import):
                imported |= {a.name for a in node.names if a.name.startswith("sales360_assets")}
    assert imported <= covered, f"imported by the fits but not fingerprinted: {sorted(imported - covered)}"
