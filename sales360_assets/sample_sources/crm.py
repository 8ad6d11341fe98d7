"""The Salesforce org of the sample, planned before the web orders exist.

``plan_crm`` builds every CRM object but the deals' line items and amounts: the sales org and
its history, accounts and contacts, products, campaigns, quotas and the deals' record versions.
The web shop then fulfils some won deals (``Crm.link_requests``), and ``crm_export`` finishes
and writes the org. The history (reassignments, account teams, transfers, cancellations) draws
from its own random stream so that it does not reshuffle the rest of the CRM.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.catalogue import Catalogue
from sales360_assets.sample_sources.crm_accounts import (
    account_ids,
    build_accounts,
    build_contacts,
    build_users,
    draft_accounts,
)
from sales360_assets.sample_sources.crm_history import (
    Move,
    account_owner_versions,
    plan_account_teams,
    plan_reassignments,
)
from sales360_assets.sample_sources.crm_masters import Products, build_campaigns, build_product2, build_quotas
from sales360_assets.sample_sources.crm_opportunities import plan_deal_history, plan_opportunities
from sales360_assets.sample_sources.parameters import LEGACY_CANCELLED_SHARE, REASSIGNMENT_SHARES
from sales360_assets.sample_sources.people import Accounts, People
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.vectors import component_rng


@dataclass
class Crm:
    frames: dict[str, pl.DataFrame]  # finished objects (all but Opportunity and its line items)
    products: Products
    opp: pl.DataFrame  # one row per opportunity
    versions: pl.DataFrame  # one row per opportunity record version (before defects)
    link_requests: pl.DataFrame  # opp, region, day: deals to fulfil with a web order
    contact_person: np.ndarray
    contact_ids: pl.Series
    history: dict[str, Any]  # counts of reassignments, account-team records, transfers, cancellations


def plan_crm(plan: Plan, people: People, accounts: Accounts, cat: Catalogue) -> Crm:
    """Every CRM object but the deals' line items and amounts (those wait for the web orders)."""
    rng = component_rng(plan.seed, "crm")
    users, reps = build_users(plan, rng)
    rng_history = component_rng(plan.seed, "crm-history")
    users, moves = plan_reassignments(plan, rng_history, users, reps)
    user_ids = users["Id"]

    draft = draft_accounts(rng, plan, accounts, people, reps)
    team, owner, transfers = plan_account_teams(
        plan, rng_history, accounts, draft.owner, draft.created, reps, moves, user_ids, account_ids(len(draft.owner))
    )
    account = build_accounts(rng, plan, accounts, people, draft, user_ids.gather(owner))
    contact = build_contacts(rng, plan, people, draft, account)
    products = build_product2(rng, plan, cat)
    campaign, camp_region, camp_start = build_campaigns(rng, plan)
    quota = build_quotas(rng, plan, reps, moves, user_ids)

    # Older cancelled bookings are part of the deal count, so volumes stay what the plan says.
    n_older = max(4, round(LEGACY_CANCELLED_SHARE * plan.n_opportunities))
    opp, versions, link_requests = plan_opportunities(
        plan, rng, accounts, owner, camp_region, camp_start, plan.n_opportunities - n_older
    )
    opp, versions, deal_counts = plan_deal_history(
        plan, rng_history, opp, versions, link_requests, transfers, accounts, owner, n_older
    )
    frames = {
        "User": users,
        "Account": account_owner_versions(account, transfers, user_ids),
        "Contact": contact,
        "Product2": products.frame,
        "Campaign": campaign,
        "Quota__c": quota,
        "AccountTeamMember": team,
    }
    return Crm(
        frames=frames,
        products=products,
        opp=opp,
        versions=versions,
        link_requests=link_requests,
        contact_person=draft.contact_person,
        contact_ids=contact["Id"],
        history={**_history_counts(moves, team, transfers), **deal_counts},
    )


def _history_counts(moves: list[Move], team: pl.DataFrame, transfers: pl.DataFrame) -> dict[str, Any]:
    """What the manifest reports of the sales org's history (the deals add theirs)."""
    return {
        "User_reassignments": {kind: sum(m.kind == kind for m in moves) for kind in REASSIGNMENT_SHARES},
        "AccountTeamMember": team["Id"].n_unique(),
        "accounts_with_shared_credit": int(team.filter(pl.col("Credit_Split__c") < 100)["AccountId"].n_unique()),
        "accounts_transferred": transfers.height,
    }
