"""Speed and memory benchmarks for the Sales 360 asset graph (targets in benchmarks/README.md).

Scenarios (each in a fresh temporary lake and Dagster instance):

  window       the run command's default: 30 days × every region at the default volume
  scale        --order-lines lines over --days days end to end (peak memory target: < 4 GiB at 10M)
  backfill     one single-run backfill over --days days vs one run per date × region
               (per-partition runs are timed on a sample and extrapolated, stated in the output)
  incremental  one new day after 1 month of history vs after --history-days of history
  orchestration  a --days history backfill on the embedded SQLite instance and on the PostgreSQL
               profile: compute + IO vs wall time and events written per run (orchestration.py)
  bare         the daily job's region runs vs the same transforms as a plain script, on the first
               of --profiles (bare_polars.py), rows compared

Usage:  .venv/bin/python benchmarks/run_benchmark.py window
        .venv/bin/python benchmarks/run_benchmark.py scale --order-lines 10000000 --days 365
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import os
import sys
import tempfile
import threading
import time
from bisect import bisect_left, bisect_right
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

import dagster as dg
import psutil

from sales360_assets.cli import materialize_window
from sales360_assets.definitions import build_definitions
from sales360_assets.jobs import all_assets
from sales360_assets.sample_sources.generator import generate_sources
from sales360_assets.settings import REGION_CODES

# The instance every scenario runs on is the embedded default's storage (dagster.yaml), as the
# tests use it; the helper lives with the tests (benchmarks run from the repository).
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from sales360_assets_tests.servers import project_instance

GROUP_OF = {spec.key.to_user_string(): spec.group_name for a in all_assets for spec in a.specs}
END = date(2026, 10, 31)


class RssSampler:
    """Samples this process's resident memory every few milliseconds in a background thread."""

    def __init__(self, interval: float = 0.02) -> None:
        self.samples: list[tuple[float, int]] = []
        self._interval = interval
        self._stop = threading.Event()
        self._process = psutil.Process()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _rss(self) -> int:
        # Step subprocesses (multiprocess executor) count too: the machine holds all of them.
        total = self._process.memory_info().rss
        for child in self._process.children(recursive=True):
            with suppress(psutil.NoSuchProcess):
                total += child.memory_info().rss
        return total

    def _run(self) -> None:
        while not self._stop.is_set():
            self.samples.append((time.time(), self._rss()))
            time.sleep(self._interval)

    def __enter__(self) -> RssSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def peak(self, start: float, end: float) -> int:
        # Samples are in time order: bisect instead of scanning them for each of hundreds of steps.
        lo, hi = bisect_left(self.samples, (start, -1)), bisect_right(self.samples, (end, 2**63))
        return max((rss for _, rss in self.samples[lo:hi]), default=0)

    def at(self, moment: float) -> int:
        """The last sample taken at or before ``moment``."""
        i = bisect_right(self.samples, (moment, 2**63))
        return self.samples[i - 1][1] if i else 0


@dataclass
class LayerStats:
    seconds: float = 0.0
    peak_rss: int = 0
    steps: int = 0


@dataclass(frozen=True)
class StepStats:
    """One step's memory: resident at its start, its peak, and what it left behind at its end."""

    key: str
    seconds: float
    rss_at_start: int
    peak_rss: int
    rss_at_end: int


@dataclass
class Measurement:
    wall_seconds: float
    peak_rss: int
    layers: dict[str, LayerStats] = field(default_factory=dict)
    steps: list[StepStats] = field(default_factory=list)


