"""``fact_sales``: sales at order-line grain across the web, POS and CRM channels, with cost and margin.

Each channel maps its staged lines to one shape (``_web_sales``, ``_pos_sales``, ``_crm_sales``);
``build_fact_sales`` stacks them, keeps the partitions it was asked for and attaches the product,
its cost valid on the sale's date and the margin (a span of months at a time: ``staged_lines_in_month_spans``).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import polars as pl

from sales360_assets.core.column_rules import blank_to_null, live
from sales360_assets.core.deals import booked_deals
from sales360_assets.core.keys import (
    NO_SALES_REP_KEY,
    UNIDENTIFIED_IN_STORE_CUSTOMER_KEY,
    UNKNOWN_CUSTOMER_KEY,
    UNMAPPED_PRODUCT_KEY,
)
from sales360_assets.core.product_cost import cost_on_sale_date
from sales360_assets.core.scd import BEGINNING_OF_TIME
from sales360_assets.core.schemas import FACT_SALES_SCHEMA
from sales360_assets.frames import conform, spans_of_months
from sales360_assets.months import month_start


def _attach_product(
    lines: pl.DataFrame, dim_product: pl.DataFrame, product_costs: pl.DataFrame | None = None
) -> pl.DataFrame:
    """Product key, mapping flag and ``_unit_cost``: the cost valid on the line's date (``dim_product_cost``).

    Without ``product_costs`` (unit tests of other rules) each SKU's current cost applies to every date.
    """
    products = dim_product.filter(~pl.col("is_unknown_member")).select(
        "sku", "product_key", pl.col("in_catalogue").alias("_mapped")
    )
    if product_costs is None:
        product_costs = dim_product.filter(pl.col("in_catalogue")).select(
            "sku", pl.lit(BEGINNING_OF_TIME).alias("valid_from"), "standard_cost_usd"
        )
    costed = cost_on_sale_date(lines, product_costs)
    return (
        costed.join(products, on="sku", how="left", validate="m:1", maintain_order="left")
        .with_columns(
            pl.col("product_key").fill_null(pl.lit(UNMAPPED_PRODUCT_KEY)),
            # CRM-only SKUs have a product row but no catalogue cost: unmapped for costing too, as
            # is a catalogue product whose cost is unknown on the sale date (its margin would read 100 %).
            (~pl.col("_mapped").fill_null(False) | pl.col("_unit_cost").is_null()).alias("is_unmapped_product"),
        )
        .drop("_mapped")
    )


# A staged web or POS line's quantity and amounts as the fact names them: staging already converts
# to USD, so both channels carry the same columns under a *_local name.
_STAGED_AMOUNTS: list[str | pl.Expr] = [
    "quantity",
    pl.col("unit_price").alias("unit_price_local"),
    pl.col("gross_amount").alias("gross_amount_local"),
    pl.col("discount_amount").alias("discount_amount_local"),
    pl.col("net_amount").alias("net_amount_local"),
    "currency",
    "fx_rate",
    "fx_rate_date",
    "net_amount_usd",
]


def _web_sales(web_lines: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    # Cancelled orders never became revenue; only completed orders are sales.
    completed = web_lines.filter(pl.col("order_status") == "completed")
    customer_keys = (
        dim_customer.filter(pl.col("customer_source") == "web")
        .select("customer_key", pl.col("source_customer_ids").alias("customer_id"))
        .explode("customer_id")
    )
    return completed.join(customer_keys, on="customer_id", how="left", validate="m:1", maintain_order="left").select(
        pl.concat_str([pl.lit("web"), "order_id", "line_number"], separator=":").alias("sales_line_id"),
        pl.lit("web").alias("channel"),
        "date",
        "region",
        "order_id",
        "line_number",
        pl.col("customer_key").fill_null(pl.lit(UNKNOWN_CUSTOMER_KEY)),
        pl.col("customer_id").alias("customer_ref"),
        "sku",
        pl.lit(NO_SALES_REP_KEY).alias("sales_rep_key"),
        pl.lit(None, dtype=pl.String).alias("store_id"),
        *_STAGED_AMOUNTS,
    )


def _pos_sales(pos_lines: pl.DataFrame, dim_customer: pl.DataFrame) -> pl.DataFrame:
    emails = dim_customer.filter(pl.col("email_normalized").is_not_null()).select(
        pl.col("email_normalized").alias("_email"), "customer_key"
    )
    return (
        pos_lines.with_columns(blank_to_null(pl.col("customer_email")).str.to_lowercase().alias("_email"))
        .join(emails, on="_email", how="left", validate="m:1", maintain_order="left")
        .select(
            pl.concat_str([pl.lit("pos"), "transaction_id", "line_no"], separator=":").alias("sales_line_id"),
            pl.lit("pos").alias("channel"),
            "date",
            "region",
            pl.col("transaction_id").alias("order_id"),
            pl.col("line_no").alias("line_number"),
            pl.col("customer_key").fill_null(pl.lit(UNIDENTIFIED_IN_STORE_CUSTOMER_KEY)),
            pl.col("loyalty_id").alias("customer_ref"),
            "sku",
            pl.lit(NO_SALES_REP_KEY).alias("sales_rep_key"),
            "store_id",
            *_STAGED_AMOUNTS,
        )
    )


def _crm_sales(
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    start: date,
    end: date,
    web_orders: pl.DataFrame | None = None,
) -> pl.DataFrame:
    web_order = blank_to_null(pl.col("web_order_id"))
    fulfilled_online = web_order.is_not_null()
    if web_orders is not None:
        # Only a web order that exists is a web sale: a deal pointing at an order the warehouse
        # never had would otherwise vanish from every channel.
        fulfilled_online = fulfilled_online & web_order.is_in(web_orders["order_id"].implode())
    deals = (
        booked_deals(opportunities, dim_sales_rep, dim_customer)
        .filter(
            # Current state: a cancelled deal is no longer a sale (fact_booking_line keeps its history).
            ~pl.col("is_cancelled"),
            # A deal fulfilled as a web order is already a sale in the web channel.
            ~fulfilled_online,
            pl.col("close_date").is_between(start, end),
        )
        .select("opportunity_id", "account_id", "customer_key", "sales_rep_key", "region", "close_date")
    )
    gross = pl.col("quantity") * pl.col("unit_price")
    return (
        live(opportunity_lines)
        .join(deals, on="opportunity_id", how="inner", validate="m:1", maintain_order="left")
        .select(
            pl.concat_str([pl.lit("crm"), "line_item_id"], separator=":").alias("sales_line_id"),
            pl.lit("crm").alias("channel"),
            pl.col("close_date").alias("date"),
            "region",
            pl.col("opportunity_id").alias("order_id"),
            # Line items carry no line number; sales_line_id is their unique reference.
            pl.lit(None, dtype=pl.Int64).alias("line_number"),
            "customer_key",
            pl.col("account_id").alias("customer_ref"),
            "sku",
            "sales_rep_key",
            pl.lit(None, dtype=pl.String).alias("store_id"),
            "quantity",
            pl.col("unit_price").alias("unit_price_local"),
            # Salesforce's TotalPrice is quantity × unit price after the line discount, so the
            # difference to quantity × unit price is the discount.
            gross.alias("gross_amount_local"),
            (gross - pl.col("total_price")).alias("discount_amount_local"),
            pl.col("total_price").alias("net_amount_local"),
            "currency",
            "fx_rate",
            "fx_rate_date",
            pl.col("total_price_usd").alias("net_amount_usd"),
        )
    )


_PRODUCT_DERIVED_COLUMNS = frozenset(
    {"product_key", "unit_cost_usd", "cost_usd", "gross_margin_usd", "is_unmapped_product"}
)


def build_fact_sales(
    web_lines: pl.DataFrame,
    pos_lines: pl.DataFrame,
    opportunities: pl.DataFrame,
    opportunity_lines: pl.DataFrame,
    dim_sales_rep: pl.DataFrame,
    dim_customer: pl.DataFrame,
    dim_product: pl.DataFrame,
    start: date,
    end: date,
    regions: list[str],
    web_orders: pl.DataFrame | None = None,
    product_costs: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Sales at order-line grain across the web, POS and CRM channels, for dates [start, end] × regions.

    - web: lines of completed orders (cancelled orders are not sales).
    - pos: every staged line; the customer is the web customer with the receipt's email
      (case/whitespace-insensitive), else the "Unidentified in-store customer" member.
    - crm: line items of won, live deals closed in [start, end], dated on the close date and
      placed in the region of the owner's assignment on that date (the ``dim_sales_rep`` version
      valid then: the rep dimension is type 2). Deals with a ``web_order_id`` are left out:
      they were fulfilled as a web order, which the web channel already counts — this is what
      keeps a B2B deal from being counted twice. With ``web_orders`` (``order_id`` of every
      staged web order, any date) only deals whose web order exists are left out; a deal pointing
      at an order that was never placed stays a CRM sale instead of vanishing. Like every
      CRM-derived row this is the deal's
      current state: a deal cancelled later leaves the partition when it is rebuilt, while
      ``fact_booking_line`` keeps the booking and the cancellation.

    Every amount keeps its original value, currency, FX rate and rate date next to the USD value.
    Cost is quantity × the catalogue standard cost valid on the sale's date (``product_costs``:
    ``dim_product_cost``, type 2); a product with no catalogue cost (unmapped or
    CRM-only SKU, ``is_unmapped_product``) costs 0 so that cost and margin stay additive — its
    margin is therefore overstated, which the flag makes visible. ``unit_cost_usd`` stays null
    for those lines, because the unit cost is unknown rather than zero.
    """
    channels = [
        _web_sales(web_lines, dim_customer),
        _pos_sales(pos_lines, dim_customer),
        _crm_sales(opportunities, opportunity_lines, dim_sales_rep, dim_customer, start, end, web_orders),
    ]
    columns = [c for c in FACT_SALES_SCHEMA if c not in _PRODUCT_DERIVED_COLUMNS]
    lines = pl.concat(
        [frame.select([pl.col(c).cast(FACT_SALES_SCHEMA[c]) for c in columns]) for frame in channels]
    ).filter(
        # The caller writes exactly these partitions; anything else would land in the wrong one.
        pl.col("date").is_between(start, end),
        pl.col("region").is_in(regions),
    )
    cost = (pl.col("quantity") * pl.col("_unit_cost")).fill_null(0.0)
    fact = _attach_product(lines, dim_product, product_costs).with_columns(
        pl.col("_unit_cost").alias("unit_cost_usd"),
        cost.alias("cost_usd"),
        (pl.col("net_amount_usd") - cost).alias("gross_margin_usd"),
    )
    return conform(fact, FACT_SALES_SCHEMA).sort("date", "region", "sales_line_id")


def staged_lines_in_month_spans(
    web_lines: pl.LazyFrame, pos_lines: pl.LazyFrame, start: date, end: date
) -> Iterator[tuple[date, date, pl.DataFrame, pl.DataFrame]]:
    """(first day, last day, web lines, POS lines) for spans of whole months tiling [start, end], in order.

    A fact row depends on its own line and its own date only, so ``build_fact_sales`` of each span
    put together is the range's fact. A span holds up to ``frames.ROWS_PER_BLOCK`` staged lines:
    three years of a small history are one pass, while a region-year at 10 M order lines (~2.5 M
    lines) is read, built and held a month or two at a time, not whole. The lines are read with the
    streaming engine, which keeps the span's rows of a year-long file, not the file. Every month of
    the range is in a span, with lines or without: a CRM deal may close in a month without any.
    """
    spans = [(start, end)]  # a daily run's range lies in one month: no need to count
    if month_start(start) != month_start(end):
        spans = spans_of_months([web_lines, pos_lines], start, end)
    for first, last in spans:
        in_span = pl.col("date").is_between(first, last)
        yield (
            first,
            last,
            web_lines.filter(in_span).collect(engine="streaming"),
            pos_lines.filter(in_span).collect(engine="streaming"),
        )
