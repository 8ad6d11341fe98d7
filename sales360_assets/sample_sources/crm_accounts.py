"""The CRM's people and customers: ``User`` (the sales org), ``Account`` and ``Contact`` records.

The sales org is a VP, per region a Regional Sales Manager and a few Account Executives with
territories. Accounts are companies or households owned by a rep of their region; their
contacts are people of the sample (``people.contacts_by_region``), spelled the CRM's way.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.crm_masters import reference_modstamps
from sales360_assets.sample_sources.parameters import TERRITORIES
from sales360_assets.sample_sources.people import Accounts, People
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import (
    ACCOUNT_WORDS_A,
    ACCOUNT_WORDS_B,
    COUNTRIES,
    INDUSTRIES,
    LEGAL_SUFFIX,
)
from sales360_assets.sample_sources.spellings import email_part, name_tables
from sales360_assets.sample_sources.vectors import DAY, HOUR, sf_ids, take, timestamps

# The naming culture of each region's sales staff.
_STAFF_CULTURE = {"na": "en_us", "emea": "de", "uk": "en_gb", "apac": "ja"}


def build_users(plan: Plan, rng: np.random.Generator) -> tuple[pl.DataFrame, list[np.ndarray]]:
    """The sales org's User records, and per region the user indexes of its Account Executives."""
    _, ranges, first_v, last_v = name_tables()
    rows: list[dict[str, Any]] = []
    reps: list[np.ndarray] = []

    def person(c: str) -> tuple[str, str]:
        f0, fn, l0, ln = ranges[c]
        return str(first_v[f0 + int(rng.integers(fn))]), str(last_v[l0 + int(rng.integers(ln))])

    def add(first: str, last: str, title: str, manager: int | None, region: str | None, territory: str | None) -> int:
        idx = len(rows)
        rows.append(
            {
                "n": idx + 1,
                "Name": f"{first} {last}",
                "Email": f"{email_part(first)}.{email_part(last)}{idx + 1}@sales360.example.com",
                "Title": title,
                "manager": manager,
                "Region__c": region,
                "Territory__c": territory,
            }
        )
        return idx

    vp = add(*person("en_us"), "VP Sales", None, None, None)
    for r_idx, region in enumerate(plan.regions):
        manager = add(*person(_STAFF_CULTURE[region]), "Regional Sales Manager", vp, region, None)
        ids = [
            add(*person(_STAFF_CULTURE[region]), "Account Executive", manager, region, TERRITORIES[region][i % 4])
            for i in range(plan.reps_per_region[r_idx])
        ]
        reps.append(np.array(ids))
    n = len(rows)
    created = plan.start_us - rng.integers(60, 2500, n) * DAY
    frame = pl.DataFrame(rows).with_columns(
        sf_ids("Id", "005", np.arange(1, n + 1)),
        pl.when(pl.col("manager").is_not_null())
        .then(pl.concat_str(pl.lit("005"), (pl.col("manager") + 1).cast(pl.String).str.zfill(15)))
        .alias("ManagerId"),
        pl.lit(True).alias("IsActive"),
        timestamps("CreatedDate", created),
        timestamps("SystemModstamp", reference_modstamps(rng, plan, created)),
        pl.lit(False).alias("IsDeleted"),
    )
    return frame, reps


@dataclass
class AccountDraft:
    """What the Account and Contact records are built from, drawn before the account teams."""

    owner: np.ndarray  # user index per account (before reps who leave hand over)
    contact_account: np.ndarray  # account index per contact
    contact_person: np.ndarray  # person index per contact
    first_contact: np.ndarray  # person index of each account's first contact
    country: np.ndarray
    city: np.ndarray
    company: np.ndarray
    created: np.ndarray  # µs


