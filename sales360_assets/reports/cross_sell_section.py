"""The "Cross-sell opportunities" section of the sales team report, with its chart. No Dagster here.

From ``mart_product_affinity`` (which products sell together) and ``mart_cross_sell_opportunities``
(what each customer should be offered): the strongest product pairs, the products most often a
customer's best cross-sell, and what drives them. Every number goes to the report's figures.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import polars as pl
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from sales360_assets.recommendations.basket import PRODUCT
from sales360_assets.reports.markdown import table

CROSS_SELL_PNG = "cross_sell_opportunities.png"
SECTION = "cross_sell"
TOP = 5
STRONG_SCORE = 0.5  # a best offer at least this likely counts as a strong opportunity

AddFigure = Callable[[str, str, float | None, str], object]


def _pct(value: float) -> str:
    return f"{value * 100:.1f} %"


def top_pairs(affinity: pl.DataFrame, n: int = TOP) -> pl.DataFrame:
    """The product pairs with the highest lift (ties: the more common pair first)."""
    return (
        affinity.filter(pl.col("level") == PRODUCT)
        .sort(["lift", "support", "antecedent", "consequent"], descending=[True, True, False, False])
        .head(n)
    )


def best_offers(cross_sell: pl.DataFrame, n: int = TOP) -> pl.DataFrame:
    """Products by the number of customers for whom they are the best cross-sell, with the usual driver."""
    best = cross_sell.filter(pl.col("rank") == 1)
    drivers = (
        best.with_columns(pl.col("driving_products").list.first().alias("driver"))
        .group_by("product_name", "driver")
        .len("n")
        .sort(["product_name", "n", "driver"], descending=[False, True, False])
        .unique("product_name", keep="first", maintain_order=True)
        .select("product_name", "driver")
    )
    return (
        best.group_by("product_name")
        .agg(pl.len().alias("customers"), pl.col("cross_sell_score").mean().alias("mean_score"))
        .join(drivers, on="product_name", how="left")
        .sort(["customers", "product_name"], descending=[True, False])
        .head(n)
    )


def render_chart(offers: pl.DataFrame, path: Path) -> Path:
    fig = Figure(figsize=(10, 4.5), dpi=100, layout="constrained")
    ax = fig.subplots()
    shown = offers.sort("customers")
    ax.barh([name[:40] for name in shown["product_name"].to_list()], shown["customers"].to_list(), color="#1f6f8b")
    ax.set_title("Best cross-sell offer: customers per product", loc="left")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("customers for whom it is the best offer")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, format="png", metadata={"Software": None})
    return path


def _pair_rows(pairs: pl.DataFrame, add: AddFigure) -> list[list[str]]:
    rows = []
    for r in pairs.iter_rows(named=True):
        pair = f"{r['antecedent_name']} → {r['consequent_name']}"
        add(SECTION, "pair_lift", r["lift"], pair)
        add(SECTION, "pair_confidence", r["confidence"], pair)
        support, confidence = _pct(r["support"]), _pct(r["confidence"])
        rows.append([str(r["antecedent_name"]), str(r["consequent_name"]), support, confidence, f"{r['lift']:.2f}"])
    return rows


def _offer_rows(offers: pl.DataFrame, add: AddFigure) -> list[list[str]]:
    rows = []
    for r in offers.iter_rows(named=True):
        add(SECTION, "best_offer_customers", r["customers"], r["product_name"])
        rows.append([str(r["product_name"]), f"{r['customers']:,}", f"{r['mean_score']:.2f}", r["driver"] or "—"])
    return rows


def build_section(
    cross_sell: pl.DataFrame, affinity: pl.DataFrame, add: AddFigure, output_dir: Path
) -> tuple[list[str], Path | None]:
    """The section's Markdown lines and its chart (None when there is nothing to chart)."""
    out = ["", "## Cross-sell opportunities", ""]
    pairs = top_pairs(affinity)
    best = cross_sell.filter(pl.col("rank") == 1)
    customers = best.height
    strong = best.filter(pl.col("cross_sell_score") >= STRONG_SCORE).height
    add(SECTION, "customers_with_offer", customers, "")
    add(SECTION, "customers_with_strong_offer", strong, "")
    if pairs.height == 0:
        out.append("No product pair reaches the minimum support in the window yet.")
        return out, None
    window = pairs.row(0, named=True)
    out += [
        f"Products bought together ({window['window_start']:%d %b %Y} – {window['window_end']:%d %b %Y}, "
        f"{window['baskets']:,} orders). Lift above 1: buying the first makes the second more likely.",
        "",
        *table(["Bought", "Also bought", "Support", "Confidence", "Lift"], _pair_rows(pairs, add), (0, 1)),
    ]
    offers = best_offers(cross_sell)
    out += [
        "",
        f"**{customers:,} customers** have a cross-sell offer; for **{strong:,}** the best one scores "
        f"{STRONG_SCORE:.0%} or more (score = chance that one of their products pulls it in).",
        "",
        *table(["Best offer", "Customers", "Mean score", "Usually driven by"], _offer_rows(offers, add), (0, 3)),
    ]
    if offers.height == 0:
        return out, None
    png = render_chart(offers, output_dir / CROSS_SELL_PNG)
    out += ["", f"![Cross-sell opportunities]({CROSS_SELL_PNG})"]
    return out, png
