"""The BigQuery-shaped warehouse export: web ``orders`` and ``order_lines`` per day, and reference tables.

Web orders follow the seasonality of each region, land in the buyer's local evening, carry
popularity- and taste-driven products with bundles, business quantities and promotions, and the
header and line defects of ``defects``. Some spotless orders fulfil won CRM deals; their lines go
back to the CRM as the deals' line items. ``customers``, ``products`` and ``fx_rates`` are
written once for the window.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.catalogue import BasketLines, Catalogue, draw_skus, tastes
from sales360_assets.sample_sources.defects import (
    UNKNOWN_CURRENCIES,
    OrderDefects,
    pick_line_defects,
    pick_order_defects,
)
from sales360_assets.sample_sources.parameters import (
    BASE_USD_PER_UNIT,
    FX_DAILY_VOLATILITY,
    FX_HISTORY_DAYS,
    POS_LOCAL_SKUS,
    REGION_UTC_OFFSET,
    REGION_WEIGHTS,
)
from sales360_assets.sample_sources.people import People
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.seasonality import WEB_HOURS, promo_day, seasonal_weight
from sales360_assets.sample_sources.vectors import (
    SEC,
    basket_sizes,
    component_rng,
    day_us,
    line_numbers,
    mask,
    prefixed,
    round_money,
    take,
    timestamps,
)
from sales360_assets.sources.contract import UTC_DATETIME, WAREHOUSE_TABLES, SourceTable

_FULFILLED_LINES_SCHEMA = {
    "opp": pl.Int64,
    "order_id": pl.String,
    "sku": pl.String,
    "quantity": pl.Int64,
    "unit_price": pl.Float64,
}


def to_contract(table: SourceTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the contract's columns; an optional one the sample does not model is written empty."""
    return frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c) for c, t in table.columns.items()]
    )


@dataclass
class _Orders:
    """One entry per web order, sorted by day and time."""

    sizes: np.ndarray  # lines per order
    day: np.ndarray  # index into plan.days
    region: np.ndarray
    customer: np.ndarray  # person index
    order_ts: np.ndarray  # µs
    cancelled: np.ndarray
    loaded: np.ndarray  # µs: _loaded_at (late arrivals are moved by the defects)

    @property
    def line_start(self) -> np.ndarray:
        return np.cumsum(self.sizes) - self.sizes


@dataclass
class _Wire:
    """What the export shows after the defects: ids, currencies, nulled SKUs, negated quantities, retries."""

    order_ids: pl.Series
    currency: np.ndarray
    head_dup: np.ndarray
    dup_head_loaded: np.ndarray
    sku: np.ndarray
    qty: np.ndarray
    line_dup: np.ndarray
    dup_line_loaded: np.ndarray


def generate_web(
    plan: Plan, people: People, cat: Catalogue, link_requests: pl.DataFrame, out: Path, manifest: dict[str, Any]
) -> pl.DataFrame:
    """Write orders and order_lines per order_date; return the lines of web-fulfilled deals."""
    rng = component_rng(plan.seed, "web")
    orders = _place_orders(plan, rng, people)
    lines = _order_lines(plan, rng, people, cat, orders)
    n_orders, n_lines = len(orders.day), len(lines.basket)
    day_start = np.array([day_us(d) for d in plan.days])
    head = pick_order_defects(rng, orders.day, len(plan.days), day_start, orders.loaded)
    header_defect = head.any(n_orders)
    line = pick_line_defects(rng, ~header_defect[lines.basket])
    wire = _wire(plan, rng, orders, lines, head, line)
    matched = _match_fulfilment_requests(rng, cat, orders, lines, header_defect, line, link_requests)
    rows_orders, rows_lines = _write_days(plan, out, people, cat, orders, lines, wire)

    manifest["rows"]["orders"] = rows_orders
    manifest["rows"]["order_lines"] = rows_lines
    manifest["entities"]["orders"] = n_orders
    manifest["entities"]["order_lines"] = n_lines
    manifest["defects"]["orders"] = {
        "duplicate": len(head.duplicate),
        "unknown_currency": len(head.unknown_currency),
        "late_arriving": len(head.late),
    }
    manifest["defects"]["order_lines"] = {
        "duplicate": len(line["duplicate"]),
        "null_sku": len(line["null_sku"]),
        "negative_quantity": len(line["negative_quantity"]),
        "late_arriving": int(orders.sizes[head.late].sum()),
    }
    if not matched.height:
        return pl.DataFrame(schema=_FULFILLED_LINES_SCHEMA)
    m_order = matched["order"].to_numpy()
    line_start = orders.line_start
    m_lines = np.concatenate([np.arange(line_start[o], line_start[o] + orders.sizes[o]) for o in m_order])
    return pl.DataFrame(
        {
            "opp": np.repeat(matched["opp"].to_numpy(), orders.sizes[m_order]),
            "order_id": wire.order_ids.gather(lines.basket[m_lines]),
            "sku": take(cat.skus, lines.sku[m_lines]),
            "quantity": lines.qty[m_lines],
            "unit_price": lines.unit_price[m_lines],
        }
    )


