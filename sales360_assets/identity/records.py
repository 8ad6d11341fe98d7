"""One identity record per source id: web customers, CRM contacts and store loyalty members.

Every system becomes the same shape (RECORD_SCHEMA) with the values as typed (for the golden
record) next to their normalised keys (for rules and the model), so matching never sees how a
system happens to spell a column.
"""

from __future__ import annotations

import polars as pl

from sales360_assets.frames import conform
from sales360_assets.identity.normalise import email_domain, fold_name, national_phone, normalise_email, normalise_phone

WEB, POS, CRM = "warehouse", "pos", "salesforce"
# CRM accounts are B2B customers, not people: they get a customer_id of their own (so CRM deals
# reach the customer 360) but never enter person matching.
ACCOUNT = "salesforce_account"
PERSON_SYSTEMS = (WEB, POS, CRM)

RECORD_SCHEMA: dict[str, pl.DataType] = {
    "record_id": pl.String(),  # "<system>:<source_key>", unique across systems
    "system": pl.String(),
    "source_key": pl.String(),
    "first_name": pl.String(),
    "last_name": pl.String(),
    "email": pl.String(),
    "phone": pl.String(),
    "first_key": pl.String(),
    "last_key": pl.String(),
    "email_key": pl.String(),
    "email_domain": pl.String(),
    "phone_key": pl.String(),  # national significant number: the match key
    "phone_e164": pl.String(),  # for the golden record, where the country code is known
    "country": pl.String(),
    "city": pl.String(),
    "segment": pl.String(),
    "account_id": pl.String(),
    "loyalty_id": pl.String(),
    "observed_at": pl.Datetime("us", "UTC"),
}


