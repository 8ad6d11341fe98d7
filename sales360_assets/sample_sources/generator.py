"""Deterministic sample sources: a Salesforce export, a BigQuery-shaped warehouse and POS CSV drops.

Why a generator: the platform must run and be testable without anyone's CRM, warehouse or
stores. The data has the shape of the real feeds (wire formats, seasonality, repeat buyers,
the same person spelled differently in each system) and carries deliberate defects at small,
documented rates (``DEFECT_RATES``). Every defect is counted exactly in ``_manifest.json`` so
downstream quality checks reconcile against known answers instead of guessing.

Everything derives from ``(start, end, order_lines, seed)``; no wall-clock time enters the data.
Row volumes are numpy/polars vectors; Python loops run over days, stores, regions and other
small dimensions only, which keeps 10 million order lines within minutes and a few GiB.

Usage::

    python -m sales360_assets.sample_sources.generator --out data/sources --days 30
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import unicodedata
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np
import polars as pl

from sales360_assets.sample_sources.identity_cases import inject_identity_cases
from sales360_assets.sample_sources.opportunity_history import opportunity_history_rows
from sales360_assets.settings import REGION_CODES, REGIONS
from sales360_assets.sources.contract import (
    POS_STORES,
    POS_TRANSACTIONS,
    SALESFORCE_OBJECTS,
    UTC_DATETIME,
    WAREHOUSE_TABLES,
    SourceTable,
)

GENERATOR_VERSION = 1
SF_API_VERSION = "v59.0"
# Share of order lines sold online; the rest goes through the stores.
WEB_SHARE = 0.55

# Rates of deliberately injected defects, per table. The manifest records the exact counts.
# Rates are shares of the table's clean rows (orders, order lines, POS lines, Opportunity
# record versions); "deleted" is a share of opportunities. Every class gets at least one row
# so each dead-letter path is exercised even at tiny volumes. "late_arriving" is not a defect
# to reject, but it is counted the same way because incremental loads must pick it up.
DEFECT_RATES: dict[str, dict[str, float]] = {
    "orders": {"duplicate": 0.003, "unknown_currency": 0.002, "late_arriving": 0.01},
    "order_lines": {"duplicate": 0.005, "null_sku": 0.001, "negative_quantity": 0.002},
    "pos_transactions": {
        "duplicate": 0.005,
        "malformed": 0.003,
        "unknown_currency": 0.002,
        "negative_quantity": 0.002,
    },
    "Opportunity": {"deleted": 0.01},
}
UNKNOWN_CURRENCIES: tuple[str, ...] = ("XXX", "EUX", "BTC")
# Kinds of malformed POS lines (all counted as "malformed"; the breakdown is in the manifest).
MALFORMED_KINDS: tuple[str, ...] = ("field_count", "non_numeric_quantity", "unparseable_timestamp")
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
TERRITORIES: dict[str, tuple[str, ...]] = {
    "na": ("na-east", "na-central", "na-west", "na-canada"),
    "emea": ("emea-dach", "emea-france", "emea-benelux", "emea-south"),
    "uk": ("uk-london", "uk-north", "uk-scotland", "uk-ireland"),
    "apac": ("apac-kanto", "apac-kansai", "apac-chubu", "apac-kyushu"),
}
SEGMENTS: tuple[str, ...] = ("Consumer", "Small Business", "Corporate")
SEGMENT_WEIGHTS: tuple[float, ...] = (0.80, 0.14, 0.06)
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
_WON, _LOST = 5, 6
# A booked deal the customer later cancels: a new version moves it from Closed Won to this stage,
# with Cancelled_Date__c set (commission clawbacks hinge on it).
CANCELLED_STAGE = "Cancelled"
_CANCELLED = 7
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
# FX rates start this long before the window: deals booked before it convert at their close date's rate.
FX_HISTORY_DAYS = 180


def stage_names(region: str) -> tuple[str, ...]:
    """The region's name for each stage index (STAGES, then CANCELLED_STAGE)."""
    overrides = REGION_STAGE_NAMES.get(region, {})
    return tuple(overrides.get(stage, stage) for stage in (*STAGES, CANCELLED_STAGE))


_EPOCH = date(1970, 1, 1)
_SEC = 1_000_000
_HOUR = 3600 * _SEC
_DAY = 24 * _HOUR


# --- Reference data ---------------------------------------------------------------------------


def _cities(text: str) -> tuple[tuple[str, str, int, float], ...]:
    parts = [item.split(":") for item in text.split("; ")]
    return tuple((name, area, int(offset), float(weight)) for name, area, offset, weight in parts)


@dataclass(frozen=True)
class _Country:
    code: str
    region: str
    weight: float
    phone_cc: str
    nanp: bool  # North American numbering: no trunk 0, "(415) 555-0123"
    names: str
    tld: str
    # (city, area code, UTC offset in hours, weight)
    cities: tuple[tuple[str, str, int, float], ...]


def _split(text: str, sep: str = ", ") -> tuple[str, ...]:
    """Reference lists are kept as text so they stay readable and diff-friendly."""
    return tuple(part.strip() for part in text.strip().split(sep))


class _Subcategory(NamedTuple):
    category: str
    category_code: str
    name: str
    code: str
    price_low_usd: float
    price_high_usd: float
    margin: float
    demand: float
    companion: str  # subcategory code of the products bought together with these
    brands: tuple[str, ...]
    nouns: tuple[str, ...]


def _table_rows(text: str) -> list[list[str]]:
    return [
        [cell.strip() for cell in line.split("|")]
        for line in text.strip().splitlines()
        if line.strip() and not line.startswith("#")
    ]


def _parse_countries(text: str) -> dict[str, _Country]:
    countries = {}
    for code, region, weight, phone_cc, numbering, names, tld, cities in _table_rows(text):
        countries[code] = _Country(
            code, region, float(weight), phone_cc, numbering == "nanp", names, tld, _cities(cities)
        )
    return countries


def _parse_names(text: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    parts: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, names in _table_rows(text):
        culture, kind = key.split()
        parts.setdefault(culture, {})[kind] = _split(names)
    return {culture: (p["first"], p["last"]) for culture, p in parts.items()}


def _parse_subcategories(text: str) -> tuple[_Subcategory, ...]:
    return tuple(
        _Subcategory(cat, cc, name, code, float(lo), float(hi), float(m), float(w), comp, _split(b), _split(n))
        for cat, cc, name, code, lo, hi, m, w, comp, b, n in _table_rows(text)
    )


# Cities are "name:area code:UTC offset hours:weight"; offsets ignore DST on purpose (see POS hours).
_COUNTRIES: dict[str, _Country] = _parse_countries(
    """
# code | region | weight in region | phone country code | numbering | names | email tld | cities (name:area:UTC offset:weight)
US | na   | 0.85 | 1   | nanp | en_us | com   | New York:212:-5:0.3; Chicago:312:-6:0.2; Austin:512:-6:0.15; San Francisco:415:-8:0.2; Seattle:206:-8:0.15
CA | na   | 0.15 | 1   | nanp | en_us | ca    | Toronto:416:-5:0.5; Montréal:514:-5:0.3; Vancouver:604:-8:0.2
DE | emea | 0.35 | 49  | -    | de    | de    | Berlin:30:1:0.3; München:89:1:0.25; Hamburg:40:1:0.2; Köln:221:1:0.15; Frankfurt am Main:69:1:0.1
FR | emea | 0.25 | 33  | -    | fr    | fr    | Paris:1:1:0.5; Lyon:4:1:0.25; Toulouse:5:1:0.25
NL | emea | 0.12 | 31  | -    | nl    | nl    | Amsterdam:20:1:0.5; Rotterdam:10:1:0.3; Utrecht:30:1:0.2
ES | emea | 0.15 | 34  | -    | es    | es    | Madrid:91:1:0.5; Barcelona:93:1:0.35; Valencia:96:1:0.15
IT | emea | 0.13 | 39  | -    | it    | it    | Milano:2:1:0.45; Roma:6:1:0.4; Torino:11:1:0.15
GB | uk   | 0.88 | 44  | -    | en_gb | co.uk | London:20:0:0.45; Manchester:161:0:0.2; Birmingham:121:0:0.15; Edinburgh:131:0:0.1; Bristol:117:0:0.1
IE | uk   | 0.12 | 353 | -    | en_ie | ie    | Dublin:1:0:0.7; Cork:21:0:0.3
JP | apac | 1    | 81  | -    | ja    | jp    | Tokyo:3:9:0.45; Osaka:6:9:0.25; Yokohama:45:9:0.15; Nagoya:52:9:0.1; Fukuoka:92:9:0.05
"""
)


# First and last names per naming culture; accents and apostrophes are on purpose (matching
# must survive "José" vs "Jose" and CSV quoting must survive "O'Brien").
_NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _parse_names(
    """
en_us first | James, Mary, Robert, Patricia, John, Jennifer, Michael, Linda, William, Elizabeth, David, Barbara, Richard, Susan, Joseph, Jessica, Thomas, Sarah, Christopher, Karen, Daniel, Nancy, Matthew, Lisa, Anthony, Margaret, Katherine, Alexander, Emily, Zoë, Chloé, José, André
en_us last  | Smith, Johnson, Williams, Brown, Jones, Garcia, Miller, Davis, Rodriguez, Martinez, Hernandez, Lopez, Wilson, Anderson, Thomas, Taylor, Moore, Jackson, Martin, Lee, Thompson, White, Harris, Clark, Lewis, Robinson, Walker, Young, Allen, King, O'Connor, Peña, Nguyen, Kowalski
en_gb first | Oliver, George, Harry, Jack, Charlie, Thomas, William, James, Olivia, Amelia, Isla, Emily, Sophie, Charlotte, Elizabeth, Margaret, Daniel, Alexander, Chloë, Rhys, Siân, Eleanor, Katherine, Robert
en_gb last  | Smith, Jones, Taylor, Brown, Williams, Wilson, Johnson, Davies, Robinson, Wright, Thompson, Evans, Walker, White, Roberts, Green, Hall, Wood, Jackson, Clarke, Patel, Khan, O'Neill, Hughes, Edwards, Ffrench
en_ie first | Seán, Siobhán, Aoife, Ciarán, Niamh, Pádraig, Róisín, Conor, Saoirse, Darragh, Éabha, Oisín, Michael, Patrick, Mary, Catherine
en_ie last  | Murphy, Kelly, O'Sullivan, Walsh, Smith, O'Brien, Byrne, Ryan, O'Connor, O'Neill, Ó Briain, McCarthy, Doyle, Gallagher, Mac Giolla
de    first | Lukas, Leon, Finn, Jonas, Maximilian, Johannes, Jürgen, Jörg, Günter, Hannah, Lena, Leonie, Mia, Sophie, Franziska, Katharina, Bärbel, Sören, Wolfgang, Elisabeth, Alexander
de    last  | Müller, Schmidt, Schneider, Fischer, Weber, Meyer, Wagner, Becker, Schulz, Hoffmann, Schäfer, Koch, Bauer, Richter, Klein, Wolf, Schröder, Neumann, Schwarz, Zimmermann, Braun, Krüger, Hofmann, Weiß, Günther
fr    first | Jean, Pierre, Michel, François, Jérôme, Sébastien, Nicolas, Léa, Chloé, Hélène, Céline, Élodie, Camille, Manon, Inès, Gaëlle, Noël, Amélie, Christophe, Benoît, Thérèse, Marie-Claire, Jean-Luc
fr    last  | Martin, Bernard, Dubois, Thomas, Robert, Richard, Petit, Durand, Leroy, Moreau, Simon, Laurent, Lefèvre, Michel, Fournier, Girard, Bonnet, Dupont, Lambert, Fontaine, Rousseau, Chevalier, Gauthier, Mercier, Bélanger
nl    first | Daan, Sem, Lucas, Levi, Bram, Emma, Julia, Sophie, Tess, Anouk, Jeroen, Maarten, Joost, Willem, Pieter, Sanne, Femke, Thijs, Noël
nl    last  | de Jong, Jansen, de Vries, van den Berg, van Dijk, Bakker, Janssen, Visser, Smit, Meijer, de Boer, Mulder, de Groot, Bos, Vos, Peters, Hendriks, van Leeuwen, Dekker, Brouwer
es    first | José, María, Antonio, Manuel, Francisco, Javier, David, Jesús, Ángel, Lucía, Sofía, Martina, Paula, Carmen, Dolores, Guadalupe, Íñigo, Begoña, Alejandro, Álvaro, Raúl, Inés
es    last  | García, Fernández, González, Rodríguez, López, Martínez, Sánchez, Pérez, Gómez, Martín, Jiménez, Ruiz, Hernández, Díaz, Moreno, Muñoz, Álvarez, Romero, Núñez, Ibáñez, Castaño
it    first | Giuseppe, Giovanni, Antonio, Mario, Luigi, Francesco, Alessandro, Niccolò, Lorenzo, Matteo, Giulia, Sofia, Aurora, Alice, Chiara, Francesca, Beatrice, Gabriele, Elisabetta, Raffaele
it    last  | Rossi, Russo, Ferrari, Esposito, Bianchi, Romano, Colombo, Ricci, Marino, Greco, Bruno, Gallo, Conti, De Luca, Mancini, Costa, Giordano, Rizzo, Lombardi, D'Angelo, Caruso
ja    first | Hiroshi, Takashi, Yūki, Shōta, Haruto, Sōta, Ren, Daiki, Kenji, Akira, Yui, Aoi, Hina, Sakura, Yōko, Yūko, Keiko, Emi, Rin, Mei, Kōji, Ryō
ja    last  | Satō, Suzuki, Takahashi, Tanaka, Watanabe, Itō, Yamamoto, Nakamura, Kobayashi, Katō, Yoshida, Yamada, Sasaki, Yamaguchi, Matsumoto, Inoue, Kimura, Hayashi, Shimizu, Ōta, Saitō, Kondō
"""
)

_NICKNAMES: dict[str, str] = dict(
    pair.split("=")
    for pair in _split(
        """
William=Bill, Robert=Bob, Elizabeth=Liz, Katherine=Kate, Michael=Mike, James=Jim, Jennifer=Jenny, Thomas=Tom, Christopher=Chris, Margaret=Maggie, Daniel=Dan, Alexander=Alex, Joseph=Joe, Richard=Rick, Patricia=Trish, Matthew=Matt, Anthony=Tony, Jessica=Jess, Susan=Sue, Barbara=Barb, John=Johnny, Oliver=Ollie, Charlotte=Lottie, Eleanor=Ellie, Patrick=Paddy, Pádraig=Paddy, Catherine=Cathy, Johannes=Hans, Maximilian=Max, Franziska=Franzi, Katharina=Kathi, Elisabeth=Lisa, Nicolas=Nico, Christophe=Chris, Francisco=Paco, José=Pepe, Dolores=Lola, Guadalupe=Lupe, Alejandro=Álex, Giuseppe=Beppe, Francesco=Franco, Alessandro=Sandro, Elisabetta=Betta, Willem=Wim, Pieter=Piet, Antonio=Toni, Manuel=Manolo
"""
    )
)

_SUBCATEGORIES: tuple[_Subcategory, ...] = _parse_subcategories(
    """
# category | code | subcategory | code | price low USD | price high USD | gross margin | demand | bought with | brands | products
Electronics | ELE | Phones            | PHN | 199 | 1299 | 0.22 | 1   | ACC | Voltix, Nimbus, Aurora | Smartphone, Phone
Electronics | ELE | Laptops           | LAP | 499 | 2499 | 0.18 | 0.6 | ACC | Voltix, Corelite, Nimbus | Laptop, Ultrabook, Notebook
Electronics | ELE | Audio             | AUD |  29 |  399 | 0.4  | 0.9 | ACC | Sonora, Echoline | Headphones, Earbuds, Speaker, Soundbar
Electronics | ELE | Accessories       | ACC |   9 |   79 | 0.55 | 1.8 | ACC | Voltix, Plugwise, Nimbus | Charger, Phone Case, USB-C Cable, Laptop Sleeve, Power Bank
Electronics | ELE | Smart Home        | SMH |  25 |  249 | 0.35 | 0.6 | LGT | Hausmind, Nimbus | Smart Plug, Thermostat, Doorbell Camera, Hub
Home        | HOM | Kitchen           | KIT |  15 |  499 | 0.38 | 1.2 | KIT | Cucina, Hearth & Co | Blender, Kettle, Knife Set, Frying Pan, Coffee Grinder, Espresso Machine
Home        | HOM | Furniture         | FUR |  79 | 1499 | 0.42 | 0.4 | LGT | Nordhaus, Oakridge | Desk, Office Chair, Bookshelf, Sofa, Side Table
Home        | HOM | Bedding           | BED |  19 |  249 | 0.5  | 0.7 | BED | Dreamweave, Linea | Duvet, Pillow, Sheet Set, Throw
Home        | HOM | Lighting          | LGT |  15 |  299 | 0.45 | 0.5 | SMH | Lumen, Brightside | Desk Lamp, Floor Lamp, LED Bulb Pack, Pendant Light
Apparel     | APP | Shoes             | SHO |  39 |  229 | 0.52 | 1.3 | SOC | Stride, Trailpeak | Running Shoe, Sneaker, Boot, Loafer
Apparel     | APP | Outerwear         | OUT |  59 |  399 | 0.55 | 0.7 | TOP | Trailpeak, Northline | Rain Jacket, Parka, Fleece, Gilet
Apparel     | APP | Tops              | TOP |  12 |   89 | 0.6  | 1.5 | SOC | Basics Co, Linea | T-Shirt, Polo, Hoodie, Oxford Shirt
Apparel     | APP | Socks & Underwear | SOC |   5 |   29 | 0.62 | 1.1 | TOP | Basics Co, Stride | Sock 3-Pack, Boxer 2-Pack, Ankle Socks
Sports      | SPO | Fitness           | FIT |   9 |  899 | 0.35 | 0.6 | TOP | Corefit, Ironline | Yoga Mat, Kettlebell, Dumbbell Set, Rowing Machine, Resistance Bands
Sports      | SPO | Cycling           | CYC |  19 | 1999 | 0.3  | 0.4 | ODR | Velocita, Trailpeak | Helmet, Bike Light, City Bike, Saddle
Sports      | SPO | Outdoor           | ODR |  15 |  499 | 0.4  | 0.5 | OUT | Trailpeak, Basecamp | Tent, Sleeping Bag, Backpack, Water Bottle
Beauty      | BEA | Skincare          | SKN |   8 |   89 | 0.65 | 0.9 | FRG | Lumière, Velvet & Co | Moisturiser, Serum, Cleanser, Sun Cream
Beauty      | BEA | Fragrance         | FRG |  29 |  149 | 0.6  | 0.5 | SKN | Lumière, Maison Ambre | Eau de Parfum, Eau de Toilette, Body Mist
"""
)
# Channel mix: electronics sell better online, apparel and beauty in store.
_CHANNEL_CATEGORY_BOOST: dict[str, dict[str, float]] = {
    "web": {"Electronics": 1.3},
    "pos": {"Apparel": 1.4, "Beauty": 1.3},
}
_ACCOUNT_WORDS_A = _split(
    "Northwind, Blue Harbor, Summit, Riverside, Golden Gate, Evergreen, Silverline, Redwood, Atlas, Meridian, Pioneer, Keystone, Horizon, Lakeside, Granite, Sterling, Aurora, Beacon, Crescent, Falcon"
)
_ACCOUNT_WORDS_B = _split(
    "Logistics, Consulting, Retail, Hospitality, Health, Media, Engineering, Foods, Software, Holdings, Dental, Architects, Fitness Studios, Education, Properties"
)
_LEGAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "US": _split("Inc.|LLC|Corp.", "|"),
    "CA": _split("Inc.|Ltd.", "|"),
    "DE": _split("GmbH|AG", "|"),
    "FR": _split("SAS|SA", "|"),
    "NL": _split("B.V.", "|"),
    "ES": _split("S.L.|S.A.", "|"),
    "IT": _split("S.r.l.|S.p.A.", "|"),
    "GB": _split("Ltd|plc", "|"),
    "IE": _split("Ltd|DAC", "|"),
    "JP": _split("K.K.|Co., Ltd.", "|"),
}
_INDUSTRIES = ("Retail", "Technology", "Hospitality", "Healthcare", "Education", "Manufacturing", "Finance")

