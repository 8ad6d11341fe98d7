"""What each raw column holds, and which ones hold personal data: the raw tables' catalogue docs.

Raw tables keep the source's own column names (Salesforce API names, warehouse and POS columns)
plus the platform's ingestion columns, so the descriptions say what the source means by each.
Staging derives most of its column docs from these (``staging/columns.py``). Declarative by
design: one entry per source column.
"""

from __future__ import annotations

PII = "pii"
CONFIDENTIAL = "confidential"

INGESTION = {
    "_source": "Where the row came from: salesforce:<object>, warehouse:<table> or landing:<path>.",
    "_ingested_at": "When the platform ingested the row (UTC).",
    "_run_id": "The Dagster run that ingested the row.",
}

SALESFORCE_COMMON = {
    "Id": "Salesforce record Id.",
    "SystemModstamp": "When Salesforce last modified the record (UTC): the incremental-extract watermark.",
    "IsDeleted": "True for a deleted record (a tombstone returned by queryAll).",
    "CreatedDate": "When the record was created in Salesforce (UTC).",
    "OwnerId": "Id of the owning Salesforce User (the rep).",
    "CurrencyIsoCode": "ISO currency code of the record's amounts.",
}

SALESFORCE_FIELDS: dict[str, dict[str, str]] = {
    "User": {
        "Name": "The user's full name.",
        "Email": "The user's email address.",
        "IsActive": "True while the user can log in.",
        "Title": "Job title.",
        "ManagerId": "Id of the user's manager (a User).",
        "Region__c": "Sales region code the user sells in (custom field).",
        "Territory__c": "Sales territory the user covers (custom field).",
    },
    "Account": {
        "Name": "Account name: a company, or a person's name for a household account.",
        "Type": "Account type (Salesforce picklist).",
        "Industry": "The account's industry.",
        "BillingCountry": "Billing address country.",
        "BillingCity": "Billing address city.",
        "Phone": "The account's phone number.",
        "Region__c": "Sales region code of the account (custom field).",
    },
    "Contact": {
        "AccountId": "Id of the contact's Account.",
        "FirstName": "The contact's first name.",
        "LastName": "The contact's last name.",
        "Email": "The contact's email address.",
        "Phone": "The contact's phone number.",
        "MailingCountry": "Mailing address country.",
    },
    "Product2": {
        "Name": "Product name in the CRM catalogue.",
        "ProductCode": "Product code: the conformed SKU.",
        "Family": "Product family (commission base rates are set per family).",
        "IsActive": "True while the product can be sold.",
    },
    "Campaign": {
        "Name": "Campaign name.",
        "Type": "Campaign type (Salesforce picklist).",
        "Status": "Campaign status (Salesforce picklist).",
        "StartDate": "Campaign start date.",
        "EndDate": "Campaign end date.",
        "BudgetedCost": "Budgeted cost in the org's corporate currency (USD).",
        "ActualCost": "Actual cost in the org's corporate currency (USD); null while unknown.",
    },
    "Opportunity": {
        "Name": "Deal name.",
        "AccountId": "Id of the deal's Account.",
        "CampaignId": "Id of the Campaign that influenced the deal, if any.",
        "StageName": "Sales stage in the region's own sales process.",
        "Amount": "Deal amount in CurrencyIsoCode.",
        "Probability": "Win probability (percent) of the stage.",
        "CloseDate": "Expected close date while open; the actual one once closed.",
        "IsClosed": "True once the deal is closed (won, lost or cancelled).",
        "IsWon": "True for a won deal.",
        "Type": "Opportunity type (Salesforce picklist).",
        "LeadSource": "Where the lead came from.",
        "Web_Order_Id__c": "The e-commerce order that fulfilled the deal, if any (that sale is already in the "
        "web channel).",
        "Cancelled_Date__c": "When a won deal was cancelled (custom field; drives commission clawbacks).",
    },
    "OpportunityHistory": {
        "Id": "Salesforce OpportunityHistory Id: one change to an opportunity.",
        "OpportunityId": "Id of the changed Opportunity.",
        "StageName": "The stage after the change.",
        "Amount": "The amount after the change.",
        "CloseDate": "The close date after the change.",
        "Probability": "The probability (percent) after the change.",
        "CreatedDate": "When the change was made (UTC).",
    },
    "OpportunityLineItem": {
        "OpportunityId": "Id of the line's Opportunity.",
        "Product2Id": "Id of the line's Product2.",
        "ProductCode": "The product's code: the conformed SKU.",
        "Quantity": "Units on the line.",
        "UnitPrice": "Sales price per unit in CurrencyIsoCode.",
        "TotalPrice": "Line total in CurrencyIsoCode, as Salesforce computes it.",
    },
    "Quota__c": {
        "User__c": "Id of the rep the quota is for (a User).",
        "Month__c": "The quota's month (any day in it).",
        "Amount__c": "Quota amount in CurrencyIsoCode (the rep's region currency).",
    },
    "AccountTeamMember": {
        "AccountId": "Id of the Account.",
        "UserId": "Id of the team member (a User).",
        "TeamMemberRole": "The member's role on the account team.",
        "Credit_Split__c": "The member's share of the account's sales credit, in percent (custom field).",
        "Effective_From__c": "First day of the membership (custom field).",
        "Effective_To__c": "Last day of the membership, inclusive; null while open (custom field).",
    },
}

