"""The stores' point-of-sale drops: ``landing/pos/stores.csv`` and one CSV per store and business day.

Stores sit in their region's cities with trading hours and a weight; transactions follow the
seasonality of the region, the store's hours (Saturdays differ) and its local time. Loyalty
members mostly shop in their own country's stores. Lines carry the stores' local items (carrier
bag, gift wrap), small discounts and the POS defects of ``defects``, written as text the way a
till prints it ("LAST, First" on some tills, local time with its UTC offset).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.catalogue import BasketLines, Catalogue, draw_skus
from sales360_assets.sample_sources.defects import (
    BAD_QUANTITIES,
    MALFORMED_KINDS,
    NON_NUMERIC_QUANTITY,
    UNKNOWN_CURRENCIES,
    UNPARSEABLE_TIMESTAMP,
    PosDefects,
    break_field_count,
    pick_pos_defects,
)
from sales360_assets.sample_sources.parameters import REGION_WEIGHTS
from sales360_assets.sample_sources.people import People
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import COUNTRIES, STORE_DESCRIPTORS
from sales360_assets.sample_sources.seasonality import POS_HOURS, POS_HOURS_SATURDAY, seasonal_weight
from sales360_assets.sample_sources.vectors import (
    basket_sizes,
    component_rng,
    line_numbers,
    money_text,
    offset_text,
    round_money,
    take,
)
from sales360_assets.settings import REGIONS
from sales360_assets.sources.contract import POS_STORES, POS_TRANSACTIONS

# How a till prints the customer: "First Last", "LAST, First" or family name first.
_FIRST_LAST, _LAST_COMMA_FIRST, _FAMILY_FIRST = 0, 1, 2


@dataclass
class Stores:
    """The store registry plus per-store arrays."""

    frame: pl.DataFrame
    region: np.ndarray
    weight: np.ndarray
    offset: np.ndarray  # UTC offset in hours
    hours: np.ndarray  # (stores, 2): open hour, close hour (local)
    style: np.ndarray  # how the till prints the customer's name


@dataclass
class _Transactions:
    """One entry per transaction, sorted by day, store and local time."""

    sizes: np.ndarray
    day: np.ndarray
    store: np.ndarray
    local_sec: np.ndarray  # seconds after local midnight
    cell: np.ndarray  # day * stores + store
    seq: np.ndarray  # number of the transaction within its store and day
    loyal: np.ndarray  # person index of the loyalty member, -1 for an anonymous sale


@dataclass
class _Sales:
    """Everything the day files are written from."""

    stores: Stores
    tx: _Transactions
    lines: BasketLines
    defects: PosDefects
    line_start: np.ndarray  # first line of each transaction, then the number of lines


def build_stores(plan: Plan) -> Stores:
    """Stores in their region's cities (weighted by city), with a size weight, trading hours and till style."""
    rng = component_rng(plan.seed, "stores")
    rows: list[dict[str, str]] = []
    region_of, weight, offset, opens, closes, style = [], [], [], [], [], []
    for r_idx, r in enumerate(plan.regions):
        cities = [
            (c.code, city, off, w * c.weight)
            for c in COUNTRIES.values()
            if c.region == r and c.code in REGIONS[r].countries
            for city, _, off, w in c.cities
        ]
        cw = np.array([x[3] for x in cities])
        order = rng.choice(len(cities), size=len(cities), replace=False, p=cw / cw.sum())
        for s in range(plan.stores_per_region[r_idx]):
            country, city, off, _ = cities[int(order[s % len(order)])]
            opened = plan.start - timedelta(days=int(rng.integers(200, 4000)))
            rows.append(
                {
                    "store_id": f"{r}-{s + 1:03d}",
                    "store_name": f"Sales360 {city} {STORE_DESCRIPTORS[(s + r_idx) % len(STORE_DESCRIPTORS)]}",
                    "region": r,
                    "country": country,
                    "city": city,
                    "currency": REGIONS[r].currency,
                    "opened_on": opened.isoformat(),
                }
            )
            region_of.append(r_idx)
            weight.append(float(rng.gamma(4.0)))
            offset.append(off)
            # Trading hours stay inside the UTC day so a drop's folder date is its UTC date.
            opens.append(max(9, off))
            closes.append(min(21, 24 + off))
            style.append(
                _FAMILY_FIRST if r == "apac" else (_LAST_COMMA_FIRST if r == "emea" and s % 3 == 1 else _FIRST_LAST)
            )
    return Stores(
        frame=pl.DataFrame(rows, schema=dict.fromkeys(POS_STORES.columns, pl.String)),
        region=np.array(region_of),
        weight=np.array(weight),
        offset=np.array(offset),
        hours=np.array([opens, closes]).T,
        style=np.array(style),
    )