_WEEKDAY_WEIGHT: dict[str, tuple[float, ...]] = {
    # Monday .. Sunday. Stores peak on Saturday; online peaks Sunday/Monday (evenings, see hours).
    "pos": (0.78, 0.74, 0.82, 0.92, 1.15, 1.65, 0.94),
    "web": (1.18, 1.00, 0.96, 0.95, 0.88, 0.86, 1.22),
}
_MONTH_WEIGHT = (0.72, 0.80, 0.92, 0.95, 1.00, 0.97, 0.95, 0.93, 0.97, 1.00, 1.10, 1.25)
_WEB_HOURS = np.array(
    _split(
        "0.25 0.15 0.1 0.08 0.08 0.12 0.25 0.45 0.65 0.8 0.9 0.95 1 0.95 0.9 0.9 0.95 1.05 1.25 1.55 1.75 1.7 1.3 0.7",
        " ",
    ),
    dtype=float,
)
_POS_HOURS = np.array(
    _split("0 0 0 0 0 0 0 0 0 0.6 0.85 1.05 1.35 1.3 1 0.95 1.1 1.35 1.3 0.95 0.6 0.4 0 0", " "), dtype=float
)
_POS_HOURS_SATURDAY = np.array(
    _split("0 0 0 0 0 0 0 0 0 0.5 0.9 1.2 1.35 1.4 1.45 1.45 1.4 1.3 1.1 0.8 0.5 0.3 0 0", " "), dtype=float
)
_STORE_DESCRIPTORS = ("Central", "Mall", "Station", "High Street", "Outlet", "Airport")
_CAMPAIGN_TYPES = ("Email", "Webinar", "Trade Show", "Paid Social", "Partner Event")
_CAMPAIGN_THEMES = _split(
    "Spring Launch, Back to Work, Smart Office, Summer Outdoor, Black Friday, Holiday Gifting, New Year Refresh, Partner Summit, Customer Roadshow, Hospitality Expo"
)
_LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Email", "Other")
_OPP_SUFFIXES = ("Refresh", "Expansion", "Rollout", "Order", "Renewal", "Pilot")
_BAD_QUANTITIES = ("two", "1O", "three", "x2")


# --- Small helpers ----------------------------------------------------------------------------


def _rng(seed: int, component: str) -> np.random.Generator:
    """One independent stream per component, so changing one part never reshuffles the others."""
    return np.random.default_rng([seed, zlib.crc32(component.encode())])


def _day_us(day: date) -> int:
    return (day - _EPOCH).days * _DAY


def _ts(name: str, micros: np.ndarray) -> pl.Series:
    return pl.Series(name, np.asarray(micros, dtype=np.int64)).cast(UTC_DATETIME)


def _dates(name: str, epoch_days: np.ndarray) -> pl.Series:
    return pl.Series(name, np.asarray(epoch_days, dtype=np.int32)).cast(pl.Date)


def _prefixed(name: str, prefix: str, numbers: np.ndarray, width: int) -> pl.Series:
    digits = pl.Series(np.asarray(numbers, dtype=np.int64)).cast(pl.String).str.zfill(width)
    return pl.select(pl.concat_str(pl.lit(prefix), digits)).to_series().alias(name)


def _sf_ids(name: str, prefix: str, numbers: np.ndarray) -> pl.Series:
    """18-character Salesforce-style ids: the object's key prefix and a zero-padded number."""
    return _prefixed(name, prefix, numbers, 15)


def _take(values: Sequence[str] | pl.Series, idx: np.ndarray, name: str = "") -> pl.Series:
    """Gather strings by index; negative indexes become null."""
    series = values if isinstance(values, pl.Series) else pl.Series(list(values), dtype=pl.String)
    index = pl.Series(np.asarray(idx, dtype=np.int64))
    if (index < 0).any():
        index = pl.select(pl.when(index >= 0).then(index)).to_series()
    return series.gather(index).alias(name)


def _alloc(total: int, weights: Sequence[float], minimum: int = 0) -> np.ndarray:
    """Split ``total`` proportionally to ``weights`` (largest remainder), each part >= minimum."""
    w = np.asarray(weights, dtype=float)
    k = len(w)
    minimum = min(minimum, total // max(k, 1))
    rest = total - minimum * k
    raw = w / w.sum() * rest
    counts = np.floor(raw).astype(np.int64)
    short = rest - int(counts.sum())
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:short]] += 1
    return counts + minimum


def _defect_count(rate: float, population: int) -> int:
    if population <= 0:
        return 0
    return min(population, max(1, round(rate * population)))


def _pick_disjoint(rng: np.random.Generator, eligible: np.ndarray, counts: dict[str, int]) -> dict[str, np.ndarray]:
    """Disjoint random index sets, one per defect class, so no row carries two defects."""
    pool = np.flatnonzero(eligible)
    wanted = sum(counts.values())
    if wanted > len(pool):  # only at absurdly small volumes
        scale = len(pool) / wanted
        counts = {k: int(v * scale) for k, v in counts.items()}
        wanted = sum(counts.values())
    chosen = rng.choice(pool, size=wanted, replace=False) if wanted else np.empty(0, np.int64)
    out: dict[str, np.ndarray] = {}
    at = 0
    for name, n in counts.items():
        out[name] = np.sort(chosen[at : at + n])
        at += n
    return out


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def _round_money(values: np.ndarray, decimals: np.ndarray) -> np.ndarray:
    factor = 10.0 ** np.asarray(decimals, dtype=float)
    return np.round(values * factor) / factor


