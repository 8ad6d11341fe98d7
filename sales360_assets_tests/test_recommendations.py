"""Market basket, cross-sell, upsell, category spend and recommendation lists on hand-made baskets."""

from __future__ import annotations

import random
from datetime import date

import numpy as np
import polars as pl
import pytest
import scipy.sparse as sparse
from implicit.als import AlternatingLeastSquares
from polars.testing import assert_frame_equal
from threadpoolctl import threadpool_limits

from sales360_assets.recommendations import basket, category_spend, codes, cross_sell, evaluation, recommend
from sales360_assets_tests.analytics_builders import customers, lines, products

DAY = date(2026, 3, 1)
PRODUCTS = products(
    [
        ("A", "Elec", "Phones", 100.0),
        ("B", "Elec", "Phones", 150.0),
        ("C", "Home", "Kitchen", 50.0),
        ("D", "Elec", "Audio", 120.0),
        ("E", "Elec", "Phones", 300.0),
    ]
)
CUSTOMERS = customers([("c1", "Consumer", "na"), ("c2", "Corporate", "emea"), ("c3", "Consumer", "na")])


def four_baskets() -> pl.DataFrame:
    # o1 {A,B}, o2 {A,B}, o3 {A,C}, o4 {B, an unmapped SKU}; o5 {A,C} is older than the 365-day window.
    return lines(
        [
            ("o1", DAY, "c1", "A", 10.0),
            ("o1", DAY, "c1", "B", 10.0),
            ("o2", DAY, "c2", "A", 10.0),
            ("o2", DAY, "c2", "B", 10.0),
            ("o3", DAY, "anon", "A", 10.0),
            ("o3", DAY, "anon", "C", 10.0),
            ("o4", DAY, "c3", "B", 10.0),
            ("o4", DAY, "c3", "unmapped", 10.0),
            ("o5", date(2025, 1, 1), "c3", "A", 10.0),
            ("o5", date(2025, 1, 1), "c3", "C", 10.0),
        ]
    )


def top_n_lists(*args: object, **kwargs: object) -> pl.DataFrame:
    return recommend.all_lists(recommend.list_blocks(*args, **kwargs))  # type: ignore[arg-type]


def rule(mart: pl.DataFrame, level: str, a: str, b: str) -> dict:
    return mart.filter((pl.col("level") == level) & (pl.col("antecedent") == a) & (pl.col("consequent") == b)).row(
        0, named=True
    )


def test_support_confidence_and_lift_of_a_hand_made_basket() -> None:
    mart = basket.build_mart_product_affinity(four_baskets(), PRODUCTS, min_support=0.2)
    assert mart.schema == pl.Schema(basket.MART_PRODUCT_AFFINITY_SCHEMA)
    ab = rule(mart, "product", "A", "B")
    assert (ab["baskets"], ab["antecedent_baskets"], ab["consequent_baskets"], ab["pair_baskets"]) == (4, 3, 3, 2)
    assert ab["support"] == pytest.approx(2 / 4)
    assert ab["confidence"] == pytest.approx(2 / 3)
    assert ab["lift"] == pytest.approx((2 / 3) / (3 / 4))
    ca = rule(mart, "product", "C", "A")
    assert (ca["support"], ca["confidence"], ca["lift"]) == pytest.approx((1 / 4, 1.0, 1 / (3 / 4)))
    assert ca["antecedent_name"] == "name-C"
    home = rule(mart, "category", "Elec", "Home")
    assert (home["support"], home["confidence"], home["lift"]) == pytest.approx((1 / 4, 1 / 4, 1.0))
    assert (ab["window_start"], ab["window_end"]) == (date(2025, 3, 2), DAY)
    # B -> C never happened; the unmapped SKU is in no rule.
    assert mart.filter((pl.col("antecedent") == "B") & (pl.col("consequent") == "C")).height == 0
    assert "unmapped" not in set(mart["antecedent"]) | set(mart["consequent"])


