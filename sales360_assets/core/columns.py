"""What each table and column of the star schema means, and which hold personal data or cost.

The catalogue docs of the core tables, read by ``core/assets.py``; the columns are computed in
``core/dimensions.py``, ``core/sales.py``, ``core/deals.py``, ``core/scd.py`` and ``core/product_cost.py``. Declarative by design: one
entry per column. ``KEYS`` are columns that mean the same in every core table that has them.
"""

from __future__ import annotations

PII = "pii"
CONFIDENTIAL = "confidential"

KEYS = {
    "customer_key": "dim_customer key (MD5 of the natural key; an unknown member for unidentified buyers).",
    "product_key": "dim_product key; the unmapped member when the SKU is in no catalogue (sku kept).",
    "sales_rep_key": "dim_sales_rep key of the owner's assignment valid on the attribution date; the "
    "'No sales rep' member when there is none.",
    "account_id": "Salesforce Account Id.",
    "opportunity_id": "Salesforce Opportunity Id.",
    "campaign_id": "Salesforce Campaign Id of the deal's campaign; null when none.",
    "owner_id": "Salesforce User Id of the deal owner.",
    "web_order_id": "The e-commerce order that fulfilled the deal (Web_Order_Id__c); null when none.",
    "sku": "Stock keeping unit as sold.",
    "currency": "ISO currency code of the local amounts.",
    "fx_rate": "USD per unit of `currency`: latest rate on or before the conversion date (staging).",
    "fx_rate_date": "Date of the FX rate applied, for audit.",
}

DIM_DATE = {
    "date": "The calendar day.",
    "year": "Calendar year.",
    "quarter": "Calendar quarter, 1 to 4.",
    "month": "Month number, 1 to 12.",
    "month_name": "Month name (January …).",
    "iso_week": "ISO week number.",
    "day_of_week": "ISO weekday, 1 = Monday … 7 = Sunday.",
    "day_name": "Weekday name (Monday …).",
    "is_weekend": "True on Saturday and Sunday.",
    "is_holiday": "True on the few global trading holidays (New Year's Day, Christmas Day, Boxing Day, Black "
    "Friday); not regional public-holiday calendars.",
    "holiday_name": "Which of those holidays; null on other days.",
    "first_day_of_month": "First day of the day's month.",
}

DIM_REGION = {
    "region": "Region code (na, emea, uk, apac).",
    "region_name": "Region name.",
    "currency": "The region's currency (ISO code).",
    "countries": "Countries of the region, comma-separated.",
    "territories": "Territories the region's active reps cover, comma-separated.",
}

DIM_PRODUCT = {
    "product_key": "Surrogate key (MD5 of product|sku); the unknown member's key for SKUs in no catalogue.",
    "sku": "Conformed SKU (warehouse sku = Salesforce ProductCode); null on the unknown member.",
    "product_name": "Product name from the master catalogue, else the CRM.",
    "category": "Catalogue category; Unmapped for CRM-only SKUs and the unknown member.",
    "subcategory": "Catalogue subcategory; 'Unmapped (CRM only)' for CRM-only SKUs.",
    "brand": "Brand (catalogue).",
    "list_price_usd": "List price in USD (catalogue).",
    "standard_cost_usd": "Current standard unit cost in USD (catalogue); null for CRM-only SKUs.",
    "crm_family": "Product family in the CRM (Product2.Family); null when the CRM does not sell the SKU.",
    "product_family": "The family commission rates are set by: the CRM family, else the catalogue category, "
    "else Unmapped.",
    "in_catalogue": "True when the master catalogue has the SKU.",
    "in_crm": "True when the CRM sells the SKU.",
    "is_unknown_member": "True for the member that catches sales of SKUs no catalogue knows.",
}