def _money_text(values: np.ndarray) -> pl.Series:
    """Non-negative amounts as fixed two-decimal text (CSV wire format)."""
    cents = np.rint(np.asarray(values, dtype=float) * 100).astype(np.int64)
    whole = pl.Series(cents // 100).cast(pl.String)
    frac = pl.Series(cents % 100).cast(pl.String).str.zfill(2)
    return pl.select(pl.concat_str(whole, pl.lit("."), frac)).to_series()


def _offset_text(hours: int) -> str:
    return f"{'+' if hours >= 0 else '-'}{abs(hours):02d}:00"


def _ascii(text: str) -> str:
    text = text.replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def _email_part(text: str) -> str:
    return "".join(c for c in _ascii(text).lower() if "a" <= c <= "z")


def _typo(name: str) -> str:
    """A deterministic keying error: a doubled letter typed once, else two letters swapped."""
    for i in range(len(name) - 1):
        if name[i] == name[i + 1] and name[i].isalpha():
            return name[:i] + name[i + 1 :]
    if len(name) >= 4:
        i = len(name) // 2
        if name[i - 1] != name[i]:
            return name[: i - 1] + name[i] + name[i - 1] + name[i + 1 :]
    return name + name[-1]


def _black_friday(year: int) -> date:
    first = date(year, 11, 1)
    first_thursday = first + timedelta(days=(3 - first.weekday()) % 7)
    return first_thursday + timedelta(days=22)


def seasonal_weight(day: date, region: str, channel: str) -> float:
    """Relative sales volume of one day in a region and channel ("web" or "pos").

    Weekly rhythm × month level × holiday effects: Black Friday / Cyber Monday, the December
    run-up, Christmas closures, the January slump, Japanese New Year sales and Golden Week.
    """
    pos = channel == "pos"
    weight = _WEEKDAY_WEIGHT[channel][day.weekday()] * _MONTH_WEIGHT[day.month - 1]
    bf = _black_friday(day.year)
    if day == bf:
        weight *= {"na": 3.2, "uk": 2.4, "emea": 2.0, "apac": 1.3}[region] * (1.0 if pos else 1.1)
    elif day == bf + timedelta(days=3):
        weight *= {"na": 2.8, "uk": 2.0, "emea": 1.8, "apac": 1.2}[region] if not pos else 1.1
    elif bf - timedelta(days=3) <= day <= bf + timedelta(days=7):
        weight *= 1.25
    if day.month == 12 and region != "apac":
        if day.day <= 23:
            weight *= 1.0 + 0.6 * day.day / 23
        elif day.day == 24:
            weight *= 1.2 if pos else 0.6
        elif day.day == 25:
            weight *= 0.05 if pos else 0.5
        elif day.day == 26:
            weight *= {"uk": 1.8, "na": 1.3, "emea": 0.6}[region]
        else:
            weight *= 1.1
    elif day.month == 12:
        weight *= 1.0 + 0.3 * min(day.day, 28) / 28
    if day.month == 1 and day.day == 1:
        weight *= 0.25
    elif day.month == 1 and day.day <= 3 and region == "apac":
        weight *= 1.6  # hatsuuri, Japanese New Year sales
    if region == "apac" and ((day.month == 4 and day.day >= 29) or (day.month == 5 and day.day <= 5)):
        weight *= 1.5  # Golden Week
    return weight


def _promo_day(day: date) -> bool:
    bf = _black_friday(day.year)
    return bf - timedelta(days=3) <= day <= bf + timedelta(days=4) or (day.month == 12 and day.day >= 26)


# --- Plan -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Plan:
    start: date
    end: date
    order_lines: int
    seed: int
    days: tuple[date, ...]
    regions: tuple[str, ...]
    web_lines: int
    pos_lines: int
    n_skus: int
    stores_per_region: tuple[int, ...]
    reps_per_region: tuple[int, ...]
    n_opportunities: int
    n_accounts: int
    n_campaigns: int

    @property
    def start_us(self) -> int:
        return _day_us(self.start)

    @property
    def end_us(self) -> int:
        """Exclusive: midnight after the last business day."""
        return _day_us(self.end) + _DAY

    @property
    def region_weights(self) -> np.ndarray:
        return np.array([REGION_WEIGHTS[r] for r in self.regions])

    def currency(self, region_idx: int) -> str:
        return REGIONS[self.regions[region_idx]].currency

    @property
    def decimals(self) -> np.ndarray:
        return np.array([CURRENCY_DECIMALS[self.currency(i)] for i in range(len(self.regions))])


def _make_plan(start: date, end: date, order_lines: int, seed: int) -> _Plan:
    regions = tuple(REGION_CODES)
    for r in regions:
        if r not in REGION_WEIGHTS or not any(c.region == r for c in _COUNTRIES.values()):
            raise ValueError(f"region {r!r} from settings has no generator reference data")
    scale = max(order_lines, 1)
    store_base = 2 + 1.6 * np.log10(max(1.0, scale / 5000))
    rep_base = 4 + 3 * np.log10(max(1.0, scale / 20000))
    bonus = {"na": 1, "emea": 1}
    n_opp = max(200, order_lines // 100)
    return _Plan(
        start=start,
        end=end,
        order_lines=order_lines,
        seed=seed,
        days=tuple(start + timedelta(days=i) for i in range((end - start).days + 1)),
        regions=regions,
        web_lines=round(order_lines * WEB_SHARE),
        pos_lines=order_lines - round(order_lines * WEB_SHARE),
        n_skus=int(np.clip(100 + 40 * np.log10(max(1.0, scale / 2000)), 100, 300)),
        stores_per_region=tuple(int(np.clip(store_base + bonus.get(r, 0), 2, 6)) for r in regions),
        reps_per_region=tuple(int(np.clip(round(rep_base) + (r == "na"), 4, 10)) for r in regions),
        n_opportunities=n_opp,
        n_accounts=max(60, n_opp // 3),
        n_campaigns=int(np.clip(8 + 4 * np.log10(max(1.0, scale / 2000)), 8, 24)),
    )


# --- Product catalogue ------------------------------------------------------------------------


@dataclass
class _Catalogue:
    frame: pl.DataFrame  # the warehouse products table
    skus: pl.Series  # catalogue SKUs, then the POS-local ones
    category: np.ndarray
    web_popularity: np.ndarray
    pos_popularity: np.ndarray
    companion: np.ndarray  # bundle partner per product (-1 for none)
    subcategory: np.ndarray  # subcategory index per catalogue product
    price: np.ndarray  # (regions, skus + local skus) local list prices
    in_crm: np.ndarray  # bool per catalogue product: also a CRM Product2


def _build_catalogue(plan: _Plan) -> _Catalogue:
    rng = _rng(plan.seed, "catalogue")
    counts = _alloc(plan.n_skus, [s[7] for s in _SUBCATEGORIES], minimum=2)
    rows: dict[str, list[Any]] = {k: [] for k in ("sku", "product_name", "category", "subcategory", "brand")}
    sub_of: list[int] = []
    price_usd: list[float] = []
    margin: list[float] = []
    for s_idx, (spec, n) in enumerate(zip(_SUBCATEGORIES, counts, strict=True)):
        cat, cat_code, sub, sub_code, lo, hi, m, _w, _comp, brands, nouns = spec
        for i in range(int(n)):
            brand = brands[i % len(brands)]
            noun = nouns[(i // len(brands)) % len(nouns)]
            rows["sku"].append(f"{cat_code}-{sub_code}-{i + 1:04d}")
            rows["product_name"].append(f"{brand} {noun} {'SXMPLA'[i % 6]}{i // 6 + 1}")
            rows["category"].append(cat)
            rows["subcategory"].append(sub)
            rows["brand"].append(brand)
            sub_of.append(s_idx)
            price_usd.append(float(np.exp(rng.uniform(np.log(lo), np.log(hi)))))
            margin.append(float(np.clip(rng.normal(m, 0.08), 0.04, 0.85)))
    n = len(sub_of)
    price = np.array(price_usd)
    price = np.where(price >= 10, np.floor(price) + 0.99, np.round(price * 2) / 2 - 0.01)
    cost = np.round(price * (1 - np.array(margin)), 2)
    # A few loss-making products (clearance, loss leaders) so margin analysis has negatives.
    losers = rng.choice(n, size=3 + n // 100, replace=False)
    cost[losers] = np.round(price[losers] * rng.uniform(1.05, 1.25, len(losers)), 2)
    sub_arr = np.array(sub_of)
    cats = np.array([_SUBCATEGORIES[s][0] for s in sub_of])
    category_codes = sorted({s[0] for s in _SUBCATEGORIES})
    category = np.array([category_codes.index(c) for c in cats])

    base_pop = 1.0 / (rng.permutation(n) + 1.0) ** 0.9 * np.array([_SUBCATEGORIES[s][7] for s in sub_of])
    popularity = {}
    for channel, boosts in _CHANNEL_CATEGORY_BOOST.items():
        boost = np.array([boosts.get(c, 1.0) for c in cats])
        popularity[channel] = base_pop * boost / (base_pop * boost).sum()

    sub_codes = [s[3] for s in _SUBCATEGORIES]
    companion = np.full(n + len(POS_LOCAL_SKUS), -1, dtype=np.int64)
    for s_idx, spec in enumerate(_SUBCATEGORIES):
        members = np.flatnonzero(sub_arr == s_idx)
        partners = np.flatnonzero(sub_arr == sub_codes.index(spec[8]))
        for p in members:
            options = partners[partners != p]
            if len(options):
                companion[p] = options[rng.integers(len(options))]

    local_usd = np.array([p for _, p in POS_LOCAL_SKUS])
    prices = np.zeros((len(plan.regions), n + len(POS_LOCAL_SKUS)))
    for r_idx, region in enumerate(plan.regions):
        ccy = plan.currency(r_idx)
        local = price * REGION_PRICE_FACTOR[region] / BASE_USD_PER_UNIT[ccy]
        if CURRENCY_DECIMALS[ccy] == 0:
            local = np.round(local, -1)
        else:
            # Price points: 24.99 above ten, 6.49 / 6.99 below.
            local = np.where(local >= 10, np.floor(local) + 0.99, np.maximum(np.round(local * 2) / 2 - 0.01, 0.49))
        # Local items have fixed shelf prices (a 0.10 bag, a 15 yen bag), not converted ones.
        step = 5.0 if CURRENCY_DECIMALS[ccy] == 0 else 0.05
        fixed = np.round(np.maximum(np.round(local_usd / BASE_USD_PER_UNIT[ccy] / step), 1) * step, 2)
        prices[r_idx] = np.concatenate([local, fixed])

    updated = plan.start_us - rng.integers(30, 700, n) * _DAY + rng.integers(0, _DAY, n)
    changed = rng.random(n) < 0.1  # price reviews during the window
    updated[changed] = plan.start_us + rng.integers(0, plan.end_us - plan.start_us, int(changed.sum()))
    frame = pl.DataFrame(
        {
            **rows,
            "list_price_usd": price,
            "standard_cost_usd": cost,
            "updated_at": _ts("updated_at", updated),
        }
    )
    skus = pl.Series("sku", [*rows["sku"], *(s for s, _ in POS_LOCAL_SKUS)], dtype=pl.String)
    # B2B-relevant products are the ones sales sells; about two thirds of the catalogue.
    in_crm = rng.random(n) < np.where(np.isin(cats, ["Electronics", "Home", "Sports"]), 0.8, 0.45)
    return _Catalogue(
        frame=frame,
        skus=skus,
        category=category,
        web_popularity=popularity["web"],
        pos_popularity=popularity["pos"],
        companion=companion,
        subcategory=sub_arr,
        price=prices,
        in_crm=in_crm,
    )


# Share of an identified web buyer's own picks from their favourite subcategory (a runner keeps buying
# running gear). Without a taste, every customer is the same popularity draw and no recommender can
# tell them apart; real shoppers are not like that.
TASTE_SHARE = 0.6


def _tastes(plan: _Plan, cat: _Catalogue, people: int) -> np.ndarray:
    """A favourite subcategory per person, as common as the subcategory sells on the web."""
    rng = _rng(plan.seed, "taste")  # its own stream: the other draws stay as they were
    weights = np.bincount(cat.subcategory, weights=cat.web_popularity[: len(cat.subcategory)])
    return rng.choice(len(weights), size=people, p=weights / weights.sum())


def _taste_picks(plan: _Plan, cat: _Catalogue, popularity: np.ndarray, sku: np.ndarray, taste: np.ndarray) -> None:
    """Replace TASTE_SHARE of the lines with a popularity draw from the buyer's favourite subcategory."""
    rng = _rng(plan.seed, "taste-picks")
    picks = rng.random(len(sku)) < TASTE_SHARE
    for sub in np.unique(taste[picks]):
        at = np.flatnonzero(picks & (taste == sub))
        members = np.flatnonzero(cat.subcategory == sub)
        weights = popularity[members]
        sku[at] = members[rng.choice(len(members), size=len(at), p=weights / weights.sum())]


def _draw_skus(
    rng: np.random.Generator,
    cat: _Catalogue,
    popularity: np.ndarray,
    line_no: np.ndarray,
    taste: tuple[_Plan, np.ndarray] | None = None,
) -> np.ndarray:
    """Products for order lines: popularity-weighted (part by the buyer's taste), then bundle partners follow."""
    sku = rng.choice(len(popularity), size=len(line_no), p=popularity)
    if taste is not None:
        _taste_picks(taste[0], cat, popularity, sku, taste[1])
    follow = rng.random(len(line_no)) < 0.35
    # Level by level so a chain (phone -> case -> charger) forms inside one order.
    for k in range(2, int(line_no.max(initial=1)) + 1):
        at = np.flatnonzero((line_no == k) & follow)
        partner = cat.companion[sku[at - 1]]
        ok = partner >= 0
        sku[at[ok]] = partner[ok]
    return sku


# --- People -----------------------------------------------------------------------------------


@dataclass
class _Accounts:
    region: np.ndarray
    household: np.ndarray
    contacts: np.ndarray  # contacts per account


def _plan_accounts(plan: _Plan) -> _Accounts:
    rng = _rng(plan.seed, "accounts")
    counts = _alloc(plan.n_accounts, plan.region_weights, minimum=8)
    region = np.repeat(np.arange(len(plan.regions)), counts)
    region = region[rng.permutation(len(region))]
    household = rng.random(len(region)) < 0.25
    contacts = np.where(household, rng.integers(1, 3, len(region)), rng.integers(1, 4, len(region)))
    return _Accounts(region=region, household=household, contacts=contacts)


@dataclass
class _People:
    frame: pl.DataFrame  # one row per person; row index = person index
    web_by_region: list[np.ndarray]
    web_weight_by_region: list[np.ndarray]
    loyal_by_region: list[np.ndarray]
    loyal_weight_by_region: list[np.ndarray]
    contacts_by_region: list[np.ndarray]  # persons who are CRM contacts, in contact order
    identity_cases: pl.DataFrame  # injected hard cases (identity_cases.CASES_SCHEMA)


def _name_tables() -> tuple[list[str], dict[str, tuple[int, int, int, int]], pl.Series, pl.Series]:
    """Flat first/last name lists with per-culture ranges and 5 spelling variants each.

    Variant codes: 0 as registered, 1 accents stripped, 2 nickname, 3 typo, 4 nickname in quotes.
    """
    firsts: list[str] = []
    lasts: list[str] = []
    ranges: dict[str, tuple[int, int, int, int]] = {}
    for culture, (fs, ls) in _NAMES.items():
        ranges[culture] = (len(firsts), len(fs), len(lasts), len(ls))
        firsts.extend(fs)
        lasts.extend(ls)
    first_variants = [
        *firsts,
        *(_ascii(f) for f in firsts),
        *(_NICKNAMES.get(f, f) for f in firsts),
        *(_typo(f) for f in firsts),
        *(f'{f} "{_NICKNAMES[f]}"' if f in _NICKNAMES else f for f in firsts),
    ]
    last_variants = [*lasts, *(_ascii(x) for x in lasts), *lasts, *(_typo(x) for x in lasts), *lasts]
    return (
        [*firsts, *lasts],
        ranges,
        pl.Series(first_variants, dtype=pl.String),
        pl.Series(last_variants, dtype=pl.String),
    )


def _build_people(plan: _Plan, accounts: _Accounts) -> _People:
    rng = _rng(plan.seed, "people")
    n_regions = len(plan.regions)
    est_web_orders = plan.web_lines / 2.0
    est_loyal_tx = plan.pos_lines / 1.7 * 0.45
    n_web = max(120, int(0.5 * est_web_orders))
    n_loyal = max(80, int(0.3 * est_loyal_tx))
    n_both = int(0.35 * n_loyal)
    contacts_r = np.bincount(accounts.region, weights=accounts.contacts, minlength=n_regions).astype(int)
    # Categories: 0 web only, 1 POS only, 2 web and POS, 3 CRM only (contacts nobody else knows).
    per_cat = [
        _alloc(n_web - n_both, plan.region_weights, 10),
        _alloc(n_loyal - n_both, plan.region_weights, 10),
        _alloc(n_both, plan.region_weights, 5),
    ]
    cross_r = np.minimum(np.round(contacts_r * 0.65).astype(int), per_cat[0] + per_cat[1] + per_cat[2])
    per_cat.append(contacts_r - cross_r)
    region = np.concatenate([np.repeat(np.arange(n_regions), c) for c in per_cat])
    category = np.concatenate([np.full(int(c.sum()), k) for k, c in enumerate(per_cat)])
    perm = rng.permutation(len(region))
    region, category = region[perm], category[perm]
    n = len(region)

    # Country, city and names follow the region.
    countries = list(_COUNTRIES.values())
    country_idx = np.zeros(n, dtype=np.int64)
    for r_idx, r in enumerate(plan.regions):
        members = np.flatnonzero(region == r_idx)
        options = [i for i, c in enumerate(countries) if c.region == r and c.code in REGIONS[r].countries]
        weights = np.array([countries[i].weight for i in options])
        country_idx[members] = np.array(options)[rng.choice(len(options), len(members), p=weights / weights.sum())]
    city_names: list[str] = []
    city_area: list[str] = []
    city_idx = np.zeros(n, dtype=np.int64)
    _, ranges, first_v, last_v = _name_tables()
    n_first, n_last = len(first_v) // 5, len(last_v) // 5
    first_idx = np.zeros(n, dtype=np.int64)
    last_idx = np.zeros(n, dtype=np.int64)
    for c_idx, country in enumerate(countries):
        members = np.flatnonzero(country_idx == c_idx)
        w = np.array([c[3] for c in country.cities])
        city_idx[members] = len(city_names) + rng.choice(len(w), len(members), p=w / w.sum())
        city_names.extend(c[0] for c in country.cities)
        city_area.extend(c[1] for c in country.cities)
        f0, fn, l0, ln = ranges[country.names]
        first_idx[members] = f0 + rng.integers(0, fn, len(members))
        last_idx[members] = l0 + rng.integers(0, ln, len(members))

    first = first_v.gather(first_idx)
    last = last_v.gather(last_idx)
    email_first = pl.Series([_email_part(x) for x in first_v[:n_first].to_list()]).gather(first_idx)
    email_last = pl.Series([_email_part(x) for x in last_v[:n_last].to_list()]).gather(last_idx)
    nanp = np.array([countries[i].nanp for i in country_idx])
    # A bijective scramble of the person index: unique, random-looking subscriber numbers.
    person = np.arange(n, dtype=np.int64)
    sub = np.where(
        nanp, 2_000_000 + (person * 7919 + 1_234_567) % 8_000_000, 10_000_000 + (person * 7919 + 4_321) % 90_000_000
    )
    domain_pick = rng.integers(0, 4, n)
    tld = np.array([countries[i].tld for i in country_idx])
    frame = pl.DataFrame(
        {
            "person": person,
            "region": region,
            "category": category,
            "country": _take([c.code for c in countries], country_idx),
            "city": _take(city_names, city_idx),
            "first": first,
            "last": last,
            "ef": email_first,
            "el": email_last,
            "cc": _take([c.phone_cc for c in countries], country_idx),
            "area": _take(city_area, city_idx),
            "sub": pl.Series(sub).cast(pl.String),
            "nanp": nanp,
            "domain": pl.Series(
                np.where(
                    domain_pick == 3,
                    np.char.add(tld, ".example.com"),
                    np.array(["example.com", "example.net", "example.org", ""])[domain_pick],
                )
            ),
        }
    )
    sub_a = pl.when(pl.col("nanp")).then(pl.col("sub").str.slice(0, 3)).otherwise(pl.col("sub").str.slice(0, 4))
    sub_b = pl.when(pl.col("nanp")).then(pl.col("sub").str.slice(3)).otherwise(pl.col("sub").str.slice(4))
    trunk = pl.when(pl.col("nanp")).then(pl.lit("")).otherwise(pl.lit("0"))
    frame = frame.with_columns(k=pl.int_range(pl.len()).over("ef", "el")).with_columns(
        email=pl.concat_str(
            "ef",
            pl.lit("."),
            "el",
            pl.when(pl.col("k") > 0).then(pl.col("k").cast(pl.String)).otherwise(pl.lit("")),
            pl.lit("@"),
            "domain",
        ),
        phone_intl=pl.concat_str(pl.lit("+"), "cc", pl.lit(" "), "area", pl.lit(" "), sub_a, pl.lit(" "), sub_b),
        phone_dashed=pl.concat_str(trunk, "area", pl.lit("-"), sub_a, pl.lit("-"), sub_b),
        phone_paren=pl.concat_str(
            pl.lit("("),
            trunk,
            "area",
            pl.lit(") "),
            sub_a,
            pl.when(pl.col("nanp")).then(pl.lit("-")).otherwise(pl.lit(" ")),
            sub_b,
        ),
        phone_compact=pl.concat_str(pl.lit("+"), "cc", "area", "sub"),
    )

    # Spelling variants per system: a store clerk or a sales rep types what they hear.
    def variant(series: pl.Series, size: int, probs: Sequence[float], part: str) -> pl.Series:
        code = rng.choice(len(probs), n, p=probs)
        base = first_idx if part == "first" else last_idx
        return series.gather(code * size + base)

    def email_variant(probs: Sequence[float]) -> pl.Expr:
        code = pl.Series(rng.choice(len(probs), n, p=probs))
        email = pl.col("email")
        return (
            pl.when(pl.lit(code) == 0)
            .then(email)
            .when(pl.lit(code) == 1)
            .then(email.str.to_titlecase())
            .when(pl.lit(code) == 2)
            .then(email.str.to_uppercase())
            .when(pl.lit(code) == 3)
            .then(pl.concat_str(pl.lit(" "), email, pl.lit(" ")))
            .otherwise(None)
        )

    def phone_variant(probs: Sequence[float]) -> pl.Expr:
        code = pl.Series(rng.choice(len(probs), n, p=probs))
        return (
            pl.when(pl.lit(code) == 0)
            .then(pl.col("phone_dashed"))
            .when(pl.lit(code) == 1)
            .then(pl.col("phone_intl"))
            .when(pl.lit(code) == 2)
            .then(pl.col("phone_compact"))
            .when(pl.lit(code) == 3)
            .then(pl.col("phone_paren"))
            .otherwise(None)
        )

    frame = frame.with_columns(
        pos_first=variant(first_v, n_first, (0.66, 0.12, 0.08, 0.10, 0.04), "first"),
        pos_last=variant(last_v, n_last, (0.82, 0.08, 0.0, 0.10, 0.0), "last"),
        crm_first=variant(first_v, n_first, (0.75, 0.08, 0.12, 0.05, 0.0), "first"),
        crm_last=variant(last_v, n_last, (0.88, 0.07, 0.0, 0.05, 0.0), "last"),
        pos_email=email_variant((0.65, 0.12, 0.05, 0.08, 0.10)),
        crm_email=email_variant((0.60, 0.25, 0.0, 0.15, 0.0)),
        pos_phone=phone_variant((0.55, 0.20, 0.10, 0.0, 0.15)),
        crm_phone=phone_variant((0.0, 0.35, 0.20, 0.45, 0.0)),
    )

    # Web customers: segment, signup time, a heavy-tailed purchase frequency.
    is_web = np.isin(category, (0, 2))
    is_loyal = np.isin(category, (1, 2))
    segment = np.where(is_web, rng.choice(len(SEGMENTS), n, p=SEGMENT_WEIGHTS), -1)
    created = plan.start_us - rng.integers(1, 1500, n) * _DAY - rng.integers(0, _DAY, n)
    touched = rng.random(n) < 0.3
    updated = np.where(touched, created + (rng.random(n) * (plan.end_us - 1 - created)).astype(np.int64), created)
    web_rank = np.full(n, -1, dtype=np.int64)
    web_people = np.flatnonzero(is_web)
    web_rank[web_people[np.argsort(created[web_people], kind="stable")]] = np.arange(len(web_people))
    loyal_no = np.full(n, -1, dtype=np.int64)
    loyal_people = np.flatnonzero(is_loyal)
    loyal_no[loyal_people] = rng.permutation(len(loyal_people)) + 100_001
    frame = frame.with_columns(
        segment=_take(SEGMENTS, segment),
        created_us=pl.Series(created),
        updated_us=pl.Series(updated),
        customer_id=pl.when(pl.Series(web_rank) >= 0).then(
            pl.concat_str(pl.lit("C"), pl.Series(web_rank + 1).cast(pl.String).str.zfill(8))
        ),
        loyalty_id=pl.when(pl.Series(loyal_no) >= 0).then(
            pl.concat_str(pl.lit("L"), pl.Series(loyal_no).cast(pl.String).str.zfill(9))
        ),
    )
    seg_factor = np.array([1.0, 1.8, 3.0])[np.maximum(segment, 0)]
    web_weight = (rng.pareto(1.3, n) + 1.0) * seg_factor
    loyal_weight = rng.pareto(1.5, n) + 1.0

    web_by_region, web_w, loyal_by_region, loyal_w, contacts_by_region = [], [], [], [], []
    for r_idx in range(n_regions):
        in_r = region == r_idx
        members = np.flatnonzero(in_r & is_web)
        web_by_region.append(members)
        web_w.append(web_weight[members] / web_weight[members].sum())
        members = np.flatnonzero(in_r & is_loyal)
        loyal_by_region.append(members)
        loyal_w.append(loyal_weight[members] / loyal_weight[members].sum())
        # Contacts: business customers known elsewhere first, then CRM-only people.
        cross = np.flatnonzero(in_r & (category != 3))
        priority = np.where(is_web[cross] & (segment[cross] > 0), 0, 1)
        cross = cross[np.lexsort((rng.random(len(cross)), priority))][: cross_r[r_idx]]
        crm_only = np.flatnonzero(in_r & (category == 3))
        chosen = np.concatenate([cross, crm_only])
        contacts_by_region.append(chosen[rng.permutation(len(chosen))])
    # Hard identity cases draw from their own stream, after every other draw: nothing above moves.
    frame, cases = inject_identity_cases(frame, _rng(plan.seed, "identity_cases"))
    return _People(
        frame=frame.drop("ef", "el", "cc", "area", "sub", "nanp", "domain", "k"),
        identity_cases=cases,
        web_by_region=web_by_region,
        web_weight_by_region=web_w,
        loyal_by_region=loyal_by_region,
        loyal_weight_by_region=loyal_w,
        contacts_by_region=contacts_by_region,
    )


# --- Writers ----------------------------------------------------------------------------------


def _conform(table: SourceTable, frame: pl.DataFrame) -> pl.DataFrame:
    """Exactly the contract's columns; an optional one the sample does not model is written empty."""
    return frame.select(
        [pl.col(c).cast(t) if c in frame.columns else pl.lit(None, dtype=t).alias(c) for c, t in table.columns.items()]
    )


def _sf_field_type(name: str, dtype: pl.DataType) -> str:
    if name == "Id":
        return "id"
    if dtype == pl.Boolean:
        return "boolean"
    if dtype == UTC_DATETIME:
        return "datetime"
    if dtype == pl.Date:
        return "date"
    if name in ("Amount", "UnitPrice", "TotalPrice", "BudgetedCost", "ActualCost", "Amount__c"):
        return "currency"
    if name in ("Probability", "Credit_Split__c"):
        return "percent"
    if dtype == pl.Float64:
        return "double"
    if name.endswith("Id") or name == "User__c":
        return "reference"
    if name == "Email":
        return "email"
    if name == "Phone":
        return "phone"
    picklists = {"Type", "Industry", "StageName", "LeadSource", "Status", "Family", "CurrencyIsoCode", "TeamMemberRole"}
    if name in picklists or name in ("Region__c", "Territory__c"):
        return "picklist"
    return "string"


_SF_NOT_NILLABLE = {"Id", "IsDeleted", "SystemModstamp", "CreatedDate", "Name", "LastName", "StageName", "CloseDate"}


def describe_object(table: SourceTable) -> dict[str, Any]:
    """The object's describe() answer, reduced to what the readers use."""
    return {
        "name": table.name,
        "queryable": True,
        "fields": [
            {"name": c, "type": _sf_field_type(c, t), "nillable": c not in _SF_NOT_NILLABLE}
            for c, t in table.columns.items()
        ],
    }


def _write_sf_object(crm_dir: Path, table: SourceTable, frame: pl.DataFrame) -> int:
    """Write REST query-result pages, one per SystemModstamp day (or ``_page_day`` if given)."""
    folder = crm_dir / table.name
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "_describe.json").write_text(json.dumps(describe_object(table), indent=2) + "\n")
    if "_page_day" not in frame.columns:
        frame = frame.with_columns(_page_day=pl.col("SystemModstamp").dt.date())
    frame = frame.with_row_index("_seq").sort("_page_day", "SystemModstamp", "Id", "_seq")
    formatted = [
        pl.col(c).dt.strftime("%Y-%m-%dT%H:%M:%S%.3f+0000")
        if t == UTC_DATETIME
        else pl.col(c).dt.strftime("%Y-%m-%d")
        if t == pl.Date
        else pl.col(c).cast(t)
        for c, t in table.columns.items()
    ]
    url = f"/services/data/{SF_API_VERSION}/sobjects/{table.name}/"
    pages = frame.select(
        "_page_day",
        pl.struct(type=pl.lit(table.name), url=pl.concat_str(pl.lit(url), pl.col("Id"))).alias("attributes"),
        *formatted,
    )
    for (day,), page in pages.partition_by("_page_day", maintain_order=True, as_dict=True).items():
        records = page.drop("_page_day").write_json()
        (folder / f"{day.isoformat()}.json").write_text(
            f'{{"totalSize": {page.height}, "done": true, "records": {records}}}\n', encoding="utf-8"
        )
    return frame.height


def _reference_modstamps(rng: np.random.Generator, plan: _Plan, created: np.ndarray) -> np.ndarray:
    """Most master records were last touched before the window: they land in its first days."""
    n = len(created)
    first_days = min(3, len(plan.days)) * _DAY
    initial = plan.start_us + rng.integers(0, first_days, n)
    spread = plan.start_us + rng.integers(0, plan.end_us - plan.start_us, n)
    stamp = np.where(rng.random(n) < 0.7, initial, spread)
    return np.clip(np.maximum(stamp, created + _SEC), plan.start_us, plan.end_us - _SEC)


# --- CRM --------------------------------------------------------------------------------------


@dataclass
class _Crm:
    frames: dict[str, pl.DataFrame]  # finished objects (all but Opportunity and its line items)
    product_ids: dict[str, str]  # ProductCode -> Product2 Id
    product_codes: list[str]
    product_price: np.ndarray  # (regions, products) local price
    product_family: list[str]
    opp: pl.DataFrame  # one row per opportunity
    versions: pl.DataFrame  # one row per opportunity record version (before defects)
    link_requests: pl.DataFrame  # opp, region, day: deals to fulfil with a web order
    contact_person: np.ndarray
    contact_ids: pl.Series
    history: dict[str, Any]  # counts of reassignments, account-team records, transfers, cancellations


def _build_users(plan: _Plan, rng: np.random.Generator) -> tuple[pl.DataFrame, list[np.ndarray]]:
    _, ranges, first_v, last_v = _name_tables()
    rows: list[dict[str, Any]] = []
    reps: list[np.ndarray] = []
    culture = {"na": "en_us", "emea": "de", "uk": "en_gb", "apac": "ja"}

    def person(c: str) -> tuple[str, str]:
        f0, fn, l0, ln = ranges[c]
        return str(first_v[f0 + int(rng.integers(fn))]), str(last_v[l0 + int(rng.integers(ln))])

    def add(first: str, last: str, title: str, manager: int | None, region: str | None, territory: str | None) -> int:
        idx = len(rows)
        rows.append(
            {
                "n": idx + 1,
                "Name": f"{first} {last}",
                "Email": f"{_email_part(first)}.{_email_part(last)}{idx + 1}@sales360.example.com",
                "Title": title,
                "manager": manager,
                "Region__c": region,
                "Territory__c": territory,
            }
        )
        return idx

    vp = add(*person("en_us"), "VP Sales", None, None, None)
    for r_idx, region in enumerate(plan.regions):
        manager = add(*person(culture[region]), "Regional Sales Manager", vp, region, None)
        ids = [
            add(*person(culture[region]), "Account Executive", manager, region, TERRITORIES[region][i % 4])
            for i in range(plan.reps_per_region[r_idx])
        ]
        reps.append(np.array(ids))
    n = len(rows)
    created = plan.start_us - rng.integers(60, 2500, n) * _DAY
    frame = pl.DataFrame(rows).with_columns(
        _sf_ids("Id", "005", np.arange(1, n + 1)),
        pl.when(pl.col("manager").is_not_null())
        .then(pl.concat_str(pl.lit("005"), (pl.col("manager") + 1).cast(pl.String).str.zfill(15)))
        .alias("ManagerId"),
        pl.lit(True).alias("IsActive"),
        _ts("CreatedDate", created),
        _ts("SystemModstamp", _reference_modstamps(rng, plan, created)),
        pl.lit(False).alias("IsDeleted"),
    )
    return frame, reps


def _plan_crm(plan: _Plan, people: _People, accounts: _Accounts, cat: _Catalogue) -> _Crm:
    rng = _rng(plan.seed, "crm")
    n_regions = len(plan.regions)
    users, reps = _build_users(plan, rng)
    # History (reassignments, account teams, transfers, cancellations) draws from its own stream so
    # that it does not reshuffle the rest of the CRM.
    rng_history = _rng(plan.seed, "crm-history")
    users, moves = _plan_reassignments(plan, rng_history, users, reps)
    user_ids = users["Id"]

    # Accounts and their contacts.
    n_acc = len(accounts.region)
    owner = np.zeros(n_acc, dtype=np.int64)
    for r_idx in range(n_regions):
        members = np.flatnonzero(accounts.region == r_idx)
        owner[members] = reps[r_idx][rng.integers(0, len(reps[r_idx]), len(members))]
    contact_account = np.concatenate(
        [
            np.repeat(np.flatnonzero(accounts.region == r), accounts.contacts[accounts.region == r])
            for r in range(n_regions)
        ]
    )
    contact_person = np.concatenate(people.contacts_by_region)
    pf = people.frame
    # The account's first contact decides its country (and a household's name).
    first_contact = np.full(n_acc, -1, dtype=np.int64)
    with_contact, first_at = np.unique(contact_account, return_index=True)
    first_contact[with_contact] = contact_person[first_at]
    country = pf["country"].to_numpy()
    acc_country = country[first_contact]
    acc_city = pf["city"].to_numpy()[first_contact]
    words = [f"{a} {b}" for a in _ACCOUNT_WORDS_A for b in _ACCOUNT_WORDS_B]
    suffix = np.array(
        [
            _LEGAL_SUFFIX[c][int(i) % len(_LEGAL_SUFFIX[c])]
            for c, i in zip(acc_country, rng.integers(0, 6, n_acc), strict=True)
        ]
    )
    company = np.char.add(np.char.add(np.array(words)[rng.integers(0, len(words), n_acc)], " "), suffix)
    acc_created = plan.start_us - rng.integers(30, 1500, n_acc) * _DAY - rng.integers(0, _DAY, n_acc)
    new_acc = rng.random(n_acc) < 0.1  # signed during the window
    acc_created[new_acc] = plan.start_us + rng.integers(
        0, max(1, (plan.end_us - plan.start_us) // 2), int(new_acc.sum())
    )
    team, owner, transfers = _plan_account_teams(
        plan,
        rng_history,
        accounts,
        owner,
        acc_created,
        reps,
        moves,
        user_ids,
        _sf_ids("Id", "001", np.arange(1, n_acc + 1)),
    )
    acc_sub = 10_000_000 + (np.arange(n_acc) * 104_729 + 99_991) % 90_000_000
    cc = np.array([_COUNTRIES[c].phone_cc for c in acc_country])
    area = np.array(
        [
            next(a for city, a, _, _ in _COUNTRIES[c].cities if city == ct)
            for c, ct in zip(acc_country, acc_city, strict=True)
        ]
    )
    account = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "001", np.arange(1, n_acc + 1)),
            "company": company,
            "household_of": pf["crm_last"].gather(first_contact),
            "household": accounts.household,
            "BillingCountry": acc_country,
            "BillingCity": acc_city,
            "Phone": np.char.add(
                np.char.add(np.char.add(np.char.add("+", cc), " "), np.char.add(area, " ")), acc_sub.astype(str)
            ),
            "OwnerId": user_ids.gather(owner),
            "Region__c": _take(plan.regions, accounts.region),
            "CreatedDate": _ts("CreatedDate", acc_created),
            "SystemModstamp": _ts("SystemModstamp", _reference_modstamps(rng, plan, acc_created)),
            "IsDeleted": np.zeros(n_acc, dtype=bool),
            "_industry": _take(_INDUSTRIES, rng.integers(0, len(_INDUSTRIES), n_acc)),
            "_type": _take(
                ("Customer - Direct", "Customer - Channel", "Prospect"), rng.choice(3, n_acc, p=(0.6, 0.15, 0.25))
            ),
        }
    )
    account = account.with_columns(
        Name=pl.when("household").then(pl.concat_str("household_of", pl.lit(" Household"))).otherwise("company"),
        Type=pl.when("household").then(pl.lit("Household")).otherwise("_type"),
        Industry=pl.when("household").then(None).otherwise("_industry"),
    )
    # Duplicate company names happen in CRMs, but here they would be noise nobody asked for.
    account = account.with_columns(
        Name=pl.when(pl.int_range(pl.len()).over("Name") > 0)
        .then(
            pl.concat_str(
                "Name",
                pl.lit(" ("),
                "BillingCity",
                pl.lit(") "),
                (pl.int_range(pl.len()).over("Name") + 1).cast(pl.String),
            )
        )
        .otherwise("Name")
    )
    n_con = len(contact_person)
    con_created = np.minimum(acc_created[contact_account] + rng.integers(0, 400, n_con) * _DAY, plan.end_us - _HOUR)
    contact = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "003", np.arange(1, n_con + 1)),
            "AccountId": account["Id"].gather(contact_account),
            "FirstName": pf["crm_first"].gather(contact_person),
            "LastName": pf["crm_last"].gather(contact_person),
            "Email": pf["crm_email"].gather(contact_person),
            "Phone": pf["crm_phone"].gather(contact_person),
            "MailingCountry": pf["country"].gather(contact_person),
            "OwnerId": account["OwnerId"].gather(contact_account),
            "CreatedDate": _ts("CreatedDate", con_created),
            "SystemModstamp": _ts("SystemModstamp", _reference_modstamps(rng, plan, con_created)),
            "IsDeleted": np.zeros(n_con, dtype=bool),
        }
    )

    # Product2: part of the catalogue plus CRM-only service codes.
    catalogue = cat.frame
    crm_idx = np.flatnonzero(cat.in_crm)
    codes = [*catalogue["sku"].gather(crm_idx).to_list(), *(c for c, _, _ in CRM_ONLY_PRODUCTS)]
    names = [*catalogue["product_name"].gather(crm_idx).to_list(), *(nm for _, nm, _ in CRM_ONLY_PRODUCTS)]
    family = [*catalogue["category"].gather(crm_idx).to_list(), *("Services" for _ in CRM_ONLY_PRODUCTS)]
    n_prod = len(codes)
    service_usd = np.array([p for _, _, p in CRM_ONLY_PRODUCTS])
    product_price = np.zeros((n_regions, n_prod))
    for r_idx in range(n_regions):
        ccy = plan.currency(r_idx)
        services = np.round(service_usd / BASE_USD_PER_UNIT[ccy], CURRENCY_DECIMALS[ccy])
        product_price[r_idx] = np.concatenate([cat.price[r_idx, crm_idx], services])
    prod_created = plan.start_us - rng.integers(100, 900, n_prod) * _DAY
    active = rng.random(n_prod) > 0.03
    active[len(crm_idx) :] = True
    product2 = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "01t", np.arange(1, n_prod + 1)),
            "Name": names,
            "ProductCode": codes,
            "Family": family,
            "IsActive": active,
            "SystemModstamp": _ts("SystemModstamp", _reference_modstamps(rng, plan, prod_created)),
            "IsDeleted": np.zeros(n_prod, dtype=bool),
        }
    )

    # Campaigns, per region, scattered around the window.
    n_camp = plan.n_campaigns
    camp_region = np.arange(n_camp) % n_regions
    window_days = len(plan.days)
    start_day = (plan.start - _EPOCH).days
    camp_start = start_day - rng.integers(0, 61, n_camp) + (rng.random(n_camp) * window_days).astype(np.int64)
    camp_end = camp_start + rng.integers(7, 46, n_camp)
    end_day = (plan.end - _EPOCH).days
    budget = np.round(rng.uniform(5_000, 80_000, n_camp) / 500) * 500
    elapsed = np.clip((end_day - camp_start + 1) / (camp_end - camp_start + 1), 0, 1)
    actual = np.where(camp_start > end_day, np.nan, np.round(budget * elapsed * rng.uniform(0.75, 1.15, n_camp), 2))
    status = np.where(camp_start > end_day, "Planned", np.where(camp_end >= end_day, "In Progress", "Completed"))
    # Set up a week before launch; campaigns launched before the window land in its first days.
    camp_stamp = (camp_start - 7) * _DAY + rng.integers(0, _DAY, n_camp)
    early = plan.start_us + rng.integers(0, min(3, window_days) * _DAY, n_camp)
    camp_stamp = np.minimum(np.where(camp_stamp < plan.start_us, early, camp_stamp), plan.end_us - _SEC)
    camp_year = [(_EPOCH + timedelta(days=int(d))).year for d in camp_start]
    campaign = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "701", np.arange(1, n_camp + 1)),
            "Name": [
                f"{_CAMPAIGN_THEMES[int(t)]} {y} - {plan.regions[r].upper()}"
                for t, y, r in zip(rng.integers(0, len(_CAMPAIGN_THEMES), n_camp), camp_year, camp_region, strict=True)
            ],
            "Type": _take(_CAMPAIGN_TYPES, rng.integers(0, len(_CAMPAIGN_TYPES), n_camp)),
            "Status": status,
            "StartDate": _dates("StartDate", camp_start),
            "EndDate": _dates("EndDate", camp_end),
            "BudgetedCost": budget,
            "ActualCost": pl.Series(actual).fill_nan(None),
            "SystemModstamp": _ts("SystemModstamp", camp_stamp),
            "IsDeleted": np.zeros(n_camp, dtype=bool),
        }
    )

    # Quotas: one per rep per month covering the window.
    months: list[date] = []
    m = date(plan.start.year, plan.start.month, 1)
    while m <= plan.end:
        months.append(m)
        m = date(m.year + (m.month == 12), m.month % 12 + 1, 1)
    rep_all = np.concatenate(reps)
    rep_region = np.concatenate([np.full(len(x), r) for r, x in enumerate(reps)])
    q_rep = np.repeat(rep_all, len(months))
    q_region = np.repeat(rep_region, len(months))
    q_month = np.tile([(mm - _EPOCH).days for mm in months], len(rep_all))
    for move in (m for m in moves if m.kind == "region"):
        # A month's quota is set in the region the rep belongs to on its first day.
        q_region[(q_rep == move.rep) & (q_month >= move.stamp // _DAY)] = move.region_after
    # Quotas a typical rep can reach: about QUOTA_USD_PER_DEAL of bookings for each deal opened in
    # a month, ±40 %, so monthly attainment spreads across every accelerator band.
    deals_per_rep_month = plan.n_opportunities / len(plan.days) * 30 / max(len(rep_all), 1)
    target_usd = max(1_000.0, deals_per_rep_month * QUOTA_USD_PER_DEAL)
    q_usd = np.round(rng.uniform(0.6, 1.4, len(q_rep)) * target_usd / 500) * 500
    ccys = [plan.currency(r) for r in range(n_regions)]
    q_local = q_usd / np.array([BASE_USD_PER_UNIT[c] for c in ccys])[q_region]
    q_local = np.where(np.array([c == "JPY" for c in ccys])[q_region], np.round(q_local, -5), np.round(q_local, -3))
    q_stamp = np.maximum(q_month * _DAY - rng.integers(1, 6, len(q_rep)) * _DAY, plan.start_us) + rng.integers(
        0, _DAY, len(q_rep)
    )
    quota = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "a00", np.arange(1, len(q_rep) + 1)),
            "User__c": user_ids.gather(q_rep),
            "Month__c": _dates("Month__c", q_month),
            "Amount__c": q_local,
            "CurrencyIsoCode": _take(ccys, q_region),
            "SystemModstamp": _ts("SystemModstamp", np.minimum(q_stamp, plan.end_us - _SEC)),
            "IsDeleted": np.zeros(len(q_rep), dtype=bool),
        }
    )

    # Older cancelled bookings are part of the deal count, so volumes stay what the plan says.
    n_older = max(4, round(LEGACY_CANCELLED_SHARE * plan.n_opportunities))
    opp, versions, link_requests = _plan_opportunities(
        plan, rng, accounts, owner, camp_region, camp_start, plan.n_opportunities - n_older
    )
    opp, versions, deal_counts = _plan_deal_history(
        plan, rng_history, opp, versions, link_requests, transfers, accounts, owner, n_older
    )
    frames = {
        "User": users,
        "Account": _account_owner_versions(account, transfers, user_ids),
        "Contact": contact,
        "Product2": product2,
        "Campaign": campaign,
        "Quota__c": quota,
        "AccountTeamMember": team,
    }
    history = {
        "User_reassignments": {kind: sum(m.kind == kind for m in moves) for kind in REASSIGNMENT_SHARES},
        "AccountTeamMember": team["Id"].n_unique(),
        "accounts_with_shared_credit": int(team.filter(pl.col("Credit_Split__c") < 100)["AccountId"].n_unique()),
        "accounts_transferred": transfers.height,
        **deal_counts,
    }
    return _Crm(
        frames=frames,
        product_ids=dict(zip(codes, product2["Id"].to_list(), strict=True)),
        product_codes=codes,
        product_price=product_price,
        product_family=family,
        opp=opp,
        versions=versions,
        link_requests=link_requests,
        contact_person=contact_person,
        contact_ids=contact["Id"],
        history=history,
    )