def step_stats(instance: dg.DagsterInstance, sampler: RssSampler, since: float) -> list[StepStats]:
    """Each step of the runs started after ``since``: time and memory, from the event log and the sampler.

    In process, a step's peak includes whatever earlier steps left resident; ``rss_at_start`` and
    ``rss_at_end`` show that accumulation (the layer peaks alone cannot tell a heavy step from a leak).
    """
    steps: list[StepStats] = []
    for run in instance.get_runs():
        starts: dict[str, float] = {}
        for entry in instance.all_logs(run.run_id):
            event = entry.dagster_event
            if event is None or entry.timestamp < since or not entry.step_key:
                continue
            if event.event_type_value == "STEP_START":
                starts[entry.step_key] = entry.timestamp
            elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and entry.step_key in starts:
                begun, ended = starts.pop(entry.step_key), entry.timestamp
                steps.append(
                    StepStats(
                        entry.step_key,
                        ended - begun,
                        sampler.at(begun),
                        sampler.peak(begun, ended),
                        sampler.at(ended),
                    )
                )
    return steps


def layer_stats(steps: list[StepStats]) -> dict[str, LayerStats]:
    """Per-layer step time and peak memory."""
    stats: dict[str, LayerStats] = defaultdict(LayerStats)
    for step in steps:
        layer = GROUP_OF.get(step.key, "other")
        stats[layer].seconds += step.seconds
        stats[layer].steps += 1
        stats[layer].peak_rss = max(stats[layer].peak_rss, step.peak_rss)
    return dict(stats)


@contextmanager
def workspace() -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="sales360-bench-") as tmp:
        yield Path(tmp)


def measure(
    defs: dg.Definitions,
    instance: dg.DagsterInstance,
    start: date,
    end: date,
    regions: list[str],
    executor: str = "in_process",
) -> Measurement:
    since = time.time()
    with RssSampler() as sampler:
        began = time.perf_counter()
        materialize_window(defs, instance, start, end, regions, log=lambda _: None, executor=executor)
        wall = time.perf_counter() - began
    steps = step_stats(instance, sampler, since)
    return Measurement(wall, max(r for _, r in sampler.samples), layer_stats(steps), steps)


def report(title: str, m: Measurement, top_steps: int = 12) -> dict[str, object]:
    print(f"\n== {title}: {m.wall_seconds:.1f} s wall, peak RSS {m.peak_rss / 2**30:.2f} GiB")
    # Every asset group, daily layers first: the reporting job's groups (identity, recommendations…)
    # hold the largest steps, and "other" is the check steps.
    main = ("raw", "staging", "core", "marts")
    for layer in [*main, *sorted(k for k in m.layers if k not in main)]:
        if layer in m.layers:
            s = m.layers[layer]
            print(f"   {layer:<8} {s.seconds:8.1f} s in {s.steps:3d} steps   peak {s.peak_rss / 2**30:.2f} GiB")
    print("   heaviest steps (GiB resident at start → peak → at end):")
    for step in sorted(m.steps, key=lambda st: st.peak_rss, reverse=True)[:top_steps]:
        figures = " → ".join(f"{v / 2**30:.2f}" for v in (step.rss_at_start, step.peak_rss, step.rss_at_end))
        print(f"     {step.key:<55} {step.seconds:7.1f} s   {figures}")
    return {
        "wall_seconds": round(m.wall_seconds, 2),
        "peak_rss_gib": round(m.peak_rss / 2**30, 3),
        "layers": {
            k: {"seconds": round(v.seconds, 2), "peak_rss_gib": round(v.peak_rss / 2**30, 3)}
            for k, v in m.layers.items()
        },
        "steps": [
            {
                "key": st.key,
                "seconds": round(st.seconds, 2),
                "rss_gib_at_start_peak_end": [
                    round(v / 2**30, 3) for v in (st.rss_at_start, st.peak_rss, st.rss_at_end)
                ],
            }
            for st in m.steps
        ],
    }


def use_workspace(tmp: Path) -> dg.Definitions:
    # The multiprocess executor rebuilds definitions from the environment in each step process.
    os.environ["SALES360_SOURCES_DIR"] = str(tmp / "sources")
    os.environ["SALES360_LAKE_URI"] = str(tmp / "lake")
    return build_definitions(str(tmp / "sources"), str(tmp / "lake"))