def generate_pos(plan: Plan, people: People, cat: Catalogue, out: Path, manifest: dict[str, Any]) -> None:
    """Write ``stores.csv`` and every store-day CSV; record rows, files and defects in the manifest."""
    rng = component_rng(plan.seed, "pos")
    stores = build_stores(plan)
    landing = out / "landing" / "pos"
    landing.mkdir(parents=True, exist_ok=True)
    stores.frame.write_csv(landing / "stores.csv")
    tx = _place_transactions(plan, rng, stores)
    _draw_members(rng, people, stores, tx)
    lines = _pos_lines(plan, rng, cat, stores, tx)
    defects = pick_pos_defects(rng, len(lines.basket))
    sales = _Sales(stores, tx, lines, defects, np.append(np.cumsum(tx.sizes) - tx.sizes, len(lines.basket)))
    files = sum(_write_day(plan, landing, d_idx, d, people, cat, sales) for d_idx, d in enumerate(plan.days))

    picks = defects.picks
    manifest["rows"]["pos_stores"] = stores.frame.height
    manifest["rows"]["pos_transactions"] = len(lines.basket) + len(picks["duplicate"])
    manifest["entities"]["pos_transactions"] = len(lines.basket)
    manifest["entities"]["pos_transaction_count"] = len(tx.sizes)
    manifest["files"]["pos_transactions"] = files
    manifest["defects"]["pos_transactions"] = {k: len(v) for k, v in picks.items()}
    manifest["defect_details"]["pos_transactions"] = {
        "malformed": {k: int((defects.malformed_kind == i).sum()) for i, k in enumerate(MALFORMED_KINDS)}
    }


def _place_transactions(plan: Plan, rng: np.random.Generator, stores: Stores) -> _Transactions:
    """Basket sizes, then a day, store and local time (inside the store's hours) per transaction."""
    n_stores = stores.frame.height
    sizes = basket_sizes(rng, plan.pos_lines, 0.6, 8, int(plan.pos_lines / 1.5) + 64)
    n_tx = len(sizes)
    s_region = stores.region
    region_total = np.bincount(s_region, weights=stores.weight)
    store_share = stores.weight / region_total[s_region]
    weights = np.array(
        [
            [
                seasonal_weight(d, plan.regions[s_region[s]], "pos")
                * REGION_WEIGHTS[plan.regions[s_region[s]]]
                * store_share[s]
                for s in range(n_stores)
            ]
            for d in plan.days
        ]
    ).ravel()
    cell = np.repeat(np.arange(len(weights)), rng.multinomial(n_tx, weights / weights.sum()))
    day, store = cell // n_stores, cell % n_stores
    saturday = np.array([d.weekday() == 5 for d in plan.days])[day]
    hour = np.zeros(n_tx, dtype=np.int64)
    for s in range(n_stores):
        allowed = np.zeros(24)
        allowed[stores.hours[s, 0] : stores.hours[s, 1]] = 1
        for sat, profile in ((False, POS_HOURS), (True, POS_HOURS_SATURDAY)):
            at = np.flatnonzero((store == s) & (saturday == sat))
            p = profile * allowed
            hour[at] = rng.choice(24, len(at), p=p / p.sum())
    local_sec = hour * 3600 + rng.integers(0, 3600, n_tx)
    order = np.lexsort((local_sec, cell))
    sizes, day, store, local_sec, cell = sizes[order], day[order], store[order], local_sec[order], cell[order]
    seq = np.arange(n_tx) - np.searchsorted(cell, cell) + 1
    return _Transactions(sizes, day, store, local_sec, cell, seq, loyal=np.full(n_tx, -1, dtype=np.int64))


