"""A seeded synthetic star (dim_customer, dim_product, fact_sales) for one-step memory benchmarks.

Keys are 32-character MD5 hex strings like the pipeline's surrogate keys, so string costs are
real; orders hold one to four lines; a few customers buy often (Zipf-like), most once or twice.
Not a sample of the business: only the shapes and sizes the recommendation steps care about.
"""

from __future__ import annotations

import hashlib
import resource
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

END = date(2026, 10, 31)


@dataclass(frozen=True)
class Star:
    dim_customer: pl.DataFrame
    dim_product: pl.DataFrame
    fact: pl.DataFrame


def peak_gib() -> float:
    """This process's peak resident memory so far (Linux reports ``ru_maxrss`` in KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2


def _md5_keys(prefix: str, n: int) -> list[str]:
    return [hashlib.md5(f"{prefix}{i}".encode(), usedforsecurity=False).hexdigest() for i in range(n)]


def synthetic_star(
    customers: int, products: int, lines: int, *, days: int = 395, categories: int = 8, seed: int = 7
) -> Star:
    rng = np.random.default_rng(seed)
    product_keys, customer_keys = _md5_keys("p", products), _md5_keys("c", customers)
    dim_product = pl.DataFrame(
        {
            "product_key": product_keys,
            "sku": [f"SKU-{i:05d}" for i in range(products)],
            "product_name": [f"Product {i}" for i in range(products)],
            "category": [f"cat{i % categories}" for i in range(products)],
            "subcategory": [f"sub{i % (3 * categories)}" for i in range(products)],
            "list_price_usd": rng.uniform(5, 500, products).round(2),
            "is_unknown_member": [False] * products,
        }
    )
    dim_customer = pl.DataFrame(
        {
            "customer_key": customer_keys,
            "segment": rng.choice(["Consumer", "Corporate"], customers),
            "region": rng.choice(["na", "emea", "uk", "apac"], customers),
            "is_unknown_member": [False] * customers,
        }
    )
    orders = lines // 2
    order_customer = np.minimum(rng.zipf(1.3, orders) - 1, customers - 1)
    order_customer = (order_customer + rng.integers(0, customers, orders)) % customers  # spread the heavy buyers
    order_day = rng.integers(0, days, orders)
    order_of_line = np.sort(rng.integers(0, orders, lines))
    popular_first = np.minimum(rng.zipf(1.2, lines) - 1, products - 1)
    start = END - timedelta(days=days - 1)
    fact = pl.DataFrame(
        {
            "date": pl.Series([start + timedelta(days=d) for d in range(days)]).gather(order_day[order_of_line]),
            "channel": pl.Series(["web"]).gather(np.zeros(lines, dtype=np.int64)),
            "order_id": pl.Series(order_of_line).cast(pl.String),
            "customer_key": dim_customer["customer_key"].gather(order_customer[order_of_line]),
            "product_key": dim_product["product_key"].gather(popular_first),
            "quantity": np.ones(lines, dtype=np.int64),
            "net_amount_usd": np.full(lines, 10.0),
        }
    )
    return Star(dim_customer, dim_product, fact)