DIM_PRODUCT_COST = {
    "product_cost_key": "Surrogate key of the cost version (product_key, valid_from).",
    "product_key": "The product (dim_product.product_key).",
    "sku": "The product's SKU.",
    "valid_from": "First day the cost applies (inclusive); the first version also covers earlier sales.",
    "valid_to": "Day the next cost version starts (exclusive); 9999-12-31 for the current one.",
    "cost_valid_from": "The date the source gave for this cost (null: no history, valid always).",
    "standard_cost_usd": "Standard unit cost in USD in force from valid_from.",
    "is_current": "True for the cost in force today.",
}

DIM_CUSTOMER = {
    "customer_key": "Surrogate key: MD5 of the normalized email for web customers with one, else of the web "
    "customer id; of the account id for CRM accounts.",
    "customer_source": "web, crm (a Salesforce account) or unknown (the unknown members).",
    "source_customer_id": "The surviving web customer id, or the account id.",
    "source_customer_ids": "Every source id folded into this key (web customers sharing an email).",
    "customer_name": "First and last name of a web customer; the account name of a CRM account.",
    "email_normalized": "Trimmed, lower-cased email of a web customer (null for accounts): the key POS "
    "receipts are matched on.",
    "segment": "Customer segment: the web segment, Enterprise for CRM accounts, or the unknown members' own.",
    "country": "Country (web customer; account billing country, else its contacts' commonest).",
    "region": "Sales region code of the customer's country (accounts: their Region__c first).",
    "first_seen_at": "Earliest creation time among the merged records (accounts: or their first contact's).",
    "is_unknown_member": "True for the 'Unidentified in-store customer' and 'Unknown customer' members.",
}

DIM_SALES_REP = {
    "sales_rep_key": "Surrogate key of the rep's assignment version.",
    "user_id": "Salesforce User Id.",
    "version": "1, 2 … per user, in time order.",
    "valid_from": "First day of the assignment (inclusive); 1900-01-01 for the first version.",
    "valid_to": "Day the next assignment starts (exclusive); 9999-12-31 for the current one.",
    "is_current": "True for the assignment in force now.",
    "name": "The user's current name.",
    "email": "The user's current email address.",
    "title": "Job title during the assignment.",
    "region": "Sales region code during the assignment.",
    "territory": "Territory during the assignment.",
    "manager_id": "User Id of the manager during the assignment.",
    "manager_name": "The manager's current name.",
    "is_active": "True while the user is active (current value).",
    "is_unknown_member": "True for the 'No sales rep' member.",
}

BRIDGE_ACCOUNT_TEAM = {
    "account_id": "Salesforce Account Id.",
    "customer_key": "The account's dim_customer key; the unknown member when the account is not in dim_customer.",
    "valid_from": "First day of the period (inclusive): the team is constant within it.",
    "valid_to": "Day the period ends (exclusive).",
    "user_id": "The team member (Salesforce User Id).",
    "account_team_member_id": "Salesforce AccountTeamMember Id.",
    "team_member_role": "The member's role on the team.",
    "credit_split_pct": "The member's share of the account's sales credit, in percent.",
    "period_split_total_pct": "Sum of credit_split_pct over the period's members.",
    "is_balanced": "True when the period's splits sum to 100.",
}

FACT_SALES = {
    "sales_line_id": "Unique line id: channel:order:line (web, pos) or crm:<OpportunityLineItem Id>.",
    "channel": "web | pos | crm. CRM deals fulfilled as web orders (Web_Order_Id__c set) are excluded here.",
    "date": "Business date: the order date (web), the store's business day (pos), the close date (crm).",
    "region": "Sales region code: the order's (web), the store's (pos), the owner's on the close date (crm).",
    "order_id": "Web order id, POS transaction id, or the Opportunity Id (crm).",
    "line_number": "Line number within the order or transaction; null for crm lines.",
    "customer_ref": "The channel's own customer reference: web customer id, POS loyalty id, or account id.",
    "store_id": "The store of a POS line; null for other channels.",
    "quantity": "Units sold.",
    "unit_price_local": "Price per unit in `currency`.",
    "gross_amount_local": "quantity × unit_price_local.",
    "discount_amount_local": "Discount on the line in `currency` (crm: gross − Salesforce TotalPrice).",
    "net_amount_local": "Net amount in the original currency (gross − discount), from staging.",
    "net_amount_usd": "Revenue in USD = net_amount_local × fx_rate, converted at ingestion (staging).",
    "unit_cost_usd": "Standard unit cost valid on the sale date (dim_product_cost, type 2); null when unmapped.",
    "cost_usd": "quantity × unit_cost_usd, the cost valid on the sale date (0 for unmapped products, flagged).",
    "gross_margin_usd": "net_amount_usd − cost_usd.",
    "is_unmapped_product": "True when the SKU has no catalogue cost on the sale date (unmapped or CRM-only): "
    "cost is 0 and the margin overstated.",
}

