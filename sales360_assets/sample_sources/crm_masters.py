"""The CRM's master objects that are not people: ``Product2``, ``Campaign`` and ``Quota__c``.

Product2 carries part of the warehouse catalogue plus CRM-only service codes; campaigns are
scattered around the window per region; quotas are one per rep and month, sized to the deal
flow. ``reference_modstamps`` stamps master records the way a first extract sees them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from sales360_assets.months import next_month
from sales360_assets.sample_sources.catalogue import Catalogue
from sales360_assets.sample_sources.crm_history import Move
from sales360_assets.sample_sources.parameters import (
    BASE_USD_PER_UNIT,
    CRM_ONLY_PRODUCTS,
    CURRENCY_DECIMALS,
    QUOTA_USD_PER_DEAL,
)
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import CAMPAIGN_THEMES, CAMPAIGN_TYPES
from sales360_assets.sample_sources.vectors import DAY, EPOCH, SEC, dates, sf_ids, take, timestamps


def reference_modstamps(rng: np.random.Generator, plan: Plan, created: np.ndarray) -> np.ndarray:
    """Most master records were last touched before the window: they land in its first days."""
    n = len(created)
    first_days = min(3, len(plan.days)) * DAY
    initial = plan.start_us + rng.integers(0, first_days, n)
    spread = plan.start_us + rng.integers(0, plan.window_us, n)
    stamp = np.where(rng.random(n) < 0.7, initial, spread)
    return np.clip(np.maximum(stamp, created + SEC), plan.start_us, plan.end_us - SEC)


@dataclass
class Products:
    """``Product2`` and what the deals need of it: codes, families and local prices per region."""

    frame: pl.DataFrame
    codes: list[str]
    family: list[str]
    price: np.ndarray  # (regions, products) local price

    @property
    def ids(self) -> dict[str, str]:
        """ProductCode -> Product2 Id."""
        return dict(zip(self.codes, self.frame["Id"].to_list(), strict=True))


def build_product2(rng: np.random.Generator, plan: Plan, cat: Catalogue) -> Products:
    """Part of the catalogue plus CRM-only service codes."""
    catalogue = cat.frame
    crm_idx = np.flatnonzero(cat.in_crm)
    codes = [*catalogue["sku"].gather(crm_idx).to_list(), *(c for c, _, _ in CRM_ONLY_PRODUCTS)]
    names = [*catalogue["product_name"].gather(crm_idx).to_list(), *(nm for _, nm, _ in CRM_ONLY_PRODUCTS)]
    family = [*catalogue["category"].gather(crm_idx).to_list(), *("Services" for _ in CRM_ONLY_PRODUCTS)]
    n_prod = len(codes)
    service_usd = np.array([p for _, _, p in CRM_ONLY_PRODUCTS])
    product_price = np.zeros((len(plan.regions), n_prod))
    for r_idx, ccy in enumerate(plan.currencies):
        services = np.round(service_usd / BASE_USD_PER_UNIT[ccy], CURRENCY_DECIMALS[ccy])
        product_price[r_idx] = np.concatenate([cat.price[r_idx, crm_idx], services])
    prod_created = plan.start_us - rng.integers(100, 900, n_prod) * DAY
    # A few catalogue products are retired in the CRM; the services are always sold.
    active = rng.random(n_prod) > 0.03
    active[len(crm_idx) :] = True
    frame = pl.DataFrame(
        {
            "Id": sf_ids("Id", "01t", np.arange(1, n_prod + 1)),
            "Name": names,
            "ProductCode": codes,
            "Family": family,
            "IsActive": active,
            "SystemModstamp": timestamps("SystemModstamp", reference_modstamps(rng, plan, prod_created)),
            "IsDeleted": np.zeros(n_prod, dtype=bool),
        }
    )
    return Products(frame=frame, codes=codes, family=family, price=product_price)


def build_campaigns(rng: np.random.Generator, plan: Plan) -> tuple[pl.DataFrame, np.ndarray, np.ndarray]:
    """Campaigns per region scattered around the window; also each one's region and start (epoch day)."""
    n_camp = plan.n_campaigns
    camp_region = np.arange(n_camp) % len(plan.regions)
    window_days = len(plan.days)
    start_day = (plan.start - EPOCH).days
    camp_start = start_day - rng.integers(0, 61, n_camp) + (rng.random(n_camp) * window_days).astype(np.int64)
    camp_end = camp_start + rng.integers(7, 46, n_camp)
    end_day = (plan.end - EPOCH).days
    budget = np.round(rng.uniform(5_000, 80_000, n_camp) / 500) * 500
    elapsed = np.clip((end_day - camp_start + 1) / (camp_end - camp_start + 1), 0, 1)
    actual = np.where(camp_start > end_day, np.nan, np.round(budget * elapsed * rng.uniform(0.75, 1.15, n_camp), 2))
    status = np.where(camp_start > end_day, "Planned", np.where(camp_end >= end_day, "In Progress", "Completed"))
    # Set up a week before launch; campaigns launched before the window land in its first days.
    camp_stamp = (camp_start - 7) * DAY + rng.integers(0, DAY, n_camp)
    early = plan.start_us + rng.integers(0, min(3, window_days) * DAY, n_camp)
    camp_stamp = np.minimum(np.where(camp_stamp < plan.start_us, early, camp_stamp), plan.end_us - SEC)
    camp_year = [(EPOCH + timedelta(days=int(d))).year for d in camp_start]
    campaign = pl.DataFrame(
        {
            "Id": sf_ids("Id", "701", np.arange(1, n_camp + 1)),
            "Name": [
                f"{CAMPAIGN_THEMES[int(t)]} {y} - {plan.regions[r].upper()}"
                for t, y, r in zip(rng.integers(0, len(CAMPAIGN_THEMES), n_camp), camp_year, camp_region, strict=True)
            ],
            "Type": take(CAMPAIGN_TYPES, rng.integers(0, len(CAMPAIGN_TYPES), n_camp)),
            "Status": status,
            "StartDate": dates("StartDate", camp_start),
            "EndDate": dates("EndDate", camp_end),
            "BudgetedCost": budget,
            "ActualCost": pl.Series(actual).fill_nan(None),
            "SystemModstamp": timestamps("SystemModstamp", camp_stamp),
            "IsDeleted": np.zeros(n_camp, dtype=bool),
        }
    )
    return campaign, camp_region, camp_start