def test_minimum_support_prunes_rare_items_and_pairs() -> None:
    mart = basket.build_mart_product_affinity(four_baskets(), PRODUCTS, min_support=0.3)
    products_ = mart.filter(pl.col("level") == "product")
    assert sorted(zip(products_["antecedent"], products_["consequent"], strict=True)) == [("A", "B"), ("B", "A")]


def test_a_longer_window_takes_in_the_older_basket() -> None:
    mart = basket.build_mart_product_affinity(four_baskets(), PRODUCTS, window_days=1000, min_support=0.2)
    ac = rule(mart, "product", "A", "C")
    assert (ac["baskets"], ac["pair_baskets"], ac["antecedent_baskets"]) == (5, 2, 4)


def affinity_rules(rows: list[tuple[str, str, float, float]]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "level": ["product"] * len(rows),
            "antecedent": [r[0] for r in rows],
            "consequent": [r[1] for r in rows],
            "antecedent_name": [f"name-{r[0]}" for r in rows],
            "confidence": [r[2] for r in rows],
            "lift": [r[3] for r in rows],
        }
    )


def test_cross_sell_score_is_the_noisy_or_of_the_customers_rules() -> None:
    rules = affinity_rules([("A", "C", 0.5, 2.0), ("B", "C", 0.2, 1.5), ("A", "D", 0.3, 0.9), ("B", "A", 0.6, 1.2)])
    fact = lines(
        [
            ("o1", DAY, "c1", "A", 1.0),
            ("o1", DAY, "c1", "B", 1.0),
            ("o2", DAY, "c2", "B", 1.0),
            ("o3", DAY, "anon", "A", 1.0),
        ]
    )
    mart = cross_sell.build_mart_cross_sell_opportunities(fact, CUSTOMERS, PRODUCTS, rules).collect()
    got = {(r["customer_key"], r["product_key"]): r for r in mart.iter_rows(named=True)}
    # c1 owns A and B: C = 1 − (1 − 0.5)(1 − 0.2); A is owned; D's rule has lift ≤ 1.
    assert set(got) == {("c1", "C"), ("c2", "A"), ("c2", "C")}
    assert got[("c1", "C")]["cross_sell_score"] == pytest.approx(1 - 0.5 * 0.8)
    assert got[("c1", "C")]["driving_products"] == ["name-A", "name-B"]
    assert got[("c1", "C")]["rules"] == 2
    assert (got[("c2", "A")]["rank"], got[("c2", "C")]["rank"]) == (1, 2)
    assert got[("c2", "C")]["cross_sell_score"] == pytest.approx(0.2)
    assert got[("c2", "A")]["segment"] == "Corporate"


def test_upsell_is_the_next_dearer_product_same_subcategory_first() -> None:
    fact = lines(
        [
            ("o1", DAY, "c1", "A", 1.0),
            ("o1", DAY, "c1", "D", 1.0),
            ("o2", DAY, "c2", "A", 1.0),
            ("o2", DAY, "c2", "C", 1.0),
            ("o3", DAY, "c3", "E", 1.0),
        ]
    )
    mart = cross_sell.build_mart_upsell_candidates(fact, CUSTOMERS, PRODUCTS)
    got = {(r["customer_key"], r["category"]): r for r in mart.iter_rows(named=True)}
    # c1's dearest Elec product is D (120, Audio): nothing dearer in Audio, so the category's cheapest above it.
    assert got[("c1", "Elec")]["upsell_product_key"] == "B"
    assert got[("c1", "Elec")]["price_step_usd"] == pytest.approx(30.0)
    assert got[("c1", "Elec")]["price_step_pct"] == pytest.approx(25.0)
    assert got[("c1", "Elec")]["same_subcategory"] is False
    # c2 bought A (Phones, 100): B (Phones, 150) beats the cheaper D of another subcategory.
    assert (got[("c2", "Elec")]["upsell_product_key"], got[("c2", "Elec")]["same_subcategory"]) == ("B", True)
    # Nothing dearer than C in Home, nothing dearer than E anywhere.
    assert ("c2", "Home") not in got and ("c3", "Elec") not in got