def _draw_members(rng: np.random.Generator, people: People, stores: Stores, tx: _Transactions) -> None:
    """Fill ``tx.loyal``: members shop in their own country's stores; a few are travelling within the region."""
    n_tx = len(tx.sizes)
    is_loyal = rng.random(n_tx) < 0.45
    traveller = rng.random(n_tx) < 0.15
    person_country = people.frame["country"].to_numpy()
    store_country = stores.frame["country"].to_numpy()
    for s in range(stores.frame.height):
        pool, w = people.loyal_by_region[stores.region[s]], people.loyal_weight_by_region[stores.region[s]]
        local = person_country[pool] == store_country[s]
        at = np.flatnonzero(is_loyal & (tx.store == s) & ~traveller)
        if local.sum() >= 5:
            tx.loyal[at] = rng.choice(pool[local], len(at), p=w[local] / w[local].sum())
        else:
            tx.loyal[at] = rng.choice(pool, len(at), p=w)
        at = np.flatnonzero(is_loyal & (tx.store == s) & traveller)
        tx.loyal[at] = rng.choice(pool, len(at), p=w)


def _pos_lines(plan: Plan, rng: np.random.Generator, cat: Catalogue, stores: Stores, tx: _Transactions) -> BasketLines:
    """Products (with bundles and the stores' local items), small quantities, a few discounts."""
    tx_of = np.repeat(np.arange(len(tx.sizes)), tx.sizes)
    n_lines = len(tx_of)
    line_no = line_numbers(tx.sizes)
    sku = draw_skus(rng, cat, cat.pos_popularity, line_no)
    n_cat = len(cat.pos_popularity)
    local_pick = rng.random(n_lines)
    sku[local_pick < 0.04] = n_cat  # carrier bag
    sku[(local_pick >= 0.04) & (local_pick < 0.047)] = n_cat + 1  # gift wrap
    qty = np.where(rng.random(n_lines) < 0.12, 2, 1) + (rng.random(n_lines) < 0.04)
    line_region = stores.region[tx.store][tx_of]
    unit_price = cat.price[line_region, sku]
    discounted = rng.random(n_lines) < 0.08
    discount = np.where(
        discounted,
        round_money(unit_price * qty * rng.choice([0.1, 0.2, 0.3], n_lines), plan.decimals[line_region]),
        0.0,
    )
    return BasketLines(tx_of, line_no, sku, qty, line_region, unit_price, discount)


def _write_day(plan: Plan, landing: Path, d_idx: int, d: date, people: People, cat: Catalogue, sales: _Sales) -> int:
    """Every store's CSV of one day (a closed store still drops an empty log); the number of files."""
    stores, tx, defects = sales.stores, sales.tx, sales.defects
    n_stores = stores.frame.height
    store_ids = stores.frame["store_id"]
    header = ",".join(POS_TRANSACTIONS.columns)
    tx_bounds = np.searchsorted(tx.cell, [d_idx * n_stores, (d_idx + 1) * n_stores])
    la, lb = int(sales.line_start[tx_bounds[0]]), int(sales.line_start[tx_bounds[1]])
    # A retried transmission repeats the line right after the original.
    ln = np.repeat(np.arange(la, lb), 1 + defects.duplicate[la:lb])
    frame = _day_lines(plan, d, ln, people, cat, sales)
    files = 0
    for (s,), part in frame.partition_by("store", maintain_order=True, as_dict=True).items():
        path = landing / d.isoformat() / f"{store_ids[int(s)]}.csv"
        body = part.select(*POS_TRANSACTIONS.columns).write_csv(include_header=False, quote_style="necessary")
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(header + "\n" + break_field_count(body, part["mk"].to_numpy()), encoding="utf-8")
        files += 1
    for s in range(n_stores):
        path = landing / d.isoformat() / f"{store_ids[s]}.csv"
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(header + "\n", encoding="utf-8")
            files += 1
    return files


