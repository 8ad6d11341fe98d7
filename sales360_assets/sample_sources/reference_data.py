"""Reference data the sample draws from: countries and cities, names, products, company words.

Pure data, kept as text tables so it stays readable and diff-friendly; the small parsers turn
each table into tuples. Nothing here draws random numbers.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple


def _cities(text: str) -> tuple[tuple[str, str, int, float], ...]:
    parts = [item.split(":") for item in text.split("; ")]
    return tuple((name, area, int(offset), float(weight)) for name, area, offset, weight in parts)


@dataclass(frozen=True)
class Country:
    code: str
    region: str
    weight: float
    phone_cc: str
    nanp: bool  # North American numbering: no trunk 0, "(415) 555-0123"
    names: str
    tld: str
    # (city, area code, UTC offset in hours, weight)
    cities: tuple[tuple[str, str, int, float], ...]


def split_list(text: str, sep: str = ", ") -> tuple[str, ...]:
    """Reference lists are kept as text so they stay readable and diff-friendly."""
    return tuple(part.strip() for part in text.strip().split(sep))


class Subcategory(NamedTuple):
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


def _parse_countries(text: str) -> dict[str, Country]:
    countries = {}
    for code, region, weight, phone_cc, numbering, names, tld, cities in _table_rows(text):
        countries[code] = Country(
            code, region, float(weight), phone_cc, numbering == "nanp", names, tld, _cities(cities)
        )
    return countries


def _parse_names(text: str) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    parts: dict[str, dict[str, tuple[str, ...]]] = {}
    for key, names in _table_rows(text):
        culture, kind = key.split()
        parts.setdefault(culture, {})[kind] = split_list(names)
    return {culture: (p["first"], p["last"]) for culture, p in parts.items()}


def _parse_subcategories(text: str) -> tuple[Subcategory, ...]:
    return tuple(
        Subcategory(cat, cc, name, code, float(lo), float(hi), float(m), float(w), comp, split_list(b), split_list(n))
        for cat, cc, name, code, lo, hi, m, w, comp, b, n in _table_rows(text)
    )


# Cities are "name:area code:UTC offset hours:weight"; offsets ignore DST on purpose (see POS hours).
COUNTRIES: dict[str, Country] = _parse_countries(
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
NAMES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = _parse_names(
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

NICKNAMES: dict[str, str] = dict(
    pair.split("=")
    for pair in split_list(
        """
William=Bill, Robert=Bob, Elizabeth=Liz, Katherine=Kate, Michael=Mike, James=Jim, Jennifer=Jenny, Thomas=Tom, Christopher=Chris, Margaret=Maggie, Daniel=Dan, Alexander=Alex, Joseph=Joe, Richard=Rick, Patricia=Trish, Matthew=Matt, Anthony=Tony, Jessica=Jess, Susan=Sue, Barbara=Barb, John=Johnny, Oliver=Ollie, Charlotte=Lottie, Eleanor=Ellie, Patrick=Paddy, Pádraig=Paddy, Catherine=Cathy, Johannes=Hans, Maximilian=Max, Franziska=Franzi, Katharina=Kathi, Elisabeth=Lisa, Nicolas=Nico, Christophe=Chris, Francisco=Paco, José=Pepe, Dolores=Lola, Guadalupe=Lupe, Alejandro=Álex, Giuseppe=Beppe, Francesco=Franco, Alessandro=Sandro, Elisabetta=Betta, Willem=Wim, Pieter=Piet, Antonio=Toni, Manuel=Manolo
"""
    )
)

SUBCATEGORIES: tuple[Subcategory, ...] = _parse_subcategories(
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
CHANNEL_CATEGORY_BOOST: dict[str, dict[str, float]] = {
    "web": {"Electronics": 1.3},
    "pos": {"Apparel": 1.4, "Beauty": 1.3},
}
ACCOUNT_WORDS_A = split_list(
    "Northwind, Blue Harbor, Summit, Riverside, Golden Gate, Evergreen, Silverline, Redwood, Atlas, Meridian, Pioneer, Keystone, Horizon, Lakeside, Granite, Sterling, Aurora, Beacon, Crescent, Falcon"
)
ACCOUNT_WORDS_B = split_list(
    "Logistics, Consulting, Retail, Hospitality, Health, Media, Engineering, Foods, Software, Holdings, Dental, Architects, Fitness Studios, Education, Properties"
)
LEGAL_SUFFIX: dict[str, tuple[str, ...]] = {
    "US": split_list("Inc.|LLC|Corp.", "|"),
    "CA": split_list("Inc.|Ltd.", "|"),
    "DE": split_list("GmbH|AG", "|"),
    "FR": split_list("SAS|SA", "|"),
    "NL": split_list("B.V.", "|"),
    "ES": split_list("S.L.|S.A.", "|"),
    "IT": split_list("S.r.l.|S.p.A.", "|"),
    "GB": split_list("Ltd|plc", "|"),
    "IE": split_list("Ltd|DAC", "|"),
    "JP": split_list("K.K.|Co., Ltd.", "|"),
}
INDUSTRIES = ("Retail", "Technology", "Hospitality", "Healthcare", "Education", "Manufacturing", "Finance")

STORE_DESCRIPTORS = ("Central", "Mall", "Station", "High Street", "Outlet", "Airport")
CAMPAIGN_TYPES = ("Email", "Webinar", "Trade Show", "Paid Social", "Partner Event")
CAMPAIGN_THEMES = split_list(
    "Spring Launch, Back to Work, Smart Office, Summer Outdoor, Black Friday, Holiday Gifting, New Year Refresh, Partner Summit, Customer Roadshow, Hospitality Expo"
)
LEAD_SOURCES = ("Web", "Phone Inquiry", "Partner Referral", "Trade Show", "Email", "Other")
OPP_SUFFIXES = ("Refresh", "Expansion", "Rollout", "Order", "Renewal", "Pilot")
