"""The Salesforce CRM objects the platform reads: fields, types and the ones it cannot do without.

Every object also carries ``SystemModstamp`` (the incremental extract's watermark) and ``IsDeleted``
(tombstones): ``_sf`` adds them, so each definition lists only the object's own fields.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.sources.contract import UTC_DATETIME, SourceTable, by_name


def _sf(
    name: str,
    columns: dict[str, pl.DataType],
    description: str,
    required: tuple[str, ...],
) -> SourceTable:
    return SourceTable(
        system="salesforce",
        name=name,
        columns={**columns, "SystemModstamp": UTC_DATETIME, "IsDeleted": pl.Boolean},
        primary_key=("Id",),
        description=description,
        required=(*required, "SystemModstamp"),
        modified_column="SystemModstamp",
    )


# Stored as the REST query/queryAll API returns them: {"totalSize", "done", "records": [...]}, each
# record with an "attributes" key; datetimes as "2024-05-01T10:00:00.000+0000", dates "2024-05-01".
SALESFORCE_OBJECTS: dict[str, SourceTable] = by_name(
    _sf(
        "User",
        {
            "Id": pl.String,
            "Name": pl.String,
            "Email": pl.String,
            "IsActive": pl.Boolean,
            "Title": pl.String,
            "ManagerId": pl.String,
            "Region__c": pl.String,
            "Territory__c": pl.String,
            "CreatedDate": UTC_DATETIME,
        },
        "Sales reps and managers, with region, territory and manager.",
        ("Id", "Name", "Region__c"),
    ),
    _sf(
        "Account",
        {
            "Id": pl.String,
            "Name": pl.String,
            "Type": pl.String,
            "Industry": pl.String,
            "BillingCountry": pl.String,
            "BillingCity": pl.String,
            "Phone": pl.String,
            "OwnerId": pl.String,
            "Region__c": pl.String,
            "CreatedDate": UTC_DATETIME,
        },
        "Customer companies and households managed by sales.",
        ("Id", "Name"),
    ),
    _sf(
        "Contact",
        {
            "Id": pl.String,
            "AccountId": pl.String,
            "FirstName": pl.String,
            "LastName": pl.String,
            "Email": pl.String,
            "Phone": pl.String,
            "MailingCountry": pl.String,
            "OwnerId": pl.String,
            "CreatedDate": UTC_DATETIME,
        },
        "People at accounts; the CRM side of customer identity.",
        ("Id", "AccountId"),
    ),
    _sf(
        "Product2",
        {
            "Id": pl.String,
            "Name": pl.String,
            "ProductCode": pl.String,
            "Family": pl.String,
            "IsActive": pl.Boolean,
        },
        "CRM product catalogue; ProductCode is the conformed SKU.",
        ("Id", "ProductCode"),
    ),
    _sf(
        "Campaign",
        {
            "Id": pl.String,
            "Name": pl.String,
            "Type": pl.String,
            "Status": pl.String,
            "StartDate": pl.Date,
            "EndDate": pl.Date,
            "BudgetedCost": pl.Float64,
            "ActualCost": pl.Float64,
        },
        "Marketing campaigns that influence opportunities.",
        ("Id", "Name"),
    ),
    _sf(
        "Opportunity",
        {
            "Id": pl.String,
            "Name": pl.String,
            "AccountId": pl.String,
            "OwnerId": pl.String,
            "CampaignId": pl.String,
            "StageName": pl.String,
            "Amount": pl.Float64,
            "CurrencyIsoCode": pl.String,
            "Probability": pl.Float64,
            "CloseDate": pl.Date,
            "IsClosed": pl.Boolean,
            "IsWon": pl.Boolean,
            "Type": pl.String,
            "LeadSource": pl.String,
            # Set when the deal was fulfilled as an e-commerce order: that order line is
            # already in the web channel, so the deal must not be counted again.
            "Web_Order_Id__c": pl.String,
            # Custom field set when a booked (Closed Won) deal is cancelled: the version moving it
            # to the "Cancelled" stage carries the cancellation date (commission clawbacks).
            "Cancelled_Date__c": pl.Date,
            "CreatedDate": UTC_DATETIME,
        },
        "Deals from prospecting to closed won/lost (and cancelled after being won); stage names "
        "follow each region's sales process.",
        ("Id", "OwnerId", "StageName", "CloseDate", "CurrencyIsoCode"),
    ),
    _sf(
        "OpportunityHistory",
        {
            "Id": pl.String,
            "OpportunityId": pl.String,
            "StageName": pl.String,
            "Amount": pl.Float64,
            "CloseDate": pl.Date,
            "Probability": pl.Float64,
            # When the change was made: the row is written once, with the change.
            "CreatedDate": UTC_DATETIME,
        },
        "Salesforce's own record of every change to an opportunity's stage, amount, close date or "
        "probability (one row per change, never edited; deleted with its opportunity). The only place "
        "a real org keeps earlier stages: query/queryAll return each Opportunity's current version only.",
        ("Id", "OpportunityId", "StageName", "CreatedDate"),
    ),
    _sf(
        "OpportunityLineItem",
        {
            "Id": pl.String,
            "OpportunityId": pl.String,
            "Product2Id": pl.String,
            "ProductCode": pl.String,
            "Quantity": pl.Float64,
            "UnitPrice": pl.Float64,
            "TotalPrice": pl.Float64,
            "CurrencyIsoCode": pl.String,
        },
        "Products on a deal.",
        ("Id", "OpportunityId", "ProductCode", "Quantity", "UnitPrice"),
    ),
    _sf(
        "Quota__c",
        {
            "Id": pl.String,
            "User__c": pl.String,
            "Month__c": pl.Date,
            "Amount__c": pl.Float64,
            "CurrencyIsoCode": pl.String,
        },
        "Monthly sales quota per rep (custom object).",
        ("Id", "User__c", "Month__c", "Amount__c"),
    ),
    _sf(
        "AccountTeamMember",
        {
            "Id": pl.String,
            "AccountId": pl.String,
            "UserId": pl.String,
            "TeamMemberRole": pl.String,
            # Custom fields: the member's share of the account's sales credit (percent) and the
            # dates the membership is effective (Effective_To__c inclusive; null while open).
            "Credit_Split__c": pl.Float64,
            "Effective_From__c": pl.Date,
            "Effective_To__c": pl.Date,
            "CreatedDate": UTC_DATETIME,
        },
        "Sales team members of each account with their role and credit split; splits sum to 100 "
        "per account for every period.",
        ("Id", "AccountId", "UserId", "Credit_Split__c", "Effective_From__c"),
    ),
)