def _keys(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.with_columns(
        pl.concat_str(pl.col("system"), pl.lit(":"), pl.col("source_key")).alias("record_id"),
        fold_name(pl.col("first_name")).alias("first_key"),
        fold_name(pl.col("last_name")).alias("last_key"),
        normalise_email(pl.col("email")).alias("email_key"),
        email_domain(pl.col("email")).alias("email_domain"),
        national_phone(pl.col("phone")).alias("phone_key"),
        normalise_phone(pl.col("phone"), pl.col("country")).alias("phone_e164"),
    )


# The columns each system delivers before keys are derived (see _keys).
_SOURCE_COLUMNS = (
    "source_key", "first_name", "last_name", "email", "phone", "country", "city", "segment", "account_id", "loyalty_id", "observed_at",
)  # fmt: skip


def _as_records(frame: pl.DataFrame, system: str, columns: dict[str, str | pl.Expr]) -> pl.DataFrame:
    """One system's rows in source shape: the columns it has (renamed), the others null."""
    live = frame.filter(~pl.col("is_deleted").fill_null(False)) if "is_deleted" in frame.columns else frame
    given = {name: pl.col(value) if isinstance(value, str) else value for name, value in columns.items()}
    return live.select(
        pl.lit(system).alias("system"),
        *(given[c].alias(c) if c in given else pl.lit(None, RECORD_SCHEMA[c]).alias(c) for c in _SOURCE_COLUMNS),
    )


def _web(customers: pl.DataFrame) -> pl.DataFrame:
    same = ("first_name", "last_name", "email", "phone", "country", "city", "segment")
    return _as_records(
        customers,
        WEB,
        {"source_key": "customer_id", **{c: c for c in same}, "observed_at": pl.coalesce("updated_at", "created_at")},
    )


def _crm(contacts: pl.DataFrame) -> pl.DataFrame:
    same = ("first_name", "last_name", "email", "phone", "account_id")
    return _as_records(
        contacts,
        CRM,
        {
            "source_key": "contact_id",
            **{c: c for c in same},
            "country": "mailing_country",
            "observed_at": "system_modstamp",
        },
    )


def _accounts(accounts: pl.DataFrame) -> pl.DataFrame:
    columns: dict[str, str | pl.Expr] = {
        "source_key": "account_id",
        "last_name": "account_name",
        "phone": "phone",
        "country": "billing_country",
        "city": "billing_city",
        "segment": pl.lit("Enterprise"),
        "account_id": "account_id",
        "observed_at": "system_modstamp",
    }
    return _as_records(accounts, ACCOUNT, columns)


def split_receipt_name(name: pl.Expr) -> tuple[pl.Expr, pl.Expr]:
    """(given, family) from a till's name: "SMITH, Anna" is unambiguous, else "Anna Smith"."""
    comma = name.str.contains(",")
    before, after = (
        name.str.split_exact(",", 1).struct.field("field_0"),
        name.str.split_exact(",", 1).struct.field("field_1"),
    )
    spaced = name.str.strip_chars().str.splitn(" ", 2)
    given = pl.when(comma).then(after.str.strip_chars()).otherwise(spaced.struct.field("field_0"))
    family = pl.when(comma).then(before.str.strip_chars().str.to_titlecase()).otherwise(spaced.struct.field("field_1"))
    return given, family


def _pos(pos_lines: pl.DataFrame) -> pl.DataFrame:
    """One record per loyalty id: the name, email and phone it was seen with most often.

    A receipt name "LAST, First" says which part is the family name; "Anna Smith" and "Smith
    Anna" do not, so the comma form wins whenever a member was ever printed that way.
    """
    given, family = split_receipt_name(pl.col("customer_name"))
    lines = pos_lines.filter(pl.col("loyalty_id").is_not_null()).with_columns(
        given.alias("first_name"), family.alias("last_name"), pl.col("customer_name").str.contains(",").alias("_comma")
    )

    def most_common(column: str, *, prefer_comma: bool = False) -> pl.Expr:
        # Ties go to the alphabetically first value, so a rerun picks the same one.
        overall = pl.col(column).drop_nulls().mode().sort().first()
        if not prefer_comma:
            return overall.alias(column)
        printed_with_comma = pl.col(column).filter(pl.col("_comma")).drop_nulls().mode().sort().first()
        return pl.when(pl.col("_comma").any()).then(printed_with_comma).otherwise(overall).alias(column)

    members = lines.group_by("loyalty_id").agg(
        most_common("first_name", prefer_comma=True),
        most_common("last_name", prefer_comma=True),
        most_common("customer_email").alias("email"),
        most_common("customer_phone").alias("phone"),
        pl.col("transaction_ts").max().alias("observed_at"),
    )
    # No country or city: the store's is where the till is, not where the member lives.
    same = ("first_name", "last_name", "email", "phone", "loyalty_id", "observed_at")
    return _as_records(members, POS, {"source_key": "loyalty_id", **{c: c for c in same}})


_B2B_SEGMENTS = ("Small Business", "Corporate")


def affiliate_by_domain(records: pl.DataFrame) -> pl.DataFrame:
    """B2B web customers get the CRM account whose contacts alone use their email domain.

    The account-domain rule links a business buyer to a company, not to a person: it fills
    account_id and never merges two people. A domain counts as the account's only if every CRM
    contact using it belongs to that one account and no consumer web customer uses it (that
    rules out public mail providers without keeping a list of them).
    """
    contacts = records.filter((pl.col("system") == CRM) & pl.col("email_domain").is_not_null())
    public = records.filter((pl.col("system") == WEB) & ~pl.col("segment").is_in(_B2B_SEGMENTS))["email_domain"]
    domains = (
        contacts.group_by("email_domain")
        .agg(pl.col("account_id").n_unique().alias("_accounts"), pl.col("account_id").first().alias("_account"))
        .filter((pl.col("_accounts") == 1) & ~pl.col("email_domain").is_in(public.drop_nulls().implode()))
        .select("email_domain", "_account")
    )
    b2b_web = (pl.col("system") == WEB) & pl.col("segment").is_in(_B2B_SEGMENTS)
    return (
        records.join(domains, on="email_domain", how="left")
        .with_columns(
            pl.when(b2b_web).then(pl.coalesce("account_id", "_account")).otherwise("account_id").alias("account_id")
        )
        .drop("_account")
    )


def build_identity_records(
    customers: pl.DataFrame, contacts: pl.DataFrame, pos_lines: pl.DataFrame, accounts: pl.DataFrame
) -> pl.DataFrame:
    """Every source id with its typed values and normalised keys, sorted by record_id."""
    frames = [
        conform(frame, {c: RECORD_SCHEMA[c] for c in frame.columns})
        for frame in (_web(customers), _crm(contacts), _pos(pos_lines), _accounts(accounts))
    ]
    return conform(affiliate_by_domain(_keys(pl.concat(frames, how="vertical"))), RECORD_SCHEMA).sort("record_id")
