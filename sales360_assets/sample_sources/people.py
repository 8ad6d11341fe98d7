"""The sample's people: web customers, loyalty members and CRM contacts, one row per person.

A person can be in one system or several (web only, store only, both, CRM only), lives in a
country and city of their region, and carries the contact details and the spelling of their
name each system has. The CRM's accounts are planned here too, because their number of contacts
decides how many people are CRM contacts. Hard identity cases are injected last, on their own
random stream (``identity_cases``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from sales360_assets.sample_sources.identity_cases import inject_identity_cases
from sales360_assets.sample_sources.parameters import (
    CRM_ONLY,
    LOYALTY_CATEGORIES,
    SEGMENT_WEIGHTS,
    SEGMENTS,
    WEB_CATEGORIES,
)
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import COUNTRIES
from sales360_assets.sample_sources.spellings import email_part, name_tables, system_spellings
from sales360_assets.sample_sources.vectors import DAY, alloc, component_rng, take
from sales360_assets.settings import REGIONS


@dataclass
class Accounts:
    region: np.ndarray
    household: np.ndarray
    contacts: np.ndarray  # contacts per account


def plan_accounts(plan: Plan) -> Accounts:
    """CRM accounts per region: about a quarter households, each with one to three contacts."""
    rng = component_rng(plan.seed, "accounts")
    counts = alloc(plan.n_accounts, plan.region_weights, minimum=8)
    region = np.repeat(np.arange(len(plan.regions)), counts)
    region = region[rng.permutation(len(region))]
    household = rng.random(len(region)) < 0.25
    contacts = np.where(household, rng.integers(1, 3, len(region)), rng.integers(1, 4, len(region)))
    return Accounts(region=region, household=household, contacts=contacts)


@dataclass
class People:
    frame: pl.DataFrame  # one row per person; row index = person index
    web_by_region: list[np.ndarray]
    web_weight_by_region: list[np.ndarray]
    loyal_by_region: list[np.ndarray]
    loyal_weight_by_region: list[np.ndarray]
    contacts_by_region: list[np.ndarray]  # persons who are CRM contacts, in contact order
    identity_cases: pl.DataFrame  # injected hard cases (identity_cases.CASES_SCHEMA)


@dataclass
class _Names:
    """Where each person lives and which registered name they have (indexes into the name tables)."""

    country_idx: np.ndarray
    city_idx: np.ndarray
    city_names: list[str]
    city_area: list[str]
    first_idx: np.ndarray
    last_idx: np.ndarray
    first_v: pl.Series  # every first-name spelling variant (name_tables)
    last_v: pl.Series


def build_people(plan: Plan, accounts: Accounts) -> People:
    """Every person of the sample, with the web, loyalty and contact pools per region."""
    rng = component_rng(plan.seed, "people")
    region, category, cross_r = _categories(rng, plan, accounts)
    names = _places_and_names(rng, plan, region)
    frame = _with_contact_details(_identity_frame(rng, region, category, names))
    # Spelling variants per system: a store clerk or a sales rep types what they hear.
    frame = frame.with_columns(**system_spellings(rng, names.first_idx, names.last_idx, names.first_v, names.last_v))
    frame, segment = _with_web_and_loyalty(rng, plan, frame, category)
    pools = _pools(rng, plan, region, category, segment, cross_r)
    # Hard identity cases draw from their own stream, after every other draw: nothing above moves.
    frame, cases = inject_identity_cases(frame, component_rng(plan.seed, "identity_cases"))
    return People(
        frame=frame.drop("ef", "el", "cc", "area", "sub", "nanp", "domain", "k"), identity_cases=cases, **pools
    )


def _categories(rng: np.random.Generator, plan: Plan, accounts: Accounts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Region and category per person, and per region how many CRM contacts are known elsewhere too."""
    n_regions = len(plan.regions)
    est_web_orders = plan.web_lines / 2.0
    est_loyal_tx = plan.pos_lines / 1.7 * 0.45
    n_web = max(120, int(0.5 * est_web_orders))
    n_loyal = max(80, int(0.3 * est_loyal_tx))
    n_both = int(0.35 * n_loyal)
    contacts_r = np.bincount(accounts.region, weights=accounts.contacts, minlength=n_regions).astype(int)
    # In category order (parameters.WEB_ONLY ..): web only, POS only, web and POS, CRM only.
    per_cat = [
        alloc(n_web - n_both, plan.region_weights, 10),
        alloc(n_loyal - n_both, plan.region_weights, 10),
        alloc(n_both, plan.region_weights, 5),
    ]
    cross_r = np.minimum(np.round(contacts_r * 0.65).astype(int), per_cat[0] + per_cat[1] + per_cat[2])
    per_cat.append(contacts_r - cross_r)
    region = np.concatenate([np.repeat(np.arange(n_regions), c) for c in per_cat])
    category = np.concatenate([np.full(int(c.sum()), k) for k, c in enumerate(per_cat)])
    perm = rng.permutation(len(region))
    return region[perm], category[perm], cross_r


