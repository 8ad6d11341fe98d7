"""The product catalogue (warehouse ``products``), regional shelf prices, and how buyers pick products.

Products follow category → subcategory → brand and noun (``reference_data.SUBCATEGORIES``),
with USD list prices and costs (a few loss-makers), a companion product bought with them, a
popularity per channel and a local price per region. ``draw_skus`` turns that into the products
of order lines: popularity, the buyer's favourite subcategory, then bundle partners.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.parameters import (
    BASE_USD_PER_UNIT,
    CURRENCY_DECIMALS,
    POS_LOCAL_SKUS,
    REGION_PRICE_FACTOR,
    TASTE_SHARE,
)
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import CHANNEL_CATEGORY_BOOST, SUBCATEGORIES
from sales360_assets.sample_sources.vectors import DAY, alloc, component_rng, timestamps


@dataclass
class Catalogue:
    frame: pl.DataFrame  # the warehouse products table
    skus: pl.Series  # catalogue SKUs, then the POS-local ones
    category: np.ndarray
    web_popularity: np.ndarray
    pos_popularity: np.ndarray
    companion: np.ndarray  # bundle partner per product (-1 for none)
    subcategory: np.ndarray  # subcategory index per catalogue product
    price: np.ndarray  # (regions, skus + local skus) local list prices
    in_crm: np.ndarray  # bool per catalogue product: also a CRM Product2


@dataclass
class BasketLines:
    """The lines of web orders or till transactions, in basket and line-number order (before defects)."""

    basket: np.ndarray  # index of the order or transaction
    line_no: np.ndarray
    sku: np.ndarray  # index into Catalogue.skus
    qty: np.ndarray
    region: np.ndarray
    unit_price: np.ndarray  # local list price
    discount: np.ndarray  # on the whole line, in local currency


def build_catalogue(plan: Plan) -> Catalogue:
    """The warehouse products table and what buying needs of it: popularity, bundles, local prices, CRM flag."""
    rng = component_rng(plan.seed, "catalogue")
    rows, sub_of, price_usd, margin = _product_rows(rng, plan)
    n = len(sub_of)
    price = np.array(price_usd)
    price = np.where(price >= 10, np.floor(price) + 0.99, np.round(price * 2) / 2 - 0.01)
    cost = np.round(price * (1 - np.array(margin)), 2)
    # A few loss-making products (clearance, loss leaders) so margin analysis has negatives.
    losers = rng.choice(n, size=3 + n // 100, replace=False)
    cost[losers] = np.round(price[losers] * rng.uniform(1.05, 1.25, len(losers)), 2)
    sub_arr = np.array(sub_of)
    cats = np.array([SUBCATEGORIES[s][0] for s in sub_of])
    category_codes = sorted({s[0] for s in SUBCATEGORIES})
    category = np.array([category_codes.index(c) for c in cats])
    popularity = _popularity(rng, sub_of, cats)
    companion = _companions(rng, sub_arr)
    prices = _regional_prices(plan, price)

    updated = plan.start_us - rng.integers(30, 700, n) * DAY + rng.integers(0, DAY, n)
    changed = rng.random(n) < 0.1  # price reviews during the window
    updated[changed] = plan.start_us + rng.integers(0, plan.window_us, int(changed.sum()))
    frame = pl.DataFrame(
        {
            **rows,
            "list_price_usd": price,
            "standard_cost_usd": cost,
            "updated_at": timestamps("updated_at", updated),
        }
    )
    skus = pl.Series("sku", [*rows["sku"], *(s for s, _ in POS_LOCAL_SKUS)], dtype=pl.String)
    # B2B-relevant products are the ones sales sells; about two thirds of the catalogue.
    in_crm = rng.random(n) < np.where(np.isin(cats, ["Electronics", "Home", "Sports"]), 0.8, 0.45)
    return Catalogue(
        frame=frame,
        skus=skus,
        category=category,
        web_popularity=popularity["web"],
        pos_popularity=popularity["pos"],
        companion=companion,
        subcategory=sub_arr,
        price=prices,
        in_crm=in_crm,
    )


def _product_rows(
    rng: np.random.Generator, plan: Plan
) -> tuple[dict[str, list[Any]], list[int], list[float], list[float]]:
    """Names and codes per product, its subcategory index, and a drawn USD price and gross margin."""
    counts = alloc(plan.n_skus, [s[7] for s in SUBCATEGORIES], minimum=2)
    rows: dict[str, list[Any]] = {k: [] for k in ("sku", "product_name", "category", "subcategory", "brand")}
    sub_of: list[int] = []
    price_usd: list[float] = []
    margin: list[float] = []
    for s_idx, (spec, n) in enumerate(zip(SUBCATEGORIES, counts, strict=True)):
        cat, cat_code, sub, sub_code, lo, hi, m, _w, _comp, brands, nouns = spec
        for i in range(int(n)):
            brand = brands[i % len(brands)]
            noun = nouns[(i // len(brands)) % len(nouns)]
            rows["sku"].append(f"{cat_code}-{sub_code}-{i + 1:04d}")
            rows["product_name"].append(f"{brand} {noun} {'SXMPLA'[i % 6]}{i // 6 + 1}")
            rows["category"].append(cat)
            rows["subcategory"].append(sub)
            rows["brand"].append(brand)
            sub_of.append(s_idx)
            price_usd.append(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            margin.append(float(np.clip(rng.normal(m, 0.08), 0.04, 0.85)))
    return rows, sub_of, price_usd, margin


def _popularity(rng: np.random.Generator, sub_of: list[int], cats: np.ndarray) -> dict[str, np.ndarray]:
    """Per channel, a heavy-tailed share of sales per product, boosted where the channel sells the category."""
    base_pop = 1.0 / (rng.permutation(len(sub_of)) + 1.0) ** 0.9 * np.array([SUBCATEGORIES[s][7] for s in sub_of])
    popularity = {}
    for channel, boosts in CHANNEL_CATEGORY_BOOST.items():
        boost = np.array([boosts.get(c, 1.0) for c in cats])
        popularity[channel] = base_pop * boost / (base_pop * boost).sum()
    return popularity


def _companions(rng: np.random.Generator, sub_arr: np.ndarray) -> np.ndarray:
    """A bundle partner per product from the subcategory it is bought with (-1 for POS-local items)."""
    sub_codes = [s[3] for s in SUBCATEGORIES]
    companion = np.full(len(sub_arr) + len(POS_LOCAL_SKUS), -1, dtype=np.int64)
    for s_idx, spec in enumerate(SUBCATEGORIES):
        members = np.flatnonzero(sub_arr == s_idx)
        partners = np.flatnonzero(sub_arr == sub_codes.index(spec[8]))
        for p in members:
            options = partners[partners != p]
            if len(options):
                companion[p] = options[rng.integers(len(options))]
    return companion


def _regional_prices(plan: Plan, price: np.ndarray) -> np.ndarray:
    """(regions, products + POS-local items): list prices converted and rounded to local price points."""
    local_usd = np.array([p for _, p in POS_LOCAL_SKUS])
    prices = np.zeros((len(plan.regions), len(price) + len(POS_LOCAL_SKUS)))
    for r_idx, region in enumerate(plan.regions):
        ccy = plan.currency(r_idx)
        local = price * REGION_PRICE_FACTOR[region] / BASE_USD_PER_UNIT[ccy]
        if CURRENCY_DECIMALS[ccy] == 0:
            local = np.round(local, -1)
        else:
            # Price points: 24.99 above ten, 6.49 / 6.99 below.
            local = np.where(local >= 10, np.floor(local) + 0.99, np.maximum(np.round(local * 2) / 2 - 0.01, 0.49))
        # Local items have fixed shelf prices (a 0.10 bag, a 15 yen bag), not converted ones.
        step = 5.0 if CURRENCY_DECIMALS[ccy] == 0 else 0.05
        fixed = np.round(np.maximum(np.round(local_usd / BASE_USD_PER_UNIT[ccy] / step), 1) * step, 2)
        prices[r_idx] = np.concatenate([local, fixed])
    return prices


def tastes(plan: Plan, cat: Catalogue, people: int) -> np.ndarray:
    """A favourite subcategory per person, as common as the subcategory sells on the web."""
    rng = component_rng(plan.seed, "taste")  # its own stream: the other draws stay as they were
    weights = np.bincount(cat.subcategory, weights=cat.web_popularity[: len(cat.subcategory)])
    return rng.choice(len(weights), size=people, p=weights / weights.sum())


def _taste_picks(plan: Plan, cat: Catalogue, popularity: np.ndarray, sku: np.ndarray, taste: np.ndarray) -> None:
    """Replace TASTE_SHARE of the lines with a popularity draw from the buyer's favourite subcategory."""
    rng = component_rng(plan.seed, "taste-picks")
    picks = rng.random(len(sku)) < TASTE_SHARE
    for sub in np.unique(taste[picks]):
        at = np.flatnonzero(picks & (taste == sub))
        members = np.flatnonzero(cat.subcategory == sub)
        weights = popularity[members]
        sku[at] = members[rng.choice(len(members), size=len(at), p=weights / weights.sum())]


def draw_skus(
    rng: np.random.Generator,
    cat: Catalogue,
    popularity: np.ndarray,
    line_no: np.ndarray,
    taste: tuple[Plan, np.ndarray] | None = None,
) -> np.ndarray:
    """Products for order lines: popularity-weighted (part by the buyer's taste), then bundle partners follow."""
    sku = rng.choice(len(popularity), size=len(line_no), p=popularity)
    if taste is not None:
        _taste_picks(taste[0], cat, popularity, sku, taste[1])
    follow = rng.random(len(line_no)) < 0.35
    # Level by level so a chain (phone -> case -> charger) forms inside one order.
    for k in range(2, int(line_no.max(initial=1)) + 1):
        at = np.flatnonzero((line_no == k) & follow)
        partner = cat.companion[sku[at - 1]]
        ok = partner >= 0
        sku[at[ok]] = partner[ok]
    return sku
