"""Peak memory of ``build_mart_upsell_candidates`` alone, on a customer base the size of the 2 M-line run.

281 k customers, 220 products in 8 categories, 1.5 M purchases (``synthetic_star``, seeded).
Prints rows, seconds and the process's peak resident memory (``ru_maxrss``), inputs included.

    .venv/bin/python benchmarks/upsell_memory.py
"""

from __future__ import annotations

import time

from synthetic_star import peak_gib, synthetic_star

from sales360_assets.recommendations import cross_sell

PRODUCTS, CUSTOMERS, PURCHASES = 220, 281_000, 1_500_000


def main() -> None:
    star = synthetic_star(CUSTOMERS, PRODUCTS, PURCHASES)
    inputs = peak_gib()
    began = time.perf_counter()
    mart = cross_sell.build_mart_upsell_candidates(star.fact, star.dim_customer, star.dim_product)
    print(
        f"mart_upsell_candidates: {mart.height:,} rows in {time.perf_counter() - began:.1f} s; "
        f"peak RSS {peak_gib():.2f} GiB (inputs {inputs:.2f} GiB)"
    )


if __name__ == "__main__":
    main()