def _places_and_names(rng: np.random.Generator, plan: Plan, region: np.ndarray) -> _Names:
    """Country, city and names follow the region (a country's naming culture)."""
    n = len(region)
    countries = list(COUNTRIES.values())
    country_idx = np.zeros(n, dtype=np.int64)
    for r_idx, r in enumerate(plan.regions):
        members = np.flatnonzero(region == r_idx)
        options = [i for i, c in enumerate(countries) if c.region == r and c.code in REGIONS[r].countries]
        weights = np.array([countries[i].weight for i in options])
        country_idx[members] = np.array(options)[rng.choice(len(options), len(members), p=weights / weights.sum())]
    city_names: list[str] = []
    city_area: list[str] = []
    city_idx = np.zeros(n, dtype=np.int64)
    _, ranges, first_v, last_v = name_tables()
    first_idx = np.zeros(n, dtype=np.int64)
    last_idx = np.zeros(n, dtype=np.int64)
    for c_idx, country in enumerate(countries):
        members = np.flatnonzero(country_idx == c_idx)
        w = np.array([c[3] for c in country.cities])
        city_idx[members] = len(city_names) + rng.choice(len(w), len(members), p=w / w.sum())
        city_names.extend(c[0] for c in country.cities)
        city_area.extend(c[1] for c in country.cities)
        f0, fn, l0, ln = ranges[country.names]
        first_idx[members] = f0 + rng.integers(0, fn, len(members))
        last_idx[members] = l0 + rng.integers(0, ln, len(members))
    return _Names(country_idx, city_idx, city_names, city_area, first_idx, last_idx, first_v, last_v)


def _identity_frame(rng: np.random.Generator, region: np.ndarray, category: np.ndarray, names: _Names) -> pl.DataFrame:
    """Person, place and registered name, plus the parts contact details are built from."""
    n = len(region)
    countries = list(COUNTRIES.values())
    n_first, n_last = len(names.first_v) // 5, len(names.last_v) // 5
    email_first = pl.Series([email_part(x) for x in names.first_v[:n_first].to_list()]).gather(names.first_idx)
    email_last = pl.Series([email_part(x) for x in names.last_v[:n_last].to_list()]).gather(names.last_idx)
    nanp = np.array([countries[i].nanp for i in names.country_idx])
    # A bijective scramble of the person index: unique, random-looking subscriber numbers.
    person = np.arange(n, dtype=np.int64)
    sub = np.where(
        nanp, 2_000_000 + (person * 7919 + 1_234_567) % 8_000_000, 10_000_000 + (person * 7919 + 4_321) % 90_000_000
    )
    domain_pick = rng.integers(0, 4, n)
    tld = np.array([countries[i].tld for i in names.country_idx])
    return pl.DataFrame(
        {
            "person": person,
            "region": region,
            "category": category,
            "country": take([c.code for c in countries], names.country_idx),
            "city": take(names.city_names, names.city_idx),
            "first": names.first_v.gather(names.first_idx),
            "last": names.last_v.gather(names.last_idx),
            "ef": email_first,
            "el": email_last,
            "cc": take([c.phone_cc for c in countries], names.country_idx),
            "area": take(names.city_area, names.city_idx),
            "sub": pl.Series(sub).cast(pl.String),
            "nanp": nanp,
            "domain": pl.Series(
                np.where(
                    domain_pick == 3,
                    np.char.add(tld, ".example.com"),
                    np.array(["example.com", "example.net", "example.org", ""])[domain_pick],
                )
            ),
        }
    )


def _with_contact_details(frame: pl.DataFrame) -> pl.DataFrame:
    """A unique email per person and the phone number in each format the systems use."""
    sub_a = pl.when(pl.col("nanp")).then(pl.col("sub").str.slice(0, 3)).otherwise(pl.col("sub").str.slice(0, 4))
    sub_b = pl.when(pl.col("nanp")).then(pl.col("sub").str.slice(3)).otherwise(pl.col("sub").str.slice(4))
    trunk = pl.when(pl.col("nanp")).then(pl.lit("")).otherwise(pl.lit("0"))
    return frame.with_columns(k=pl.int_range(pl.len()).over("ef", "el")).with_columns(
        email=pl.concat_str(
            "ef",
            pl.lit("."),
            "el",
            pl.when(pl.col("k") > 0).then(pl.col("k").cast(pl.String)).otherwise(pl.lit("")),
            pl.lit("@"),
            "domain",
        ),
        phone_intl=pl.concat_str(pl.lit("+"), "cc", pl.lit(" "), "area", pl.lit(" "), sub_a, pl.lit(" "), sub_b),
        phone_dashed=pl.concat_str(trunk, "area", pl.lit("-"), sub_a, pl.lit("-"), sub_b),
        phone_paren=pl.concat_str(
            pl.lit("("),
            trunk,
            "area",
            pl.lit(") "),
            sub_a,
            pl.when(pl.col("nanp")).then(pl.lit("-")).otherwise(pl.lit(" ")),
            sub_b,
        ),
        phone_compact=pl.concat_str(pl.lit("+"), "cc", "area", "sub"),
    )


