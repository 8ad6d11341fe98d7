"""Sales reps as a slowly changing dimension (type 2), and attributing facts to the right version.

A rep's *assignment* — title (role), region, territory and manager — is tracked: each change opens
a new version valid from the change date, so history keeps who sold where and under whom. Name,
email and the active flag are type 1: every version shows the latest value (a rep who changes
their surname is the same person in every old report).

Source: every valid User record version from Salesforce (``stg_salesforce_user_history``; the
raw table keeps all versions the incremental extracts delivered). A version takes effect on the
UTC date of its ``SystemModstamp``. Several versions on one day collapse into the day's last
one, and versions that change nothing tracked merge into the version before them.

Validity is the half-open interval ``[valid_from, valid_to)``: a sale on the change date belongs
to the new assignment. A user's first known version is valid from ``BEGINNING_OF_TIME``: the
history before the first extract is unknown, so the first known assignment stands for it. The
current version is valid to ``END_OF_TIME``.

Keys: a user's first version keeps the key a type 1 dimension gave (``sales_rep|user_id``), so
fact partitions written before history existed still join; later versions add their start date
(``sales_rep|user_id|valid_from``).
"""

from __future__ import annotations

from datetime import date

import polars as pl

from sales360_assets.core.keys import NO_SALES_REP_KEY, surrogate_key

TRACKED_ATTRIBUTES: tuple[str, ...] = ("title", "region", "territory", "manager_id")
CURRENT_ATTRIBUTES: tuple[str, ...] = ("name", "email", "is_active")
BEGINNING_OF_TIME = date(1900, 1, 1)
END_OF_TIME = date(9999, 12, 31)

REP_VERSION_SCHEMA: dict[str, pl.DataType] = {
    "sales_rep_key": pl.String(),
    "user_id": pl.String(),
    "version": pl.Int32(),
    "valid_from": pl.Date(),
    "valid_to": pl.Date(),
    "is_current": pl.Boolean(),
    "name": pl.String(),
    "email": pl.String(),
    "title": pl.String(),
    "region": pl.String(),
    "territory": pl.String(),
    "manager_id": pl.String(),
    "manager_name": pl.String(),
    "is_active": pl.Boolean(),
    "is_unknown_member": pl.Boolean(),
}


def build_rep_versions(users: pl.DataFrame) -> pl.DataFrame:
    """One row per user and assignment period, from staged User record versions (one or many per user).

    A user whose latest version is a tombstone is left out entirely, like every deleted record.
    """
    ordered = users.sort("user_id", "system_modstamp", maintain_order=True, nulls_last=False)
    latest = ordered.group_by("user_id", maintain_order=True).last()
    deleted = latest.filter(pl.col("is_deleted").fill_null(False))["user_id"].implode()
    live = ordered.filter(~pl.col("user_id").is_in(deleted), ~pl.col("is_deleted").fill_null(False))
    effective = pl.col("system_modstamp").dt.date().fill_null(BEGINNING_OF_TIME)
    live = live.with_columns(effective.alias("_effective")).unique(
        subset=["user_id", "_effective"], keep="last", maintain_order=True
    )
    first = pl.int_range(pl.len()).over("user_id") == 0
    changed = pl.any_horizontal([pl.col(c).ne_missing(pl.col(c).shift(1).over("user_id")) for c in TRACKED_ATTRIBUTES])
    periods = live.filter(first | changed).with_columns(
        pl.when(pl.int_range(pl.len()).over("user_id") == 0)
        .then(pl.lit(BEGINNING_OF_TIME))
        .otherwise(pl.col("_effective"))
        .alias("valid_from"),
        pl.col("_effective").shift(-1).over("user_id").fill_null(END_OF_TIME).alias("valid_to"),
        (pl.int_range(pl.len()).over("user_id") + 1).cast(pl.Int32).alias("version"),
    )
    current = latest.filter(~pl.col("user_id").is_in(deleted)).select("user_id", *CURRENT_ATTRIBUTES)
    managers = current.select(pl.col("user_id").alias("manager_id"), pl.col("name").alias("manager_name"))
    versions = (
        periods.drop(*CURRENT_ATTRIBUTES)
        .join(current, on="user_id", how="left", maintain_order="left")
        .join(managers, on="manager_id", how="left", maintain_order="left")
        .with_columns(
            pl.when(pl.col("version") == 1)
            .then(surrogate_key(pl.lit("sales_rep"), pl.col("user_id")))
            .otherwise(surrogate_key(pl.lit("sales_rep"), pl.col("user_id"), pl.col("valid_from")))
            .alias("sales_rep_key"),
            (pl.col("valid_to") == END_OF_TIME).alias("is_current"),
            pl.lit(False).alias("is_unknown_member"),
        )
    )
    unknown = pl.DataFrame(
        [
            {
                "sales_rep_key": NO_SALES_REP_KEY,
                "version": 1,
                "valid_from": BEGINNING_OF_TIME,
                "valid_to": END_OF_TIME,
                "is_current": True,
                "name": "No sales rep",
                "is_active": False,
                "is_unknown_member": True,
            }
        ],
        schema=REP_VERSION_SCHEMA,
    )
    conformed = versions.select([pl.col(c).cast(t) for c, t in REP_VERSION_SCHEMA.items()])
    return pl.concat([conformed.sort("user_id", "version"), unknown])


def attribute_to_version(
    frame: pl.DataFrame, versions: pl.DataFrame, user_column: str, on_date: pl.Expr, columns: list[str | pl.Expr]
) -> pl.DataFrame:
    """Add ``columns`` of the rep version valid on ``on_date`` for each row's user.

    A null date means "now": the current version. Rows whose user has no version get nulls
    (callers fill in the unknown member). Row order is kept.
    """
    right = (
        versions.filter(~pl.col("is_unknown_member"))
        .select(pl.col("user_id").alias("_user"), pl.col("valid_from").alias("_valid_from"), *columns)
        .sort("_valid_from")
    )
    left = (
        frame.with_row_index("_row")
        .with_columns(
            pl.col(user_column).alias("_user"),
            # END_OF_TIME is exclusive; the day before it falls in every current version.
            on_date.fill_null(date(9999, 12, 30)).alias("_on"),
        )
        .sort("_on")
    )
    joined = left.join_asof(
        right,
        left_on="_on",
        right_on="_valid_from",
        by="_user",
        strategy="backward",
        check_sortedness=False,
    )
    return joined.sort("_row").drop("_row", "_user", "_on", "_valid_from")