def test_upsell_matches_its_rule_customer_by_customer_on_random_baskets() -> None:
    """The rule spelled out per customer and category, against the mart (which picks each product's step once)."""
    rng = random.Random(11)
    catalogue = [
        (f"p{i}", rng.choice(["Elec", "Home"]), rng.choice(["S1", "S2", "S3"]), float(rng.choice(range(10, 200, 10))))
        for i in range(30)
    ]
    people = [(f"c{i}", "Consumer", "na") for i in range(40)]
    bought = [(f"o{i}", DAY, f"c{rng.randrange(40)}", rng.choice(catalogue)[0], 1.0) for i in range(150)]

    mart = cross_sell.build_mart_upsell_candidates(lines(bought), customers(people), products(catalogue))

    by_key = {p[0]: p for p in catalogue}
    expected = {}
    for customer in {b[2] for b in bought}:
        owned = {by_key[b[3]] for b in bought if b[2] == customer}
        for category in {p[1] for p in owned}:
            # the dearest product owned in the category (ties: lowest key), then the next step up:
            # same subcategory first, then the cheapest, then the lowest key
            current = min((p for p in owned if p[1] == category), key=lambda p: (-p[3], p[0]))
            dearer = [p for p in catalogue if p[1] == category and p[3] > current[3]]
            if dearer:
                step = min(dearer, key=lambda p: (p[2] != current[2], p[3], p[0]))
                expected[(customer, category)] = (current[0], step[0], step[2] == current[2])
    got = {
        (r["customer_key"], r["category"]): (r["current_product_key"], r["upsell_product_key"], r["same_subcategory"])
        for r in mart.iter_rows(named=True)
    }
    assert got == expected and len(expected) > 20


def test_category_frequency_and_spend_per_customer_and_segment() -> None:
    day2 = date(2026, 2, 28)
    fact = lines(
        [
            ("o1", day2, "c1", "A", 100.0),
            ("o1", day2, "c1", "B", 50.0),
            ("o2", DAY, "c1", "A", 30.0),
            ("o3", DAY, "c3", "D", 20.0),
            ("o4", DAY, "anon", "A", 999.0),
        ]
    )
    mart = category_spend.build_mart_customer_category_spend(fact, CUSTOMERS, PRODUCTS)
    c1 = mart.filter((pl.col("level") == "customer") & (pl.col("customer_key") == "c1")).row(0, named=True)
    # Two days covered; c1 placed 2 Elec orders worth 180.
    assert (c1["orders"], c1["revenue_usd"], c1["days_covered"]) == (2, 180.0, 2)
    assert c1["purchase_frequency_30d"] == pytest.approx(2 * 30 / 2)
    seg = mart.filter((pl.col("level") == "segment") & (pl.col("segment") == "Consumer")).row(0, named=True)
    assert (seg["customers"], seg["orders"], seg["revenue_usd"]) == (2, 3, 200.0)
    assert seg["category_spend_per_customer_usd"] == pytest.approx(100.0)
    assert seg["purchase_frequency_30d"] == pytest.approx(3 / 2 * 30 / 2)
    assert "anon" not in set(mart["customer_key"].drop_nulls())


def test_lists_fuse_model_and_popularity_ranks_and_new_customers_get_popularity() -> None:
    popular = pl.DataFrame({"product_key": ["A", "B", "C", "D"], "score": [3.0, 2.0, 1.0, 0.5]})
    owned = pl.DataFrame({"customer_key": ["c1"], "product_key": ["A"]})
    model_scores = pl.DataFrame({"customer_key": ["c1", "c1"], "product_key": ["D", "C"], "score": [0.9, 0.1]})
    who = pl.DataFrame({"customer_key": ["c1", "c3"]})
    lists = top_n_lists(who, owned, model_scores, popular, recommend.ALS, top_n=3)
    k, w = recommend.RRF_K, recommend.MODEL_WEIGHT
    # c1 does not own B, C, D: popularity ranks 1, 2, 3; the model ranks D 1, C 2.
    expected = {"B": 1 / (k + 1), "C": 1 / (k + 2) + w / (k + 2), "D": 1 / (k + 3) + w / (k + 1)}
    c1 = lists.filter(pl.col("customer_key") == "c1").sort("rank")
    assert c1["product_key"].to_list() == sorted(expected, key=lambda p: -expected[p])
    assert dict(zip(c1["product_key"], c1["score"], strict=True)) == pytest.approx(expected)
    assert dict(zip(c1["product_key"], c1["source"], strict=True)) == {"B": "popularity", "C": "als", "D": "als"}
    c3 = lists.filter(pl.col("customer_key") == "c3").sort("rank")
    assert c3["product_key"].to_list() == ["A", "B", "C"]
    assert set(c3["model"]) == {"popularity"} and set(c1["model"]) == {"als"}


