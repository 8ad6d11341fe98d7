"""The CRM's deals: opportunities, their stage history, owners over time and cancellations.

Each deal gets one record version per stage change up to won, lost or still open at the window
end. Some won deals ask the web shop for the order that fulfilled them; some deals were
influenced by a campaign. Then the history: open deals pass to a successor when their owner
leaves the region, some won deals are cancelled later, and a few older bookings show up only
with their cancellation (as when history predates the first extract).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from sales360_assets.sample_sources.parameters import (
    CAMPAIGN_SHARE,
    CANCELLED,
    CANCELLED_WON_SHARE,
    CLAWBACK_WINDOW_DAYS,
    LOST,
    WEB_FULFILLED_WON_SHARE,
    WON,
)
from sales360_assets.sample_sources.people import Accounts
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import LEAD_SOURCES, OPP_SUFFIXES
from sales360_assets.sample_sources.vectors import DAY, EPOCH, HOUR, SEC

# The record-version columns every step of the deal history works with.
_VERSION_COLUMNS = {"opp": pl.Int64, "stage": pl.Int64, "stamp": pl.Int64, "close_day": pl.Int64, "owner": pl.Int64}


def plan_opportunities(
    plan: Plan,
    rng: np.random.Generator,
    accounts: Accounts,
    account_owner: np.ndarray,
    camp_region: np.ndarray,
    camp_start: np.ndarray,
    n: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Deals, their stage history (one record version per stage change, cut at the window end), link requests."""
    company = np.flatnonzero(~accounts.household)
    house = np.flatnonzero(accounts.household)
    account = company[rng.integers(0, len(company), n)]
    if len(house):  # a few deals with households (kitchen refits, home offices)
        use_house = rng.random(n) < 0.1
        account[use_house] = house[rng.integers(0, len(house), int(use_house.sum()))]
    region = accounts.region[account]
    created = plan.start_us + (rng.random(n) * max(plan.window_us - 2 * HOUR, HOUR)).astype(np.int64) // SEC * SEC
    versions = _stage_versions(plan, rng, created)
    link_requests = _link_requests(plan, rng, versions, region)
    campaign = _campaign_influence(plan, rng, region, created, camp_region, camp_start)
    opp = _deal_frame(rng, np.arange(n), account, account_owner, accounts.region, campaign, created)
    return opp, versions, link_requests


