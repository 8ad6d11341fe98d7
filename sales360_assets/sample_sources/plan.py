"""The sample's plan: the window, the regions and how many of everything the arguments call for.

Volumes (SKUs, stores, reps, deals, accounts, campaigns) grow slowly with the number of order
lines, so a tiny sample stays realistic and a huge one stays within minutes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from sales360_assets.sample_sources.parameters import CURRENCY_DECIMALS, REGION_WEIGHTS, WEB_SHARE
from sales360_assets.sample_sources.reference_data import COUNTRIES
from sales360_assets.sample_sources.vectors import DAY, day_us
from sales360_assets.settings import REGION_CODES, REGIONS


@dataclass(frozen=True)
class Plan:
    """Everything the arguments decide before the first random draw."""

    start: date
    end: date
    order_lines: int
    seed: int
    days: tuple[date, ...]
    regions: tuple[str, ...]
    web_lines: int
    pos_lines: int
    n_skus: int
    stores_per_region: tuple[int, ...]
    reps_per_region: tuple[int, ...]
    n_opportunities: int
    n_accounts: int
    n_campaigns: int

    @property
    def start_us(self) -> int:
        return day_us(self.start)

    @property
    def end_us(self) -> int:
        """Exclusive: midnight after the last business day."""
        return day_us(self.end) + DAY

    @property
    def window_us(self) -> int:
        """Length of the window in microseconds."""
        return self.end_us - self.start_us

    @property
    def region_weights(self) -> np.ndarray:
        return np.array([REGION_WEIGHTS[r] for r in self.regions])

    def currency(self, region_idx: int) -> str:
        return REGIONS[self.regions[region_idx]].currency

    @property
    def currencies(self) -> list[str]:
        """The currency of each region, in region order."""
        return [self.currency(i) for i in range(len(self.regions))]

    @property
    def decimals(self) -> np.ndarray:
        """Minor-unit decimals of each region's currency (JPY has none)."""
        return np.array([CURRENCY_DECIMALS[c] for c in self.currencies])


def make_plan(start: date, end: date, order_lines: int, seed: int) -> Plan:
    """Sizes for a window and a number of order lines; refuses a configured region without reference data."""
    regions = tuple(REGION_CODES)
    for r in regions:
        if r not in REGION_WEIGHTS or not any(c.region == r for c in COUNTRIES.values()):
            raise ValueError(f"region {r!r} from settings has no generator reference data")
    scale = max(order_lines, 1)
    store_base = 2 + 1.6 * np.log10(max(1.0, scale / 5000))
    rep_base = 4 + 3 * np.log10(max(1.0, scale / 20000))
    bonus = {"na": 1, "emea": 1}
    n_opp = max(200, order_lines // 100)
    return Plan(
        start=start,
        end=end,
        order_lines=order_lines,
        seed=seed,
        days=tuple(start + timedelta(days=i) for i in range((end - start).days + 1)),
        regions=regions,
        web_lines=round(order_lines * WEB_SHARE),
        pos_lines=order_lines - round(order_lines * WEB_SHARE),
        n_skus=int(np.clip(100 + 40 * np.log10(max(1.0, scale / 2000)), 100, 300)),
        stores_per_region=tuple(int(np.clip(store_base + bonus.get(r, 0), 2, 6)) for r in regions),
        reps_per_region=tuple(int(np.clip(round(rep_base) + (r == "na"), 4, 10)) for r in regions),
        n_opportunities=n_opp,
        n_accounts=max(60, n_opp // 3),
        n_campaigns=int(np.clip(8 + 4 * np.log10(max(1.0, scale / 2000)), 8, 24)),
    )