FACT_OPPORTUNITY = {
    "region": "Sales region code: the owner's on the close date (open deals: now), else the account's, else "
    "the currency's.",
    "stage_name": "Current stage in the region's own sales process.",
    "is_closed": "True once the deal is closed.",
    "is_won": "True for a won deal.",
    "created_date": "Day the deal was created (UTC).",
    "close_date": "Expected close date while open; the actual one once closed.",
    "amount_local": "Deal amount in `currency`.",
    "amount_usd": "Deal amount in USD at the close date's rate (open deals: at most the latest rate).",
    "probability": "Win probability (percent) of the stage.",
    "expected_amount_usd": "amount_usd × probability / 100.",
    "days_to_close": "Days from creation to close; null while open.",
    "opportunity_type": "Opportunity type.",
    "lead_source": "Where the lead came from.",
    "funnel_stage": "The standard funnel stage the region's stage name maps to (core/funnel.py).",
    "funnel_stage_order": "Ordinal of funnel_stage.",
    "furthest_stage_order": "Highest funnel ordinal the deal ever reached (its stage history and current "
    "stage; cancelled counts as won).",
    "is_cancelled": "True when the deal was won and later cancelled.",
    "cancelled_date": "Day of the cancellation: first change to Cancelled in the stage history, else "
    "Cancelled_Date__c, else the last edit.",
    "booking_date": "The day the deal was booked: the close date of a won deal (also when cancelled later).",
}

FACT_BOOKING_LINE = {
    "booking_line_id": "crm:<OpportunityLineItem Id>.",
    "region": "Sales region code of the owner's assignment on the booking date.",
    "booking_date": "The deal's booking date (close date of the won deal).",
    "is_cancelled": "True when the deal was cancelled after booking (the booking stays).",
    "cancelled_date": "Day of the cancellation (as fact_opportunity.cancelled_date).",
    "days_booked_to_cancelled": "Days from booking to cancellation; null when not cancelled.",
    "product_family": "The product's family for commission rates (dim_product); Unmapped when unknown.",
    "quantity": "Units on the line.",
    "net_amount_local": "Line total in `currency` (Salesforce TotalPrice).",
    "net_amount_usd": "Line total in USD at the deal's close-date rate (staging).",
    "sales_line_id": "The fact_sales line that counts this booking as revenue (crm channel); null for a "
    "web-fulfilled deal, whose web order lines count it.",
}

# Column -> sensitivity, by table. Personal data is "pii"; cost, margin and bookings "confidential".
_MARGIN = {c: CONFIDENTIAL for c in ("unit_cost_usd", "cost_usd", "gross_margin_usd")}
SENSITIVITY: dict[str, dict[str, str]] = {
    "dim_product": {"standard_cost_usd": CONFIDENTIAL},
    "dim_product_cost": {"standard_cost_usd": CONFIDENTIAL},
    "dim_customer": {"customer_name": PII, "email_normalized": PII},
    "dim_sales_rep": {"name": PII, "email": PII, "manager_name": PII},
    "fact_sales": _MARGIN,
}

