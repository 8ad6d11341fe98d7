"""Finishing and writing the CRM: deal line items and amounts, Opportunity versions, deletions, history.

Runs after the web shop, because deals fulfilled online take their line items from the web
order that fulfilled them. Writes every Salesforce object under ``crm/`` and records their row
counts, the deleted deals and the CRM history in the manifest.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from sales360_assets.sample_sources.crm import Crm
from sales360_assets.sample_sources.defects import pick_deleted_opportunities
from sales360_assets.sample_sources.opportunity_history import opportunity_history_rows
from sales360_assets.sample_sources.parameters import (
    CANCELLED,
    CRM_ONLY_PRODUCTS,
    STAGE_PROBABILITY,
    STAGES,
    WON,
    stage_names,
)
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.sample_sources.reference_data import LEAD_SOURCES, OPP_SUFFIXES
from sales360_assets.sample_sources.salesforce_pages import write_sf_object
from sales360_assets.sample_sources.vectors import SEC, component_rng, dates, round_money, sf_ids, take, timestamps
from sales360_assets.sources.contract_salesforce import SALESFORCE_OBJECTS


def finish_crm(plan: Plan, crm: Crm, linked: pl.DataFrame, out: Path, manifest: dict[str, Any]) -> None:
    """Line items, amounts and deletions; then write every object."""
    rng = component_rng(plan.seed, "crm-finish")
    n = crm.opp.height
    linked_opps = linked["opp"].unique().to_numpy() if linked.height else np.empty(0, np.int64)
    items = _line_items(plan, rng, crm, linked, linked_opps)
    static = _deal_fields(plan, crm, linked, items)
    records = _opportunity_versions(plan, crm, static)

    # Deletions: a final version with IsDeleted = true, never for web-fulfilled or cancelled deals.
    v = crm.versions
    last = records.group_by("opp", maintain_order=True).agg(pl.all().last())
    last_stamp = v.group_by("opp", maintain_order=True).agg(pl.col("stamp").last())["stamp"].to_numpy()
    cancelled = v.filter(pl.col("stage") == CANCELLED)["opp"].unique().to_numpy()
    eligible = (
        ~np.isin(np.arange(n), linked_opps) & ~np.isin(np.arange(n), cancelled) & (last_stamp < plan.end_us - 120 * SEC)
    )
    deleted, del_stamp = pick_deleted_opportunities(plan, rng, eligible, last_stamp)
    del_records = last[deleted.tolist()].with_columns(
        timestamps("SystemModstamp", del_stamp),
        pl.lit(True).alias("IsDeleted"),
        (pl.col("version") + 1).alias("version"),
    )
    rows = _write_opportunities(plan, out, records, del_records, static, crm.opp["region"].to_numpy())

    # Deleting a deal cascades to its line items (queryAll returns them with IsDeleted).
    items = items.join(
        static.select("opp", pl.col("Id").alias("OpportunityId")), on="opp", how="left", maintain_order="left"
    )
    del_items = (
        items.drop("SystemModstamp")
        .join(
            pl.DataFrame({"opp": deleted, "SystemModstamp": timestamps("SystemModstamp", del_stamp)}),
            on="opp",
            how="inner",
            maintain_order="left",
        )
        .with_columns(pl.lit(True).alias("IsDeleted"))
    )
    oli_table = SALESFORCE_OBJECTS["OpportunityLineItem"]
    items_out = pl.concat([items.select(*oli_table.columns), del_items.select(*oli_table.columns)])
    rows["OpportunityLineItem"] = write_sf_object(out, oli_table, items_out)
    for name, frame in crm.frames.items():
        table = SALESFORCE_OBJECTS[name]
        rows[name] = write_sf_object(out, table, frame.select(*table.columns))

    manifest["rows"].update(rows)
    manifest["defects"]["Opportunity"] = {"deleted": len(deleted)}
    manifest["defects"]["OpportunityLineItem"] = {"deleted": del_items.height}
    manifest["entities"]["Opportunity"] = n
    manifest["entities"]["crm_history"] = crm.history
    manifest["entities"]["Opportunity_web_fulfilled"] = len(np.unique(linked_opps))


def _line_items(
    plan: Plan, rng: np.random.Generator, crm: Crm, linked: pl.DataFrame, linked_opps: np.ndarray
) -> pl.DataFrame:
    """OpportunityLineItem rows (without OpportunityId): drawn for most deals, the web order's for the rest."""
    n = crm.opp.height
    region = crm.opp["region"].to_numpy()
    account_household = crm.frames["Account"]["household"].to_numpy()[crm.opp["account"].to_numpy()]
    # Line items for deals not fulfilled online: 1-4 active products, B2B quantities.
    free = np.setdiff1d(np.arange(n), linked_opps)
    k = np.minimum(rng.geometric(0.55, len(free)), 4)
    item_opp = np.repeat(free, k)
    active = np.flatnonzero(crm.frames["Product2"]["IsActive"].to_numpy())
    services = np.array([i for i, c in enumerate(crm.products.codes) if c in {c for c, _, _ in CRM_ONLY_PRODUCTS}])
    product = active[rng.integers(0, len(active), len(item_opp))]
    is_service = rng.random(len(item_opp)) < 0.08
    product[is_service] = services[rng.integers(0, len(services), int(is_service.sum()))]
    qty = np.clip(np.round(np.exp(rng.normal(2.0, 0.9, len(item_opp)))), 1, 200)
    qty = np.where(account_household[item_opp], rng.integers(1, 4, len(item_opp)), qty).astype(float)
    discount = rng.choice([0.0, 0.05, 0.10, 0.15, 0.20], len(item_opp))
    decimals = plan.decimals[region[item_opp]]
    unit = round_money(crm.products.price[region[item_opp], product] * (1 - discount), decimals)
    codes = pl.Series(crm.products.codes, dtype=pl.String)
    items = pl.DataFrame({"opp": item_opp, "ProductCode": codes.gather(product), "Quantity": qty, "UnitPrice": unit})
    if linked.height:
        items = pl.concat(
            [
                items,
                linked.select(
                    "opp",
                    pl.col("sku").alias("ProductCode"),
                    pl.col("quantity").cast(pl.Float64).alias("Quantity"),
                    pl.col("unit_price").alias("UnitPrice"),
                ),
            ]
        )
    items = items.sort("opp", maintain_order=True)
    item_region = region[items["opp"].to_numpy()]
    items = items.with_columns(
        sf_ids("Id", "00k", np.arange(1, items.height + 1)),
        pl.col("ProductCode").replace_strict(crm.products.ids, return_dtype=pl.String).alias("Product2Id"),
        pl.Series(
            "TotalPrice",
            round_money(items["Quantity"].to_numpy() * items["UnitPrice"].to_numpy(), plan.decimals[item_region]),
        ),
        take(plan.currencies, item_region, "CurrencyIsoCode"),
    )
    item_offset = rng.integers(60, 1800, items.height) * SEC
    # Deals booked before the window show up with it: their items, like master records, land in its first days.
    item_stamp = np.minimum(
        np.maximum(crm.opp["created"].to_numpy()[items["opp"].to_numpy()], plan.start_us) + item_offset,
        plan.end_us - SEC,
    )
    return items.with_columns(timestamps("SystemModstamp", item_stamp), pl.lit(False).alias("IsDeleted"))