def draft_accounts(
    rng: np.random.Generator, plan: Plan, accounts: Accounts, people: People, reps: list[np.ndarray]
) -> AccountDraft:
    """Owner, contacts, place, company name and creation time per account."""
    n_regions = len(plan.regions)
    n_acc = len(accounts.region)
    owner = np.zeros(n_acc, dtype=np.int64)
    for r_idx in range(n_regions):
        members = np.flatnonzero(accounts.region == r_idx)
        owner[members] = reps[r_idx][rng.integers(0, len(reps[r_idx]), len(members))]
    contact_account = np.concatenate(
        [
            np.repeat(np.flatnonzero(accounts.region == r), accounts.contacts[accounts.region == r])
            for r in range(n_regions)
        ]
    )
    contact_person = np.concatenate(people.contacts_by_region)
    pf = people.frame
    # The account's first contact decides its country (and a household's name).
    first_contact = np.full(n_acc, -1, dtype=np.int64)
    with_contact, first_at = np.unique(contact_account, return_index=True)
    first_contact[with_contact] = contact_person[first_at]
    acc_country = pf["country"].to_numpy()[first_contact]
    acc_city = pf["city"].to_numpy()[first_contact]
    words = [f"{a} {b}" for a in ACCOUNT_WORDS_A for b in ACCOUNT_WORDS_B]
    suffix = np.array(
        [
            LEGAL_SUFFIX[c][int(i) % len(LEGAL_SUFFIX[c])]
            for c, i in zip(acc_country, rng.integers(0, 6, n_acc), strict=True)
        ]
    )
    company = np.char.add(np.char.add(np.array(words)[rng.integers(0, len(words), n_acc)], " "), suffix)
    acc_created = plan.start_us - rng.integers(30, 1500, n_acc) * DAY - rng.integers(0, DAY, n_acc)
    new_acc = rng.random(n_acc) < 0.1  # signed during the window
    acc_created[new_acc] = plan.start_us + rng.integers(0, max(1, plan.window_us // 2), int(new_acc.sum()))
    return AccountDraft(
        owner, contact_account, contact_person, first_contact, acc_country, acc_city, company, acc_created
    )


def account_ids(n: int) -> pl.Series:
    """Account Ids by account index (the teams need them before the Account records exist)."""
    return sf_ids("Id", "001", np.arange(1, n + 1))


def build_accounts(
    rng: np.random.Generator, plan: Plan, accounts: Accounts, people: People, draft: AccountDraft, owner_ids: pl.Series
) -> pl.DataFrame:
    """Account records: companies with an industry and type, households named after their family."""
    n_acc = len(accounts.region)
    # A bijective scramble of the account index: unique switchboard numbers.
    acc_sub = 10_000_000 + (np.arange(n_acc) * 104_729 + 99_991) % 90_000_000
    cc = np.array([COUNTRIES[c].phone_cc for c in draft.country])
    area = np.array(
        [
            next(a for city, a, _, _ in COUNTRIES[c].cities if city == ct)
            for c, ct in zip(draft.country, draft.city, strict=True)
        ]
    )
    account = pl.DataFrame(
        {
            "Id": account_ids(n_acc),
            "company": draft.company,
            "household_of": people.frame["crm_last"].gather(draft.first_contact),
            "household": accounts.household,
            "BillingCountry": draft.country,
            "BillingCity": draft.city,
            "Phone": np.char.add(
                np.char.add(np.char.add(np.char.add("+", cc), " "), np.char.add(area, " ")), acc_sub.astype(str)
            ),
            "OwnerId": owner_ids,
            "Region__c": take(plan.regions, accounts.region),
            "CreatedDate": timestamps("CreatedDate", draft.created),
            "SystemModstamp": timestamps("SystemModstamp", reference_modstamps(rng, plan, draft.created)),
            "IsDeleted": np.zeros(n_acc, dtype=bool),
            "_industry": take(INDUSTRIES, rng.integers(0, len(INDUSTRIES), n_acc)),
            "_type": take(
                ("Customer - Direct", "Customer - Channel", "Prospect"), rng.choice(3, n_acc, p=(0.6, 0.15, 0.25))
            ),
        }
    )
    account = account.with_columns(
        Name=pl.when("household").then(pl.concat_str("household_of", pl.lit(" Household"))).otherwise("company"),
        Type=pl.when("household").then(pl.lit("Household")).otherwise("_type"),
        Industry=pl.when("household").then(None).otherwise("_industry"),
    )
    # Duplicate company names happen in CRMs, but here they would be noise nobody asked for.
    return account.with_columns(
        Name=pl.when(pl.int_range(pl.len()).over("Name") > 0)
        .then(
            pl.concat_str(
                "Name",
                pl.lit(" ("),
                "BillingCity",
                pl.lit(") "),
                (pl.int_range(pl.len()).over("Name") + 1).cast(pl.String),
            )
        )
        .otherwise("Name")
    )


def build_contacts(
    rng: np.random.Generator, plan: Plan, people: People, draft: AccountDraft, account: pl.DataFrame
) -> pl.DataFrame:
    """Contact records: the CRM's spelling of each contact person, owned by the account's owner."""
    pf = people.frame
    contact_person, contact_account = draft.contact_person, draft.contact_account
    n_con = len(contact_person)
    con_created = np.minimum(draft.created[contact_account] + rng.integers(0, 400, n_con) * DAY, plan.end_us - HOUR)
    return pl.DataFrame(
        {
            "Id": sf_ids("Id", "003", np.arange(1, n_con + 1)),
            "AccountId": account["Id"].gather(contact_account),
            "FirstName": pf["crm_first"].gather(contact_person),
            "LastName": pf["crm_last"].gather(contact_person),
            "Email": pf["crm_email"].gather(contact_person),
            "Phone": pf["crm_phone"].gather(contact_person),
            "MailingCountry": pf["country"].gather(contact_person),
            "OwnerId": account["OwnerId"].gather(contact_account),
            "CreatedDate": timestamps("CreatedDate", con_created),
            "SystemModstamp": timestamps("SystemModstamp", reference_modstamps(rng, plan, con_created)),
            "IsDeleted": np.zeros(n_con, dtype=bool),
        }
    )
