"""What the recommendation tables' non-KPI columns mean: rule sides, basket counts, ranks and models.

KPI columns are described by the glossary (``kpis/glossary.py``);
the recommendation assets (``recommendations/assets.py``) add these, so every column has a
description in the catalogue.
"""

from __future__ import annotations

COLUMN_DOCS: dict[str, str] = {
    "level": "product | category (affinity); customer | segment (category spend).",
    "antecedent": "A in the rule A → B: the product_key (product level) or category bought.",
    "consequent": "B in the rule A → B: what A's baskets also contain.",
    "baskets": "Orders (channel:order_id) in the window.",
    "pair_baskets": "Orders with both A and B.",
    "driving_products": "The customer's products behind the score, strongest rule (confidence) first.",
    "rank": "1 = best for this customer.",
    "source": "The recommender that placed the product: als | cross_sell | popularity.",
    "model": "The customer's leading model (chosen on the time holdout); popularity for customers without history.",
    "score": "Reciprocal-rank fusion of the model's and popularity's rankings (higher first).",
    "customer_key": "dim_customer key (pseudonymous; with dim_customer it identifies a person).",
}
