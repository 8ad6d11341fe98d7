"""Seconds spent in each call of the Dagster instance's storages, for one profile.

    .venv/bin/python benchmarks/storage_calls.py postgres --days 1095
    .venv/bin/python benchmarks/storage_calls.py sqlite --days 1095

Generates a history, loads the reference data and one region (not timed: the storages' tables
and caches warm up), then times every call the next region's range run, the reference job and the
reporting job make into the event-log, run and schedule storages: where the orchestration share
of ``orchestration`` goes on each profile. A call made inside another storage call (on the same
thread) counts in the outer one only; a method that hands back a connection or transaction counts
while it opens it, not while the caller uses it. One run per profile: compare rounds with
``run_benchmark.py orchestration --rounds``.
"""

from __future__ import annotations

import argparse
import functools
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from orchestration import OPENERS
from run_benchmark import END, generate

from sales360_assets.cli import materialize_window
from sales360_assets.definitions import build_definitions


class StorageCallTimer:
    """Wraps the public methods of storage objects, adding up the seconds of the outermost calls."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)
        self.calls: dict[str, int] = defaultdict(int)
        self._depth = threading.local()

    def wrap(self, storage: object, label: str) -> None:
        for name in dir(type(storage)):
            if name.startswith("_") or not callable(getattr(type(storage), name, None)):
                continue
            method = getattr(storage, name)
            if callable(method):
                setattr(storage, name, self._timed(method, f"{label}.{name}"))

    def _timed(self, method: Callable[..., Any], key: str) -> Callable[..., Any]:
        @functools.wraps(method)
        def timed(*args: Any, **kwargs: Any) -> Any:
            depth = getattr(self._depth, "value", 0)
            self._depth.value = depth + 1
            began = time.perf_counter()
            try:
                return method(*args, **kwargs)
            finally:
                self._depth.value = depth
                if depth == 0:
                    self.seconds[key] += time.perf_counter() - began
                    self.calls[key] += 1

        return timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("profile", choices=sorted(OPENERS))
    parser.add_argument("--days", type=int, default=1095)
    parser.add_argument("--order-lines", type=int, default=60_000)
    parser.add_argument("--top", type=int, default=15)
    args = parser.parse_args()
    start = END - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="sales360-storage-calls-") as tmp_dir:
        tmp = Path(tmp_dir)
        generate(tmp, args.days, args.order_lines)
        with OPENERS[args.profile](tmp / "home") as instance:
            defs = build_definitions(str(tmp / "sources"), str(tmp / "lake"))
            materialize_window(defs, instance, start, END, ["na"], log=lambda _: None, reporting=False)
            timer = StorageCallTimer()
            timer.wrap(instance.event_log_storage, "event_log")
            timer.wrap(instance.run_storage, "runs")
            timer.wrap(instance.schedule_storage, "schedules")
            began = time.perf_counter()
            seconds = materialize_window(defs, instance, start, END, ["uk"], log=lambda _: None)
            wall = time.perf_counter() - began
    print(f"\n{args.profile}: {wall:.1f} s wall, " + ", ".join(f"{job} {s:.1f} s" for job, s in seconds.items()))
    print(f"in storage calls: {sum(timer.seconds.values()):.1f} s")
    for key in sorted(timer.seconds, key=timer.seconds.__getitem__, reverse=True)[: args.top]:
        print(f"   {key:<75} {timer.seconds[key]:7.2f} s {timer.calls[key]:7d} calls")


if __name__ == "__main__":
    main()
