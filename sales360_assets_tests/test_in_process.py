"""In-process runs free each step's output once the IO manager has stored it (issue 13's memory target)."""

from __future__ import annotations

import gc
import weakref
from pathlib import Path

import dagster as dg
import polars as pl

from sales360_assets.in_process import execute_without_output_capture
from sales360_assets.lake.io_manager import DeltaPolarsIOManager, LakeResource


class Frame:
    """Stands in for a large frame; weak-referenceable, unlike a Polars DataFrame."""


class RecordingIOManager(dg.IOManager):
    """Stores nothing but a weak reference to each output, and loads a fresh object."""

    def __init__(self) -> None:
        self.stored: dict[str, weakref.ref[Frame]] = {}

    def handle_output(self, context: dg.OutputContext, obj: Frame) -> None:
        self.stored[context.asset_key.to_user_string()] = weakref.ref(obj)

    def load_input(self, context: dg.InputContext) -> Frame:
        return Frame()


def _job(io_manager: RecordingIOManager, seen_alive: dict[str, bool]) -> dg.JobDefinition:
    @dg.asset
    def upstream() -> Frame:
        return Frame()

    @dg.asset
    def downstream(upstream: Frame) -> Frame:
        gc.collect()
        seen_alive["upstream_while_downstream_runs"] = io_manager.stored["upstream"]() is not None
        return Frame()

    defs = dg.Definitions(
        assets=[upstream, downstream],
        jobs=[dg.define_asset_job("both", selection=[upstream, downstream])],
        resources={"io_manager": io_manager},
    )
    return defs.resolve_job_def("both")


def test_outputs_are_freed_after_they_are_stored() -> None:
    io_manager, seen = RecordingIOManager(), {}
    with dg.instance_for_test() as instance:
        result = execute_without_output_capture(_job(io_manager, seen), instance, tags={"team": "data"})
        gc.collect()
        assert result.success
        assert seen == {"upstream_while_downstream_runs": False}
        assert all(ref() is None for ref in io_manager.stored.values())
        # The run is recorded as execute_in_process records it: tags, events, materializations.
        run = instance.get_run_by_id(result.run_id)
        assert run is not None and run.tags["team"] == "data"
        assert {m.asset_key.to_user_string() for m in result.asset_materializations_for_node("downstream")} == {
            "downstream"
        }


def test_execute_in_process_would_hold_them() -> None:
    """What the helper exists for: Dagster's test API keeps every output alive for its result object.

    If a Dagster upgrade drops that capture (dagster-io/dagster#9731), this fails and the helper can go.
    """
    io_manager, seen = RecordingIOManager(), {}
    with dg.instance_for_test() as instance:
        result = _job(io_manager, seen).execute_in_process(instance=instance)
        gc.collect()
        assert result.success
        assert seen == {"upstream_while_downstream_runs": True}


def test_failures_raise_like_execute_in_process() -> None:
    @dg.asset
    def broken() -> None:
        raise ValueError("source unreadable")

    job = dg.Definitions(assets=[broken], jobs=[dg.define_asset_job("j", selection=[broken])]).resolve_job_def("j")
    with dg.instance_for_test() as instance:
        try:
            execute_without_output_capture(job, instance)
        except ValueError as exc:
            assert "source unreadable" in str(exc)
        else:
            raise AssertionError("the failing step did not raise")
        result = execute_without_output_capture(job, instance, raise_on_error=False)
        assert not result.success


def test_an_asset_value_loads_outside_a_run(tmp_path: Path) -> None:
    """``Definitions.load_asset_value`` (notebooks, scripts) has no step: the per-step collection must stay out of it."""

    @dg.asset
    def upstream() -> pl.DataFrame:
        return pl.DataFrame({"x": [1, 2, 3]})

    lake = LakeResource(root_uri=str(tmp_path / "lake"))
    defs = dg.Definitions(assets=[upstream], resources={"io_manager": DeltaPolarsIOManager(lake=lake), "lake": lake})
    with dg.instance_for_test() as instance:
        assert dg.materialize([upstream], instance=instance, resources=defs.resources).success
        loaded = defs.load_asset_value("upstream", instance=instance)
    assert loaded["x"].to_list() == [1, 2, 3]
