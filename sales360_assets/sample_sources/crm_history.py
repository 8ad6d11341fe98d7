"""The sales org's history in the CRM: reps who move, account teams, and accounts handed over.

Reps change territory, get promoted or move to another region during the window (new ``User``
versions). Account teams (``AccountTeamMember``) split each account's credit; a rep who leaves a
region hands their memberships and owned accounts to a colleague who stays, so the splits still
sum to 100 in every period and ``Account`` gets a version naming the new owner.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.parameters import (
    ACCOUNT_TEAM_SHARE,
    OWNER_ROLE,
    REASSIGNMENT_SHARES,
    SENIOR_TITLE,
    TEAM_ROLES,
    TEAM_SPLITS,
    TERRITORIES,
)
from sales360_assets.sample_sources.people import Accounts
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.vectors import DAY, HOUR, SEC, sf_ids, take, timestamps


@dataclass(frozen=True)
class Move:
    rep: int  # user index
    kind: str  # "territory" | "promotion" | "region"
    stamp: int  # µs: SystemModstamp of the new User version; the change takes effect that UTC day
    region_before: int
    region_after: int


def plan_reassignments(
    plan: Plan, rng: np.random.Generator, users: pl.DataFrame, reps: list[np.ndarray]
) -> tuple[pl.DataFrame, list[Move]]:
    """User record versions for reps who change territory, title or region during the window.

    Changes land after the first 40 % of the window so every moved rep has sales on both sides of
    the change date (slowly changing dimension history worth attributing).
    """
    all_reps = np.concatenate(reps)
    rep_region = np.concatenate([np.full(len(x), r) for r, x in enumerate(reps)])
    counts = {kind: max(1, round(share * len(all_reps))) for kind, share in REASSIGNMENT_SHARES.items()}
    picked = rng.choice(len(all_reps), min(sum(counts.values()), len(all_reps)), replace=False)
    kinds = [kind for kind, k in counts.items() for _ in range(k)][: len(picked)]
    low = plan.start_us + int(0.4 * plan.window_us)
    high = max(plan.end_us - HOUR, low + SEC)
    stamps = rng.integers(low, high, len(picked)) // SEC * SEC
    rows = users.to_dicts()
    managers = {r["Region__c"]: i for i, r in enumerate(rows) if r["Title"] == "Regional Sales Manager"}
    staff = np.array([len(x) for x in reps])
    versions: list[dict[str, Any]] = []
    moves: list[Move] = []
    for at, kind, stamp in zip(picked, kinds, stamps, strict=True):
        rep, before = int(all_reps[at]), int(rep_region[at])
        row, after = dict(rows[rep]), before
        if kind == "territory":
            own = TERRITORIES[plan.regions[before]]
            row["Territory__c"] = own[(own.index(row["Territory__c"]) + 1 + rep % 3) % len(own)]
        elif kind == "promotion":
            row["Title"] = SENIOR_TITLE
        else:
            # Into the region with the fewest reps, so that no region runs short of people.
            after = int(np.argsort(np.where(np.arange(len(staff)) == before, 10**9, staff), kind="stable")[0])
            staff[before] -= 1
            staff[after] += 1
            region = plan.regions[after]
            row["Region__c"] = region
            row["Territory__c"] = TERRITORIES[region][rep % len(TERRITORIES[region])]
            row["manager"] = managers[region]
            row["ManagerId"] = rows[managers[region]]["Id"]
        versions.append(row)
        moves.append(Move(rep, kind, int(stamp), before, after))
    # The version a change replaces must be older than the change.
    stamp_of = users["SystemModstamp"].cast(pl.Int64).to_numpy().copy()
    for move in moves:
        stamp_of[move.rep] = min(stamp_of[move.rep], move.stamp - HOUR)
    current = users.with_columns(timestamps("SystemModstamp", stamp_of))
    changed = pl.DataFrame(versions, schema=users.schema).with_columns(
        timestamps("SystemModstamp", np.array([m.stamp for m in moves], dtype=np.int64))
    )
    return pl.concat([current, changed]), moves


@dataclass
class _TeamDraft:
    """The overlay colleague per account (-1 for none), the credit split and the role."""

    has_second: np.ndarray
    split: np.ndarray  # (accounts, 2): owner's share, colleague's share
    role: np.ndarray
    second: np.ndarray


def plan_account_teams(
    plan: Plan,
    rng: np.random.Generator,
    accounts: Accounts,
    owner: np.ndarray,
    acc_created: np.ndarray,
    reps: list[np.ndarray],
    moves: list[Move],
    user_ids: pl.Series,
    account_ids: pl.Series,
) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """AccountTeamMember records, the owner per account, and the accounts whose owner left.

    A rep who moves region leaves every account team in the old region: their membership gets a
    new version ending the day before the move and a colleague who stays takes over the same role
    and split from the move day, so the splits still sum to 100 in every period. An account signed
    on or after the move day starts with the colleague. Returns (team records, owner per account,
    transfers: account, successor, move stamp).
    """
    owner = owner.copy()
    draft = _draft_teams(rng, accounts, owner, reps)
    # Team records were set up in the first 30 % of the window, never before their account.
    base_stamp = plan.start_us + rng.integers(0, max(int(0.3 * plan.window_us), SEC), len(owner)) // SEC * SEC
    stamp = np.minimum(np.maximum(base_stamp, acc_created + 60 * SEC), plan.end_us - SEC)
    ended, successors, transfers = _hand_over(moves, reps, acc_created // DAY, owner, draft.second)
    team = _team_versions(plan, draft, owner, acc_created, stamp, ended, successors)
    frame = pl.DataFrame(
        {
            "Id": sf_ids("Id", "01M", team["number"].to_numpy()),
            "AccountId": account_ids.gather(team["acc"].to_numpy()),
            "UserId": user_ids.gather(team["user"].to_numpy()),
            "TeamMemberRole": take([OWNER_ROLE, *TEAM_ROLES], team["role"].to_numpy()),
            "Credit_Split__c": team["split"].cast(pl.Float64),
            "Effective_From__c": team["from_day"].cast(pl.Int32).cast(pl.Date),
            "Effective_To__c": team["to_day"].cast(pl.Int32).cast(pl.Date),
            "CreatedDate": timestamps("CreatedDate", team["created"].to_numpy()),
            "SystemModstamp": timestamps("SystemModstamp", team["stamp"].to_numpy()),
            "IsDeleted": np.zeros(team.height, dtype=bool),
        }
    )
    transfer_frame = pl.DataFrame(
        transfers, schema={"account": pl.Int64, "successor": pl.Int64, "move": pl.Int64}, orient="row"
    )
    return frame, owner, transfer_frame


def _draft_teams(rng: np.random.Generator, accounts: Accounts, owner: np.ndarray, reps: list[np.ndarray]) -> _TeamDraft:
    """Which company accounts share credit with a colleague of the owner's region, and how."""
    n_acc = len(owner)
    has_second = ~accounts.household & (rng.random(n_acc) < ACCOUNT_TEAM_SHARE)
    split = np.array(TEAM_SPLITS)[rng.integers(0, len(TEAM_SPLITS), n_acc)]
    role = rng.integers(0, len(TEAM_ROLES), n_acc)
    pick = rng.integers(0, 1 << 30, n_acc)
    second = np.full(n_acc, -1, dtype=np.int64)
    for r_idx, region_reps in enumerate(reps):
        at = np.flatnonzero(has_second & (accounts.region == r_idx))
        # A colleague of the owner: any other rep of the region.
        owner_pos = np.searchsorted(region_reps, owner[at])
        j = pick[at] % (len(region_reps) - 1)
        second[at] = region_reps[np.where(j < owner_pos, j, j + 1)]
    return _TeamDraft(has_second=has_second, split=split, role=role, second=second)