def _stage_versions(plan: Plan, rng: np.random.Generator, created: np.ndarray) -> pl.DataFrame:
    """opp, version, stage, stamp, close_day: a deal's path through the stages over its sales cycle."""
    n = len(created)
    first_stage = np.where(rng.random(n) < 0.8, 0, 1)
    outcome = rng.choice(3, n, p=(0.32, 0.26, 0.42))  # won, lost, still open
    last_open = np.where(outcome == 0, 4, first_stage + (rng.random(n) * (5 - first_stage)).astype(np.int64))
    n_open_versions = last_open - first_stage + 1
    n_versions = n_open_versions + (outcome != 2)
    cycle = (rng.gamma(2.0, np.clip(len(plan.days) / 4, 3, 30), n) * DAY).astype(np.int64) + DAY

    opp_of = np.repeat(np.arange(n), n_versions)
    offsets = np.repeat(np.cumsum(n_versions) - n_versions, n_versions)
    pos = np.arange(len(opp_of)) - offsets
    terminal = pos >= n_open_versions[opp_of]
    stage = np.where(terminal, np.where(outcome[opp_of] == 0, WON, LOST), first_stage[opp_of] + pos)
    # Stage changes at sorted random points of the cycle: the first at creation, the outcome at its end.
    u = rng.random(len(opp_of))
    u[pos == 0] = 0.0
    u[terminal] = 1.0
    u = u[np.lexsort((u, opp_of))]
    stamp = created[opp_of] + (u * cycle[opp_of]).astype(np.int64) // SEC * SEC + pos * SEC
    keep = stamp < plan.end_us
    opp_of, pos, stage, stamp = opp_of[keep], pos[keep], stage[keep], stamp[keep]
    expected_close = (created + cycle) // DAY
    close_day = np.where(stage >= WON, stamp // DAY, expected_close[opp_of])
    return pl.DataFrame({"opp": opp_of, "version": pos, "stage": stage, "stamp": stamp, "close_day": close_day})


def _link_requests(plan: Plan, rng: np.random.Generator, versions: pl.DataFrame, region: np.ndarray) -> pl.DataFrame:
    """Some won deals were fulfilled online: ask the web generator for an order that day (opp, region, day)."""
    opp_of, stage, stamp = (versions[c].to_numpy() for c in ("opp", "stage", "stamp"))
    last_row = np.flatnonzero(np.append(opp_of[1:] != opp_of[:-1], True))
    won_rows = last_row[stage[last_row] == WON]
    n_link = round(WEB_FULFILLED_WON_SHARE * len(won_rows)) if len(won_rows) else 0
    n_link = max(n_link, 1) if len(won_rows) else 0
    link_rows = np.sort(rng.choice(won_rows, n_link, replace=False)) if n_link else np.empty(0, np.int64)
    return pl.DataFrame(
        {
            "opp": opp_of[link_rows],
            "region": region[opp_of[link_rows]],
            "day": (stamp[link_rows] // DAY - (plan.start - EPOCH).days).astype(np.int64),
        }
    )


def _campaign_influence(
    plan: Plan,
    rng: np.random.Generator,
    region: np.ndarray,
    created: np.ndarray,
    camp_region: np.ndarray,
    camp_start: np.ndarray,
) -> np.ndarray:
    """A campaign of the deal's region that had started when the deal was created (-1 for none)."""
    campaign = np.full(len(region), -1, dtype=np.int64)
    wants = rng.random(len(region)) < CAMPAIGN_SHARE
    for r_idx in range(len(plan.regions)):
        own = np.flatnonzero(camp_region == r_idx)
        own = own[np.argsort(camp_start[own], kind="stable")]
        members = np.flatnonzero(wants & (region == r_idx))
        eligible = np.searchsorted(camp_start[own], created[members] // DAY, side="right")
        pick = (rng.random(len(members)) * eligible).astype(np.int64)
        campaign[members] = np.where(eligible > 0, own[np.minimum(pick, len(own) - 1)] if len(own) else -1, -1)
    return campaign


def _deal_frame(
    rng: np.random.Generator,
    numbers: np.ndarray,
    account: np.ndarray,
    account_owner: np.ndarray,
    account_region: np.ndarray,
    campaign: np.ndarray,
    created: np.ndarray,
) -> pl.DataFrame:
    """One row per deal; its type, lead source and name suffix are drawn here."""
    n = len(numbers)
    return pl.DataFrame(
        {
            "opp": numbers,
            "account": account,
            "owner": account_owner[account],
            "region": account_region[account],
            "campaign": campaign,
            "created": created,
            "type": rng.choice(2, n, p=(0.6, 0.4)),
            "lead_source": rng.integers(0, len(LEAD_SOURCES), n),
            "suffix": rng.integers(0, len(OPP_SUFFIXES), n),
        }
    )


def plan_deal_history(
    plan: Plan,
    rng: np.random.Generator,
    opp: pl.DataFrame,
    versions: pl.DataFrame,
    link_requests: pl.DataFrame,
    transfers: pl.DataFrame,
    accounts: Accounts,
    account_owner: np.ndarray,
    k: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Owner per deal version, transfers of open deals, cancellations and older cancelled deals.

    - A deal open when its owner left the region passes to the account's successor (a version
      repeating the stage with the new owner); a deal created after the move starts with them.
    - Some Closed Won deals (not web-fulfilled) are cancelled later in the window.
    - Older deals booked 45–160 days before their cancellation in the window: only the
      cancellation version falls inside the export, as when history predates the first extract.
    """
    v, moved = _owners_over_time(plan, opp, versions, transfers)
    cancelled = _cancellations(plan, rng, v, link_requests)
    legacy_opp, legacy, within = _older_cancelled_bookings(plan, rng, opp.height, accounts, account_owner, k)
    columns = list(_VERSION_COLUMNS)
    all_versions = (
        pl.concat([v.select(columns), cancelled.select(columns), legacy.select(columns)])
        .with_columns(
            cancel_day=pl.when(pl.col("stage") == CANCELLED).then(pl.col("stamp") // DAY),
        )
        .sort("opp", "stamp", maintain_order=True)
        .with_columns(version=pl.int_range(pl.len()).over("opp").cast(pl.Int64))
    )
    counts = {
        "transferred_open_deals": moved,
        "cancelled_after_booking_in_window": cancelled.height,
        "older_bookings_cancelled_within_90_days": int(within.sum()),
        "older_bookings_cancelled_after_90_days": int((~within).sum()),
    }
    return pl.concat([opp, legacy_opp.cast(opp.schema)]), all_versions, counts


def _owners_over_time(
    plan: Plan, opp: pl.DataFrame, versions: pl.DataFrame, transfers: pl.DataFrame
) -> tuple[pl.DataFrame, int]:
    """Versions with their owner, plus a version per deal open at its owner's move; and how many moved."""
    v = versions.join(opp.select("opp", "owner", "account"), on="opp", how="left", maintain_order="left").join(
        transfers, on="account", how="left", maintain_order="left"
    )
    before_move = (
        v.filter(pl.col("stamp") < pl.col("move"))
        .group_by("opp", maintain_order=True)
        .agg(pl.col("stage").last().alias("stage_at_move"), pl.col("close_day").last().alias("close_at_move"))
    )
    v = v.join(before_move, on="opp", how="left", maintain_order="left")
    created_after = pl.col("move").is_not_null() & pl.col("stage_at_move").is_null()
    open_at_move = pl.col("stage_at_move") < WON
    takes_over = created_after | (open_at_move & (pl.col("stamp") >= pl.col("move")))
    v = v.with_columns(owner=pl.when(takes_over).then("successor").otherwise("owner"))
    moved = (
        v.filter(open_at_move & (pl.col("move") < plan.end_us))
        .group_by("opp", maintain_order=True)
        .agg(pl.col("stage_at_move", "close_at_move", "successor", "move").first())
        .select(
            "opp",
            pl.col("stage_at_move").alias("stage"),
            (pl.col("move") + SEC // 2).alias("stamp"),
            pl.col("close_at_move").alias("close_day"),
            pl.col("successor").alias("owner"),
        )
    )
    columns = list(_VERSION_COLUMNS)
    v = pl.concat([v.select(columns), moved.select(columns)])
    return v.sort("opp", "stamp", maintain_order=True), moved.height


def _cancellations(plan: Plan, rng: np.random.Generator, v: pl.DataFrame, link_requests: pl.DataFrame) -> pl.DataFrame:
    """A Cancelled version for some deals won (and not web-fulfilled) at least a day before the window end."""
    last = v.group_by("opp", maintain_order=True).agg(pl.all().last())
    linked = link_requests["opp"].unique().implode()
    eligible = last.filter(pl.col("stage") == WON, ~pl.col("opp").is_in(linked), pl.col("stamp") <= plan.end_us - DAY)
    n_cancel = min(eligible.height, max(1, round(CANCELLED_WON_SHARE * eligible.height))) if eligible.height else 0
    picked = np.sort(rng.choice(eligible.height, n_cancel, replace=False)) if n_cancel else np.empty(0, np.int64)
    chosen = eligible[picked.tolist()]
    room = (plan.end_us - SEC - chosen["stamp"].to_numpy()) - 2 * HOUR
    cancel_stamp = chosen["stamp"].to_numpy() + 2 * HOUR + (rng.random(n_cancel) * room).astype(np.int64) // SEC * SEC
    return chosen.select("opp", "close_day", "owner").with_columns(
        stage=pl.lit(CANCELLED, pl.Int64), stamp=pl.Series(cancel_stamp, dtype=pl.Int64)
    )


def _older_cancelled_bookings(
    plan: Plan, rng: np.random.Generator, n: int, accounts: Accounts, account_owner: np.ndarray, k: int
) -> tuple[pl.DataFrame, pl.DataFrame, np.ndarray]:
    """k deals booked before the window and cancelled in it: alternately inside and outside the clawback window.

    Returns their deal rows (numbered from n), their one Cancelled version each, and which are inside.
    """
    company = np.flatnonzero(~accounts.household)
    acc = company[rng.integers(0, len(company), k)]
    legacy_stamp = (plan.start_us + (rng.random(k) * max(plan.window_us - HOUR, SEC)).astype(np.int64)) // SEC * SEC
    within = np.arange(k) % 2 == 0
    gap = np.where(
        within,
        rng.integers(45, CLAWBACK_WINDOW_DAYS, k),
        rng.integers(CLAWBACK_WINDOW_DAYS + 1, 160, k),
    )
    close_day = legacy_stamp // DAY - gap
    created = (close_day - rng.integers(10, 60, k)) * DAY + rng.integers(0, DAY, k) // SEC * SEC
    numbers = np.arange(n, n + k)
    legacy_opp = _deal_frame(rng, numbers, acc, account_owner, accounts.region, np.full(k, -1), created)
    legacy = pl.DataFrame(
        {
            "opp": numbers,
            "close_day": close_day,
            "owner": account_owner[acc],
            "stage": np.full(k, CANCELLED),
            "stamp": legacy_stamp,
        }
    ).cast(_VERSION_COLUMNS)
    return legacy_opp, legacy, within