def generate(root: Path, days: int, order_lines: int) -> float:
    """Sources for the scenario, generated in a process of their own, as ``sales360 generate`` is run
    before ``sales360 materialize``: at 10 M lines generating takes 2.5 GiB, and memory the generator's
    allocations left in this process was counted in every step's figure until run 8."""
    began = time.perf_counter()
    # A week of extra history so FX look-backs and late arrivals have data before the window.
    window = (root / "sources", END - timedelta(days=days + 6), END)
    child = multiprocessing.get_context("spawn").Process(
        target=generate_sources, args=window, kwargs={"order_lines": order_lines, "seed": 42}
    )
    child.start()
    child.join()
    if child.exitcode != 0:
        raise RuntimeError(f"generating the sources failed (exit code {child.exitcode})")
    return time.perf_counter() - began


def scenario_window(args: argparse.Namespace) -> dict[str, object]:
    with workspace() as tmp, project_instance() as instance:
        gen = generate(tmp, args.days, args.order_lines)
        print(f"generated {args.order_lines:,} order lines over {args.days + 7} days in {gen:.1f} s")
        defs = use_workspace(tmp)
        m = measure(defs, instance, END - timedelta(days=args.days - 1), END, REGION_CODES, args.executor)
        title = f"{args.days} days × {len(REGION_CODES)} regions ({args.executor} executor)"
        return {"generate_seconds": round(gen, 2), "executor": args.executor, **report(title, m)}


def scenario_backfill(args: argparse.Namespace) -> dict[str, object]:
    with workspace() as tmp, project_instance() as instance:
        generate(tmp, args.days, args.order_lines)
        defs = use_workspace(tmp)
        start = END - timedelta(days=args.days - 1)
        single = measure(defs, instance, start, END, REGION_CODES)
        ranged = single.wall_seconds
        daily = defs.resolve_job_def("daily_sales_job")
        sample = [(END - timedelta(days=i), r) for i in range(args.sample_days) for r in REGION_CODES]
        began = time.perf_counter()
        for day, region in sample:
            key = dg.MultiPartitionKey({"date": day.isoformat(), "region": region})
            daily.execute_in_process(instance=instance, partition_key=key)
        per_partition = (time.perf_counter() - began) / len(sample)
        partitions = args.days * len(REGION_CODES)
        extrapolated = per_partition * partitions
        print(f"\nsingle-run backfill of {partitions} partitions: {ranged:.1f} s (incl. reference job)")
        print(
            f"one run per partition: {per_partition:.2f} s each (mean of {len(sample)} runs) × {partitions} "
            f"= {extrapolated:.0f} s extrapolated  → speed-up {extrapolated / ranged:.1f}×"
        )
        return {
            "single_run_seconds": round(ranged, 2),
            "per_partition_seconds": round(per_partition, 3),
            "partitions": partitions,
            "speedup": round(extrapolated / ranged, 1),
        }


