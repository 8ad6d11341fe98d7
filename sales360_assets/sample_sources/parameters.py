"""The sample's knobs: channel and region mix, currencies, the CRM's sales process and history rates.

Every generator module reads its shares and rates from here, so the documented figures
(``docs/source_contract.md``) have one place to change. Defect rates live with the defects
(``sample_sources/defects.py``); names, places and products in ``reference_data``.
"""

from __future__ import annotations

GENERATOR_VERSION = 1
# Share of order lines sold online; the rest goes through the stores.
WEB_SHARE = 0.55
# Share of Closed Won deals fulfilled as a web order (Web_Order_Id__c set).
WEB_FULFILLED_WON_SHARE = 0.10
CAMPAIGN_SHARE = 0.30
# Local SKUs the stores sell that the master catalogue does not know (unmapped, not defects).
POS_LOCAL_SKUS: tuple[tuple[str, float], ...] = (("POS-BAG-01", 0.10), ("POS-GIFTWRAP", 2.50))
# Product codes in CRM Product2 that the warehouse catalogue does not carry.
CRM_ONLY_PRODUCTS: tuple[tuple[str, str, float], ...] = (
    ("SVC-INSTALL-PRO", "Professional Installation Service", 149.0),
    ("SVC-WARRANTY-3Y", "3-Year Extended Warranty", 99.0),
)

REGION_WEIGHTS: dict[str, float] = {"na": 0.40, "emea": 0.28, "uk": 0.17, "apac": 0.15}
# Offset used to put web orders into the region's local evening (UTC hour = local - offset).
REGION_UTC_OFFSET: dict[str, int] = {"na": -5, "emea": 1, "uk": 0, "apac": 9}
REGION_PRICE_FACTOR: dict[str, float] = {"na": 1.0, "emea": 1.06, "uk": 1.03, "apac": 1.02}
BASE_USD_PER_UNIT: dict[str, float] = {"USD": 1.0, "EUR": 1.08, "GBP": 1.27, "JPY": 0.0067}
FX_DAILY_VOLATILITY: dict[str, float] = {"USD": 0.0, "EUR": 0.0035, "GBP": 0.004, "JPY": 0.005}
CURRENCY_DECIMALS: dict[str, int] = {"USD": 2, "EUR": 2, "GBP": 2, "JPY": 0}
# FX rates start this long before the window: deals booked before it convert at their close date's rate.
FX_HISTORY_DAYS = 180
TERRITORIES: dict[str, tuple[str, ...]] = {
    "na": ("na-east", "na-central", "na-west", "na-canada"),
    "emea": ("emea-dach", "emea-france", "emea-benelux", "emea-south"),
    "uk": ("uk-london", "uk-north", "uk-scotland", "uk-ireland"),
    "apac": ("apac-kanto", "apac-kansai", "apac-chubu", "apac-kyushu"),
}
# Person categories: which systems know a person (CRM-only people are contacts nobody else knows).
WEB_ONLY, POS_ONLY, WEB_AND_POS, CRM_ONLY = 0, 1, 2, 3
WEB_CATEGORIES = (WEB_ONLY, WEB_AND_POS)
LOYALTY_CATEGORIES = (POS_ONLY, WEB_AND_POS)
SEGMENTS: tuple[str, ...] = ("Consumer", "Small Business", "Corporate")
SEGMENT_WEIGHTS: tuple[float, ...] = (0.80, 0.14, 0.06)
# Share of an identified web buyer's own picks from their favourite subcategory (a runner keeps buying
# running gear). Without a taste, every customer is the same popularity draw and no recommender can
# tell them apart; real shoppers are not like that.
TASTE_SHARE = 0.6

# --- The CRM's sales process -------------------------------------------------------------------

STAGES: tuple[str, ...] = (
    "Prospecting",
    "Qualification",
    "Needs Analysis",
    "Proposal/Price Quote",
    "Negotiation/Review",
    "Closed Won",
    "Closed Lost",
)
STAGE_PROBABILITY: tuple[float, ...] = (10.0, 20.0, 30.0, 60.0, 80.0, 100.0, 0.0)
WON, LOST = 5, 6
# A booked deal the customer later cancels: a new version moves it from Closed Won to this stage,
# with Cancelled_Date__c set (commission clawbacks hinge on it).
CANCELLED_STAGE = "Cancelled"
CANCELLED = 7
# Each region's sales process names some stages its own way (the funnel mapping in
# core/funnel.py standardises them); a stage not listed keeps its Salesforce default name.
REGION_STAGE_NAMES: dict[str, dict[str, str]] = {
    "emea": {
        "Prospecting": "Lead",
        "Qualification": "Qualified",
        "Proposal/Price Quote": "Proposal",
        "Negotiation/Review": "Negotiation",
    },
    "uk": {"Needs Analysis": "Solution Design", "Proposal/Price Quote": "Quote Sent"},
    "apac": {"Qualification": "Discovery", "Needs Analysis": "Solution Fit", "Negotiation/Review": "Commercials"},
}
# Reassignments during the window, as shares of all Account Executives (each kind at least one rep):
# a territory move inside the region, a promotion (title change), a move to another region (new
# region, territory and manager; the rep's accounts and open deals pass to colleagues who stay).
REASSIGNMENT_SHARES: dict[str, float] = {"territory": 0.10, "promotion": 0.06, "region": 0.04}
SENIOR_TITLE = "Senior Account Executive"
# Account teams (AccountTeamMember): the owner alone with 100 % credit, or the owner plus one
# overlay colleague sharing the credit; splits always sum to 100 per account and period.
ACCOUNT_TEAM_SHARE = 0.35
OWNER_ROLE = "Account Manager"
TEAM_ROLES: tuple[str, ...] = ("Sales Engineer", "Channel Manager", "Overlay Specialist")
TEAM_SPLITS: tuple[tuple[float, float], ...] = ((70.0, 30.0), (60.0, 40.0), (50.0, 50.0), (80.0, 20.0))
# Share of Closed Won deals (not web-fulfilled) cancelled later in the window, and older deals
# booked before the window and cancelled in it: half within the 90-day clawback window, half after.
CANCELLED_WON_SHARE = 0.08
LEGACY_CANCELLED_SHARE = 0.01
CLAWBACK_WINDOW_DAYS = 90
# Bookings a rep closes, on average, for each deal opened (calibrates quotas to the deal flow).
QUOTA_USD_PER_DEAL = 800.0


def stage_names(region: str) -> tuple[str, ...]:
    """The region's name for each stage index (STAGES, then CANCELLED_STAGE)."""
    overrides = REGION_STAGE_NAMES.get(region, {})
    return tuple(overrides.get(stage, stage) for stage in (*STAGES, CANCELLED_STAGE))