def _place_orders(plan: Plan, rng: np.random.Generator, people: People) -> _Orders:
    """Order sizes, then a day, region, buyer and local evening time per order."""
    n_regions = len(plan.regions)
    sizes = basket_sizes(rng, plan.web_lines, 0.5, 10, plan.web_lines // 2 + 64)
    n_orders = len(sizes)
    weights = np.array(
        [[seasonal_weight(d, r, "web") * REGION_WEIGHTS[r] for r in plan.regions] for d in plan.days]
    ).ravel()
    cell = np.repeat(np.arange(len(weights)), rng.multinomial(n_orders, weights / weights.sum()))
    day, region = cell // n_regions, cell % n_regions
    customer = np.zeros(n_orders, dtype=np.int64)
    for r_idx in range(n_regions):
        at = np.flatnonzero(region == r_idx)
        customer[at] = rng.choice(people.web_by_region[r_idx], size=len(at), p=people.web_weight_by_region[r_idx])

    # Local time of day (evening peak, stronger on Sunday/Monday), stored as UTC in the same day.
    weekday = np.array([d.weekday() for d in plan.days])[day]
    evening = np.isin(weekday, (0, 6))
    boosted = WEB_HOURS.copy()
    boosted[19:23] *= 1.35
    hour = np.where(
        evening,
        rng.choice(24, n_orders, p=boosted / boosted.sum()),
        rng.choice(24, n_orders, p=WEB_HOURS / WEB_HOURS.sum()),
    )
    offsets = np.array([REGION_UTC_OFFSET[r] for r in plan.regions])[region]
    local_sec = hour * 3600 + rng.integers(0, 3600, n_orders)
    utc_sec = (local_sec - offsets * 3600) % 86400
    day_start = np.array([day_us(d) for d in plan.days])
    order_ts = day_start[day] + utc_sec * SEC + rng.integers(0, 1000, n_orders) * 1000

    order = np.lexsort((order_ts, day))
    sizes, day, region, customer, order_ts = sizes[order], day[order], region[order], customer[order], order_ts[order]
    cancelled = rng.random(n_orders) < 0.04
    loaded = order_ts + rng.integers(120, 5400, n_orders) * SEC
    return _Orders(sizes, day, region, customer, order_ts, cancelled, loaded)


def _order_lines(plan: Plan, rng: np.random.Generator, people: People, cat: Catalogue, orders: _Orders) -> BasketLines:
    """Products (by taste and bundle), quantities (business buyers buy more) and promotion discounts."""
    line_order = np.repeat(np.arange(len(orders.sizes)), orders.sizes)
    line_no = line_numbers(orders.sizes)
    taste = tastes(plan, cat, people.frame.height)[orders.customer[line_order]]
    sku = draw_skus(rng, cat, cat.web_popularity, line_no, (plan, taste))
    segment_of = people.frame["segment"].to_numpy()
    seg = segment_of[orders.customer[line_order]]
    qty = np.where(rng.random(len(line_order)) < 0.18, 2 + rng.geometric(0.6, len(line_order)) - 1, 1)
    qty = (
        qty
        + np.where(seg == "Corporate", rng.poisson(4, len(qty)), 0)
        + np.where(seg == "Small Business", rng.poisson(1, len(qty)), 0)
    )
    qty = np.minimum(qty, 50).astype(np.int64)
    line_region = orders.region[line_order]
    unit_price = cat.price[line_region, sku]
    promo = np.array([promo_day(d) for d in plan.days])[orders.day[line_order]]
    discounted = rng.random(len(qty)) < np.where(promo, 0.45, 0.15)
    pct = rng.choice([0.05, 0.10, 0.15, 0.20, 0.25], len(qty))
    discount = np.where(discounted, round_money(unit_price * qty * pct, plan.decimals[line_region]), 0.0)
    return BasketLines(line_order, line_no, sku, qty, line_region, unit_price, discount)


def _wire(
    plan: Plan,
    rng: np.random.Generator,
    orders: _Orders,
    lines: BasketLines,
    head: OrderDefects,
    line: dict[str, np.ndarray],
) -> _Wire:
    """Apply the picked defects to the values the export carries; retried loads come 1–6 hours later."""
    n_orders, n_lines = len(orders.day), len(lines.basket)
    sku_out = lines.sku.copy()
    sku_out[line["null_sku"]] = -1
    qty_out = lines.qty.copy()
    qty_out[line["negative_quantity"]] *= -1
    dup_head_loaded = orders.loaded + rng.integers(3600, 6 * 3600, n_orders) * SEC
    dup_line_loaded = orders.loaded[lines.basket] + rng.integers(3600, 6 * 3600, n_lines) * SEC
    currency = np.array(plan.currencies, dtype=object)[orders.region]
    bad = head.bad_currency
    currency[bad >= 0] = np.array(UNKNOWN_CURRENCIES, dtype=object)[bad[bad >= 0]]
    return _Wire(
        order_ids=prefixed("order_id", "WO", np.arange(1, n_orders + 1), 9),
        currency=currency,
        head_dup=mask(n_orders, head.duplicate),
        dup_head_loaded=dup_head_loaded,
        sku=sku_out,
        qty=qty_out,
        line_dup=mask(n_lines, line["duplicate"]),
        dup_line_loaded=dup_line_loaded,
    )


def _match_fulfilment_requests(
    rng: np.random.Generator,
    cat: Catalogue,
    orders: _Orders,
    lines: BasketLines,
    header_defect: np.ndarray,
    line: dict[str, np.ndarray],
    link_requests: pl.DataFrame,
) -> pl.DataFrame:
    """opp, order: deals fulfilled online need a spotless, undiscounted order whose products sales also sells."""
    n_orders, n_lines = len(orders.day), len(lines.basket)
    line_bad = np.zeros(n_orders, dtype=bool)
    np.logical_or.at(line_bad, lines.basket, mask(n_lines, np.concatenate(list(line.values()))))
    np.logical_or.at(line_bad, lines.basket, lines.discount > 0)
    np.logical_or.at(line_bad, lines.basket, ~np.append(cat.in_crm, np.zeros(len(POS_LOCAL_SKUS), bool))[lines.sku])
    candidate = np.flatnonzero(~header_defect & ~line_bad & ~orders.cancelled)
    cand = pl.DataFrame({"order": candidate, "region": orders.region[candidate], "day": orders.day[candidate]})
    cand = cand[rng.permutation(cand.height)].with_columns(rank=pl.int_range(pl.len()).over("region", "day"))
    requests = link_requests.with_columns(rank=pl.int_range(pl.len()).over("region", "day"))
    return requests.join(cand, on=["region", "day", "rank"], how="inner", maintain_order="left")


def _write_days(
    plan: Plan, out: Path, people: People, cat: Catalogue, orders: _Orders, lines: BasketLines, wire: _Wire
) -> tuple[int, int]:
    """One Parquet file per table and order_date; a retried row follows its day's originals. Rows written."""
    n_orders, n_lines = len(orders.day), len(lines.basket)
    status = np.where(orders.cancelled, "cancelled", "completed")
    line_start = orders.line_start
    orders_table, lines_table = WAREHOUSE_TABLES["orders"], WAREHOUSE_TABLES["order_lines"]
    day_bounds = np.searchsorted(orders.day, np.arange(len(plan.days) + 1))
    rows_orders = rows_lines = 0
    for d_idx, d in enumerate(plan.days):
        a, b = int(day_bounds[d_idx]), int(day_bounds[d_idx + 1])
        o = np.arange(a, b)
        o_all = np.concatenate([o, o[wire.head_dup[a:b]]])
        loaded_all = np.concatenate([orders.loaded[a:b], wire.dup_head_loaded[a:b][wire.head_dup[a:b]]])
        day_orders = pl.DataFrame(
            {
                "order_id": wire.order_ids.gather(o_all),
                "customer_id": people.frame["customer_id"].gather(orders.customer[o_all]),
                "order_ts": timestamps("order_ts", orders.order_ts[o_all]),
                "order_date": pl.Series([d] * len(o_all), dtype=pl.Date),
                "region": take(plan.regions, orders.region[o_all]),
                "currency": pl.Series(wire.currency[o_all].tolist(), dtype=pl.String),
                "status": pl.Series(status[o_all].tolist(), dtype=pl.String),
                "_loaded_at": timestamps("_loaded_at", loaded_all),
            }
        )
        la = int(line_start[a]) if a < n_orders else n_lines
        lb = int(line_start[b]) if b < n_orders else n_lines
        ln = np.arange(la, lb)
        l_all = np.concatenate([ln, ln[wire.line_dup[la:lb]]])
        loaded_lines = np.concatenate(
            [orders.loaded[lines.basket[la:lb]], wire.dup_line_loaded[la:lb][wire.line_dup[la:lb]]]
        )
        day_lines = pl.DataFrame(
            {
                "order_id": wire.order_ids.gather(lines.basket[l_all]),
                "line_number": lines.line_no[l_all],
                "sku": take(cat.skus, wire.sku[l_all]),
                "quantity": wire.qty[l_all],
                "unit_price": lines.unit_price[l_all],
                "discount_amount": lines.discount[l_all],
                "order_date": pl.Series([d] * len(l_all), dtype=pl.Date),
                "region": take(plan.regions, lines.region[l_all]),
                "_loaded_at": timestamps("_loaded_at", loaded_lines),
            }
        )
        for table, frame in ((orders_table, day_orders), (lines_table, day_lines)):
            folder = out / "warehouse" / table.name / f"order_date={d.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            to_contract(table, frame).write_parquet(folder / "part-0.parquet")
        rows_orders += day_orders.height
        rows_lines += day_lines.height
    return rows_orders, rows_lines


# --- Reference tables -------------------------------------------------------------------------


def write_reference_tables(plan: Plan, out: Path, people: People, cat: Catalogue, manifest: dict[str, Any]) -> None:
    """customers, products and fx_rates: one Parquet file each, for the whole window."""
    warehouse = out / "warehouse"
    for name, frame in (("customers", _customers(people)), ("products", cat.frame), ("fx_rates", _fx_rates(plan))):
        table = WAREHOUSE_TABLES[name]
        (warehouse / name).mkdir(parents=True, exist_ok=True)
        to_contract(table, frame).write_parquet(warehouse / name / f"{name}.parquet")
        manifest["rows"][name] = frame.height


def _fx_rates(plan: Plan) -> pl.DataFrame:
    """A daily random walk per currency on business days, from FX_HISTORY_DAYS before the window."""
    rng = component_rng(plan.seed, "fx")
    first = plan.start - timedelta(days=FX_HISTORY_DAYS)
    days = [first + timedelta(days=i) for i in range((plan.end - first).days + 1)]
    days = [d for d in days if d.weekday() < 5]
    frames = []
    for ccy in sorted(BASE_USD_PER_UNIT):
        base = BASE_USD_PER_UNIT[ccy]
        vol = FX_DAILY_VOLATILITY[ccy]
        walk = np.exp(rng.normal(0, 0.01 if vol else 0.0) + np.cumsum(rng.normal(0, vol, len(days))))
        rate = np.round(base * walk, 8 if base < 0.1 else 6)
        frames.append(pl.DataFrame({"rate_date": days, "currency": [ccy] * len(days), "usd_per_unit": rate}))
    return pl.concat(frames).sort("rate_date", "currency")


def _customers(people: People) -> pl.DataFrame:
    """The web shop's customer master: every person with a customer_id, as registered."""
    return (
        people.frame.filter(pl.col("customer_id").is_not_null())
        .sort("customer_id")
        .select(
            "customer_id",
            pl.col("first").alias("first_name"),
            pl.col("last").alias("last_name"),
            "email",
            pl.col("phone_intl").alias("phone"),
            "country",
            "city",
            "segment",
            pl.col("created_us").cast(UTC_DATETIME).alias("created_at"),
            pl.col("updated_us").cast(UTC_DATETIME).alias("updated_at"),
        )
    )
