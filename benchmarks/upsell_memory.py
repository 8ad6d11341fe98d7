"""Peak memory of ``build_mart_upsell_candidates`` alone, on a customer base the size of the 2 M-line run.

281 k customers, 220 products in 8 categories, 1.5 M purchases, random but seeded. Prints rows,
seconds and the process's peak resident memory (``ru_maxrss``), inputs included.

    .venv/bin/python benchmarks/upsell_memory.py
"""

from __future__ import annotations

import time

import numpy as np
import polars as pl
from synthetic_star import peak_gib

from sales360_assets.recommendations import cross_sell

PRODUCTS, CUSTOMERS, PURCHASES, CATEGORIES = 220, 281_000, 1_500_000, 8


def main() -> None:
    rng = np.random.default_rng(7)
    dim_product = pl.DataFrame(
        {
            "product_key": [f"p{i}" for i in range(PRODUCTS)],
            "product_name": [f"Product {i}" for i in range(PRODUCTS)],
            "category": [f"cat{i % CATEGORIES}" for i in range(PRODUCTS)],
            "subcategory": [f"sub{i % (3 * CATEGORIES)}" for i in range(PRODUCTS)],
            "list_price_usd": rng.uniform(5, 500, PRODUCTS).round(2),
            "is_unknown_member": [False] * PRODUCTS,
        }
    )
    dim_customer = pl.DataFrame(
        {
            "customer_key": [f"c{i}" for i in range(CUSTOMERS)],
            "segment": rng.choice(["Consumer", "Corporate"], CUSTOMERS),
            "region": rng.choice(["na", "emea", "uk", "apac"], CUSTOMERS),
            "is_unknown_member": [False] * CUSTOMERS,
        }
    )
    fact = pl.DataFrame(
        {
            "customer_key": [f"c{i}" for i in rng.integers(0, CUSTOMERS, PURCHASES)],
            "product_key": [f"p{i}" for i in rng.integers(0, PRODUCTS, PURCHASES)],
        }
    )
    inputs = peak_gib()
    began = time.perf_counter()
    mart = cross_sell.build_mart_upsell_candidates(fact, dim_customer, dim_product)
    print(
        f"mart_upsell_candidates: {mart.height:,} rows in {time.perf_counter() - began:.1f} s; "
        f"peak RSS {peak_gib():.2f} GiB (inputs {inputs:.2f} GiB)"
    )


if __name__ == "__main__":
    main()