WAREHOUSE_COLUMNS: dict[str, dict[str, str]] = {
    "orders": {
        "order_id": "E-commerce order id.",
        "customer_id": "The ordering e-commerce customer.",
        "order_ts": "When the order was placed (UTC).",
        "order_date": "The order's business date.",
        "region": "Sales region code of the order.",
        "currency": "ISO currency code of the order's amounts.",
        "status": "completed or cancelled.",
        "_loaded_at": "When the warehouse loaded the row (UTC); a retried load repeats the order.",
        "date": "Partition date: the order_date.",
    },
    "order_lines": {
        "order_id": "The line's e-commerce order.",
        "line_number": "Line number within the order.",
        "sku": "The SKU ordered.",
        "quantity": "Units ordered.",
        "unit_price": "Price per unit in the order's currency.",
        "discount_amount": "Discount on the line in the order's currency.",
        "order_date": "The order's business date.",
        "region": "Sales region code of the order.",
        "_loaded_at": "When the warehouse loaded the row (UTC); a retried load repeats the line.",
        "date": "Partition date: the order_date.",
    },
    "customers": {
        "customer_id": "E-commerce customer id.",
        "first_name": "The customer's first name.",
        "last_name": "The customer's last name.",
        "email": "The customer's email address.",
        "phone": "The customer's phone number.",
        "country": "The customer's country.",
        "city": "The customer's city.",
        "segment": "Customer segment: Consumer, Small Business or Corporate.",
        "created_at": "When the customer account was created (UTC).",
        "updated_at": "When the customer record last changed (UTC).",
    },
    "products": {
        "sku": "Stock keeping unit: the product's conformed key.",
        "product_name": "Product name.",
        "category": "Product category.",
        "subcategory": "Product subcategory.",
        "brand": "Brand.",
        "list_price_usd": "List price in USD.",
        "standard_cost_usd": "Standard unit cost in USD.",
        "updated_at": "When the catalogue row last changed (UTC).",
        "cost_valid_from": "Date this standard cost took effect; null: the cost holds for every sale.",
    },
    "fx_rates": {
        "rate_date": "The business day the rate was published for.",
        "currency": "ISO currency code.",
        "usd_per_unit": "USD per unit of the currency.",
    },
}

POS_STORES = {
    "store_id": "Store id (the POS file name).",
    "store_name": "Store name.",
    "region": "Sales region code the store reports in.",
    "country": "The store's country.",
    "city": "The store's city.",
    "currency": "ISO currency code the store sells in.",
    "opened_on": "Opening date, as delivered (text).",
    "timezone": "IANA time zone of the store; empty: derived from the country.",
}

POS_TRANSACTIONS = {
    "transaction_id": "Till transaction id, as delivered (text).",
    "line_no": "Line number within the transaction, as delivered (text).",
    "store_id": "Store id, as delivered (text).",
    "transaction_ts": "Transaction time, ISO-8601 with UTC offset, as delivered (text).",
    "sku": "The SKU sold, as delivered (text).",
    "quantity": "Units sold, as delivered (text).",
    "unit_price": "Price per unit in the store's currency, as delivered (text).",
    "discount": "Discount on the line, as delivered (text).",
    "currency": "ISO currency code, as delivered (text).",
    "loyalty_id": "The shopper's loyalty card id; empty for anonymous sales.",
    "customer_name": "The shopper's name, when given.",
    "customer_email": "The shopper's email address, when given.",
    "customer_phone": "The shopper's phone number, when given.",
    "_source_file": "The landing-zone file the line was read from.",
    "_line_number": "Line number in that file.",
    "_raw_line": "The line's original text (holds the shopper's details when given).",
    "_parse_error": "Why the line could not be parsed (null when it could).",
    "_encoding": "The text encoding the file was read with.",
    "_source_region": "The store's region as the store registry delivered it (before routing).",
    "date": "Partition date: the business day folder the file was dropped in.",
    "region": "Partition region: the store's region from the store registry.",
}

# Column -> sensitivity, by raw asset. Personal data is "pii"; costs are "confidential".
SENSITIVITY: dict[str, dict[str, str]] = {
    "raw_salesforce_users": {"Name": PII, "Email": PII},
    "raw_salesforce_accounts": {"Name": PII, "Phone": PII},
    "raw_salesforce_contacts": {"FirstName": PII, "LastName": PII, "Email": PII, "Phone": PII},
    "raw_warehouse_customers": {"first_name": PII, "last_name": PII, "email": PII, "phone": PII, "city": PII},
    "raw_warehouse_products": {"standard_cost_usd": CONFIDENTIAL},
    "raw_pos_transactions": {
        "loyalty_id": PII,
        "customer_name": PII,
        "customer_email": PII,
        "customer_phone": PII,
        "_raw_line": PII,
    },
}


def raw_descriptions(asset_name: str, object_name: str | None = None) -> dict[str, str]:
    """Column -> description for a raw asset (``object_name``: its Salesforce object, if any)."""
    if object_name is not None:
        own = {**SALESFORCE_COMMON, **SALESFORCE_FIELDS[object_name]}
    elif asset_name == "raw_pos_stores":
        own = POS_STORES
    elif asset_name == "raw_pos_transactions":
        own = POS_TRANSACTIONS
    else:
        own = WAREHOUSE_COLUMNS[asset_name.removeprefix("raw_warehouse_")]
    return {**own, **INGESTION}


def raw_asset_tags(asset_name: str) -> dict[str, str]:
    """The asset-level sensitivity tag: "pii" for the tables holding personal data."""
    return {"sensitivity": PII} if PII in SENSITIVITY.get(asset_name, {}).values() else {}