def _hand_over(
    moves: list[Move], reps: list[np.ndarray], created_day: np.ndarray, owner: np.ndarray, second: np.ndarray
) -> tuple[list[tuple[int, int, int]], list[tuple[int, int, int, int]], list[tuple[int, int, int]]]:
    """Pass a leaving rep's seats (owner or colleague) to a colleague who stays; updates owner and second.

    Returns the memberships that end (account, slot, move stamp), their successors (account, slot,
    successor, move stamp) and the owned accounts transferred (account, successor, move stamp).
    Slot 0 is the owner, slot 1 the colleague.
    """
    leavers = np.array([m.rep for m in moves if m.kind == "region"], dtype=np.int64)
    transfers = []
    ended: list[tuple[int, int, int]] = []
    successors: list[tuple[int, int, int, int]] = []
    for move in (m for m in moves if m.kind == "region"):
        move_day = move.stamp // DAY
        # Colleagues who stay: every rep of the old region except those leaving it.
        colleagues = reps[move.region_before][~np.isin(reps[move.region_before], leavers)]
        for slot, members in ((0, owner), (1, second)):
            at = np.flatnonzero(members == move.rep)
            other = second[at] if slot == 0 else owner[at]
            successor = colleagues[at % len(colleagues)]
            clash = successor == other
            successor[clash] = colleagues[(at[clash] + 1) % len(colleagues)]
            late = created_day[at] >= move_day
            members[at[late]] = successor[late]  # signed after the move: the colleague from the start
            for a, s in zip(at[~late], successor[~late], strict=True):
                ended.append((int(a), slot, move.stamp))
                successors.append((int(a), slot, int(s), move.stamp))
                if slot == 0:
                    transfers.append((int(a), int(s), move.stamp))
    return ended, successors, transfers


