"""Deterministic match rules: pairs certain enough that no model needs to weigh them.

An identifier alone is not enough: a household shares one email and a phone number is
reassigned to somebody else. So each rule pairs an identifier with a second, independent piece
of evidence, and everything short of that goes to the model.
"""

from __future__ import annotations

import polars as pl

RULE_PAIR_SCHEMA: dict[str, pl.DataType] = {
    "record_id_l": pl.String(),
    "record_id_r": pl.String(),
    "rule": pl.String(),
}


def _names_agree() -> pl.Expr:
    same = (pl.col("first_key") == pl.col("first_key_r")) & (pl.col("last_key") == pl.col("last_key_r"))
    swapped = (pl.col("first_key") == pl.col("last_key_r")) & (pl.col("last_key") == pl.col("first_key_r"))
    return same | swapped


# rule name -> (identifier both records share, what else must agree)
RULES: dict[str, tuple[str, pl.Expr]] = {
    "email+phone": ("email_key", pl.col("phone_key") == pl.col("phone_key_r")),
    "email+name": ("email_key", _names_agree()),
    "phone+name": ("phone_key", _names_agree()),
    # A loyalty number printed on a CRM contact or a web account is the store's own id for them.
    "loyalty_id": ("loyalty_id", pl.lit(True)),
}


def rule_pairs(records: pl.DataFrame) -> pl.DataFrame:
    """Pairs (record_id_l < record_id_r) settled by a rule, with the first rule that settled them."""
    columns = ["record_id", "first_key", "last_key", "email_key", "phone_key", "loyalty_id"]
    side = records.select(columns)
    found = []
    for name, (identifier, also) in RULES.items():
        keyed = side.filter(pl.col(identifier).is_not_null())
        pairs = (
            keyed.join(keyed, on=identifier, suffix="_r")
            .filter((pl.col("record_id") < pl.col("record_id_r")) & also.fill_null(False))
            .select(pl.col("record_id").alias("record_id_l"), "record_id_r", pl.lit(name).alias("rule"))
        )
        found.append(pairs)
    combined = pl.concat(found) if found else pl.DataFrame(schema=RULE_PAIR_SCHEMA)
    return combined.unique(["record_id_l", "record_id_r"], keep="first", maintain_order=True).sort(
        "record_id_l", "record_id_r"
    )