def _day_lines(plan: Plan, d: date, ln: np.ndarray, people: People, cat: Catalogue, sales: _Sales) -> pl.DataFrame:
    """The day's lines as the tills print them, plus ``store`` and ``mk`` (malformed kind) to write them by."""
    stores, tx, lines, defects = sales.stores, sales.tx, sales.lines, sales.defects
    t = lines.basket[ln]
    store = tx.store[t]
    store_ids = stores.frame["store_id"]
    mk = defects.malformed_kind[ln]
    qty = lines.qty[ln]
    qty_txt = np.where(defects.negative[ln], np.char.add("-", qty.astype(str)), qty.astype(str))
    qty_txt = np.where(mk == NON_NUMERIC_QUANTITY, np.array(BAD_QUANTITIES)[defects.bad_qty[ln]], qty_txt)
    currency = np.array(plan.currencies, dtype=object)[lines.region[ln]]
    bad_ccy = defects.bad_ccy[ln]
    currency = np.where(bad_ccy >= 0, np.array(UNKNOWN_CURRENCIES, dtype=object)[np.maximum(bad_ccy, 0)], currency)
    frame = pl.DataFrame(
        {
            "transaction_id": pl.select(
                pl.concat_str(
                    store_ids.gather(store),
                    pl.lit(f"-{d.strftime('%Y%m%d')}-"),
                    pl.Series(tx.seq[t]).cast(pl.String).str.zfill(6),
                )
            ).to_series(),
            "line_no": pl.Series(lines.line_no[ln]).cast(pl.String),
            "store_id": store_ids.gather(store),
            "transaction_ts": _timestamp_text(
                d, tx.local_sec[t], take([offset_text(int(o)) for o in stores.offset], store), mk, defects.bad_ts[ln]
            ),
            "sku": take(cat.skus, lines.sku[ln]),
            "quantity": pl.Series(qty_txt.tolist(), dtype=pl.String),
            "unit_price": money_text(lines.unit_price[ln]),
            "discount": money_text(lines.discount[ln]),
            "currency": pl.Series(currency.tolist(), dtype=pl.String),
            **_customer_columns(people, tx.loyal[t], stores.style[store]),
            "store": store,
            "mk": mk,
        }
    )
    return frame.with_columns(
        customer_name=pl.when(pl.col("style") == _LAST_COMMA_FIRST)
        .then(pl.concat_str(pl.col("last").str.to_uppercase(), pl.lit(", "), "first"))
        .when(pl.col("style") == _FAMILY_FIRST)
        .then(pl.concat_str("last", pl.lit(" "), "first"))
        .otherwise(pl.concat_str("first", pl.lit(" "), "last"))
    ).with_columns(
        [
            pl.when(pl.col("anon")).then(None).otherwise(pl.col(c)).alias(c)
            for c in ("loyalty_id", "customer_name", "customer_email", "customer_phone")
        ]
    )


def _timestamp_text(
    d: date, local_sec: np.ndarray, offset_txt: pl.Series, mk: np.ndarray, bad_ts: np.ndarray
) -> pl.Series:
    """Local time with its UTC offset; a garbled one is "##########" or an hour of 24 or more."""
    local_clock = pl.Series(local_sec * 1_000_000_000).cast(pl.Time).dt.strftime("%H:%M:%S")
    ts_text = pl.select(pl.concat_str(pl.lit(f"{d.isoformat()}T"), local_clock, offset_txt)).to_series()
    bad_hour = pl.select(
        pl.concat_str(
            pl.lit(f"{d.isoformat()}T"),
            pl.Series(local_sec // 3600 + 24).cast(pl.String),
            local_clock.str.slice(2),
            offset_txt,
        )
    ).to_series()
    garbled = mk == UNPARSEABLE_TIMESTAMP
    return pl.select(
        pl.when(pl.Series(garbled) & pl.Series(bad_ts))
        .then(pl.lit("##########"))
        .when(pl.Series(garbled))
        .then(bad_hour)
        .otherwise(ts_text)
    ).to_series()


def _customer_columns(people: People, person: np.ndarray, style: np.ndarray) -> dict[str, Any]:
    """The member's POS spelling (name parts, style and an anonymous flag to build and blank them by)."""
    pf = people.frame
    known = np.maximum(person, 0)
    return {
        "loyalty_id": pf["loyalty_id"].gather(known),
        "first": pf["pos_first"].gather(known),
        "last": pf["pos_last"].gather(known),
        "style": style,
        "anon": person < 0,
        "customer_email": pf["pos_email"].gather(known),
        "customer_phone": pf["pos_phone"].gather(known),
    }