def _plan_opportunities(
    plan: _Plan,
    rng: np.random.Generator,
    accounts: _Accounts,
    account_owner: np.ndarray,
    camp_region: np.ndarray,
    camp_start: np.ndarray,
    n: int,
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """Deals and their stage history: one record version per stage change, cut at the window end."""
    company = np.flatnonzero(~accounts.household)
    house = np.flatnonzero(accounts.household)
    account = company[rng.integers(0, len(company), n)]
    if len(house):  # a few deals with households (kitchen refits, home offices)
        use_house = rng.random(n) < 0.1
        account[use_house] = house[rng.integers(0, len(house), int(use_house.sum()))]
    region = accounts.region[account]
    window = plan.end_us - plan.start_us
    created = plan.start_us + (rng.random(n) * max(window - 2 * _HOUR, _HOUR)).astype(np.int64) // _SEC * _SEC
    first_stage = np.where(rng.random(n) < 0.8, 0, 1)
    outcome = rng.choice(3, n, p=(0.32, 0.26, 0.42))  # won, lost, still open
    last_open = np.where(outcome == 0, 4, first_stage + (rng.random(n) * (5 - first_stage)).astype(np.int64))
    n_open_versions = last_open - first_stage + 1
    n_versions = n_open_versions + (outcome != 2)
    cycle = (rng.gamma(2.0, np.clip(len(plan.days) / 4, 3, 30), n) * _DAY).astype(np.int64) + _DAY

    opp_of = np.repeat(np.arange(n), n_versions)
    offsets = np.repeat(np.cumsum(n_versions) - n_versions, n_versions)
    pos = np.arange(len(opp_of)) - offsets
    terminal = pos >= n_open_versions[opp_of]
    stage = np.where(terminal, np.where(outcome[opp_of] == 0, _WON, _LOST), first_stage[opp_of] + pos)
    u = rng.random(len(opp_of))
    u[pos == 0] = 0.0
    u[terminal] = 1.0
    u = u[np.lexsort((u, opp_of))]
    stamp = created[opp_of] + (u * cycle[opp_of]).astype(np.int64) // _SEC * _SEC + pos * _SEC
    keep = stamp < plan.end_us
    opp_of, pos, stage, stamp = opp_of[keep], pos[keep], stage[keep], stamp[keep]
    expected_close = (created + cycle) // _DAY
    close_day = np.where(stage >= _WON, stamp // _DAY, expected_close[opp_of])
    versions = pl.DataFrame({"opp": opp_of, "version": pos, "stage": stage, "stamp": stamp, "close_day": close_day})

    # Some won deals were fulfilled online: ask the web generator for an order that day.
    last_row = np.flatnonzero(np.append(opp_of[1:] != opp_of[:-1], True))
    won_rows = last_row[stage[last_row] == _WON]
    n_link = round(WEB_FULFILLED_WON_SHARE * len(won_rows)) if len(won_rows) else 0
    n_link = max(n_link, 1) if len(won_rows) else 0
    link_rows = np.sort(rng.choice(won_rows, n_link, replace=False)) if n_link else np.empty(0, np.int64)
    link_requests = pl.DataFrame(
        {
            "opp": opp_of[link_rows],
            "region": region[opp_of[link_rows]],
            "day": (stamp[link_rows] // _DAY - (plan.start - _EPOCH).days).astype(np.int64),
        }
    )

    # Campaign influence: a campaign of the deal's region that had started when the deal was created.
    campaign = np.full(n, -1, dtype=np.int64)
    wants = rng.random(n) < CAMPAIGN_SHARE
    for r_idx in range(len(plan.regions)):
        own = np.flatnonzero(camp_region == r_idx)
        own = own[np.argsort(camp_start[own], kind="stable")]
        members = np.flatnonzero(wants & (region == r_idx))
        eligible = np.searchsorted(camp_start[own], created[members] // _DAY, side="right")
        pick = (rng.random(len(members)) * eligible).astype(np.int64)
        campaign[members] = np.where(eligible > 0, own[np.minimum(pick, len(own) - 1)] if len(own) else -1, -1)
    opp = pl.DataFrame(
        {
            "opp": np.arange(n),
            "account": account,
            "owner": account_owner[account],
            "region": region,
            "campaign": campaign,
            "created": created,
            "type": rng.choice(2, n, p=(0.6, 0.4)),
            "lead_source": rng.integers(0, len(_LEAD_SOURCES), n),
            "suffix": rng.integers(0, len(_OPP_SUFFIXES), n),
        }
    )
    return opp, versions, link_requests


# --- CRM history: reassignments, account teams, transfers, cancellations ----------------------


@dataclass(frozen=True)
class _Move:
    rep: int  # user index
    kind: str  # "territory" | "promotion" | "region"
    stamp: int  # µs: SystemModstamp of the new User version; the change takes effect that UTC day
    region_before: int
    region_after: int


def _plan_reassignments(
    plan: _Plan, rng: np.random.Generator, users: pl.DataFrame, reps: list[np.ndarray]
) -> tuple[pl.DataFrame, list[_Move]]:
    """User record versions for reps who change territory, title or region during the window.

    Changes land after the first 40 % of the window so every moved rep has sales on both sides of
    the change date (slowly changing dimension history worth attributing).
    """
    all_reps = np.concatenate(reps)
    rep_region = np.concatenate([np.full(len(x), r) for r, x in enumerate(reps)])
    counts = {kind: max(1, round(share * len(all_reps))) for kind, share in REASSIGNMENT_SHARES.items()}
    picked = rng.choice(len(all_reps), min(sum(counts.values()), len(all_reps)), replace=False)
    kinds = [kind for kind, k in counts.items() for _ in range(k)][: len(picked)]
    low = plan.start_us + int(0.4 * (plan.end_us - plan.start_us))
    high = max(plan.end_us - _HOUR, low + _SEC)
    stamps = rng.integers(low, high, len(picked)) // _SEC * _SEC
    rows = users.to_dicts()
    managers = {r["Region__c"]: i for i, r in enumerate(rows) if r["Title"] == "Regional Sales Manager"}
    staff = np.array([len(x) for x in reps])
    versions: list[dict[str, Any]] = []
    moves: list[_Move] = []
    for at, kind, stamp in zip(picked, kinds, stamps, strict=True):
        rep, before = int(all_reps[at]), int(rep_region[at])
        row, after = dict(rows[rep]), before
        if kind == "territory":
            own = TERRITORIES[plan.regions[before]]
            row["Territory__c"] = own[(own.index(row["Territory__c"]) + 1 + rep % 3) % len(own)]
        elif kind == "promotion":
            row["Title"] = SENIOR_TITLE
        else:
            # Into the region with the fewest reps, so that no region runs short of people.
            after = int(np.argsort(np.where(np.arange(len(staff)) == before, 10**9, staff), kind="stable")[0])
            staff[before] -= 1
            staff[after] += 1
            region = plan.regions[after]
            row["Region__c"] = region
            row["Territory__c"] = TERRITORIES[region][rep % len(TERRITORIES[region])]
            row["manager"] = managers[region]
            row["ManagerId"] = rows[managers[region]]["Id"]
        versions.append(row)
        moves.append(_Move(rep, kind, int(stamp), before, after))
    # The version a change replaces must be older than the change.
    stamp_of = users["SystemModstamp"].cast(pl.Int64).to_numpy().copy()
    for move in moves:
        stamp_of[move.rep] = min(stamp_of[move.rep], move.stamp - _HOUR)
    current = users.with_columns(_ts("SystemModstamp", stamp_of))
    changed = pl.DataFrame(versions, schema=users.schema).with_columns(
        _ts("SystemModstamp", np.array([m.stamp for m in moves], dtype=np.int64))
    )
    return pl.concat([current, changed]), moves


def _plan_account_teams(
    plan: _Plan,
    rng: np.random.Generator,
    accounts: _Accounts,
    owner: np.ndarray,
    acc_created: np.ndarray,
    reps: list[np.ndarray],
    moves: list[_Move],
    user_ids: pl.Series,
    account_ids: pl.Series,
) -> tuple[pl.DataFrame, np.ndarray, pl.DataFrame]:
    """AccountTeamMember records, the owner per account, and the accounts whose owner left.

    A rep who moves region leaves every account team in the old region: their membership gets a
    new version ending the day before the move and a colleague who stays takes over the same role
    and split from the move day, so the splits still sum to 100 in every period. An account signed
    on or after the move day starts with the colleague. Returns (team records, owner per account,
    transfers: account, successor, move stamp).
    """
    n_acc = len(owner)
    owner = owner.copy()
    has_second = ~accounts.household & (rng.random(n_acc) < ACCOUNT_TEAM_SHARE)
    split = np.array(TEAM_SPLITS)[rng.integers(0, len(TEAM_SPLITS), n_acc)]
    role = rng.integers(0, len(TEAM_ROLES), n_acc)
    pick = rng.integers(0, 1 << 30, n_acc)
    second = np.full(n_acc, -1, dtype=np.int64)
    for r_idx, region_reps in enumerate(reps):
        at = np.flatnonzero(has_second & (accounts.region == r_idx))
        # A colleague of the owner: any other rep of the region.
        owner_pos = np.searchsorted(region_reps, owner[at])
        j = pick[at] % (len(region_reps) - 1)
        second[at] = region_reps[np.where(j < owner_pos, j, j + 1)]
    created_day = acc_created // _DAY
    window = plan.end_us - plan.start_us
    base_stamp = plan.start_us + rng.integers(0, max(int(0.3 * window), _SEC), n_acc) // _SEC * _SEC
    stamp = np.minimum(np.maximum(base_stamp, acc_created + 60 * _SEC), plan.end_us - _SEC)

    leavers = np.array([m.rep for m in moves if m.kind == "region"], dtype=np.int64)
    transfers = []
    ended: list[tuple[int, int, int]] = []  # account, slot (0 owner, 1 second), move stamp
    successors: list[tuple[int, int, int, int]] = []  # account, slot, successor, move stamp
    for move in (m for m in moves if m.kind == "region"):
        move_day = move.stamp // _DAY
        # Colleagues who stay: every rep of the old region except those leaving it.
        colleagues = reps[move.region_before][~np.isin(reps[move.region_before], leavers)]
        for slot, members in ((0, owner), (1, second)):
            at = np.flatnonzero(members == move.rep)
            other = second[at] if slot == 0 else owner[at]
            successor = colleagues[at % len(colleagues)]
            clash = successor == other
            successor[clash] = colleagues[(at[clash] + 1) % len(colleagues)]
            late = created_day[at] >= move_day
            members[at[late]] = successor[late]  # signed after the move: the colleague from the start
            for a, s in zip(at[~late], successor[~late], strict=True):
                ended.append((int(a), slot, move.stamp))
                successors.append((int(a), slot, int(s), move.stamp))
                if slot == 0:
                    transfers.append((int(a), int(s), move.stamp))

    owner_split = np.where(has_second, split[:, 0], 100.0)
    team_acc = np.concatenate([np.arange(n_acc), np.flatnonzero(has_second)])
    team_slot = np.concatenate([np.zeros(n_acc, np.int64), np.ones(int(has_second.sum()), np.int64)])
    order = np.lexsort((team_slot, team_acc))
    team_acc, team_slot = team_acc[order], team_slot[order]
    members = np.where(team_slot == 0, owner[team_acc], second[team_acc])
    roles = [OWNER_ROLE, *TEAM_ROLES]
    base = pl.DataFrame(
        {
            "acc": team_acc,
            "slot": team_slot,
            "user": members,
            "role": np.where(team_slot == 0, 0, role[team_acc] + 1),
            "split": np.where(team_slot == 0, owner_split[team_acc], split[team_acc, 1]),
            "from_day": created_day[team_acc],
            "to_day": pl.Series([None] * len(team_acc), dtype=pl.Int64),
            "created": np.minimum(acc_created[team_acc] + 60 * _SEC, plan.end_us - _SEC),
            "stamp": stamp[team_acc],
        }
    ).with_row_index("number", offset=1)
    end_versions = base.join(
        pl.DataFrame(ended, schema={"acc": pl.Int64, "slot": pl.Int64, "move": pl.Int64}, orient="row"),
        on=["acc", "slot"],
        how="inner",
        maintain_order="left",
    ).with_columns(
        to_day=pl.col("move") // _DAY - 1,
        stamp=pl.col("move") + 2 * _SEC,
    )
    takeovers = (
        base.join(
            pl.DataFrame(
                successors,
                schema={"acc": pl.Int64, "slot": pl.Int64, "successor": pl.Int64, "move": pl.Int64},
                orient="row",
            ),
            on=["acc", "slot"],
            how="inner",
            maintain_order="left",
        )
        .with_columns(
            user=pl.col("successor"),
            from_day=pl.col("move") // _DAY,
            created=pl.col("move") + 3 * _SEC,
            stamp=pl.col("move") + 3 * _SEC,
        )
        .with_columns(number=(pl.int_range(pl.len()) + base.height + 1).cast(pl.UInt32))
    )
    cols = base.columns
    team = pl.concat([base, end_versions.select(cols), takeovers.select(cols)])
    frame = pl.DataFrame(
        {
            "Id": _sf_ids("Id", "01M", team["number"].to_numpy()),
            "AccountId": account_ids.gather(team["acc"].to_numpy()),
            "UserId": user_ids.gather(team["user"].to_numpy()),
            "TeamMemberRole": _take(roles, team["role"].to_numpy()),
            "Credit_Split__c": team["split"].cast(pl.Float64),
            "Effective_From__c": team["from_day"].cast(pl.Int32).cast(pl.Date),
            "Effective_To__c": team["to_day"].cast(pl.Int32).cast(pl.Date),
            "CreatedDate": _ts("CreatedDate", team["created"].to_numpy()),
            "SystemModstamp": _ts("SystemModstamp", team["stamp"].to_numpy()),
            "IsDeleted": np.zeros(team.height, dtype=bool),
        }
    )
    transfer_frame = pl.DataFrame(
        transfers, schema={"account": pl.Int64, "successor": pl.Int64, "move": pl.Int64}, orient="row"
    )
    return frame, owner, transfer_frame


def _account_owner_versions(account: pl.DataFrame, transfers: pl.DataFrame, user_ids: pl.Series) -> pl.DataFrame:
    """Accounts whose owner left the region name the successor from the move on.

    A record last modified after the move already carries the successor; the others get a new
    record version stamped just after the move.
    """
    if transfers.is_empty():
        return account
    indexed = account.with_row_index("_acc").with_columns(pl.col("_acc").cast(pl.Int64))
    moved = indexed.join(transfers.rename({"account": "_acc"}), on="_acc", how="inner", maintain_order="left")
    moved = moved.with_columns(OwnerId=user_ids.gather(moved["successor"].to_numpy()))
    later = moved["SystemModstamp"].cast(pl.Int64) >= moved["move"]
    current = indexed.join(
        moved.filter(later).select("_acc", pl.col("OwnerId").alias("_successor")),
        on="_acc",
        how="left",
        maintain_order="left",
    ).with_columns(OwnerId=pl.coalesce("_successor", "OwnerId"))
    new_versions = moved.filter(~later)
    new_versions = new_versions.with_columns(_ts("SystemModstamp", new_versions["move"].to_numpy() + _SEC))
    return pl.concat([current.select(account.columns), new_versions.select(account.columns)])


def _plan_deal_history(
    plan: _Plan,
    rng: np.random.Generator,
    opp: pl.DataFrame,
    versions: pl.DataFrame,
    link_requests: pl.DataFrame,
    transfers: pl.DataFrame,
    accounts: _Accounts,
    account_owner: np.ndarray,
    k: int,
) -> tuple[pl.DataFrame, pl.DataFrame, dict[str, int]]:
    """Owner per deal version, transfers of open deals, cancellations and older cancelled deals.

    - A deal open when its owner left the region passes to the account's successor (a version
      repeating the stage with the new owner); a deal created after the move starts with them.
    - Some Closed Won deals (not web-fulfilled) are cancelled later in the window.
    - Older deals booked 45–160 days before their cancellation in the window: only the
      cancellation version falls inside the export, as when history predates the first extract.
    """
    v = versions.join(opp.select("opp", "owner", "account"), on="opp", how="left", maintain_order="left").join(
        transfers, on="account", how="left", maintain_order="left"
    )
    before_move = (
        v.filter(pl.col("stamp") < pl.col("move"))
        .group_by("opp", maintain_order=True)
        .agg(pl.col("stage").last().alias("stage_at_move"), pl.col("close_day").last().alias("close_at_move"))
    )
    v = v.join(before_move, on="opp", how="left", maintain_order="left")
    created_after = pl.col("move").is_not_null() & pl.col("stage_at_move").is_null()
    open_at_move = pl.col("stage_at_move") < _WON
    takes_over = created_after | (open_at_move & (pl.col("stamp") >= pl.col("move")))
    v = v.with_columns(owner=pl.when(takes_over).then("successor").otherwise("owner"))
    moved = (
        v.filter(open_at_move & (pl.col("move") < plan.end_us))
        .group_by("opp", maintain_order=True)
        .agg(pl.col("stage_at_move", "close_at_move", "successor", "move").first())
        .select(
            "opp",
            pl.col("stage_at_move").alias("stage"),
            (pl.col("move") + _SEC // 2).alias("stamp"),
            pl.col("close_at_move").alias("close_day"),
            pl.col("successor").alias("owner"),
        )
    )
    columns = {"opp": pl.Int64, "stage": pl.Int64, "stamp": pl.Int64, "close_day": pl.Int64, "owner": pl.Int64}
    v = pl.concat([v.select(list(columns)), moved.select(list(columns))])
    v = v.sort("opp", "stamp", maintain_order=True)

    last = v.group_by("opp", maintain_order=True).agg(pl.all().last())
    linked = link_requests["opp"].unique().implode()
    eligible = last.filter(pl.col("stage") == _WON, ~pl.col("opp").is_in(linked), pl.col("stamp") <= plan.end_us - _DAY)
    n_cancel = min(eligible.height, max(1, round(CANCELLED_WON_SHARE * eligible.height))) if eligible.height else 0
    picked = np.sort(rng.choice(eligible.height, n_cancel, replace=False)) if n_cancel else np.empty(0, np.int64)
    chosen = eligible[picked.tolist()]
    room = (plan.end_us - _SEC - chosen["stamp"].to_numpy()) - 2 * _HOUR
    cancel_stamp = (
        chosen["stamp"].to_numpy() + 2 * _HOUR + (rng.random(n_cancel) * room).astype(np.int64) // _SEC * _SEC
    )
    cancelled = chosen.select("opp", "close_day", "owner").with_columns(
        stage=pl.lit(_CANCELLED, pl.Int64), stamp=pl.Series(cancel_stamp, dtype=pl.Int64)
    )

    # Older bookings cancelled in the window: alternately inside and outside the clawback window.
    n = opp.height
    company = np.flatnonzero(~accounts.household)
    acc = company[rng.integers(0, len(company), k)]
    window = plan.end_us - plan.start_us
    legacy_stamp = (plan.start_us + (rng.random(k) * max(window - _HOUR, _SEC)).astype(np.int64)) // _SEC * _SEC
    within = np.arange(k) % 2 == 0
    gap = np.where(
        within,
        rng.integers(45, CLAWBACK_WINDOW_DAYS, k),
        rng.integers(CLAWBACK_WINDOW_DAYS + 1, 160, k),
    )
    close_day = legacy_stamp // _DAY - gap
    created = (close_day - rng.integers(10, 60, k)) * _DAY + rng.integers(0, _DAY, k) // _SEC * _SEC
    legacy_opp = pl.DataFrame(
        {
            "opp": np.arange(n, n + k),
            "account": acc,
            "owner": account_owner[acc],
            "region": accounts.region[acc],
            "campaign": np.full(k, -1),
            "created": created,
            "type": rng.choice(2, k, p=(0.6, 0.4)),
            "lead_source": rng.integers(0, len(_LEAD_SOURCES), k),
            "suffix": rng.integers(0, len(_OPP_SUFFIXES), k),
        }
    ).cast(opp.schema)
    legacy = pl.DataFrame(
        {
            "opp": np.arange(n, n + k),
            "close_day": close_day,
            "owner": account_owner[acc],
            "stage": np.full(k, _CANCELLED),
            "stamp": legacy_stamp,
        }
    ).cast(columns)
    all_versions = (
        pl.concat([v.select(list(columns)), cancelled.select(list(columns)), legacy.select(list(columns))])
        .with_columns(
            cancel_day=pl.when(pl.col("stage") == _CANCELLED).then(pl.col("stamp") // _DAY),
        )
        .sort("opp", "stamp", maintain_order=True)
        .with_columns(version=pl.int_range(pl.len()).over("opp").cast(pl.Int64))
    )
    counts = {
        "transferred_open_deals": moved.height,
        "cancelled_after_booking_in_window": cancelled.height,
        "older_bookings_cancelled_within_90_days": int(within.sum()),
        "older_bookings_cancelled_after_90_days": int((~within).sum()),
    }
    return pl.concat([opp, legacy_opp]), all_versions, counts


def _finish_crm(plan: _Plan, crm: _Crm, linked: pl.DataFrame, out: Path, manifest: dict[str, Any]) -> None:
    """Line items, amounts, deletions and retry duplicates; then write every object."""
    rng = _rng(plan.seed, "crm-finish")
    n = crm.opp.height
    region = crm.opp["region"].to_numpy()
    created = crm.opp["created"].to_numpy()
    account_household = crm.frames["Account"]["household"].to_numpy()[crm.opp["account"].to_numpy()]

    # Line items for deals not fulfilled online: 1-4 active products, B2B quantities.
    linked_opps = linked["opp"].unique().to_numpy() if linked.height else np.empty(0, np.int64)
    free = np.setdiff1d(np.arange(n), linked_opps)
    k = np.minimum(rng.geometric(0.55, len(free)), 4)
    item_opp = np.repeat(free, k)
    active = np.flatnonzero(crm.frames["Product2"]["IsActive"].to_numpy())
    services = np.array([i for i, c in enumerate(crm.product_codes) if c in {c for c, _, _ in CRM_ONLY_PRODUCTS}])
    product = active[rng.integers(0, len(active), len(item_opp))]
    is_service = rng.random(len(item_opp)) < 0.08
    product[is_service] = services[rng.integers(0, len(services), int(is_service.sum()))]
    qty = np.clip(np.round(np.exp(rng.normal(2.0, 0.9, len(item_opp)))), 1, 200)
    qty = np.where(account_household[item_opp], rng.integers(1, 4, len(item_opp)), qty).astype(float)
    discount = rng.choice([0.0, 0.05, 0.10, 0.15, 0.20], len(item_opp))
    decimals = plan.decimals[region[item_opp]]
    unit = _round_money(crm.product_price[region[item_opp], product] * (1 - discount), decimals)
    codes = pl.Series(crm.product_codes, dtype=pl.String)
    items = pl.DataFrame(
        {
            "opp": item_opp,
            "ProductCode": codes.gather(product),
            "Quantity": qty,
            "UnitPrice": unit,
        }
    )
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
    ccys = [plan.currency(r) for r in range(len(plan.regions))]
    items = items.with_columns(
        _sf_ids("Id", "00k", np.arange(1, items.height + 1)),
        pl.col("ProductCode").replace_strict(crm.product_ids, return_dtype=pl.String).alias("Product2Id"),
        pl.Series(
            "TotalPrice",
            _round_money(items["Quantity"].to_numpy() * items["UnitPrice"].to_numpy(), plan.decimals[item_region]),
        ),
        _take(ccys, item_region, "CurrencyIsoCode"),
    )
    item_offset = rng.integers(60, 1800, items.height) * _SEC
    # Deals booked before the window show up with it: their items, like master records, land in its first days.
    item_stamp = np.minimum(
        np.maximum(created[items["opp"].to_numpy()], plan.start_us) + item_offset, plan.end_us - _SEC
    )
    items = items.with_columns(_ts("SystemModstamp", item_stamp), pl.lit(False).alias("IsDeleted"))
    amount = items.group_by("opp").agg(pl.col("TotalPrice").sum()).sort("opp")
    amount_arr = np.zeros(n)
    amount_arr[amount["opp"].to_numpy()] = amount["TotalPrice"].to_numpy()
    amount_arr = _round_money(amount_arr, plan.decimals[region])
    first_family = items.group_by("opp", maintain_order=True).agg(pl.col("ProductCode").first())
    family_of = dict(zip(crm.product_codes, crm.product_family, strict=True))
    family = np.full(n, "Products", dtype=object)
    family[first_family["opp"].to_numpy()] = [family_of[c] for c in first_family["ProductCode"].to_list()]

    account = crm.frames["Account"]
    user_ids = crm.frames["User"]["Id"]
    campaign_ids = crm.frames["Campaign"]["Id"]
    opp = crm.opp
    web_order = np.full(n, None, dtype=object)
    lead = opp["lead_source"].to_numpy().copy()
    if linked.height:
        per_opp = linked.group_by("opp", maintain_order=True).agg(pl.col("order_id").first())
        web_order[per_opp["opp"].to_numpy()] = per_opp["order_id"].to_list()
        lead[per_opp["opp"].to_numpy()] = 0  # "Web"
    static = pl.DataFrame(
        {
            "opp": np.arange(n),
            "Id": _sf_ids("Id", "006", np.arange(1, n + 1)),
            "Name": pl.select(
                pl.concat_str(
                    account["Name"].gather(opp["account"].to_numpy()),
                    pl.lit(" - "),
                    pl.Series(family.astype(str)),
                    pl.lit(" "),
                    _take(_OPP_SUFFIXES, opp["suffix"].to_numpy()),
                )
            ).to_series(),
            "AccountId": account["Id"].gather(opp["account"].to_numpy()),
            "OwnerId": user_ids.gather(opp["owner"].to_numpy()),
            "CampaignId": _take(campaign_ids, opp["campaign"].to_numpy()),
            "Amount": amount_arr,
            "CurrencyIsoCode": _take(ccys, region),
            "Type": _take(("New Business", "Existing Business"), opp["type"].to_numpy()),
            "LeadSource": _take(_LEAD_SOURCES, lead),
            "web_order": pl.Series(web_order.tolist(), dtype=pl.String),
            "CreatedDate": _ts("CreatedDate", created),
        }
    )
    v = crm.versions
    stage = v["stage"].to_numpy()
    n_stages = len(STAGES) + 1
    names = [name for r in plan.regions for name in stage_names(r)]
    records = v.select("opp", "version").with_columns(
        _take(names, region[v["opp"].to_numpy()] * n_stages + stage, "StageName"),
        pl.Series("Probability", np.array((*STAGE_PROBABILITY, 0.0))[stage]),
        _dates("CloseDate", v["close_day"].to_numpy()),
        pl.Series("IsClosed", stage >= _WON),
        pl.Series("IsWon", stage == _WON),
        v["cancel_day"].cast(pl.Int32).cast(pl.Date).alias("Cancelled_Date__c"),
        _ts("SystemModstamp", v["stamp"].to_numpy()),
        pl.lit(False).alias("IsDeleted"),
        user_ids.gather(v["owner"].to_numpy()).alias("OwnerId"),
    )
    records = records.join(static.drop("OwnerId"), on="opp", how="left", maintain_order="left").with_columns(
        Web_Order_Id__c=pl.when(pl.col("IsWon")).then("web_order")
    )

    # Deletions: a final version with IsDeleted = true, never for web-fulfilled or cancelled deals.
    last = records.group_by("opp", maintain_order=True).agg(pl.all().last())
    last_stamp = v.group_by("opp", maintain_order=True).agg(pl.col("stamp").last())["stamp"].to_numpy()
    cancelled = v.filter(pl.col("stage") == _CANCELLED)["opp"].unique().to_numpy()
    eligible = (
        ~np.isin(np.arange(n), linked_opps)
        & ~np.isin(np.arange(n), cancelled)
        & (last_stamp < plan.end_us - 120 * _SEC)
    )
    n_del = _defect_count(DEFECT_RATES["Opportunity"]["deleted"], n)
    deleted = np.sort(rng.choice(np.flatnonzero(eligible), min(n_del, int(eligible.sum())), replace=False))
    gap = rng.uniform(1, 72, len(deleted)) * _HOUR
    room = plan.end_us - _SEC - last_stamp[deleted]
    gap = np.where(gap < room, gap, room * rng.uniform(0.2, 0.9, len(deleted)))
    del_stamp = (last_stamp[deleted] + gap.astype(np.int64)) // 1000 * 1000
    del_records = last[deleted.tolist()].with_columns(
        _ts("SystemModstamp", del_stamp), pl.lit(True).alias("IsDeleted"), (pl.col("version") + 1).alias("version")
    )
    # Salesforce's own history of every stage/amount/close-date/probability change: the only place
    # a real org keeps earlier stages (queries return the current version of each record).
    won_names = [stage_names(r)[_WON] for r in plan.regions]
    history = opportunity_history_rows(
        records,
        {stage_names(r)[_CANCELLED] for r in plan.regions},
        static.select("Id", _take(won_names, region, "won_stage_name")),
        del_records.select("Id", "SystemModstamp"),
    )
    history = history.with_columns(_sf_ids("Id", "008", history["history_number"].to_numpy()))
    history_table = SALESFORCE_OBJECTS["OpportunityHistory"]
    history_rows = _write_sf_object(out, history_table, history.select(*history_table.columns))

    records = pl.concat([records, del_records.select(records.columns)]).with_columns(
        _page_day=pl.col("SystemModstamp").dt.date()
    )

    # No retry duplicates here: a real query never returns a record twice (the change log holds
    # each version once; the client answers with the latest).
    opp_table = SALESFORCE_OBJECTS["Opportunity"]
    rows = {
        "Opportunity": _write_sf_object(out, opp_table, records.select(*opp_table.columns, "_page_day")),
        "OpportunityHistory": history_rows,
    }

    # Deleting a deal cascades to its line items (queryAll returns them with IsDeleted).
    items = items.join(
        static.select("opp", pl.col("Id").alias("OpportunityId")), on="opp", how="left", maintain_order="left"
    )
    del_items = (
        items.drop("SystemModstamp")
        .join(
            pl.DataFrame({"opp": deleted, "SystemModstamp": _ts("SystemModstamp", del_stamp)}),
            on="opp",
            how="inner",
            maintain_order="left",
        )
        .with_columns(pl.lit(True).alias("IsDeleted"))
    )
    oli_table = SALESFORCE_OBJECTS["OpportunityLineItem"]
    items_out = pl.concat([items.select(*oli_table.columns), del_items.select(*oli_table.columns)])
    rows["OpportunityLineItem"] = _write_sf_object(out, oli_table, items_out)
    for name, frame in crm.frames.items():
        table = SALESFORCE_OBJECTS[name]
        rows[name] = _write_sf_object(out, table, frame.select(*table.columns))

    manifest["rows"].update(rows)
    manifest["defects"]["Opportunity"] = {"deleted": len(deleted)}
    manifest["defects"]["OpportunityLineItem"] = {"deleted": del_items.height}
    manifest["entities"]["Opportunity"] = n
    manifest["entities"]["crm_history"] = crm.history
    manifest["entities"]["Opportunity_web_fulfilled"] = len(np.unique(linked_opps))


# --- Warehouse: web orders --------------------------------------------------------------------


def _generate_web(
    plan: _Plan, people: _People, cat: _Catalogue, link_requests: pl.DataFrame, out: Path, manifest: dict[str, Any]
) -> pl.DataFrame:
    """Write orders and order_lines per order_date; return the lines of web-fulfilled deals."""
    rng = _rng(plan.seed, "web")
    n_regions, n_days = len(plan.regions), len(plan.days)

    # Order sizes until the line budget is spent (the last order is trimmed to fit exactly).
    sizes = np.minimum(rng.geometric(0.5, plan.web_lines // 2 + 64), 10)
    while sizes.sum() < plan.web_lines:
        sizes = np.concatenate([sizes, np.minimum(rng.geometric(0.5, 64), 10)])
    cum = np.cumsum(sizes)
    n_orders = int(np.searchsorted(cum, plan.web_lines) + 1)
    sizes = sizes[:n_orders]
    sizes[-1] -= int(cum[n_orders - 1] - plan.web_lines)

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
    boosted = _WEB_HOURS.copy()
    boosted[19:23] *= 1.35
    hour = np.where(
        evening,
        rng.choice(24, n_orders, p=boosted / boosted.sum()),
        rng.choice(24, n_orders, p=_WEB_HOURS / _WEB_HOURS.sum()),
    )
    offsets = np.array([REGION_UTC_OFFSET[r] for r in plan.regions])[region]
    local_sec = hour * 3600 + rng.integers(0, 3600, n_orders)
    utc_sec = (local_sec - offsets * 3600) % 86400
    day_start = np.array([_day_us(d) for d in plan.days])
    order_ts = day_start[day] + utc_sec * _SEC + rng.integers(0, 1000, n_orders) * 1000

    order = np.lexsort((order_ts, day))
    sizes, day, region, customer, order_ts = sizes[order], day[order], region[order], customer[order], order_ts[order]
    cancelled = rng.random(n_orders) < 0.04
    loaded = order_ts + rng.integers(120, 5400, n_orders) * _SEC

    line_order = np.repeat(np.arange(n_orders), sizes)
    line_no = np.arange(len(line_order)) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
    taste = _tastes(plan, cat, people.frame.height)[customer[line_order]]
    sku = _draw_skus(rng, cat, cat.web_popularity, line_no, (plan, taste))
    segment_of = people.frame["segment"].to_numpy()
    seg = segment_of[customer[line_order]]
    qty = np.where(rng.random(len(line_order)) < 0.18, 2 + rng.geometric(0.6, len(line_order)) - 1, 1)
    qty = (
        qty
        + np.where(seg == "Corporate", rng.poisson(4, len(qty)), 0)
        + np.where(seg == "Small Business", rng.poisson(1, len(qty)), 0)
    )
    qty = np.minimum(qty, 50).astype(np.int64)
    line_region = region[line_order]
    unit_price = cat.price[line_region, sku]
    promo = np.array([_promo_day(d) for d in plan.days])[day[line_order]]
    discounted = rng.random(len(qty)) < np.where(promo, 0.45, 0.15)
    pct = rng.choice([0.05, 0.10, 0.15, 0.20, 0.25], len(qty))
    discount = np.where(discounted, _round_money(unit_price * qty * pct, plan.decimals[line_region]), 0.0)

    # Defects on order headers (late arrivals only where the snapshot can already hold them).
    rates = DEFECT_RATES["orders"]
    days_to_end = (n_days - 1) - day
    late_ok = days_to_end >= 1
    late = _pick_disjoint(rng, late_ok, {"late_arriving": _defect_count(rates["late_arriving"], int(late_ok.sum()))})[
        "late_arriving"
    ]
    head = _pick_disjoint(
        rng,
        ~_mask(n_orders, late),
        {
            "duplicate": _defect_count(rates["duplicate"], n_orders),
            "unknown_currency": _defect_count(rates["unknown_currency"], n_orders),
        },
    )
    delay = rng.integers(2, np.minimum(6, days_to_end[late] + 1) + 1)
    loaded[late] = day_start[day[late]] + delay * _DAY + rng.integers(0, 6 * 3600, len(late)) * _SEC
    bad_currency = np.full(n_orders, -1, dtype=np.int64)
    bad_currency[head["unknown_currency"]] = rng.integers(0, len(UNKNOWN_CURRENCIES), len(head["unknown_currency"]))
    header_defect = _mask(n_orders, np.concatenate([late, head["duplicate"], head["unknown_currency"]]))

    # Defects on lines: only lines of otherwise clean orders, one class per line.
    lrates = DEFECT_RATES["order_lines"]
    n_lines = len(line_order)
    line = _pick_disjoint(
        rng,
        ~header_defect[line_order],
        {
            "duplicate": _defect_count(lrates["duplicate"], n_lines),
            "null_sku": _defect_count(lrates["null_sku"], n_lines),
            "negative_quantity": _defect_count(lrates["negative_quantity"], n_lines),
        },
    )
    sku_out = sku.copy()
    sku_out[line["null_sku"]] = -1
    qty_out = qty.copy()
    qty_out[line["negative_quantity"]] *= -1
    line_dup = _mask(n_lines, line["duplicate"])
    head_dup = _mask(n_orders, head["duplicate"])
    dup_head_loaded = loaded + rng.integers(3600, 6 * 3600, n_orders) * _SEC
    dup_line_loaded = loaded[line_order] + rng.integers(3600, 6 * 3600, n_lines) * _SEC

    # Deals fulfilled online need a spotless, undiscounted order whose products sales also sells.
    line_bad = np.zeros(n_orders, dtype=bool)
    np.logical_or.at(line_bad, line_order, _mask(n_lines, np.concatenate(list(line.values()))))
    np.logical_or.at(line_bad, line_order, discount > 0)
    np.logical_or.at(line_bad, line_order, ~np.append(cat.in_crm, np.zeros(len(POS_LOCAL_SKUS), bool))[sku])
    candidate = np.flatnonzero(~header_defect & ~line_bad & ~cancelled)
    cand = pl.DataFrame({"order": candidate, "region": region[candidate], "day": day[candidate]})
    cand = cand[rng.permutation(cand.height)].with_columns(rank=pl.int_range(pl.len()).over("region", "day"))
    requests = link_requests.with_columns(rank=pl.int_range(pl.len()).over("region", "day"))
    matched = requests.join(cand, on=["region", "day", "rank"], how="inner", maintain_order="left")

    order_no = np.arange(1, n_orders + 1)
    order_ids = _prefixed("order_id", "WO", order_no, 9)
    currency = np.array([plan.currency(r) for r in range(n_regions)], dtype=object)[region]
    currency[bad_currency >= 0] = np.array(UNKNOWN_CURRENCIES, dtype=object)[bad_currency[bad_currency >= 0]]
    status = np.where(cancelled, "cancelled", "completed")
    line_start = np.cumsum(sizes) - sizes

    orders_table, lines_table = WAREHOUSE_TABLES["orders"], WAREHOUSE_TABLES["order_lines"]
    day_bounds = np.searchsorted(day, np.arange(n_days + 1))
    rows_orders = rows_lines = 0
    for d_idx, d in enumerate(plan.days):
        a, b = int(day_bounds[d_idx]), int(day_bounds[d_idx + 1])
        o = np.arange(a, b)
        o_all = np.concatenate([o, o[head_dup[a:b]]])
        loaded_all = np.concatenate([loaded[a:b], dup_head_loaded[a:b][head_dup[a:b]]])
        orders = pl.DataFrame(
            {
                "order_id": order_ids.gather(o_all),
                "customer_id": people.frame["customer_id"].gather(customer[o_all]),
                "order_ts": _ts("order_ts", order_ts[o_all]),
                "order_date": pl.Series([d] * len(o_all), dtype=pl.Date),
                "region": _take(plan.regions, region[o_all]),
                "currency": pl.Series(currency[o_all].tolist(), dtype=pl.String),
                "status": pl.Series(status[o_all].tolist(), dtype=pl.String),
                "_loaded_at": _ts("_loaded_at", loaded_all),
            }
        )
        la = int(line_start[a]) if a < n_orders else n_lines
        lb = int(line_start[b]) if b < n_orders else n_lines
        ln = np.arange(la, lb)
        l_all = np.concatenate([ln, ln[line_dup[la:lb]]])
        loaded_lines = np.concatenate([loaded[line_order[la:lb]], dup_line_loaded[la:lb][line_dup[la:lb]]])
        lines = pl.DataFrame(
            {
                "order_id": order_ids.gather(line_order[l_all]),
                "line_number": line_no[l_all],
                "sku": _take(cat.skus, sku_out[l_all]),
                "quantity": qty_out[l_all],
                "unit_price": unit_price[l_all],
                "discount_amount": discount[l_all],
                "order_date": pl.Series([d] * len(l_all), dtype=pl.Date),
                "region": _take(plan.regions, line_region[l_all]),
                "_loaded_at": _ts("_loaded_at", loaded_lines),
            }
        )
        for table, frame in ((orders_table, orders), (lines_table, lines)):
            folder = out / "warehouse" / table.name / f"order_date={d.isoformat()}"
            folder.mkdir(parents=True, exist_ok=True)
            _conform(table, frame).write_parquet(folder / "part-0.parquet")
        rows_orders += orders.height
        rows_lines += lines.height

    manifest["rows"]["orders"] = rows_orders
    manifest["rows"]["order_lines"] = rows_lines
    manifest["entities"]["orders"] = n_orders
    manifest["entities"]["order_lines"] = n_lines
    manifest["defects"]["orders"] = {
        "duplicate": len(head["duplicate"]),
        "unknown_currency": len(head["unknown_currency"]),
        "late_arriving": len(late),
    }
    manifest["defects"]["order_lines"] = {
        "duplicate": len(line["duplicate"]),
        "null_sku": len(line["null_sku"]),
        "negative_quantity": len(line["negative_quantity"]),
        "late_arriving": int(sizes[late].sum()),
    }

    if not matched.height:
        return pl.DataFrame(
            schema={
                "opp": pl.Int64,
                "order_id": pl.String,
                "sku": pl.String,
                "quantity": pl.Int64,
                "unit_price": pl.Float64,
            }
        )
    m_order = matched["order"].to_numpy()
    m_lines = np.concatenate([np.arange(line_start[o], line_start[o] + sizes[o]) for o in m_order])
    return pl.DataFrame(
        {
            "opp": np.repeat(matched["opp"].to_numpy(), sizes[m_order]),
            "order_id": order_ids.gather(line_order[m_lines]),
            "sku": _take(cat.skus, sku[m_lines]),
            "quantity": qty[m_lines],
            "unit_price": unit_price[m_lines],
        }
    )


# --- POS landing ------------------------------------------------------------------------------


def _build_stores(plan: _Plan) -> tuple[pl.DataFrame, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Store registry plus per-store arrays: region, weight, UTC offset, open hour, close hour, name style."""
    rng = _rng(plan.seed, "stores")
    rows: list[dict[str, str]] = []
    region_of, weight, offset, opens, closes, style = [], [], [], [], [], []
    for r_idx, r in enumerate(plan.regions):
        cities = [
            (c.code, city, off, w * c.weight)
            for c in _COUNTRIES.values()
            if c.region == r and c.code in REGIONS[r].countries
            for city, _, off, w in c.cities
        ]
        cw = np.array([x[3] for x in cities])
        order = rng.choice(len(cities), size=len(cities), replace=False, p=cw / cw.sum())
        for s in range(plan.stores_per_region[r_idx]):
            country, city, off, _ = cities[int(order[s % len(order)])]
            opened = plan.start - timedelta(days=int(rng.integers(200, 4000)))
            rows.append(
                {
                    "store_id": f"{r}-{s + 1:03d}",
                    "store_name": f"Sales360 {city} {_STORE_DESCRIPTORS[(s + r_idx) % len(_STORE_DESCRIPTORS)]}",
                    "region": r,
                    "country": country,
                    "city": city,
                    "currency": REGIONS[r].currency,
                    "opened_on": opened.isoformat(),
                }
            )
            region_of.append(r_idx)
            weight.append(float(rng.gamma(4.0)))
            offset.append(off)
            # Trading hours stay inside the UTC day so a drop's folder date is its UTC date.
            opens.append(max(9, off))
            closes.append(min(21, 24 + off))
            # How the till prints the customer: "First Last", "Last, First" or family name first.
            style.append(2 if r == "apac" else (1 if r == "emea" and s % 3 == 1 else 0))
    return (
        pl.DataFrame(rows, schema=dict.fromkeys(POS_STORES.columns, pl.String)),
        np.array(region_of),
        np.array(weight),
        np.array(offset),
        np.array([opens, closes]).T,
        np.array(style),
    )


def _generate_pos(plan: _Plan, people: _People, cat: _Catalogue, out: Path, manifest: dict[str, Any]) -> None:
    rng = _rng(plan.seed, "pos")
    stores, s_region, s_weight, s_offset, s_hours, s_style = _build_stores(plan)
    landing = out / "landing" / "pos"
    landing.mkdir(parents=True, exist_ok=True)
    stores.write_csv(landing / "stores.csv")
    n_stores, n_days = stores.height, len(plan.days)

    sizes = np.minimum(rng.geometric(0.6, int(plan.pos_lines / 1.5) + 64), 8)
    while sizes.sum() < plan.pos_lines:
        sizes = np.concatenate([sizes, np.minimum(rng.geometric(0.6, 64), 8)])
    cum = np.cumsum(sizes)
    n_tx = int(np.searchsorted(cum, plan.pos_lines) + 1)
    sizes = sizes[:n_tx]
    sizes[-1] -= int(cum[n_tx - 1] - plan.pos_lines)

    region_total = np.bincount(s_region, weights=s_weight)
    store_share = s_weight / region_total[s_region]
    weights = np.array(
        [
            [
                seasonal_weight(d, plan.regions[s_region[s]], "pos")
                * REGION_WEIGHTS[plan.regions[s_region[s]]]
                * store_share[s]
                for s in range(n_stores)
            ]
            for d in plan.days
        ]
    ).ravel()
    cell = np.repeat(np.arange(len(weights)), rng.multinomial(n_tx, weights / weights.sum()))
    day, store = cell // n_stores, cell % n_stores
    saturday = np.array([d.weekday() == 5 for d in plan.days])[day]
    hour = np.zeros(n_tx, dtype=np.int64)
    for s in range(n_stores):
        allowed = np.zeros(24)
        allowed[s_hours[s, 0] : s_hours[s, 1]] = 1
        for sat, profile in ((False, _POS_HOURS), (True, _POS_HOURS_SATURDAY)):
            at = np.flatnonzero((store == s) & (saturday == sat))
            p = profile * allowed
            hour[at] = rng.choice(24, len(at), p=p / p.sum())
    local_sec = hour * 3600 + rng.integers(0, 3600, n_tx)
    order = np.lexsort((local_sec, cell))
    sizes, day, store, local_sec, cell = sizes[order], day[order], store[order], local_sec[order], cell[order]
    seq = np.arange(n_tx) - np.searchsorted(cell, cell) + 1
    region = s_region[store]
    loyal = np.full(n_tx, -1, dtype=np.int64)
    is_loyal = rng.random(n_tx) < 0.45
    # Members shop in their own country's stores; a few are travelling within the region.
    traveller = rng.random(n_tx) < 0.15
    person_country = people.frame["country"].to_numpy()
    store_country = stores["country"].to_numpy()
    for s in range(n_stores):
        pool, w = people.loyal_by_region[s_region[s]], people.loyal_weight_by_region[s_region[s]]
        local = person_country[pool] == store_country[s]
        at = np.flatnonzero(is_loyal & (store == s) & ~traveller)
        if local.sum() >= 5:
            loyal[at] = rng.choice(pool[local], len(at), p=w[local] / w[local].sum())
        else:
            loyal[at] = rng.choice(pool, len(at), p=w)
        at = np.flatnonzero(is_loyal & (store == s) & traveller)
        loyal[at] = rng.choice(pool, len(at), p=w)

    tx_of = np.repeat(np.arange(n_tx), sizes)
    n_lines = len(tx_of)
    line_no = np.arange(n_lines) - np.repeat(np.cumsum(sizes) - sizes, sizes) + 1
    sku = _draw_skus(rng, cat, cat.pos_popularity, line_no)
    n_cat = len(cat.pos_popularity)
    local_pick = rng.random(n_lines)
    sku[local_pick < 0.04] = n_cat  # carrier bag
    sku[(local_pick >= 0.04) & (local_pick < 0.047)] = n_cat + 1  # gift wrap
    qty = np.where(rng.random(n_lines) < 0.12, 2, 1) + (rng.random(n_lines) < 0.04)
    line_region = region[tx_of]
    unit_price = cat.price[line_region, sku]
    discounted = rng.random(n_lines) < 0.08
    discount = np.where(
        discounted,
        _round_money(unit_price * qty * rng.choice([0.1, 0.2, 0.3], n_lines), plan.decimals[line_region]),
        0.0,
    )

    rates = DEFECT_RATES["pos_transactions"]
    picks = _pick_disjoint(
        rng,
        np.ones(n_lines, dtype=bool),
        {k: _defect_count(v, n_lines) for k, v in rates.items()},
    )
    malformed_kind = np.full(n_lines, -1, dtype=np.int64)
    malformed_kind[picks["malformed"]] = np.arange(len(picks["malformed"])) % len(MALFORMED_KINDS)
    malformed_kind[picks["malformed"]] = malformed_kind[picks["malformed"]][rng.permutation(len(picks["malformed"]))]
    dup = _mask(n_lines, picks["duplicate"])
    bad_ccy = np.full(n_lines, -1, dtype=np.int64)
    bad_ccy[picks["unknown_currency"]] = rng.integers(0, len(UNKNOWN_CURRENCIES), len(picks["unknown_currency"]))
    qty_text_code = np.where(_mask(n_lines, picks["negative_quantity"]), -1, qty)
    bad_qty = rng.integers(0, len(_BAD_QUANTITIES), n_lines)
    bad_ts = rng.random(n_lines) < 0.5

    store_ids = stores["store_id"]
    ccys = [plan.currency(r) for r in range(len(plan.regions))]
    pf = people.frame
    header = ",".join(POS_TRANSACTIONS.columns)
    tx_bounds = np.searchsorted(cell, np.arange(n_days * n_stores + 1))
    line_start = np.append(np.cumsum(sizes) - sizes, n_lines)
    files = 0
    for d_idx, d in enumerate(plan.days):
        a, b = int(tx_bounds[d_idx * n_stores]), int(tx_bounds[(d_idx + 1) * n_stores])
        la, lb = int(line_start[a]), int(line_start[b])
        ln = np.arange(la, lb)
        # A retried transmission repeats the line right after the original.
        ln = np.repeat(ln, 1 + dup[la:lb])
        t = tx_of[ln]
        person = loyal[t]
        local_clock = pl.Series(local_sec[t] * 1_000_000_000).cast(pl.Time).dt.strftime("%H:%M:%S")
        offset_txt = _take([_offset_text(int(o)) for o in s_offset], store[t])
        mk = malformed_kind[ln]
        ts_text = pl.select(pl.concat_str(pl.lit(f"{d.isoformat()}T"), local_clock, offset_txt)).to_series()
        bad_hour = pl.select(
            pl.concat_str(
                pl.lit(f"{d.isoformat()}T"),
                pl.Series(local_sec[t] // 3600 + 24).cast(pl.String),
                local_clock.str.slice(2),
                offset_txt,
            )
        ).to_series()
        qty_txt = np.where(qty_text_code[ln] < 0, np.char.add("-", qty[ln].astype(str)), qty[ln].astype(str))
        qty_txt = np.where(mk == 1, np.array(_BAD_QUANTITIES)[bad_qty[ln]], qty_txt)
        currency = np.array(ccys, dtype=object)[line_region[ln]]
        currency = np.where(
            bad_ccy[ln] >= 0, np.array(UNKNOWN_CURRENCIES, dtype=object)[np.maximum(bad_ccy[ln], 0)], currency
        )
        first, last = pf["pos_first"].gather(np.maximum(person, 0)), pf["pos_last"].gather(np.maximum(person, 0))
        style = s_style[store[t]]
        frame = (
            pl.DataFrame(
                {
                    "transaction_id": pl.select(
                        pl.concat_str(
                            store_ids.gather(store[t]),
                            pl.lit(f"-{d.strftime('%Y%m%d')}-"),
                            pl.Series(seq[t]).cast(pl.String).str.zfill(6),
                        )
                    ).to_series(),
                    "line_no": pl.Series(line_no[ln]).cast(pl.String),
                    "store_id": store_ids.gather(store[t]),
                    "transaction_ts": pl.select(
                        pl.when(pl.Series(mk == 2) & pl.Series(bad_ts[ln]))
                        .then(pl.lit("##########"))
                        .when(pl.Series(mk == 2))
                        .then(bad_hour)
                        .otherwise(ts_text)
                    ).to_series(),
                    "sku": _take(cat.skus, sku[ln]),
                    "quantity": pl.Series(qty_txt.tolist(), dtype=pl.String),
                    "unit_price": _money_text(unit_price[ln]),
                    "discount": _money_text(discount[ln]),
                    "currency": pl.Series(currency.tolist(), dtype=pl.String),
                    "loyalty_id": pf["loyalty_id"].gather(np.maximum(person, 0)),
                    "first": first,
                    "last": last,
                    "style": style,
                    "anon": person < 0,
                    "customer_email": pf["pos_email"].gather(np.maximum(person, 0)),
                    "customer_phone": pf["pos_phone"].gather(np.maximum(person, 0)),
                    "store": store[t],
                    "mk": mk,
                }
            )
            .with_columns(
                customer_name=pl.when(pl.col("style") == 1)
                .then(pl.concat_str(pl.col("last").str.to_uppercase(), pl.lit(", "), "first"))
                .when(pl.col("style") == 2)
                .then(pl.concat_str("last", pl.lit(" "), "first"))
                .otherwise(pl.concat_str("first", pl.lit(" "), "last"))
            )
            .with_columns(
                [
                    pl.when(pl.col("anon")).then(None).otherwise(pl.col(c)).alias(c)
                    for c in ("loyalty_id", "customer_name", "customer_email", "customer_phone")
                ]
            )
        )
        for (s,), part in frame.partition_by("store", maintain_order=True, as_dict=True).items():
            _write_pos_file(landing / d.isoformat() / f"{store_ids[int(s)]}.csv", part, header)
            files += 1
        for s in range(n_stores):  # a closed store still drops an empty log
            path = landing / d.isoformat() / f"{store_ids[s]}.csv"
            if not path.exists():
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(header + "\n", encoding="utf-8")
                files += 1

    manifest["rows"]["pos_stores"] = n_stores
    manifest["rows"]["pos_transactions"] = n_lines + len(picks["duplicate"])
    manifest["entities"]["pos_transactions"] = n_lines
    manifest["entities"]["pos_transaction_count"] = n_tx
    manifest["files"]["pos_transactions"] = files
    manifest["defects"]["pos_transactions"] = {k: len(v) for k, v in picks.items()}
    manifest["defect_details"]["pos_transactions"] = {
        "malformed": {k: int((malformed_kind == i).sum()) for i, k in enumerate(MALFORMED_KINDS)}
    }


def _write_pos_file(path: Path, part: pl.DataFrame, header: str) -> None:
    """Standard CSV (minimal quoting), then break the field count of the malformed lines."""
    body = part.select(*POS_TRANSACTIONS.columns).write_csv(include_header=False, quote_style="necessary")
    kinds = part["mk"].to_numpy()
    broken = np.flatnonzero(kinds == 0)
    if len(broken):
        lines = body.split("\n")
        for i in broken:
            # Alternate: a truncated transmission loses the last field, a stray delimiter adds one.
            lines[i] = lines[i][: lines[i].rfind(",")] if i % 2 == 0 else lines[i] + ","
        body = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n" + body, encoding="utf-8")


# --- Reference tables, FX, ground truth -------------------------------------------------------


def _fx_rates(plan: _Plan) -> pl.DataFrame:
    rng = _rng(plan.seed, "fx")
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


def _customers(people: _People) -> pl.DataFrame:
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


def _ground_truth(people: _People, crm: _Crm) -> pl.DataFrame:
    pf = people.frame.with_columns(
        person_id=pl.concat_str(pl.lit("P"), (pl.col("person") + 1).cast(pl.String).str.zfill(8))
    )
    web = pf.filter(pl.col("customer_id").is_not_null()).select(
        "person_id", pl.lit("warehouse").alias("system"), pl.col("customer_id").alias("source_key")
    )
    pos = pf.filter(pl.col("loyalty_id").is_not_null()).select(
        "person_id", pl.lit("pos").alias("system"), pl.col("loyalty_id").alias("source_key")
    )
    sf = pl.DataFrame(
        {
            "person_id": pf["person_id"].gather(crm.contact_person),
            "system": ["salesforce"] * len(crm.contact_person),
            "source_key": crm.contact_ids,
        }
    )
    return pl.concat([web, pos, sf]).sort("person_id", "system", "source_key")


def _person_id(column: str) -> pl.Expr:
    return pl.concat_str(pl.lit("P"), (pl.col(column) + 1).cast(pl.String).str.zfill(8))


def _identity_cases(people: _People) -> pl.DataFrame:
    """person_id, case, other_person_id: which people carry an injected hard case (see the contract)."""
    return people.identity_cases.select(
        _person_id("person").alias("person_id"), "case", _person_id("other_person").alias("other_person_id")
    )


# --- Entry points -----------------------------------------------------------------------------

_OUTPUTS = ("crm", "warehouse", "landing", "_ground_truth", "_manifest.json")


def generate_sources(
    out_dir: Path, start: date, end: date, order_lines: int = 20_000, seed: int = 42
) -> dict[str, Any]:
    """Write every sample source under ``out_dir`` for business days start..end; return the manifest."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if order_lines < 100:
        raise ValueError("order_lines must be at least 100")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in _OUTPUTS:  # only what this generator owns; anything else in out_dir stays
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

    plan = _make_plan(start, end, order_lines, seed)
    manifest: dict[str, Any] = {
        "generator": "sales360_assets.sample_sources.generator",
        "version": GENERATOR_VERSION,
        "arguments": {
            "start": start.isoformat(),
            "end": end.isoformat(),
            "order_lines": order_lines,
            "seed": seed,
        },
        "regions": {
            r: {"currency": REGIONS[r].currency, "stores": plan.stores_per_region[i], "reps": plan.reps_per_region[i]}
            for i, r in enumerate(plan.regions)
        },
        "rows": {},
        "entities": {},
        "files": {},
        "defects": {},
        "defect_details": {},
        "defect_rates": DEFECT_RATES,
        "unknown_currencies": list(UNKNOWN_CURRENCIES),
        "unmapped_products": {
            "pos_local_skus": [s for s, _ in POS_LOCAL_SKUS],
            "crm_only_product_codes": [c for c, _, _ in CRM_ONLY_PRODUCTS],
        },
    }
    cat = _build_catalogue(plan)
    accounts = _plan_accounts(plan)
    people = _build_people(plan, accounts)
    crm = _plan_crm(plan, people, accounts, cat)
    linked = _generate_web(plan, people, cat, crm.link_requests, out, manifest)
    _finish_crm(plan, crm, linked, out / "crm", manifest)
    _generate_pos(plan, people, cat, out, manifest)

    warehouse = out / "warehouse"
    for name, frame in (("customers", _customers(people)), ("products", cat.frame), ("fx_rates", _fx_rates(plan))):
        table = WAREHOUSE_TABLES[name]
        (warehouse / name).mkdir(parents=True, exist_ok=True)
        _conform(table, frame).write_parquet(warehouse / name / f"{name}.parquet")
        manifest["rows"][name] = frame.height
    truth = _ground_truth(people, crm)
    (out / "_ground_truth").mkdir(parents=True, exist_ok=True)
    truth.write_parquet(out / "_ground_truth" / "customer_identity.parquet")
    cases = _identity_cases(people)
    cases.write_parquet(out / "_ground_truth" / "identity_cases.parquet")
    manifest["entities"]["identity_cases"] = dict(sorted(cases.group_by("case").len().iter_rows()))
    manifest["rows"]["customer_identity"] = truth.height
    manifest["entities"]["persons"] = truth["person_id"].n_unique()
    manifest["entities"]["persons_in_multiple_systems"] = int(
        truth.group_by("person_id").agg(pl.col("system").n_unique()).filter(pl.col("system") > 1).height
    )
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")
    return manifest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m sales360_assets.sample_sources.generator",
        description="Write deterministic sample Salesforce, warehouse and POS sources.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/sources"), help="sources directory to (re)write")
    parser.add_argument("--days", type=int, default=30, help="number of business days ending at --end")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=None, help="last day, YYYY-MM-DD (default: yesterday UTC)"
    )
    parser.add_argument("--order-lines", type=int, default=20_000, help="web + POS order lines in total")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    end = args.end or datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    manifest = generate_sources(args.out, start, end, order_lines=args.order_lines, seed=args.seed)
    rows = manifest["rows"]
    print(
        f"wrote sources for {start}..{end} to {args.out}: {rows['orders']} orders, {rows['order_lines']} order lines, "
        f"{rows['pos_transactions']} POS lines, {rows['Opportunity']} opportunity versions (seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