_OWN: dict[str, dict[str, str]] = {
    "dim_date": DIM_DATE,
    "dim_region": DIM_REGION,
    "dim_product": DIM_PRODUCT,
    "dim_product_cost": DIM_PRODUCT_COST,
    "dim_customer": DIM_CUSTOMER,
    "dim_sales_rep": DIM_SALES_REP,
    "bridge_account_team": BRIDGE_ACCOUNT_TEAM,
    "fact_sales": FACT_SALES,
    "fact_opportunity": FACT_OPPORTUNITY,
    "fact_booking_line": FACT_BOOKING_LINE,
}


# What each core table is: its catalogue description, by table.
TABLE_DESCRIPTIONS: dict[str, str] = {
    "dim_date": "Calendar from the first partition date to a year ahead: ISO week, quarter, weekend and holiday flags.",
    "dim_region": "Sales regions with their currency, countries and the territories reps cover.",
    "dim_product": "One row per real product, conformed across web, POS and CRM on SKU (CRM ProductCode), "
    "with the category → subcategory hierarchy from the master catalogue. CRM-only SKUs are "
    "'Unmapped'; an unknown member catches sales of SKUs no catalogue knows.",
    "dim_product_cost": "Product cost as a type 2 dimension: one row per SKU and standard-cost version with its validity "
    "[valid_from, valid_to). fact_sales takes the cost valid on each sale's date, so margin on old sales uses "
    "the cost of their day, not today's.",
    "dim_customer": "Customers conformed across channels (web customers by normalized email, CRM accounts as "
    "B2B customers) with segment, country and region; unknown members for unidentified buyers.",
    "dim_sales_rep": "Sales reps and managers as a type 2 slowly changing dimension: one row per rep and "
    "assignment period (title, region, territory, manager) valid from valid_from (inclusive) to valid_to "
    "(exclusive), built from every Salesforce User record version. Facts carry the key of the version "
    "valid on the sale date.",
    "bridge_account_team": "Bridge between accounts and sales team members (many-to-many): per account and period "
    "[valid_from, valid_to) the members, their role and credit split, which sum to 100 (is_balanced). "
    "Commission credit flows through it.",
    "fact_sales": "Sales at order-line grain across channels (web, POS, and CRM deals not fulfilled as web "
    "orders — a won deal whose Web_Order_Id__c names a staged web order is already a web sale, so it is left "
    "out; one naming no web order stays a CRM sale). CRM deals are "
    "attributed to the rep assignment valid on the close date (type 2 dim_sales_rep). Amounts in USD with the "
    "original amount, currency, rate and rate date kept for audit; cost and gross margin.",
    "fact_opportunity": "Opportunities at deal grain (current state; deleted deals removed): stage and its standard "
    "funnel stage and ordinal (regional stage names mapped in core/funnel.py), the furthest stage reached, the "
    "owner's assignment on the close date, amounts in original currency and USD, expected value, days to "
    "close, booking and cancellation dates.",
    "fact_booking_line": "The bookings ledger: every line item of every booked deal (won, or won and later cancelled) "
    "on its booking date, in USD, with the owner's assignment then, the product family, the campaign and — "
    "for cancelled deals — the cancellation date (the first change to the Cancelled stage in "
    "stg_salesforce_opportunity_history, else Cancelled_Date__c). A cancellation never removes a booking, so a "
    "paid period never changes; commissions and quota attainment are computed from it.",
}

# Tables that are sensitive as a whole (their assets carry the tag): people, or cost and bookings.
TABLE_SENSITIVITY: dict[str, str] = {
    "dim_product_cost": CONFIDENTIAL,
    "dim_customer": PII,
    "dim_sales_rep": PII,
    "fact_sales": CONFIDENTIAL,
    "fact_booking_line": CONFIDENTIAL,
}


def core_descriptions(table: str) -> dict[str, str]:
    """Column -> description for a core table: its own entries over the shared keys."""
    return {**KEYS, **_OWN[table]}
