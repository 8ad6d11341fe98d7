"""Staging transforms for Salesforce objects. Pure Polars.

Raw CRM tables keep every record version the platform's extracts have seen (append-only
snapshots). Staging keeps the latest version per Id, renames API names to snake_case (as
Fivetran's dbt_salesforce staging models do) and carries ``is_deleted``: a tombstone is the
latest version of a deleted record, and the core layer leaves deleted records out.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import polars as pl

from sales360_assets.staging.quality import (
    Rule,
    StagingResult,
    attach_fx,
    collapse_duplicates,
    finer_than_currency_rule,
    missing,
    missing_fx,
    split_rejects,
    unknown_currency,
    unknown_region,
)

_COMMON = {"SystemModstamp": "system_modstamp", "IsDeleted": "is_deleted"}


@dataclass(frozen=True)
class ObjectStaging:
    object_name: str
    raw_table: str
    rename: dict[str, str]
    rules: list[Rule] = field(default_factory=list)


def _live(rule: Rule) -> Rule:
    """Rules judge live records; a tombstone only needs its Id to be applied."""
    condition, reason = rule
    return condition & ~pl.col("IsDeleted").fill_null(False), reason


SALESFORCE_STAGING: dict[str, ObjectStaging] = {
    o.object_name: o
    for o in [
        ObjectStaging(
            "User",
            "raw_salesforce_users",
            {
                "Id": "user_id",
                "Name": "name",
                "Email": "email",
                "IsActive": "is_active",
                "Title": "title",
                "ManagerId": "manager_id",
                "Region__c": "region",
                "Territory__c": "territory",
                "CreatedDate": "created_at",
            },
            # Executives and global roles have no region; a region that is set must be known.
            [(pl.col("Region__c").is_not_null() & unknown_region("Region__c")[0], unknown_region("Region__c")[1])],
        ),
        ObjectStaging(
            "Account",
            "raw_salesforce_accounts",
            {
                "Id": "account_id",
                "Name": "account_name",
                "Type": "account_type",
                "Industry": "industry",
                "BillingCountry": "billing_country",
                "BillingCity": "billing_city",
                "Phone": "phone",
                "OwnerId": "owner_id",
                "Region__c": "region",
                "CreatedDate": "created_at",
            },
            [missing("Name", "account name")],
        ),
        ObjectStaging(
            "Contact",
            "raw_salesforce_contacts",
            {
                "Id": "contact_id",
                "AccountId": "account_id",
                "FirstName": "first_name",
                "LastName": "last_name",
                "Email": "email",
                "Phone": "phone",
                "MailingCountry": "mailing_country",
                "OwnerId": "owner_id",
                "CreatedDate": "created_at",
            },
        ),
        ObjectStaging(
            "Product2",
            "raw_salesforce_products",
            {
                "Id": "product_id",
                "Name": "product_name",
                "ProductCode": "sku",
                "Family": "family",
                "IsActive": "is_active",
            },
            [missing("ProductCode", "product code")],
        ),
        ObjectStaging(
            "Campaign",
            "raw_salesforce_campaigns",
            {
                "Id": "campaign_id",
                "Name": "campaign_name",
                "Type": "campaign_type",
                "Status": "status",
                "StartDate": "start_date",
                "EndDate": "end_date",
                "BudgetedCost": "budgeted_cost",
                "ActualCost": "actual_cost",
            },
        ),
        ObjectStaging(
            "Opportunity",
            "raw_salesforce_opportunities",
            {
                "Id": "opportunity_id",
                "Name": "opportunity_name",
                "AccountId": "account_id",
                "OwnerId": "owner_id",
                "CampaignId": "campaign_id",
                "StageName": "stage_name",
                "Amount": "amount",
                "CurrencyIsoCode": "currency",
                "Probability": "probability",
                "CloseDate": "close_date",
                "IsClosed": "is_closed",
                "IsWon": "is_won",
                "Type": "opportunity_type",
                "LeadSource": "lead_source",
                "Web_Order_Id__c": "web_order_id",
                "Cancelled_Date__c": "cancelled_date",
                "CreatedDate": "created_at",
            },
            [
                missing("OwnerId", "owner"),
                missing("StageName", "stage"),
                missing("CloseDate", "close date"),
                unknown_currency("CurrencyIsoCode"),
                (pl.col("Amount") < 0, "negative amount"),
                finer_than_currency_rule("Amount", "CurrencyIsoCode", "amount"),
            ],
        ),
        ObjectStaging(
            "OpportunityLineItem",
            "raw_salesforce_opportunity_line_items",
            {
                "Id": "line_item_id",
                "OpportunityId": "opportunity_id",
                "Product2Id": "product_id",
                "ProductCode": "sku",
                "Quantity": "quantity",
                "UnitPrice": "unit_price",
                "TotalPrice": "total_price",
                "CurrencyIsoCode": "currency",
            },
            [
                missing("OpportunityId", "opportunity"),
                missing("ProductCode", "product code"),
                (
                    pl.col("Quantity").is_null() | (pl.col("Quantity") <= 0),
                    "quantity missing or not positive",
                ),
                (pl.col("UnitPrice") < 0, "negative unit price"),
                finer_than_currency_rule("UnitPrice", "CurrencyIsoCode", "unit price"),
                finer_than_currency_rule("TotalPrice", "CurrencyIsoCode", "total price"),
            ],
        ),
        ObjectStaging(
            "OpportunityHistory",
            "raw_salesforce_opportunity_history",
            {
                "Id": "opportunity_history_id",
                "OpportunityId": "opportunity_id",
                "StageName": "stage_name",
                "Amount": "amount",
                "CloseDate": "close_date",
                "Probability": "probability",
                "CreatedDate": "changed_at",
            },
            [
                missing("OpportunityId", "opportunity"),
                missing("StageName", "stage"),
                missing("CreatedDate", "change time"),
            ],
        ),
        ObjectStaging(
            "Quota__c",
            "raw_salesforce_quotas",
            {
                "Id": "quota_id",
                "User__c": "user_id",
                "Month__c": "month",
                "Amount__c": "quota_amount",
                "CurrencyIsoCode": "currency",
            },
            [missing("User__c", "user"), missing("Month__c", "month"), unknown_currency("CurrencyIsoCode")],
        ),
        ObjectStaging(
            "AccountTeamMember",
            "raw_salesforce_account_team_members",
            {
                "Id": "account_team_member_id",
                "AccountId": "account_id",
                "UserId": "user_id",
                "TeamMemberRole": "team_member_role",
                "Credit_Split__c": "credit_split_pct",
                "Effective_From__c": "effective_from",
                "Effective_To__c": "effective_to",
                "CreatedDate": "created_at",
            },
            [
                missing("AccountId", "account"),
                missing("UserId", "user"),
                missing("Effective_From__c", "effective from date"),
                (
                    pl.col("Credit_Split__c").is_null() | ~pl.col("Credit_Split__c").is_between(0, 100),
                    pl.format("credit split '{}' is not a percentage (0-100)", pl.col("Credit_Split__c")),
                ),
                (pl.col("Effective_To__c") < pl.col("Effective_From__c"), "effective to before effective from"),
            ],
        ),
    ]
}


def _stage(
    frame: pl.DataFrame,
    spec: ObjectStaging,
    extra_rules: list[Rule] | None = None,
    record_columns: list[str] | None = None,
    keep_versions: bool = False,
) -> StagingResult:
    rules = [missing("Id"), *[_live(r) for r in [*spec.rules, *(extra_rules or [])]]]
    valid, rejected = split_rejects(frame, rules, spec.raw_table, ["Id", "SystemModstamp"], record_columns)
    # Every older version and every retried copy of a record collapses into its latest version; a
    # history keeps each version once (only retried copies of the same version collapse).
    keys = ["Id", "SystemModstamp"] if keep_versions else ["Id"]
    staged, dups = collapse_duplicates(valid, keys, latest_by="SystemModstamp")
    if keep_versions:
        staged = staged.sort("Id", "SystemModstamp", maintain_order=True)
    rename = {**spec.rename, **_COMMON}
    extra = [c for c in staged.columns if c in ("fx_rate", "fx_rate_date", "amount_usd", "total_price_usd")]
    staged = staged.select([pl.col(k).alias(v) for k, v in rename.items()] + extra)
    return StagingResult(staged, rejected, frame.height, dups)


def stage_salesforce_object(raw: pl.DataFrame, object_name: str) -> StagingResult:
    """Generic staging for objects without amounts to convert."""
    return _stage(raw, SALESFORCE_STAGING[object_name])


def stage_salesforce_history(raw: pl.DataFrame, object_name: str) -> StagingResult:
    """Every valid record version (oldest first per Id), for history: slowly changing dimensions.

    Same rules as the object's latest-version staging, so its rejects are exactly the rows that
    staging already dead-letters; only retried copies of one version count as duplicates.
    """
    return _stage(raw, SALESFORCE_STAGING[object_name], keep_versions=True)


def stage_opportunities(raw: pl.DataFrame, fx_rates: pl.DataFrame) -> StagingResult:
    """Opportunities with ``amount_usd`` at the close date's rate.

    Open deals usually close in the future, for which no rate exists yet: an open deal whose close
    date is after the latest published rate uses that rate, which is what a pipeline report would
    show today. Every other deal — closed ones above all, whose amount is booked and paid on —
    converts at its close date's rate with the staleness tolerance web lines have
    (``FX_MAX_STALENESS_DAYS``), else it is dead-lettered with the reason, like a web line.
    Salesforce always sets ``IsClosed``; a missing one reads as open.
    """
    latest_rate = fx_rates["rate_date"].max() if fx_rates.height else None
    latest = pl.lit(latest_rate, dtype=pl.Date)
    is_open = ~pl.col("IsClosed").fill_null(False)
    fx_date = pl.when(is_open & (pl.col("CloseDate") > latest)).then(latest).otherwise(pl.col("CloseDate"))
    with_fx = attach_fx(
        raw.with_columns(fx_date.alias("_fx_date")), fx_rates, on_date="_fx_date", currency="CurrencyIsoCode"
    )
    with_fx = with_fx.with_columns((pl.col("Amount") * pl.col("fx_rate")).alias("amount_usd"))
    result = _stage(
        with_fx.drop("_fx_date"),
        SALESFORCE_STAGING["Opportunity"],
        [
            (
                pl.col("fx_rate").is_null() & pl.col("CloseDate").is_not_null(),
                missing_fx("CloseDate", "CurrencyIsoCode")[1],
            )
        ],
        raw.columns,
    )
    return result


def stage_opportunity_line_items(raw: pl.DataFrame, opportunities: pl.DataFrame) -> StagingResult:
    """Line items converted at their opportunity's rate, so they sum to the deal in USD too."""
    header = opportunities.select(
        pl.col("opportunity_id").alias("OpportunityId"),
        "fx_rate",
        "fx_rate_date",
        pl.lit(True).alias("_opportunity_found"),
    )
    joined = raw.join(header, on="OpportunityId", how="left", maintain_order="left").with_columns(
        (pl.col("TotalPrice") * pl.col("fx_rate")).alias("total_price_usd")
    )
    result = _stage(
        joined,
        SALESFORCE_STAGING["OpportunityLineItem"],
        [
            (
                pl.col("_opportunity_found").is_null() & pl.col("OpportunityId").is_not_null(),
                pl.format("opportunity {} is not in stg_salesforce_opportunities", pl.col("OpportunityId")),
            )
        ],
        raw.columns,
    )
    return result
