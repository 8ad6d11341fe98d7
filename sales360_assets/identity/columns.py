"""What the identity tables' columns mean: source ids, match keys, match decisions, golden attributes.

Read by ``identity/assets.py`` so every column of ``customer_identity_records``,
``customer_match_decisions``, ``customer_identity_crosswalk`` and ``customer_golden_record`` has a
description in the catalogue; the columns are computed in ``records.py`` (keys: ``normalise.py``),
``decisions.py``, ``crosswalk.py`` and ``golden.py``. ``COLUMN_DOCS`` holds what a column means in
every identity table that has it; ``BY_TABLE`` what differs in one table. The golden record's
surviving attributes also say which systems they come from, read from ``survivorship.yaml``
(``golden_record_docs``), so the catalogue follows the steward's file. Declarative by design.
"""

from __future__ import annotations

from sales360_assets.identity.golden import AttributeRule

COLUMN_DOCS: dict[str, str] = {
    "system": "Source system of the id: warehouse (web customer) | pos (store loyalty member) | salesforce (CRM "
    "contact) | salesforce_account (CRM account).",
    "source_key": "The id in its system: web customer_id, POS loyalty_id, Salesforce Contact Id or Account Id.",
    "customer_id": "Golden customer id (customer_golden_record.customer_id): stable across runs, kept by the "
    "larger part on a split.",
}

BY_TABLE: dict[str, dict[str, str]] = {
    "customer_identity_records": {
        "record_id": "<system>:<source_key>, unique across systems.",
        "first_name": "Given name as typed (web, CRM contact) or as most often printed on the member's receipts "
        "('LAST, First' preferred); null for CRM accounts.",
        "last_name": "Family name as typed or printed on receipts; the account name for salesforce_account records.",
        "email": "Email address as typed; for a loyalty member the one most often given at the till; null for CRM "
        "accounts.",
        "phone": "Phone number as typed (the account's phone for CRM accounts; the one most often given for a "
        "loyalty member).",
        "first_key": "Given name folded for matching: ASCII, lower case, quoted nickname removed.",
        "last_key": "Family (or account) name folded for matching: ASCII, lower case, punctuation dropped, hyphens "
        "as spaces.",
        "email_key": "Email trimmed and lower-cased; null unless it looks like an address.",
        "email_domain": "The part of email_key after the @; null without a valid email (B2B web customers are "
        "affiliated to an account by it).",
        "phone_key": "National significant number (country code or trunk 0 removed): the phone match key.",
        "phone_e164": "E.164 number where the country code is known.",
        "country": "Country as the source gives it (web country, contact MailingCountry, account BillingCountry); "
        "null for loyalty members, whose store says nothing of where they live.",
        "city": "City of a web customer or an account's BillingCity; null for CRM contacts and loyalty members.",
        "segment": "Customer segment of a web customer (Consumer, Small Business, Corporate; Unknown when "
        "missing); Enterprise for CRM accounts; null for contacts and loyalty members.",
        "account_id": "Salesforce Account Id: the contact's account, the account itself, or for a Small Business or "
        "Corporate web customer the account whose contacts alone use its email domain; else null.",
        "loyalty_id": "Store loyalty card id; set on pos records only (equal to source_key).",
        "observed_at": "When the source last showed this record (updated_at, SystemModstamp, latest receipt).",
    },
    "customer_match_decisions": {
        "run_id": "Dagster run that made the decision; the log keeps every run's rows.",
        "record_id_l": "The pair's lower record_id (customer_identity_records.record_id).",
        "record_id_r": "The pair's higher record_id (customer_identity_records.record_id).",
        "method": "rule:<name> (deterministic, see identity/rules.py) or model (Splink).",
        "match_weight": "Splink match weight (log2 Bayes factor) of the pair; null for a rule.",
        "match_probability": "Splink match probability of the pair (model pairs are logged from 0.05 up); 1.0 for "
        "a rule.",
        "threshold": "The match threshold of that run: model pairs at or above it are a match.",
        "decision": "match (match_probability at or above threshold, every rule pair) | no match.",
        "decided_at": "UTC time the run decided (one value per run); the crosswalk follows the latest run's decisions.",
    },
    "customer_identity_crosswalk": {
        "match_probability": "Strongest accepted link of this source id; 1.0 for a rule; null when alone.",
        "rule": "How it joined its customer: rule:<name>, model, or singleton.",
        "first_seen_run": "Dagster run that first saw the source id.",
        "last_changed_run": "Dagster run that last changed its customer_id.",
        "previous_customer_id": "The customer_id it had before that change: merges and splits keep history.",
    },
    "customer_golden_record": {
        "customer_id": "Golden customer id, one row per customer_id of customer_identity_crosswalk.",
        "customer_type": "account when every source id of the customer is a CRM account (salesforce_account), else "
        "person.",
        "home_region": "Sales region code (na, emea, uk, apac) of the surviving country; null when no region "
        "covers it.",
        "systems": "The distinct systems of the customer's source ids in the crosswalk, sorted.",
        "source_records": "Number of source ids mapped to the customer in the crosswalk, including ids missing from "
        "this run.",
        "last_observed_at": "Latest observed_at over the customer's identity records in this run; null when none "
        "of its source ids is current.",
    },
}

# What a surviving attribute of the golden record holds; golden_record_docs adds where it comes from.
GOLDEN_ATTRIBUTES: dict[str, str] = {
    "first_name": "Given name as typed",
    "last_name": "Family name as typed (an account's name)",
    "email": "Email address, trimmed and lower-cased",
    "phone": "Phone number in E.164 form",
    "country": "Country as the source gives it",
    "city": "City",
    "segment": "Customer segment (web: Consumer, Small Business, Corporate, Unknown; accounts: Enterprise)",
    "account_id": "Salesforce Account Id (for a B2B web customer, the account affiliated by its email domain)",
}


def describe_columns(table: str, columns: list[str] | tuple[str, ...] | dict[str, object]) -> dict[str, str]:
    """Column -> description for the table's columns (its own wording first)."""
    own = BY_TABLE.get(table, {})
    return {c: own.get(c) or COLUMN_DOCS[c] for c in columns if c in own or c in COLUMN_DOCS}


def golden_record_docs(columns: dict[str, object], rules: list[AttributeRule]) -> dict[str, str]:
    """The golden record's columns, each surviving attribute with its source order from survivorship.yaml."""
    docs = describe_columns("customer_golden_record", columns)
    for rule in rules:
        source = f" (their {rule.column})" if rule.column != rule.name else ""
        docs[rule.name] = (
            f"{GOLDEN_ATTRIBUTES.get(rule.name, rule.name)}: from {', else '.join(rule.sources)} records{source}, "
            "the most recently observed within a system, never a null (survivorship.yaml)."
        )
    return docs
