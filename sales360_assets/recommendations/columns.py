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
    "antecedent_name": "Name of A: dim_product.product_name (product level) or the category name (category level).",
    "consequent_name": "Name of B: dim_product.product_name (product level) or the category name (category level).",
    "antecedent_baskets": "Orders in the window that contain A.",
    "consequent_baskets": "Orders in the window that contain B.",
    "window_start": "First day of the rolling window the rows are computed over (window_end − window_days + 1; "
    "default the last 365 days).",
    "window_end": "Last day of the rolling window: the latest date with sales in fact_sales.",
    "days_covered": "Days of the window the sales data covers (from the later of window_start and the first sale "
    "to window_end): the purchase-frequency denominator.",
    "segment": "Customer segment from dim_customer.segment (for segment-level rows, the segment aggregated).",
    "region": "The customer's sales region code from dim_customer.region.",
    "category": "Product category (dim_product.category) the row is about; 'Unmapped' in category spend for "
    "products the catalogue does not know.",
    "product_key": "dim_product key of the product recommended for the customer.",
    "sku": "SKU of product_key (dim_product.sku).",
    "product_name": "Name of product_key (dim_product.product_name).",
    "rules": "Number of the customer's owned products with a product-level rule (lift > 1) towards this product.",
    "driving_product_keys": "dim_product keys of driving_products, in the same order (at most 3).",
    "current_product_key": "dim_product key of the dearest product (by list price) the customer bought in this "
    "category in the last 365 days.",
    "current_product_name": "Name of current_product_key (dim_product.product_name).",
    "current_price_usd": "List price in USD of current_product_key (dim_product.list_price_usd).",
    "upsell_product_key": "dim_product key of the cheapest catalogue product in the category priced above the "
    "current product, same subcategory preferred.",
    "upsell_product_name": "Name of upsell_product_key (dim_product.product_name).",
    "upsell_subcategory": "Subcategory of upsell_product_key (dim_product.subcategory).",
    "upsell_price_usd": "List price in USD of upsell_product_key (dim_product.list_price_usd).",
    "price_step_pct": "Price step as a percentage of the current price: (upsell_price_usd / current_price_usd − 1) "
    "× 100.",
    "same_subcategory": "true when the upsell product is in the current product's subcategory (a like-for-like "
    "upgrade); false when it is from elsewhere in the category.",
}