def scenario_incremental(args: argparse.Namespace) -> dict[str, object]:
    """One new day through every job (reference, daily × regions, reporting), after a short and a long history.

    The history is loaded the way a user loads it (``materialize_window`` with reporting), then the
    next day runs the same way; its steps are compared side by side, largest growth first.
    """
    results: dict[str, object] = {}
    step_seconds: dict[int, dict[str, float]] = {}
    # Each longer history is compared with the first (the target) and with the one before it: marts
    # over a trailing year grow until a year of history exists, then should stay flat.
    histories = (30, *(int(days) for days in str(args.history_days).split(",")))
    for history in histories:
        with workspace() as tmp, project_instance() as instance:
            generate(tmp, history + 1, max(args.order_lines, 200 * (history + 1)))
            defs = use_workspace(tmp)
            began = time.perf_counter()
            materialize_window(
                defs, instance, END - timedelta(days=history), END - timedelta(days=1), REGION_CODES, log=lambda _: None
            )
            print(f"history of {history} days loaded in {time.perf_counter() - began:.0f} s")
            m = measure(defs, instance, END, END, REGION_CODES)
            report(f"one new day × {len(REGION_CODES)} regions after {history} days of history", m, top_steps=6)
            results[f"history_{history}_days_seconds"] = round(m.wall_seconds, 2)
            step_seconds[history] = defaultdict(float)
            for step in m.steps:
                step_seconds[history][step.key] += step.seconds
    pairs = {(histories[0], h) for h in histories[1:]} | set(itertools.pairwise(histories[1:]))
    for short, long in sorted(pairs):
        ratio = results[f"history_{long}_days_seconds"] / results[f"history_{short}_days_seconds"]
        results[f"ratio_{long}_vs_{short}"] = round(ratio, 2)
        print(f"\none new day, all jobs: {ratio:.2f}× after {long} days vs after {short} days")
        print("   steps that grew most (seconds after short → long history):")
        growth = sorted(step_seconds[long], key=lambda k: step_seconds[long][k] - step_seconds[short].get(k, 0.0))
        for key in reversed(growth[-12:]):
            print(f"     {key:<55} {step_seconds[short].get(key, 0.0):7.2f} → {step_seconds[long][key]:7.2f}")
    return results


def scenario_orchestration(args: argparse.Namespace) -> dict[str, object]:
    from orchestration import compare

    with workspace() as tmp:
        gen = generate(tmp, args.days, args.order_lines)
        print(f"generated {args.order_lines:,} order lines over {args.days + 7} days in {gen:.1f} s")
        start = END - timedelta(days=args.days - 1)
        return compare(
            tmp / "sources", start, END, args.profiles.split(","), rounds=args.rounds, parallel_runs=args.parallel_runs
        )


def scenario_bare(args: argparse.Namespace) -> dict[str, object]:
    from bare_polars import compare as compare_bare

    with workspace() as tmp:
        gen = generate(tmp, args.days, args.order_lines)
        print(f"generated {args.order_lines:,} order lines over {args.days + 7} days in {gen:.1f} s")
        start = END - timedelta(days=args.days - 1)
        return compare_bare(tmp / "sources", start, END, args.profiles.split(",")[0], rounds=args.rounds)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("scenario", choices=["window", "scale", "backfill", "incremental", "orchestration", "bare"])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--order-lines", type=int, default=20_000)
    parser.add_argument(
        "--sample-days", type=int, default=3, help="backfill: per-partition runs timed on this many days"
    )
    parser.add_argument(
        "--history-days",
        default=str(3 * 365),
        help="incremental: longer histories to compare with 30 days (e.g. 365,1095)",
    )
    parser.add_argument("--executor", choices=["in_process", "process_per_run", "multiprocess"], default="in_process")
    parser.add_argument(
        "--profiles",
        default="sqlite,postgres",
        help="orchestration: profiles to compare (sqlite, sqlite-dagster, postgres)",
    )
    parser.add_argument(
        "--rounds",
        type=int,
        default=1,
        help="orchestration: measure every profile this many times, alternating their order; ratios are medians",
    )
    parser.add_argument(
        "--parallel-runs",
        type=int,
        default=1,
        help="orchestration: region runs at once, each in its own process (as a UI backfill's runs under the "
        "daemon's run queue); 1: one after the other in one process, as `sales360 materialize`",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the figures to this file")
    args = parser.parse_args()
    run = {
        "window": scenario_window,
        "scale": scenario_window,
        "backfill": scenario_backfill,
        "incremental": scenario_incremental,
        "orchestration": scenario_orchestration,
        "bare": scenario_bare,
    }[args.scenario]
    figures = run(args)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"scenario": args.scenario, **vars(args), "json": None, **figures}, indent=2, default=str)
        )


if __name__ == "__main__":
    main()