@pytest.mark.parametrize("customers_per_block", [codes.CUSTOMERS_PER_BLOCK, 7])
def test_fused_scores_match_the_formula_customer_by_customer_on_random_lists(
    customers_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Popularity rank = place among the products the customer does not own, wherever the model's products sit;
    the same lists whether the customers are taken all at once or a block at a time."""
    monkeypatch.setattr(codes, "CUSTOMERS_PER_BLOCK", customers_per_block)
    rng = random.Random(5)
    # Popularity order is not name order, so a tie in score must fall back to the product key itself.
    catalogue = rng.sample([f"p{i:02d}" for i in range(25)], 25)
    popular = pl.DataFrame({"product_key": catalogue, "score": [float(100 - i) for i in range(25)]})
    people = [f"c{i}" for i in range(30)]
    owned_by = {c: set(rng.sample(catalogue, rng.randrange(0, 12))) for c in people}
    model_by = {c: rng.sample([p for p in catalogue if p not in owned_by[c]], 3) for c in people[:20]}
    owned = pl.DataFrame(
        [(c, p) for c, ps in owned_by.items() for p in sorted(ps)], schema=["customer_key", "product_key"], orient="row"
    )
    model_scores = pl.DataFrame(
        [(c, p, 1.0 / (1 + i)) for c, ps in model_by.items() for i, p in enumerate(ps)],
        schema=["customer_key", "product_key", "score"],
        orient="row",
    )
    top_n = 5
    lists = top_n_lists(pl.DataFrame({"customer_key": people}), owned, model_scores, popular, recommend.ALS, top_n)

    k, w = recommend.RRF_K, recommend.MODEL_WEIGHT
    for customer in people:
        unowned = [p for p in catalogue if p not in owned_by[customer]]
        model_rank = {p: i + 1 for i, p in enumerate(model_by.get(customer, []))}
        fused = {
            p: 1 / (k + unowned.index(p) + 1) + (w / (k + model_rank[p]) if p in model_rank else 0.0) for p in unowned
        }
        expected = sorted(fused, key=lambda p: (-fused[p], p))[:top_n]
        got = lists.filter(pl.col("customer_key") == customer).sort("rank")
        assert got["product_key"].to_list() == expected, customer
        assert got["score"].to_list() == pytest.approx([fused[p] for p in expected])


def test_hit_rate_and_recall_at_k_of_hand_made_lists() -> None:
    lists = pl.DataFrame({"customer_key": ["c1", "c1", "c2"], "product_key": ["X", "Y", "Z"], "rank": [1, 2, 1]})
    relevant = pl.DataFrame({"customer_key": ["c1", "c1", "c2"], "product_key": ["Y", "W", "Q"]})
    assert evaluation.score_lists(lists, relevant, k=2) == pytest.approx((1 / 2, (1 / 2 + 0) / 2))
    assert evaluation.score_lists(lists, relevant, k=1) == pytest.approx((0.0, 0.0))


def test_the_holdout_tests_only_new_products_of_customers_with_history() -> None:
    fact = lines(
        [
            ("o1", date(2026, 1, 10), "c1", "A", 1.0),
            ("o2", date(2026, 2, 20), "c1", "A", 1.0),
            ("o3", date(2026, 2, 25), "c1", "B", 1.0),
            ("o4", date(2026, 2, 25), "c2", "C", 1.0),
            ("o5", date(2026, 3, 1), "c2", "A", 1.0),
        ]
    )
    holdout = evaluation.time_holdout(fact, CUSTOMERS, test_days=10)
    assert holdout.cutoff == date(2026, 2, 19)
    assert holdout.train.collect()["order_id"].to_list() == ["o1"]
    # c1 re-bought A (owned) and bought B (new); c2 had no history before the cut-off.
    assert holdout.relevant.rows() == [("c1", "B")]


def test_choose_model_takes_als_only_where_it_beats_the_cross_sell_scores() -> None:
    def table(als: float, basket_: float) -> pl.DataFrame:
        rows = [("popularity", 0.5), ("cross_sell", basket_), ("als", als)]
        return pl.DataFrame(
            [(m, 10, 10, h, h / 2, DAY, 30) for m, h in rows], schema=evaluation.EVALUATION_SCHEMA, orient="row"
        )

    assert evaluation.choose_model(table(0.7, 0.6)) == recommend.ALS
    assert evaluation.choose_model(table(0.6, 0.6)) == recommend.CROSS_SELL
    assert evaluation.choose_model(table(0.5, 0.6)) == recommend.CROSS_SELL


def test_a_model_product_deep_in_popularity_keeps_its_exact_popularity_rank() -> None:
    """Lists are built from each customer's first unowned popular products plus the model's, not a full
    customer × product grid: a model product far down the popularity order still gets its exact rank."""
    popular = pl.DataFrame({"product_key": [f"P{i:02d}" for i in range(30)], "score": [30.0 - i for i in range(30)]})
    owned = pl.DataFrame({"customer_key": ["c1"] * 3, "product_key": ["P00", "P05", "P20"]})
    model_scores = pl.DataFrame({"customer_key": ["c1"], "product_key": ["P25"], "score": [1.0]})
    lists = top_n_lists(pl.DataFrame({"customer_key": ["c1"]}), owned, model_scores, popular, "als", 4)
    k, w = recommend.RRF_K, recommend.MODEL_WEIGHT
    # P25 is position 26; three owned products come before it, so it is the 23rd unowned one.
    expected = {"P01": 1 / (k + 1), "P02": 1 / (k + 2), "P03": 1 / (k + 3), "P25": 1 / (k + 23) + w / (k + 1)}
    ranked = lists.sort("rank")
    assert ranked["product_key"].to_list() == ["P01", "P02", "P03", "P25"]
    assert dict(zip(ranked["product_key"], ranked["score"], strict=True)) == pytest.approx(expected)


def test_model_scores_keyed_by_enum_codes_give_the_lists_text_keys_give() -> None:
    """ALS hands its candidates over as Enum codes of its own customers and products (fewer than the
    lists know of, in another order than theirs): the lists must be the ones the text keys give."""
    rng = np.random.default_rng(11)
    customers = pl.DataFrame({"customer_key": [f"c{i:03d}" for i in range(60)]})
    products = [f"P{i:02d}" for i in range(25)]
    popular = pl.DataFrame({"product_key": products, "score": rng.random(25)}).sort("score", descending=True)
    owned = pl.DataFrame(
        {"customer_key": rng.choice(customers["customer_key"], 90), "product_key": rng.choice(products, 90)}
    ).unique()
    scored = pl.DataFrame(
        {
            "customer_key": rng.choice(customers["customer_key"][5:], 200),  # the model knows fewer customers
            "product_key": rng.choice(products[3:], 200),
            "score": rng.random(200),
        }
    ).unique(["customer_key", "product_key"])
    as_enum = scored.with_columns(
        pl.col(c).cast(pl.Enum(scored[c].unique().sort(descending=True))) for c in ("customer_key", "product_key")
    )

    from_text = top_n_lists(customers, owned, scored, popular, recommend.ALS, 5)
    from_codes = top_n_lists(customers, owned, as_enum, popular, recommend.ALS, 5)

    assert from_codes.schema == from_text.schema and from_text["source"].eq(recommend.ALS).any()
    assert_frame_equal(from_codes, from_text)


@pytest.mark.parametrize("customers_per_block", [codes.CUSTOMERS_PER_BLOCK, 37])
def test_als_candidates_are_what_implicit_recommends_without_owned_products(
    customers_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Our block-wise top-N over the fitted factors against implicit's own ``recommend`` as the reference."""
    monkeypatch.setattr(codes, "CUSTOMERS_PER_BLOCK", customers_per_block)
    rng = np.random.default_rng(3)
    users, items, n = 300, 40, 12
    owned = sparse.random(users, items, density=0.15, format="csr", random_state=4, dtype=np.float32)
    owned.data[:] = 1.0 + 40 * np.log1p(rng.integers(1, 5, owned.nnz))
    with threadpool_limits(1, "blas"):
        model = AlternatingLeastSquares(factors=6, iterations=5, random_state=1, num_threads=1)
        model.fit(owned, show_progress=False)
        expected_ids, expected_scores = model.recommend(np.arange(users), owned, N=n, filter_already_liked_items=True)

    ids, scores = recommend._top_unowned(model.user_factors, model.item_factors, owned, n)

    np.testing.assert_allclose(scores, expected_scores, rtol=1e-5)
    assert (ids == expected_ids).mean() > 0.99  # exact ties may come in another order
    assert not any(owned[u, i] for u in range(users) for i in ids[u]), "an owned product was recommended"


@pytest.mark.parametrize("customers_per_block", [codes.CUSTOMERS_PER_BLOCK, 1])
def test_the_mart_lists_customers_in_key_and_rank_order_with_their_own_segment_and_products(
    customers_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codes, "CUSTOMERS_PER_BLOCK", customers_per_block)
    model_scores = pl.DataFrame({"customer_key": ["c3", "c1"], "product_key": ["E", "D"], "score": [1.0, 0.5]})
    mart = recommend.build_mart_customer_recommendations(
        four_baskets(), CUSTOMERS, PRODUCTS, model_scores, recommend.ALS, top_n=3
    ).collect()

    order = mart.select("customer_key", "rank").rows()
    assert order == sorted(order)
    assert sorted(mart["customer_key"].unique()) == ["c1", "c2", "c3"]  # every known customer, no unknown member
    described = mart.join(CUSTOMERS.select("customer_key", "segment", "region"), on="customer_key", suffix="_dim").join(
        PRODUCTS.select("product_key", "product_name", "category"), on="product_key", suffix="_dim"
    )
    assert described.height == mart.height
    for column in ("segment", "region", "product_name", "category"):
        assert (described[column] == described[f"{column}_dim"]).all(), column


@pytest.mark.parametrize("customers_per_block", [codes.CUSTOMERS_PER_BLOCK, 1])
def test_lists_are_only_for_the_customers_asked_about_whatever_the_model_scored(
    customers_per_block: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(codes, "CUSTOMERS_PER_BLOCK", customers_per_block)
    popular = pl.DataFrame({"product_key": ["A", "B", "C"], "score": [3.0, 2.0, 1.0]})
    owned = pl.DataFrame({"customer_key": ["c1"], "product_key": ["A"]})
    model_scores = pl.DataFrame(
        {"customer_key": ["c1", "elsewhere", "also_elsewhere"], "product_key": ["C", "B", "C"], "score": [1.0] * 3}
    )
    lists = top_n_lists(pl.DataFrame({"customer_key": ["c1", "c2"]}), owned, model_scores, popular, "als", 2)
    assert sorted(lists["customer_key"].unique()) == ["c1", "c2"]


def random_baskets(seed: int, orders: int = 300) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Orders over five products (A goes with B, C with D) by sixty customers (and anonymous buyers)."""
    rng = random.Random(seed)
    kinds = [["A", "B"], ["C", "D"], ["A"], ["C"], ["E"], ["A", "B", "E"], ["B", "D"]]
    buyers = [f"k{i:02d}" for i in range(60)]
    rows = [
        (f"o{o}", DAY, rng.choice([*buyers, "anon"]), product, 1.0)
        for o in range(orders)
        for product in rng.choice(kinds)
    ]
    return lines(rows), customers([(b, "Consumer", "na") for b in buyers])


def test_the_pairs_counted_a_bucket_of_baskets_at_a_time_are_the_pairs_of_all_baskets(monkeypatch) -> None:
    fact, _ = random_baskets(3)
    whole = basket.build_mart_product_affinity(fact, PRODUCTS, min_support=0.01)
    monkeypatch.setattr(basket, "BASKET_LINES_PER_BUCKET", 7)  # ~140 buckets of baskets
    assert_frame_equal(basket.build_mart_product_affinity(fact.lazy(), PRODUCTS, min_support=0.01), whole)
    assert whole.filter(pl.col("level") == "product").height == 10  # A-B, C-D, A-E, B-E, B-D both ways


def test_cross_sell_made_a_block_of_customers_at_a_time_is_the_whole_mart_in_order(monkeypatch) -> None:
    fact, buyers = random_baskets(5)
    affinity = basket.build_mart_product_affinity(fact, PRODUCTS, min_support=0.01)
    whole = cross_sell.build_mart_cross_sell_opportunities(fact, buyers, PRODUCTS, affinity, 3).collect()
    monkeypatch.setattr(codes, "CUSTOMERS_PER_BLOCK", 4)
    blocks = cross_sell.build_mart_cross_sell_opportunities(fact.lazy(), buyers, PRODUCTS, affinity, 3)
    assert_frame_equal(blocks.collect(), whole)
    assert whole.height > 30 and whole.equals(whole.sort("customer_key", "rank"))


def test_a_recommender_scores_only_the_customers_held_out() -> None:
    fact, buyers = random_baskets(11)
    owned = cross_sell.owned_products(fact, buyers)
    new_to = owned.group_by("customer_key").agg(pl.col("product_key")).sort("customer_key").head(5)
    later = lines(
        [
            (f"n{i}", DAY, row["customer_key"], next(p for p in "ABCDE" if p not in row["product_key"]), 1.0)
            for i, row in enumerate(new_to.filter(pl.col("product_key").list.len() < 5).iter_rows(named=True))
        ]
    )
    history = pl.concat([fact.with_columns(pl.lit(date(2026, 1, 10)).alias("date")), later])
    asked: list[set[str]] = []

    def spy(purchases: recommend.Facts, who: pl.DataFrame) -> pl.DataFrame:
        asked.append(set(who["customer_key"]))
        return pl.DataFrame(schema={"customer_key": pl.String, "product_key": pl.String, "score": pl.Float64})

    evaluation.evaluate(history, buyers, PRODUCTS, {"spy": spy}, test_days=30)
    holdout = evaluation.time_holdout(history, buyers, 30)
    assert asked == [set(holdout.relevant["customer_key"])] and 0 < len(asked[0]) <= 5


def test_no_frequent_item_gives_an_empty_mart_not_an_error() -> None:
    mart = basket.build_mart_product_affinity(four_baskets(), PRODUCTS, min_support=0.99)
    assert mart.height == 0 and mart.schema == pl.Schema(basket.MART_PRODUCT_AFFINITY_SCHEMA)


def test_lines_without_an_order_id_are_one_basket_whatever_their_channel() -> None:
    web = lines([("o1", DAY, "c1", "A", 1.0), ("o1", DAY, "c1", "B", 1.0), (None, DAY, "c2", "A", 1.0)])
    pos = lines([(None, DAY, "c3", "B", 1.0)], channel="pos")
    mart = basket.build_mart_product_affinity(pl.concat([web, pos]), PRODUCTS, min_support=0.1)
    ab = rule(mart, "product", "A", "B")
    # Baskets: o1 {A, B} and the order-less lines, one basket (as the key "channel:order_id" grouped
    # them) that counts for its items but pairs them with nothing: a missing key matches no line.
    assert (ab["baskets"], ab["pair_baskets"], ab["antecedent_baskets"]) == (2, 1, 2)


def test_fitting_the_model_prints_no_blas_warning() -> None:
    """implicit checks the BLAS thread pool when the model is created; every reporting run printed
    'OpenBLAS is configured to use 2 threads' while only the fit ran under the one-thread limit.
    (On a one-core machine BLAS has one thread anyway; CI has two.)"""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        recommend.als_scores(four_baskets(), CUSTOMERS, PRODUCTS, recommend.AlsParams())
    assert not [w for w in caught if "threads" in str(w.message)], [str(w.message) for w in caught]