def _deal_fields(plan: Plan, crm: Crm, linked: pl.DataFrame, items: pl.DataFrame) -> pl.DataFrame:
    """Per deal, the fields every version shares: Id, Name, account, amount, currency, type, lead source."""
    opp = crm.opp
    n = opp.height
    region = opp["region"].to_numpy()
    # Amount is the sum of the line items; the deal is named after its first item's family.
    amount = items.group_by("opp").agg(pl.col("TotalPrice").sum()).sort("opp")
    amount_arr = np.zeros(n)
    amount_arr[amount["opp"].to_numpy()] = amount["TotalPrice"].to_numpy()
    amount_arr = round_money(amount_arr, plan.decimals[region])
    first_family = items.group_by("opp", maintain_order=True).agg(pl.col("ProductCode").first())
    family_of = dict(zip(crm.products.codes, crm.products.family, strict=True))
    family = np.full(n, "Products", dtype=object)
    family[first_family["opp"].to_numpy()] = [family_of[c] for c in first_family["ProductCode"].to_list()]

    account = crm.frames["Account"]
    web_order = np.full(n, None, dtype=object)
    lead = opp["lead_source"].to_numpy().copy()
    if linked.height:
        per_opp = linked.group_by("opp", maintain_order=True).agg(pl.col("order_id").first())
        web_order[per_opp["opp"].to_numpy()] = per_opp["order_id"].to_list()
        lead[per_opp["opp"].to_numpy()] = 0  # "Web"
    return pl.DataFrame(
        {
            "opp": np.arange(n),
            "Id": sf_ids("Id", "006", np.arange(1, n + 1)),
            "Name": pl.select(
                pl.concat_str(
                    account["Name"].gather(opp["account"].to_numpy()),
                    pl.lit(" - "),
                    pl.Series(family.astype(str)),
                    pl.lit(" "),
                    take(OPP_SUFFIXES, opp["suffix"].to_numpy()),
                )
            ).to_series(),
            "AccountId": account["Id"].gather(opp["account"].to_numpy()),
            "OwnerId": crm.frames["User"]["Id"].gather(opp["owner"].to_numpy()),
            "CampaignId": take(crm.frames["Campaign"]["Id"], opp["campaign"].to_numpy()),
            "Amount": amount_arr,
            "CurrencyIsoCode": take(plan.currencies, region),
            "Type": take(("New Business", "Existing Business"), opp["type"].to_numpy()),
            "LeadSource": take(LEAD_SOURCES, lead),
            "web_order": pl.Series(web_order.tolist(), dtype=pl.String),
            "CreatedDate": timestamps("CreatedDate", opp["created"].to_numpy()),
        }
    )