def build_quotas(
    rng: np.random.Generator, plan: Plan, reps: list[np.ndarray], moves: list[Move], user_ids: pl.Series
) -> pl.DataFrame:
    """One quota per rep per month covering the window, in the currency of the rep's region that month."""
    months: list[date] = []
    m = date(plan.start.year, plan.start.month, 1)
    while m <= plan.end:
        months.append(m)
        m = next_month(m)
    rep_all = np.concatenate(reps)
    rep_region = np.concatenate([np.full(len(x), r) for r, x in enumerate(reps)])
    q_rep = np.repeat(rep_all, len(months))
    q_region = np.repeat(rep_region, len(months))
    q_month = np.tile([(mm - EPOCH).days for mm in months], len(rep_all))
    for move in (m for m in moves if m.kind == "region"):
        # A month's quota is set in the region the rep belongs to on its first day.
        q_region[(q_rep == move.rep) & (q_month >= move.stamp // DAY)] = move.region_after
    # Quotas a typical rep can reach: about QUOTA_USD_PER_DEAL of bookings for each deal opened in
    # a month, ±40 %, so monthly attainment spreads across every accelerator band.
    deals_per_rep_month = plan.n_opportunities / len(plan.days) * 30 / max(len(rep_all), 1)
    target_usd = max(1_000.0, deals_per_rep_month * QUOTA_USD_PER_DEAL)
    q_usd = np.round(rng.uniform(0.6, 1.4, len(q_rep)) * target_usd / 500) * 500
    ccys = plan.currencies
    q_local = q_usd / np.array([BASE_USD_PER_UNIT[c] for c in ccys])[q_region]
    q_local = np.where(np.array([c == "JPY" for c in ccys])[q_region], np.round(q_local, -5), np.round(q_local, -3))
    q_stamp = np.maximum(q_month * DAY - rng.integers(1, 6, len(q_rep)) * DAY, plan.start_us) + rng.integers(
        0, DAY, len(q_rep)
    )
    return pl.DataFrame(
        {
            "Id": sf_ids("Id", "a00", np.arange(1, len(q_rep) + 1)),
            "User__c": user_ids.gather(q_rep),
            "Month__c": dates("Month__c", q_month),
            "Amount__c": q_local,
            "CurrencyIsoCode": take(ccys, q_region),
            "SystemModstamp": timestamps("SystemModstamp", np.minimum(q_stamp, plan.end_us - SEC)),
            "IsDeleted": np.zeros(len(q_rep), dtype=bool),
        }
    )
