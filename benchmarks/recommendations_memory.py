"""Peak memory of ``mart_customer_recommendations``'s work alone, phase by phase, on a synthetic star.

The phases are the asset's: the time-holdout evaluation of every recommender, the ALS scores of
the window, the published lists made and written to a Delta table block by block, as the
asset's IO manager writes them. Defaults are sized like the 2 M-line run (281 k customers);
``--customers 1400000 --lines 7000000`` is about what 10 M order lines over a year produce.
Prints each phase's seconds and the peak resident memory sampled during it, inputs included.

    .venv/bin/python benchmarks/recommendations_memory.py
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psutil
from synthetic_star import peak_gib, synthetic_star

from sales360_assets.lake.delta import DeltaLake
from sales360_assets.recommendations import evaluation, recommend
from sales360_assets.recommendations.assets import recommenders_for
from sales360_assets.recommendations.basket import DEFAULT_MIN_SUPPORT

GIB = 1024**3


class PhasePeaks:
    """Largest resident memory seen while a phase runs (a daemon sampler thread, every 10 ms)."""

    def __init__(self) -> None:
        self._process = psutil.Process()
        self._peak = 0
        self._lock = threading.Lock()  # the phase's reset must not race a sample of the last phase
        threading.Thread(target=self._sample, daemon=True).start()

    def _sample(self) -> None:
        while True:
            rss = self._process.memory_info().rss
            with self._lock:
                self._peak = max(self._peak, rss)
            time.sleep(0.01)

    def run(self, name: str, work: Callable[[], Any]) -> Any:
        with self._lock:
            self._peak = self._process.memory_info().rss
        began = time.perf_counter()
        result = work()
        with self._lock:
            peak = max(self._peak, self._process.memory_info().rss)
        print(f"  {name:<12} {time.perf_counter() - began:6.1f} s   peak {peak / GIB:5.2f} GiB")
        return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=281_000)
    parser.add_argument("--products", type=int, default=220)
    parser.add_argument("--lines", type=int, default=1_500_000)
    args = parser.parse_args()
    star = synthetic_star(args.customers, args.products, args.lines)
    print(
        f"{args.customers:,} customers, {args.products} products, {args.lines:,} lines "
        f"(inputs: {peak_gib():.2f} GiB peak so far)"
    )
    phases = PhasePeaks()
    recommenders = recommenders_for(star.dim_customer, star.dim_product, DEFAULT_MIN_SUPPORT)
    scores = phases.run(
        "evaluation",
        lambda: evaluation.evaluate(star.fact, star.dim_customer, star.dim_product, recommenders),
    )
    window = star.fact.filter(star.fact["date"] > star.fact["date"].max() - timedelta(days=365))
    model_scores = phases.run(
        "als_scores",
        lambda: recommend.als_scores(window, star.dim_customer, star.dim_product, recommend.AlsParams()),
    )
    mart = recommend.build_mart_customer_recommendations(
        window, star.dim_customer, star.dim_product, model_scores, recommend.ALS
    )
    with tempfile.TemporaryDirectory() as lake_root:
        # As the asset's IO manager writes it: block by block into one Delta commit.
        written = phases.run(
            "lists+write", lambda: DeltaLake(lake_root).overwrite_blocks("mart", mart.schema, mart.make)
        )
    print(
        f"chosen: {evaluation.choose_model(scores)}; {written.rows_written:,} list rows; "
        f"process peak {peak_gib():.2f} GiB"
    )


if __name__ == "__main__":
    main()
