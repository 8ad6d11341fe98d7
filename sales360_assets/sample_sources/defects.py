"""The deliberate defects: which rows carry one, at what rate, and how a defect looks on the wire.

Every defect class of ``DEFECT_RATES`` gets at least one row so each dead-letter path is
exercised even at tiny volumes; each defective row carries exactly one class (``pick_disjoint``),
and the manifest records the exact counts the writers pass on. Web orders and lines, POS lines
and opportunities each have a picker here; the web and POS writers apply what was picked.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.vectors import DAY, HOUR, SEC, mask

# Rates of deliberately injected defects, per table. The manifest records the exact counts.
# Rates are shares of the table's clean rows (orders, order lines, POS lines, Opportunity
# record versions); "deleted" is a share of opportunities. Every class gets at least one row
# so each dead-letter path is exercised even at tiny volumes. "late_arriving" is not a defect
# to reject, but it is counted the same way because incremental loads must pick it up.
DEFECT_RATES: dict[str, dict[str, float]] = {
    "orders": {"duplicate": 0.003, "unknown_currency": 0.002, "late_arriving": 0.01},
    "order_lines": {"duplicate": 0.005, "null_sku": 0.001, "negative_quantity": 0.002},
    "pos_transactions": {
        "duplicate": 0.005,
        "malformed": 0.003,
        "unknown_currency": 0.002,
        "negative_quantity": 0.002,
    },
    "Opportunity": {"deleted": 0.01},
}
UNKNOWN_CURRENCIES: tuple[str, ...] = ("XXX", "EUX", "BTC")
# Kinds of malformed POS lines (all counted as "malformed"; the breakdown is in the manifest).
MALFORMED_KINDS: tuple[str, ...] = ("field_count", "non_numeric_quantity", "unparseable_timestamp")
FIELD_COUNT, NON_NUMERIC_QUANTITY, UNPARSEABLE_TIMESTAMP = range(len(MALFORMED_KINDS))
# What a till prints when the quantity field is garbled.
BAD_QUANTITIES = ("two", "1O", "three", "x2")


def defect_count(rate: float, population: int) -> int:
    """Rows to spoil at a rate: at least one (every dead-letter path gets exercised), at most all."""
    if population <= 0:
        return 0
    return min(population, max(1, round(rate * population)))


def pick_disjoint(rng: np.random.Generator, eligible: np.ndarray, counts: dict[str, int]) -> dict[str, np.ndarray]:
    """Disjoint random index sets, one per defect class, so no row carries two defects."""
    pool = np.flatnonzero(eligible)
    wanted = sum(counts.values())
    if wanted > len(pool):  # only at absurdly small volumes
        scale = len(pool) / wanted
        counts = {k: int(v * scale) for k, v in counts.items()}
        wanted = sum(counts.values())
    chosen = rng.choice(pool, size=wanted, replace=False) if wanted else np.empty(0, np.int64)
    out: dict[str, np.ndarray] = {}
    at = 0
    for name, n in counts.items():
        out[name] = np.sort(chosen[at : at + n])
        at += n
    return out


# --- Web orders and lines --------------------------------------------------------------------


@dataclass
class OrderDefects:
    late: np.ndarray  # orders loaded days after their order_date
    duplicate: np.ndarray  # orders loaded twice
    unknown_currency: np.ndarray
    bad_currency: np.ndarray  # per order: index into UNKNOWN_CURRENCIES, -1 for a known one

    def any(self, n_orders: int) -> np.ndarray:
        """Per order: does its header carry a defect (its lines then stay clean)."""
        return mask(n_orders, np.concatenate([self.late, self.duplicate, self.unknown_currency]))


def pick_order_defects(
    rng: np.random.Generator, day: np.ndarray, n_days: int, day_start: np.ndarray, loaded: np.ndarray
) -> OrderDefects:
    """Header defects; late arrivals only where the snapshot can already hold them (moves their ``loaded``)."""
    n_orders = len(day)
    rates = DEFECT_RATES["orders"]
    days_to_end = (n_days - 1) - day
    late_ok = days_to_end >= 1
    late = pick_disjoint(rng, late_ok, {"late_arriving": defect_count(rates["late_arriving"], int(late_ok.sum()))})[
        "late_arriving"
    ]
    head = pick_disjoint(
        rng,
        ~mask(n_orders, late),
        {
            "duplicate": defect_count(rates["duplicate"], n_orders),
            "unknown_currency": defect_count(rates["unknown_currency"], n_orders),
        },
    )
    delay = rng.integers(2, np.minimum(6, days_to_end[late] + 1) + 1)
    loaded[late] = day_start[day[late]] + delay * DAY + rng.integers(0, 6 * 3600, len(late)) * SEC
    bad_currency = np.full(n_orders, -1, dtype=np.int64)
    bad_currency[head["unknown_currency"]] = rng.integers(0, len(UNKNOWN_CURRENCIES), len(head["unknown_currency"]))
    return OrderDefects(late, head["duplicate"], head["unknown_currency"], bad_currency)


def pick_line_defects(rng: np.random.Generator, clean_order: np.ndarray) -> dict[str, np.ndarray]:
    """Line defects, only on lines of otherwise clean orders (``clean_order`` per line), one class per line."""
    lrates = DEFECT_RATES["order_lines"]
    n_lines = len(clean_order)
    return pick_disjoint(
        rng,
        clean_order,
        {
            "duplicate": defect_count(lrates["duplicate"], n_lines),
            "null_sku": defect_count(lrates["null_sku"], n_lines),
            "negative_quantity": defect_count(lrates["negative_quantity"], n_lines),
        },
    )


# --- POS lines ---------------------------------------------------------------------------------


@dataclass
class PosDefects:
    picks: dict[str, np.ndarray]  # line indexes per defect class
    malformed_kind: np.ndarray  # per line: index into MALFORMED_KINDS, -1 for a well-formed line
    bad_ccy: np.ndarray  # per line: index into UNKNOWN_CURRENCIES, -1 for a known currency
    bad_qty: np.ndarray  # per line: index into BAD_QUANTITIES (used where the quantity is garbled)
    bad_ts: np.ndarray  # per line: a garbled timestamp is "##########" (else an hour of 24 or more)
    duplicate: np.ndarray  # per line: sent twice
    negative: np.ndarray  # per line: quantity printed negative


def pick_pos_defects(rng: np.random.Generator, n_lines: int) -> PosDefects:
    """POS line defects, one class per line, and the garbled values the malformed ones print."""
    rates = DEFECT_RATES["pos_transactions"]
    picks = pick_disjoint(
        rng,
        np.ones(n_lines, dtype=bool),
        {k: defect_count(v, n_lines) for k, v in rates.items()},
    )
    # Malformed kinds in equal parts, shuffled over the malformed lines.
    malformed_kind = np.full(n_lines, -1, dtype=np.int64)
    malformed_kind[picks["malformed"]] = np.arange(len(picks["malformed"])) % len(MALFORMED_KINDS)
    malformed_kind[picks["malformed"]] = malformed_kind[picks["malformed"]][rng.permutation(len(picks["malformed"]))]
    bad_ccy = np.full(n_lines, -1, dtype=np.int64)
    bad_ccy[picks["unknown_currency"]] = rng.integers(0, len(UNKNOWN_CURRENCIES), len(picks["unknown_currency"]))
    bad_qty = rng.integers(0, len(BAD_QUANTITIES), n_lines)
    bad_ts = rng.random(n_lines) < 0.5
    duplicate, negative = mask(n_lines, picks["duplicate"]), mask(n_lines, picks["negative_quantity"])
    return PosDefects(picks, malformed_kind, bad_ccy, bad_qty, bad_ts, duplicate, negative)


def break_field_count(body: str, kinds: np.ndarray) -> str:
    """CSV lines of the ``field_count`` kind lose their last field or gain a stray delimiter."""
    broken = np.flatnonzero(kinds == FIELD_COUNT)
    if not len(broken):
        return body
    lines = body.split("\n")
    for i in broken:
        # Alternate: a truncated transmission loses the last field, a stray delimiter adds one.
        lines[i] = lines[i][: lines[i].rfind(",")] if i % 2 == 0 else lines[i] + ","
    return "\n".join(lines)


# --- Opportunities -----------------------------------------------------------------------------


def pick_deleted_opportunities(
    plan: Plan, rng: np.random.Generator, eligible: np.ndarray, last_stamp: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Deals deleted after their last version (within 72 hours, before the window end), and when."""
    n_del = defect_count(DEFECT_RATES["Opportunity"]["deleted"], len(eligible))
    deleted = np.sort(rng.choice(np.flatnonzero(eligible), min(n_del, int(eligible.sum())), replace=False))
    gap = rng.uniform(1, 72, len(deleted)) * HOUR
    room = plan.end_us - SEC - last_stamp[deleted]
    gap = np.where(gap < room, gap, room * rng.uniform(0.2, 0.9, len(deleted)))
    del_stamp = (last_stamp[deleted] + gap.astype(np.int64)) // 1000 * 1000
    return deleted, del_stamp
