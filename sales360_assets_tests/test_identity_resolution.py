"""Known answers for identity resolution: rules, clustering and stable keys across runs."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from sales360_assets.identity.crosswalk import empty_crosswalk, update_crosswalk
from sales360_assets.identity.decisions import DECISION_SCHEMA, MATCH, match_decisions
from sales360_assets.identity.matching import MatchSettings, candidate_pair_count, score_pairs
from sales360_assets.identity.normalise import national_phone, normalise_email, normalise_phone
from sales360_assets.identity.records import RECORD_SCHEMA, affiliate_by_domain, build_identity_records
from sales360_assets.identity.rules import rule_pairs


def _records(*rows: dict[str, str | None]) -> pl.DataFrame:
    filled = [
        {
            **{c: None for c in RECORD_SCHEMA},
            **row,
            "record_id": f"{row['system']}:{row['source_key']}",
        }
        for row in rows
    ]
    return pl.DataFrame(filled, schema=RECORD_SCHEMA)


def _person(
    system: str, key: str, first: str, last: str, email: str | None, phone: str | None
) -> dict[str, str | None]:
    return {
        "system": system,
        "source_key": key,
        "first_key": first,
        "last_key": last,
        "email_key": email,
        "phone_key": phone,
    }


def _links(*pairs: tuple[str, str]) -> pl.DataFrame:
    rows = [
        {
            "run_id": "r",
            "record_id_l": min(a, b),
            "record_id_r": max(a, b),
            "method": "model",
            "match_weight": 10.0,
            "match_probability": 0.99,
            "threshold": 0.9,
            "decision": MATCH,
            "decided_at": datetime(2026, 3, 1, tzinfo=UTC),
        }
        for a, b in pairs
    ]
    return pl.DataFrame(rows, schema=DECISION_SCHEMA)


def _ids(crosswalk: pl.DataFrame) -> dict[str, str]:
    return {f"{s}:{k}": c for s, k, c in crosswalk.select("system", "source_key", "customer_id").iter_rows()}


def test_normalised_keys_agree_across_the_formats_people_type() -> None:
    frame = pl.DataFrame(
        {
            "phone": ["+44 20 7946 0123", "020-7946-0123", "(020) 7946 0123", "+442079460123", "0044 20 7946 0123"],
            "email": [" Anna.Smith@Example.com ", "anna.smith@example.com", "ANNA.SMITH@EXAMPLE.COM", "x", None],
        }
    ).with_columns(
        national_phone(pl.col("phone")).alias("national"),
        normalise_phone(pl.col("phone"), pl.lit("GB")).alias("e164"),
        normalise_email(pl.col("email")).alias("email_key"),
    )
    assert frame["national"].unique().to_list() == ["2079460123"]
    assert frame["e164"].unique().to_list() == ["+442079460123"]
    assert frame["email_key"].to_list() == ["anna.smith@example.com"] * 3 + [None, None]


def test_shared_household_email_alone_is_no_match() -> None:
    records = _records(
        _person("warehouse", "C1", "anna", "smith", "smiths@example.com", "2071111111"),
        _person("pos", "L1", "tom", "smith", "smiths@example.com", "2072222222"),
        _person("salesforce", "003A", "anna", "smith", "smiths@example.com", None),
    )
    pairs = rule_pairs(records)
    assert pairs.select("record_id_l", "record_id_r").rows() == [("salesforce:003A", "warehouse:C1")]
    assert pairs["rule"].to_list() == ["email+name"]


def test_reused_phone_alone_is_no_match_but_swapped_names_are() -> None:
    records = _records(
        _person("warehouse", "C1", "anna", "smith", None, "2071111111"),
        _person("pos", "L1", "kenji", "sato", None, "2071111111"),
        _person("pos", "L2", "smith", "anna", None, "2071111111"),
    )
    assert rule_pairs(records).select("record_id_l", "record_id_r", "rule").rows() == [
        ("pos:L2", "warehouse:C1", "phone+name")
    ]


def test_a_new_record_linking_two_persons_merges_them_under_one_surviving_key() -> None:
    first = _records(
        _person("warehouse", "C1", "anna", "smith", "a@x.com", None),
        _person("pos", "L1", "anna", "smith", "a@x.com", None),
        _person("salesforce", "003A", "anna", "smith", None, "2071111111"),
    )
    run1 = update_crosswalk(empty_crosswalk(), first, _links(("warehouse:C1", "pos:L1")), "run1")
    before = _ids(run1)
    assert before["warehouse:C1"] == before["pos:L1"] != before["salesforce:003A"]

    # A web account carrying both the email and the phone bridges the two persons.
    second = pl.concat([first, _records(_person("warehouse", "C2", "anna", "smith", "a@x.com", "2071111111"))])
    links = _links(("warehouse:C1", "pos:L1"), ("warehouse:C2", "pos:L1"), ("warehouse:C2", "salesforce:003A"))
    run2 = update_crosswalk(run1, second, links, "run2")
    after = _ids(run2)
    assert len(set(after.values())) == 1
    # The key held by more records survives; the absorbed record remembers its old key.
    assert after["warehouse:C1"] == before["warehouse:C1"]
    moved = run2.filter(pl.col("source_key") == "003A").row(0, named=True)
    assert moved["previous_customer_id"] == before["salesforce:003A"]
    assert moved["last_changed_run"] == "run2" and moved["first_seen_run"] == "run1"
    untouched = run2.filter(pl.col("source_key") == "C1").row(0, named=True)
    assert untouched["last_changed_run"] == "run1"


def test_a_link_that_disappears_splits_the_person_and_the_larger_part_keeps_the_key() -> None:
    records = _records(
        _person("warehouse", "C1", "anna", "smith", "a@x.com", None),
        _person("pos", "L1", "anna", "smith", "a@x.com", None),
        _person("salesforce", "003A", "anne", "smith", None, None),
    )
    run1 = update_crosswalk(
        empty_crosswalk(), records, _links(("warehouse:C1", "pos:L1"), ("pos:L1", "salesforce:003A")), "run1"
    )
    key = _ids(run1)["warehouse:C1"]
    assert set(_ids(run1).values()) == {key}

    run2 = update_crosswalk(run1, records, _links(("warehouse:C1", "pos:L1")), "run2")
    after = _ids(run2)
    assert after["warehouse:C1"] == after["pos:L1"] == key
    assert after["salesforce:003A"] != key
    split_off = run2.filter(pl.col("source_key") == "003A").row(0, named=True)
    assert split_off["previous_customer_id"] == key and split_off["rule"] == "singleton"


def test_an_email_change_keeps_the_key_and_an_unseen_source_id_is_kept() -> None:
    run1_records = _records(
        _person("warehouse", "C1", "anna", "smith", "old@x.com", "2071111111"),
        _person("pos", "L9", "otto", "weber", None, None),
    )
    run1 = update_crosswalk(empty_crosswalk(), run1_records, _links(), "run1")
    run2_records = _records(_person("warehouse", "C1", "anna", "smith", "new@x.com", "2071111111"))
    run2 = update_crosswalk(run1, run2_records, _links(), "run2")
    assert _ids(run2) == _ids(run1)
    assert run2.filter(pl.col("source_key") == "C1")["last_changed_run"].to_list() == ["run1"]


def test_an_unseen_record_follows_its_person_when_a_merge_retires_its_key() -> None:
    """Review finding: a deleted contact kept a key no person held any more after its person merged."""
    run1_records = _records(
        _person("warehouse", "C1", "anna", "smith", "a@x.com", None),
        _person("pos", "L1", "anna", "smith", "a@x.com", None),
        _person("salesforce", "003A", "anna", "smith", None, "2071111111"),
        _person("salesforce", "003B", "anna", "smith", None, "2071111111"),
    )
    links1 = _links(("warehouse:C1", "pos:L1"), ("salesforce:003A", "salesforce:003B"))
    run1 = update_crosswalk(empty_crosswalk(), run1_records, links1, "run1")
    before = _ids(run1)
    assert before["salesforce:003A"] != before["warehouse:C1"]
    # Run 2: contact 003A is deleted, and 003B now links to the web person, which has more holders.
    run2_records = run1_records.filter(pl.col("source_key") != "003A")
    run2 = update_crosswalk(
        run1, run2_records, _links(("warehouse:C1", "pos:L1"), ("pos:L1", "salesforce:003B")), "run2"
    )
    after = _ids(run2)
    assert after["salesforce:003B"] == after["warehouse:C1"] == before["warehouse:C1"]
    deleted = run2.filter(pl.col("source_key") == "003A").row(0, named=True)
    assert deleted["customer_id"] == before["warehouse:C1"]  # facts under 003A still reach a live person
    assert deleted["previous_customer_id"] == before["salesforce:003A"] and deleted["last_changed_run"] == "run2"


def test_a_b2b_web_customer_joins_the_account_owning_their_email_domain() -> None:
    def row(system: str, key: str, domain: str, segment: str | None, account: str | None) -> dict[str, str | None]:
        return {"system": system, "source_key": key, "email_domain": domain, "segment": segment, "account_id": account}

    records = affiliate_by_domain(
        _records(
            row("salesforce", "003A", "acme.example", None, "001A"),
            row("salesforce", "003B", "acme.example", None, "001A"),
            row("salesforce", "003C", "mail.example", None, "001B"),
            row("salesforce", "003D", "shared.example", None, "001C"),
            row("salesforce", "003E", "shared.example", None, "001D"),
            row("warehouse", "C1", "acme.example", "Corporate", None),
            row("warehouse", "C3", "mail.example", "Small Business", None),
            row("warehouse", "C4", "mail.example", "Consumer", None),
            row("warehouse", "C5", "shared.example", "Corporate", None),
        )
    )
    accounts = dict(zip(records["record_id"], records["account_id"], strict=True))
    assert accounts["warehouse:C1"] == "001A"
    # A domain consumers use is public mail; a domain two accounts' contacts use belongs to neither.
    assert accounts["warehouse:C3"] is None and accounts["warehouse:C4"] is None
    assert accounts["warehouse:C5"] is None


def test_too_little_data_to_train_gives_no_model_pairs_rather_than_guesses() -> None:
    # Five people, no shared email or phone: EM has nothing to learn from.
    records = _records(
        *(_person("warehouse", f"C{i}", f"ann{i}", "smith", f"a{i}@x.com", f"20711111{i}") for i in range(5))
    )
    assert score_pairs(records, MatchSettings()).is_empty()
    decisions = match_decisions(records, MatchSettings(), "r1")
    assert decisions.is_empty()


def test_a_loyalty_member_takes_the_name_a_till_printed_with_a_comma() -> None:
    lines = pl.DataFrame(
        {
            "loyalty_id": ["L1", "L1", "L1", "L2"],
            "customer_name": ["Sato Kenji", "Sato Kenji", "SATO, Kenji", "Anna Smith"],
            "customer_email": [None, " Kenji@X.com", None, None],
            "customer_phone": ["03-1234-5678", None, None, None],
            "transaction_ts": [datetime(2026, 3, d, tzinfo=UTC) for d in (1, 2, 3, 4)],
        }
    )
    web = pl.DataFrame(
        schema={
            c: pl.String
            for c in ("customer_id", "first_name", "last_name", "email", "phone", "country", "city", "segment")
        }
        | {"created_at": pl.Datetime("us", "UTC"), "updated_at": pl.Datetime("us", "UTC")}
    )
    contacts = pl.DataFrame(
        schema={
            c: pl.String
            for c in ("contact_id", "account_id", "first_name", "last_name", "email", "phone", "mailing_country")
        }
        | {"system_modstamp": pl.Datetime("us", "UTC")}
    )
    accounts = pl.DataFrame(
        schema={c: pl.String for c in ("account_id", "account_name", "phone", "billing_country", "billing_city")}
        | {"system_modstamp": pl.Datetime("us", "UTC")}
    )
    records = build_identity_records(web, contacts, lines, accounts)
    member = records.filter(pl.col("source_key") == "L1").row(0, named=True)
    assert (member["first_key"], member["last_key"]) == ("kenji", "sato")
    assert member["email_key"] == "kenji@x.com" and member["phone_key"] == "312345678"
    assert member["observed_at"] == datetime(2026, 3, 3, tzinfo=UTC)
    other = records.filter(pl.col("source_key") == "L2").row(0, named=True)
    assert (other["first_key"], other["last_key"]) == ("anna", "smith")


@pytest.mark.parametrize("namesakes", [MatchSettings().max_name_block, MatchSettings().max_name_block + 1])
def test_a_name_shared_by_too_many_records_is_no_candidate_pair_on_the_name_alone(namesakes: int) -> None:
    """Blocking on a common name costs n²/2 comparisons (376 M pairs at 10 M order lines) for pairs whose
    only agreement is a name that says little; a rare name still makes its records a candidate pair."""
    crowd = [
        _person("warehouse", f"C{i:04d}", "maria", "garcia", f"m{i}@x.example", f"2071{i:06d}")
        for i in range(namesakes)
    ]
    rare = [
        _person("warehouse", "R1", "siobhan", "obriain", "s1@x.example", "2079000001"),
        _person("pos", "R2", "siobhan", "obriain", None, None),
    ]
    pairs = candidate_pair_count(_records(*crowd, *rare), MatchSettings())
    crowd_pairs = namesakes * (namesakes - 1) // 2 if namesakes <= MatchSettings().max_name_block else 0
    assert pairs == crowd_pairs + 1
