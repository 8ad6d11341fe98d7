"""Hard identity cases injected into the sample's people, with the answer kept for evaluation.

The base sample already spells one person differently per system (email case, phone formats,
typos, nicknames, stripped accents, "LAST, First"). These cases add what makes identity
resolution genuinely hard, each on a few percent of the people and each with its own random
stream, so the rest of the sample (orders, amounts, every other figure) does not move:

- household: a store-only member shares the email of a web customer in the same region and takes
  their family name, but keeps their own given name and phone: two people, one inbox;
- reused phone: a store-only member's phone is a number that belongs to a web customer (a
  recycled number, or a partner's phone given at the till): two people, one number;
- email change: a store-only member's CRM contact still has the address they used before,
  so only name and phone tie the CRM contact to the store member;
- transposed names: a CRM contact typed with given and family name swapped.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sales360_assets.sample_sources.parameters import POS_ONLY, WEB_CATEGORIES

CASE_SHARES = {"household": 0.06, "reused_phone": 0.05, "email_change": 0.25, "transposed_names": 0.03}
CASES_SCHEMA: dict[str, pl.DataType] = {"person": pl.Int64(), "case": pl.String(), "other_person": pl.Int64()}


def _pick(rng: np.random.Generator, pool: np.ndarray, share: float) -> np.ndarray:
    return np.sort(rng.choice(pool, size=round(len(pool) * share), replace=False)) if len(pool) else pool


def _partners(rng: np.random.Generator, chosen: np.ndarray, region: np.ndarray, web: np.ndarray) -> np.ndarray:
    """A web person of the same region for each chosen person (-1 where the region has none)."""
    partner = np.full(len(chosen), -1, dtype=np.int64)
    for i, person in enumerate(chosen):
        same_region = web[region[web] == region[person]]
        if len(same_region):
            partner[i] = rng.choice(same_region)
    return partner


def inject_identity_cases(frame: pl.DataFrame, rng: np.random.Generator) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The people frame with the cases applied, and one row per case (person, case, other person)."""
    region = frame["region"].to_numpy()
    category = frame["category"].to_numpy()
    web = np.flatnonzero(np.isin(category, WEB_CATEGORIES))
    store_only = np.flatnonzero(category == POS_ONLY)
    household = _pick(rng, store_only, CASE_SHARES["household"])
    rest = np.setdiff1d(store_only, household)
    reused = _pick(rng, rest, CASE_SHARES["reused_phone"])
    rest = np.setdiff1d(rest, reused)
    changed = _pick(rng, rest, CASE_SHARES["email_change"])
    transposed = _pick(rng, np.arange(frame.height), CASE_SHARES["transposed_names"])
    house_partner = _partners(rng, household, region, web)
    phone_partner = _partners(rng, reused, region, web)

    columns = {
        c: frame[c].to_list()
        for c in ("last", "pos_last", "crm_last", "pos_email", "crm_email", "pos_phone", "crm_phone", "crm_first")
    }
    first, email, dashed = frame["first"].to_list(), frame["email"].to_list(), frame["phone_dashed"].to_list()
    cases: list[tuple[int, str, int | None]] = []
    for person, partner in zip(household, house_partner, strict=True):
        if partner < 0 or first[partner] == first[person]:
            continue  # the same given name in one home would be a duplicate, not a household
        for c in ("last", "pos_last", "crm_last"):
            columns[c][person] = frame["last"][int(partner)]
        columns["pos_email"][person] = columns["crm_email"][person] = email[partner]
        cases.append((int(person), "household", int(partner)))
    for person, partner in zip(reused, phone_partner, strict=True):
        if partner < 0:
            continue
        columns["pos_phone"][person] = columns["crm_phone"][person] = dashed[partner]
        cases.append((int(person), "reused_phone", int(partner)))
    for person in changed:
        local, _, _ = (email[person] or "someone@").partition("@")
        columns["crm_email"][person] = f"{local}.old@previous-mail.example.com"
        cases.append((int(person), "email_change", None))
    for person in transposed:
        columns["crm_first"][person], columns["crm_last"][person] = (
            columns["crm_last"][person],
            columns["crm_first"][person],
        )
        cases.append((int(person), "transposed_names", None))
    updated = frame.with_columns([pl.Series(c, values, dtype=pl.String) for c, values in columns.items()])
    return updated, pl.DataFrame(cases, schema=CASES_SCHEMA, orient="row").sort("person", "case")