def _opportunity_versions(plan: Plan, crm: Crm, static: pl.DataFrame) -> pl.DataFrame:
    """One Opportunity record per version: the stage in the region's own name, owner, close date."""
    v = crm.versions
    region = crm.opp["region"].to_numpy()
    stage = v["stage"].to_numpy()
    n_stages = len(STAGES) + 1
    names = [name for r in plan.regions for name in stage_names(r)]
    records = v.select("opp", "version").with_columns(
        take(names, region[v["opp"].to_numpy()] * n_stages + stage, "StageName"),
        pl.Series("Probability", np.array((*STAGE_PROBABILITY, 0.0))[stage]),
        dates("CloseDate", v["close_day"].to_numpy()),
        pl.Series("IsClosed", stage >= WON),
        pl.Series("IsWon", stage == WON),
        v["cancel_day"].cast(pl.Int32).cast(pl.Date).alias("Cancelled_Date__c"),
        timestamps("SystemModstamp", v["stamp"].to_numpy()),
        pl.lit(False).alias("IsDeleted"),
        crm.frames["User"]["Id"].gather(v["owner"].to_numpy()).alias("OwnerId"),
    )
    return records.join(static.drop("OwnerId"), on="opp", how="left", maintain_order="left").with_columns(
        Web_Order_Id__c=pl.when(pl.col("IsWon")).then("web_order")
    )


def _write_opportunities(
    plan: Plan, out: Path, records: pl.DataFrame, del_records: pl.DataFrame, static: pl.DataFrame, region: np.ndarray
) -> dict[str, int]:
    """Write OpportunityHistory and Opportunity (live versions, then deletions); their row counts."""
    # Salesforce's own history of every stage/amount/close-date/probability change: the only place
    # a real org keeps earlier stages (queries return the current version of each record).
    won_names = [stage_names(r)[WON] for r in plan.regions]
    history = opportunity_history_rows(
        records,
        {stage_names(r)[CANCELLED] for r in plan.regions},
        static.select("Id", take(won_names, region, "won_stage_name")),
        del_records.select("Id", "SystemModstamp"),
    )
    history = history.with_columns(sf_ids("Id", "008", history["history_number"].to_numpy()))
    history_table = SALESFORCE_OBJECTS["OpportunityHistory"]
    history_rows = write_sf_object(out, history_table, history.select(*history_table.columns))

    records = pl.concat([records, del_records.select(records.columns)]).with_columns(
        _page_day=pl.col("SystemModstamp").dt.date()
    )
    # No retry duplicates here: a real query never returns a record twice (the change log holds
    # each version once; the client answers with the latest).
    opp_table = SALESFORCE_OBJECTS["Opportunity"]
    return {
        "Opportunity": write_sf_object(out, opp_table, records.select(*opp_table.columns, "_page_day")),
        "OpportunityHistory": history_rows,
    }