def _with_web_and_loyalty(
    rng: np.random.Generator, plan: Plan, frame: pl.DataFrame, category: np.ndarray
) -> tuple[pl.DataFrame, np.ndarray]:
    """Web customers get a segment, signup and update times and a customer_id; members a loyalty_id."""
    n = frame.height
    is_web = np.isin(category, WEB_CATEGORIES)
    is_loyal = np.isin(category, LOYALTY_CATEGORIES)
    segment = np.where(is_web, rng.choice(len(SEGMENTS), n, p=SEGMENT_WEIGHTS), -1)
    created = plan.start_us - rng.integers(1, 1500, n) * DAY - rng.integers(0, DAY, n)
    touched = rng.random(n) < 0.3
    updated = np.where(touched, created + (rng.random(n) * (plan.end_us - 1 - created)).astype(np.int64), created)
    # Customer ids follow signup order, as a web shop's sequence would.
    web_rank = np.full(n, -1, dtype=np.int64)
    web_people = np.flatnonzero(is_web)
    web_rank[web_people[np.argsort(created[web_people], kind="stable")]] = np.arange(len(web_people))
    loyal_no = np.full(n, -1, dtype=np.int64)
    loyal_people = np.flatnonzero(is_loyal)
    loyal_no[loyal_people] = rng.permutation(len(loyal_people)) + 100_001
    frame = frame.with_columns(
        segment=take(SEGMENTS, segment),
        created_us=pl.Series(created),
        updated_us=pl.Series(updated),
        customer_id=pl.when(pl.Series(web_rank) >= 0).then(
            pl.concat_str(pl.lit("C"), pl.Series(web_rank + 1).cast(pl.String).str.zfill(8))
        ),
        loyalty_id=pl.when(pl.Series(loyal_no) >= 0).then(
            pl.concat_str(pl.lit("L"), pl.Series(loyal_no).cast(pl.String).str.zfill(9))
        ),
    )
    return frame, segment


def _pools(
    rng: np.random.Generator,
    plan: Plan,
    region: np.ndarray,
    category: np.ndarray,
    segment: np.ndarray,
    cross_r: np.ndarray,
) -> dict[str, list[np.ndarray]]:
    """Per region: who buys online and in store (weighted by a heavy-tailed frequency), and the CRM contacts."""
    n = len(region)
    is_web = np.isin(category, WEB_CATEGORIES)
    is_loyal = np.isin(category, LOYALTY_CATEGORIES)
    # Business customers buy more often; a few people of each kind buy very often.
    seg_factor = np.array([1.0, 1.8, 3.0])[np.maximum(segment, 0)]
    web_weight = (rng.pareto(1.3, n) + 1.0) * seg_factor
    loyal_weight = rng.pareto(1.5, n) + 1.0

    web_by_region, web_w, loyal_by_region, loyal_w, contacts_by_region = [], [], [], [], []
    for r_idx in range(len(plan.regions)):
        in_r = region == r_idx
        members = np.flatnonzero(in_r & is_web)
        web_by_region.append(members)
        web_w.append(web_weight[members] / web_weight[members].sum())
        members = np.flatnonzero(in_r & is_loyal)
        loyal_by_region.append(members)
        loyal_w.append(loyal_weight[members] / loyal_weight[members].sum())
        # Contacts: business customers known elsewhere first, then CRM-only people.
        cross = np.flatnonzero(in_r & (category != CRM_ONLY))
        priority = np.where(is_web[cross] & (segment[cross] > 0), 0, 1)
        cross = cross[np.lexsort((rng.random(len(cross)), priority))][: cross_r[r_idx]]
        crm_only = np.flatnonzero(in_r & (category == CRM_ONLY))
        chosen = np.concatenate([cross, crm_only])
        contacts_by_region.append(chosen[rng.permutation(len(chosen))])
    return {
        "web_by_region": web_by_region,
        "web_weight_by_region": web_w,
        "loyal_by_region": loyal_by_region,
        "loyal_weight_by_region": loyal_w,
        "contacts_by_region": contacts_by_region,
    }