def _team_versions(
    plan: Plan,
    draft: _TeamDraft,
    owner: np.ndarray,
    acc_created: np.ndarray,
    stamp: np.ndarray,
    ended: list[tuple[int, int, int]],
    successors: list[tuple[int, int, int, int]],
) -> pl.DataFrame:
    """One row per membership version: the first versions, the ended ones, then the takeovers."""
    n_acc, has_second, split = len(owner), draft.has_second, draft.split
    created_day = acc_created // DAY
    owner_split = np.where(has_second, split[:, 0], 100.0)
    team_acc = np.concatenate([np.arange(n_acc), np.flatnonzero(has_second)])
    team_slot = np.concatenate([np.zeros(n_acc, np.int64), np.ones(int(has_second.sum()), np.int64)])
    order = np.lexsort((team_slot, team_acc))
    team_acc, team_slot = team_acc[order], team_slot[order]
    base = pl.DataFrame(
        {
            "acc": team_acc,
            "slot": team_slot,
            "user": np.where(team_slot == 0, owner[team_acc], draft.second[team_acc]),
            "role": np.where(team_slot == 0, 0, draft.role[team_acc] + 1),
            "split": np.where(team_slot == 0, owner_split[team_acc], split[team_acc, 1]),
            "from_day": created_day[team_acc],
            "to_day": pl.Series([None] * len(team_acc), dtype=pl.Int64),
            "created": np.minimum(acc_created[team_acc] + 60 * SEC, plan.end_us - SEC),
            "stamp": stamp[team_acc],
        }
    ).with_row_index("number", offset=1)
    end_versions = base.join(
        pl.DataFrame(ended, schema={"acc": pl.Int64, "slot": pl.Int64, "move": pl.Int64}, orient="row"),
        on=["acc", "slot"],
        how="inner",
        maintain_order="left",
    ).with_columns(
        to_day=pl.col("move") // DAY - 1,
        stamp=pl.col("move") + 2 * SEC,
    )
    takeovers = (
        base.join(
            pl.DataFrame(
                successors,
                schema={"acc": pl.Int64, "slot": pl.Int64, "successor": pl.Int64, "move": pl.Int64},
                orient="row",
            ),
            on=["acc", "slot"],
            how="inner",
            maintain_order="left",
        )
        .with_columns(
            user=pl.col("successor"),
            from_day=pl.col("move") // DAY,
            created=pl.col("move") + 3 * SEC,
            stamp=pl.col("move") + 3 * SEC,
        )
        .with_columns(number=(pl.int_range(pl.len()) + base.height + 1).cast(pl.UInt32))
    )
    cols = base.columns
    return pl.concat([base, end_versions.select(cols), takeovers.select(cols)])


def account_owner_versions(account: pl.DataFrame, transfers: pl.DataFrame, user_ids: pl.Series) -> pl.DataFrame:
    """Accounts whose owner left the region name the successor from the move on.

    A record last modified after the move already carries the successor; the others get a new
    record version stamped just after the move.
    """
    if transfers.is_empty():
        return account
    indexed = account.with_row_index("_acc").with_columns(pl.col("_acc").cast(pl.Int64))
    moved = indexed.join(transfers.rename({"account": "_acc"}), on="_acc", how="inner", maintain_order="left")
    moved = moved.with_columns(OwnerId=user_ids.gather(moved["successor"].to_numpy()))
    later = moved["SystemModstamp"].cast(pl.Int64) >= moved["move"]
    current = indexed.join(
        moved.filter(later).select("_acc", pl.col("OwnerId").alias("_successor")),
        on="_acc",
        how="left",
        maintain_order="left",
    ).with_columns(OwnerId=pl.coalesce("_successor", "OwnerId"))
    new_versions = moved.filter(~later)
    new_versions = new_versions.with_columns(timestamps("SystemModstamp", new_versions["move"].to_numpy() + SEC))
    return pl.concat([current.select(account.columns), new_versions.select(account.columns)])
