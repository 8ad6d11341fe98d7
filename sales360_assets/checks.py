"""Blocking data-quality checks on staging, core and marts, plus the same row rules before writing.

Two lines of defence, one rule set:

* **Before writing** (``validate_before_write``, called by the staging assets and the facts):
  row rules — primary key unique, required columns present, value ranges (no negative or zero
  quantities past staging, no zero or negative FX rates). A frame that breaks one never reaches
  its Delta table; the step fails with the offending rows in the message.
* **After writing** (one blocking ``multi_asset_check`` per asset): the row rules again on what
  actually landed, referential integrity (every fact key has its dimension row), and
  reconciliation (raw = staged + rejected + collapsed duplicates; mart totals = fact totals).
  A failure stops every downstream asset in the run, and the check's metadata shows the rows.

Checks on partitioned assets read only the run's partitions (from the run's partition keys),
so a nightly run checks one day, not the whole history. Dagster 1.13 can partition checks
(``partitions_def=``, preview), but a range run records such an evaluation with no partition, so
checks here are unpartitioned and say in their metadata which partitions they covered.
"""

from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace

import dagster as dg
import polars as pl

from sales360_assets.commissions.credit import unbalanced_team_periods, unreconciled_booking_lines
from sales360_assets.lake.delta import DeltaLake, PartitionSelection
from sales360_assets.lake.io_manager import LakeResource
from sales360_assets.partitions import partition_selection
from sales360_assets.staging.dead_letters import read_dead_letters

SAMPLE_ROWS = 10


class DataQualityError(ValueError):
    """A frame broke a row rule; raised before anything is written."""


# --- rules ---------------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class RowRules:
    """Rules every row of one table must satisfy."""

    key: tuple[str, ...]
    required: tuple[str, ...] = ()
    # (name, condition that must hold); a null value passes (``required`` is for nulls)
    ranges: tuple[tuple[str, pl.Expr], ...] = ()
    # rows these rules do not apply to (Salesforce tombstones carry only their Id)
    exempt: pl.Expr | None = None


POSITIVE_QUANTITY = ("quantity > 0", pl.col("quantity") > 0)
POSITIVE_FX_RATE = ("fx_rate > 0", pl.col("fx_rate") > 0)
NON_NEGATIVE_PRICE = ("unit_price >= 0", pl.col("unit_price") >= 0)
# Staging dead-letters discounts outside [0, gross]; this re-checks what landed.
DISCOUNT_WITHIN_GROSS = (
    "0 <= discount_amount <= gross_amount",
    (pl.col("discount_amount") >= 0) & (pl.col("discount_amount") <= pl.col("gross_amount")),
)
TOMBSTONE = pl.col("is_deleted").fill_null(False)

ROW_RULES: dict[str, RowRules] = {
    # staging, partitioned
    "stg_warehouse_orders": RowRules(
        ("order_id",), ("order_id", "customer_id", "order_ts", "date", "region", "currency", "status")
    ),
    "stg_warehouse_order_lines": RowRules(
        ("order_id", "line_number"),
        ("order_id", "line_number", "date", "region", "sku", "quantity", "unit_price", "currency", "fx_rate"),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE, NON_NEGATIVE_PRICE, DISCOUNT_WITHIN_GROSS),
    ),
    "stg_pos_transactions": RowRules(
        ("transaction_id", "line_no"),
        ("transaction_id", "line_no", "store_id", "date", "region", "sku", "quantity", "unit_price", "currency"),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE, NON_NEGATIVE_PRICE, DISCOUNT_WITHIN_GROSS),
    ),
    # staging, reference data
    "stg_warehouse_fx_rates": RowRules(
        ("rate_date", "currency"),
        ("rate_date", "currency", "usd_per_unit"),
        (("usd_per_unit > 0", pl.col("usd_per_unit") > 0),),
    ),
    "stg_warehouse_customers": RowRules(("customer_id",), ("customer_id",)),
    "stg_warehouse_products": RowRules(
        ("sku",),
        ("sku", "category"),
        (
            ("standard_cost_usd >= 0", pl.col("standard_cost_usd") >= 0),
            ("list_price_usd >= 0", pl.col("list_price_usd") >= 0),
        ),
    ),
    "stg_pos_stores": RowRules(("store_id",), ("store_id", "region", "currency")),
    "stg_salesforce_users": RowRules(("user_id",), ("user_id",)),
    "stg_salesforce_accounts": RowRules(("account_id",), ("account_id",)),
    "stg_salesforce_contacts": RowRules(("contact_id",), ("contact_id",)),
    "stg_salesforce_products": RowRules(("product_id",), ("product_id",)),
    "stg_salesforce_campaigns": RowRules(("campaign_id",), ("campaign_id",)),
    "stg_salesforce_opportunities": RowRules(("opportunity_id",), ("opportunity_id",), (POSITIVE_FX_RATE,), TOMBSTONE),
    "stg_salesforce_opportunity_line_items": RowRules(
        ("line_item_id",), ("line_item_id", "opportunity_id"), (POSITIVE_QUANTITY, POSITIVE_FX_RATE), TOMBSTONE
    ),
    "stg_salesforce_quotas": RowRules(("quota_id",), ("quota_id",)),
    # core
    "dim_date": RowRules(("date",), ("date",)),
    "dim_region": RowRules(("region",), ("region", "currency")),
    "dim_customer": RowRules(("customer_key",), ("customer_key",)),
    "stg_warehouse_product_cost_history": RowRules(
        ("sku", "cost_valid_from"),
        ("sku",),
        (("standard_cost_usd >= 0", pl.col("standard_cost_usd") >= 0),),
    ),
    "dim_product": RowRules(("product_key",), ("product_key",)),
    # Identity: one row per source id ever seen, one golden record and one 360 row per person.
    "customer_identity_records": RowRules(("record_id",), ("record_id", "system", "source_key")),
    "customer_identity_crosswalk": RowRules(
        ("system", "source_key"), ("system", "source_key", "customer_id", "first_seen_run", "last_changed_run")
    ),
    "customer_golden_record": RowRules(("customer_id",), ("customer_id",)),
    "mart_customer_360": RowRules(("customer_id",), ("customer_id",)),
    "dim_product_cost": RowRules(
        ("sku", "valid_from"),
        ("product_cost_key", "product_key", "sku", "valid_from", "valid_to"),
        (("valid_from < valid_to", pl.col("valid_from") < pl.col("valid_to")),),
    ),
    "dim_sales_rep": RowRules(("sales_rep_key",), ("sales_rep_key",)),
    "fact_sales": RowRules(
        ("sales_line_id",),
        (
            "sales_line_id",
            "channel",
            "date",
            "region",
            "customer_key",
            "product_key",
            "sales_rep_key",
            "quantity",
            "currency",
            "fx_rate",
            "net_amount_usd",
        ),
        (POSITIVE_QUANTITY, POSITIVE_FX_RATE),
    ),
    "fact_opportunity": RowRules(
        ("opportunity_id",), ("opportunity_id", "customer_key", "sales_rep_key"), (POSITIVE_FX_RATE,)
    ),
}


@dataclass(frozen=True)
class ForeignKey:
    column: str
    table: str
    table_column: str
    # Same partitions as the checked rows (a partitioned parent read for the run's selection).
    same_partitions: bool = False


FOREIGN_KEYS: dict[str, tuple[ForeignKey, ...]] = {
    "fact_sales": (
        ForeignKey("customer_key", "dim_customer", "customer_key"),
        ForeignKey("product_key", "dim_product", "product_key"),
        ForeignKey("sales_rep_key", "dim_sales_rep", "sales_rep_key"),
        ForeignKey("region", "dim_region", "region"),
        ForeignKey("date", "dim_date", "date"),
    ),
    "fact_opportunity": (
        ForeignKey("customer_key", "dim_customer", "customer_key"),
        ForeignKey("sales_rep_key", "dim_sales_rep", "sales_rep_key"),
    ),
    "stg_warehouse_order_lines": (ForeignKey("order_id", "stg_warehouse_orders", "order_id", same_partitions=True),),
    "stg_pos_transactions": (ForeignKey("store_id", "stg_pos_stores", "store_id"),),
    "stg_salesforce_opportunity_line_items": (
        ForeignKey("opportunity_id", "stg_salesforce_opportunities", "opportunity_id"),
    ),
}


@dataclass(frozen=True)
class Reconciliation:
    """raw rows = staged + dead-lettered + collapsed duplicates, per natural key."""

    raw_table: str
    dead_key: tuple[str, ...]  # raw columns the dead letter's source_key is built from
    raw_key: tuple[str, ...]  # natural key in raw
    staged_key: tuple[str, ...]  # the same key in staging


_SALESFORCE_IDS = {
    "users": "user_id",
    "accounts": "account_id",
    "contacts": "contact_id",
    "products": "product_id",
    "campaigns": "campaign_id",
    "opportunities": "opportunity_id",
    "opportunity_line_items": "line_item_id",
    "quotas": "quota_id",
}

RECONCILIATIONS: dict[str, Reconciliation] = {
    "stg_warehouse_orders": Reconciliation("raw_warehouse_orders", ("order_id",), ("order_id",), ("order_id",)),
    "stg_warehouse_order_lines": Reconciliation(
        "raw_warehouse_order_lines",
        ("order_id", "line_number"),
        ("order_id", "line_number"),
        ("order_id", "line_number"),
    ),
    "stg_pos_transactions": Reconciliation(
        "raw_pos_transactions",
        ("_source_file", "transaction_id", "line_no"),
        ("transaction_id", "line_no"),
        ("transaction_id", "line_no"),
    ),
    "stg_warehouse_customers": Reconciliation(
        "raw_warehouse_customers", ("customer_id",), ("customer_id",), ("customer_id",)
    ),
    "stg_warehouse_products": Reconciliation("raw_warehouse_products", ("sku",), ("sku",), ("sku",)),
    "stg_warehouse_fx_rates": Reconciliation(
        "raw_warehouse_fx_rates", ("rate_date", "currency"), ("rate_date", "currency"), ("rate_date", "currency")
    ),
    "stg_pos_stores": Reconciliation("raw_pos_stores", ("store_id",), ("store_id",), ("store_id",)),
    **{
        f"stg_salesforce_{name}": Reconciliation(f"raw_salesforce_{name}", ("Id", "SystemModstamp"), ("Id",), (key,))
        for name, key in _SALESFORCE_IDS.items()
    },
}

# mart -> [(mart column, fact_sales column)] whose per-partition totals must match
MART_TOTALS: dict[str, tuple[tuple[str, str], ...]] = {
    "mart_daily_sales": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
    "mart_customer_segment_performance": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
    "mart_product_performance": (("revenue_usd", "net_amount_usd"), ("units", "quantity")),
}
TOTALS_TOLERANCE = 1e-6


# --- pure evaluation -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Finding:
    """The outcome of one rule on one frame."""

    check: str
    description: str
    failing: pl.DataFrame
    counts: Mapping[str, int | float] = field(default_factory=dict)
    passed_override: bool | None = None
    # A failure that only warns: a blocking check then still lets downstream assets run.
    warn_only: bool = False

    @property
    def passed(self) -> bool:
        return self.passed_override if self.passed_override is not None else self.failing.height == 0

    def with_note(self, note: str) -> "Finding":
        return replace(self, description=f"{self.description} — {note}")


def _applicable(frame: pl.DataFrame, rules: RowRules) -> pl.DataFrame:
    if rules.exempt is None or not set(rules.exempt.meta.root_names()) <= set(frame.columns):
        return frame
    return frame.filter(~rules.exempt)


def unique_key(frame: pl.DataFrame, key: Sequence[str]) -> Finding:
    failing = frame.filter(pl.struct(list(key)).is_duplicated()).sort(list(key))
    return Finding(
        "unique_key", f"primary key ({', '.join(key)}) is unique", failing, {"duplicate_rows": failing.height}
    )


def required_present(frame: pl.DataFrame, columns: Sequence[str]) -> Finding:
    absent = [c for c in columns if c not in frame.columns]
    present = [c for c in columns if c in frame.columns]
    failing = frame.filter(pl.any_horizontal(pl.col(present).is_null())) if present and frame.height else frame.clear()
    by_column = {
        c: int(n) for c, n in zip(present, frame.select(pl.col(present).null_count()).row(0), strict=True) if n
    }
    description = f"required columns are not null: {', '.join(columns)}"
    if absent:
        return Finding(
            "not_null", description, failing, {"missing_columns": len(absent)}, passed_override=False
        ).with_note(f"column(s) missing from the table: {', '.join(absent)}")
    return Finding("not_null", description, failing, by_column)


def value_ranges(frame: pl.DataFrame, ranges: Sequence[tuple[str, pl.Expr]]) -> Finding:
    conditions = [(name, expr) for name, expr in ranges if set(expr.meta.root_names()) <= set(frame.columns)]
    if not conditions or not frame.height:
        return Finding("value_ranges", "values in range", frame.clear())
    broken = frame.with_columns(
        pl.concat_str(
            [pl.when(~expr.fill_null(True)).then(pl.lit(name)) for name, expr in conditions],
            separator="; ",
            ignore_nulls=True,
        ).alias("_broken_rule")
    ).filter(pl.col("_broken_rule") != "")
    counts = {name: int(frame.select((~expr.fill_null(True)).sum()).item()) for name, expr in conditions}
    return Finding("value_ranges", "values in range: " + ", ".join(n for n, _ in conditions), broken, counts)


def row_findings(frame: pl.DataFrame, rules: RowRules) -> list[Finding]:
    applicable = _applicable(frame, rules)
    return [
        unique_key(frame, rules.key),
        required_present(applicable, rules.required),
        value_ranges(applicable, rules.ranges),
    ]


def row_rules(frame: pl.DataFrame, rules: RowRules) -> Finding:
    """Key uniqueness, required columns and value ranges as one check, broken down in its counts.

    One check rather than three: each check costs the run a few event-log writes, and the
    failing rows say which rule they broke anyway.
    """
    parts = row_findings(frame, rules)
    labels = {"unique_key": "duplicate primary key", "not_null": "null in a required column"}
    failing = [
        f.failing.with_columns(pl.lit(labels[f.check]).alias("_broken_rule")) if f.check in labels else f.failing
        for f in parts
        if f.failing.height
    ]
    counts: dict[str, int | float] = {}
    for finding in parts:
        prefix = {"unique_key": "duplicate_rows", "not_null": "nulls", "value_ranges": "out_of_range"}[finding.check]
        counts.update({prefix if k == prefix else f"{prefix}: {k}": v for k, v in finding.counts.items()})
    return Finding(
        "row_rules",
        "; ".join(f.description for f in parts),
        pl.concat(failing, how="diagonal_relaxed") if failing else frame.clear(),
        counts,
        passed_override=False if any(not f.passed for f in parts) else None,
    )


def orphans(frame: pl.DataFrame, fk: ForeignKey, parent: pl.DataFrame) -> pl.DataFrame:
    """Rows whose non-null ``fk.column`` has no row in the parent."""
    keys = parent.select(pl.col(fk.table_column).alias(fk.column)).unique()
    return frame.filter(pl.col(fk.column).is_not_null()).join(keys, on=fk.column, how="anti")


def referential_integrity(frame: pl.DataFrame, parents: Mapping[ForeignKey, pl.DataFrame]) -> Finding:
    failing_parts = []
    counts: dict[str, int] = {}
    for fk, parent in parents.items():
        rows = orphans(frame, fk, parent)
        counts[f"{fk.column}→{fk.table}"] = rows.height
        if rows.height:
            failing_parts.append(rows.with_columns(pl.lit(f"{fk.column} not in {fk.table}").alias("_broken_rule")))
    failing = pl.concat(failing_parts, how="diagonal_relaxed") if failing_parts else frame.clear()
    description = "every key has its parent row: " + ", ".join(f"{fk.column}→{fk.table}" for fk in parents)
    return Finding("referential_integrity", description, failing, counts)


def _key_expr(columns: Sequence[str]) -> pl.Expr:
    # Same shape as staging.quality.dead_letters builds source_key.
    return pl.concat_str([pl.col(c).cast(pl.String).fill_null("<null>") for c in columns], separator="|")


def reconcile(raw: pl.DataFrame, staged: pl.DataFrame, rejected: pl.DataFrame, spec: Reconciliation) -> Finding:
    """Every raw row is staged, dead-lettered, or a collapsed duplicate of a staged key — exactly once."""
    per_delivery = (
        raw.group_by(_key_expr(spec.dead_key).alias("dead_key"), _key_expr(spec.raw_key).alias("natural_key"))
        .len("raw_rows")
        .join(
            rejected.group_by(pl.col("source_key").alias("dead_key")).len("rejected_rows"),
            on="dead_key",
            how="full",
            coalesce=True,
        )
        .with_columns(pl.col("raw_rows", "rejected_rows").fill_null(0))
        .with_columns((pl.col("raw_rows") - pl.col("rejected_rows")).alias("accepted_rows"))
    )
    accepted = (
        per_delivery.group_by("natural_key").agg(pl.col("accepted_rows").sum()).filter(pl.col("accepted_rows") > 0)
    )
    staged_keys = staged.select(_key_expr(spec.staged_key).alias("natural_key"))
    duplicates = int(accepted["accepted_rows"].sum()) - accepted.height if accepted.height else 0
    counts = {
        "raw_rows": raw.height,
        "staged_rows": staged.height,
        "rejected_rows": rejected.height,
        "duplicate_rows": duplicates,
    }
    problems = [
        per_delivery.filter(pl.col("accepted_rows") < 0).select(
            "dead_key", pl.lit("dead letter without its raw row").alias("_broken_rule")
        ),
        accepted.join(staged_keys, on="natural_key", how="anti").select(
            pl.col("natural_key").alias("dead_key"),
            pl.lit("accepted raw row missing from staging").alias("_broken_rule"),
        ),
        staged_keys.join(accepted, on="natural_key", how="anti").select(
            pl.col("natural_key").alias("dead_key"), pl.lit("staged row without a raw row").alias("_broken_rule")
        ),
    ]
    failing = pl.concat(problems).rename({"dead_key": "key"})
    balanced = raw.height == staged.height + rejected.height + duplicates
    if not balanced and failing.height == 0:
        failing = pl.DataFrame({"key": ["<totals>"], "_broken_rule": [f"counts do not add up: {counts}"]})
    return Finding(
        "reconciles_with_raw",
        f"{spec.raw_table} rows = staged + dead-lettered + collapsed duplicates",
        failing,
        counts,
    )


def mart_totals(mart: pl.DataFrame, fact: pl.DataFrame, columns: Sequence[tuple[str, str]]) -> Finding:
    pairs = [(m, f) for m, f in columns if m in mart.columns and f in fact.columns]
    keys = ["date", "region"]
    fact_totals = fact.group_by(keys).agg(pl.col(f).sum().alias(f"fact_{m}") for m, f in pairs)
    mart_sums = mart.group_by(keys).agg(pl.col(m).sum().alias(f"mart_{m}") for m, _ in pairs)
    joined = fact_totals.join(mart_sums, on=keys, how="full", coalesce=True).fill_null(0.0)
    off = pl.any_horizontal(
        [
            (pl.col(f"fact_{m}") - pl.col(f"mart_{m}")).abs()
            > TOTALS_TOLERANCE * pl.max_horizontal(pl.lit(1.0), pl.col(f"fact_{m}").abs())
            for m, _ in pairs
        ]
    )
    failing = joined.filter(off).sort(keys) if pairs else joined.clear()
    counts = {f"fact_{m}": float(fact[f].sum()) for m, f in pairs} | {
        f"mart_{m}": float(mart[m].sum()) for m, _ in pairs
    }
    return Finding(
        "totals_match_fact_sales",
        "per date × region: " + ", ".join(f"sum({m}) = fact_sales sum({f})" for m, f in pairs),
        failing,
        counts,
    )


# --- commission credit ------------------------------------------------------------------------------

OFFENDERS_IN_DESCRIPTION = 5


def _first_offenders(failing: pl.DataFrame, key: pl.Expr) -> str:
    shown = failing.head(OFFENDERS_IN_DESCRIPTION).select(key).to_series().to_list()
    more = f" and {failing.height - len(shown)} more" if failing.height > len(shown) else ""
    return ", ".join(shown) + more


def team_splits_sum_to_100(bridge: pl.DataFrame) -> Finding:
    """Per account and validity period, the team's credit splits sum to 100.

    Over 100 is an error (its deals would be credited more than they are worth, and credit is
    never scaled); under 100 only warns: the opportunity owner is credited the remainder
    (commissions/credit.py), so commissions stay right while Sales Ops fixes the team.
    """
    failing = unbalanced_team_periods(bridge)
    over = failing.filter(pl.col("split_sum_pct") > 100.0)
    finding = Finding(
        "splits_sum_to_100",
        "credit splits sum to 100 % per account and validity period",
        failing,
        {"periods_over_100": over.height, "periods_under_100": failing.height - over.height},
        warn_only=over.height == 0,
    )
    if not failing.height:
        return finding
    label = pl.format("{} from {}: {} %", pl.col("account_id"), pl.col("valid_from"), pl.col("split_sum_pct"))
    return finding.with_note(f"offending periods: {_first_offenders(failing, label)}")


def credits_add_back(credit_lines: pl.DataFrame) -> Finding:
    """Per booking line, the credited amounts add back to the booking amount (nothing credited twice or lost)."""
    failing = unreconciled_booking_lines(credit_lines)
    finding = Finding(
        "credits_add_back_to_booking",
        "per booking line, sum(credited_amount_usd) = booking_amount_usd",
        failing,
        {
            "booking_lines": credit_lines["booking_line_id"].n_unique() if credit_lines.height else 0,
            "unreconciled_lines": failing.height,
            "over_credited_usd": float((failing["credited_amount_usd"] - failing["booking_amount_usd"]).sum()),
        },
    )
    if not failing.height:
        return finding
    label = pl.format("{} (splits {} %)", pl.col("booking_line_id"), pl.col("split_sum_pct"))
    return finding.with_note(f"offending lines: {_first_offenders(failing, label)}")


# asset -> checks computed from the asset's table alone (name, evaluation)
TABLE_RULES: dict[str, tuple[tuple[str, Callable[[pl.DataFrame], Finding]], ...]] = {
    "bridge_account_team": (("splits_sum_to_100", team_splits_sum_to_100),),
    "commission_credit_lines": (("credits_add_back_to_booking", credits_add_back),),
}


def sample_markdown(frame: pl.DataFrame, columns: Sequence[str] | None = None, limit: int = SAMPLE_ROWS) -> str:
    """A small markdown table of failing rows for the check's metadata (the UI renders it)."""
    if frame.height == 0:
        return "no failing rows"
    shown = [c for c in (columns or frame.columns) if c in frame.columns]
    if "_broken_rule" in frame.columns and "_broken_rule" not in shown:
        shown = ["_broken_rule", *shown]
    shown = shown[:12]
    rows = frame.head(limit).select(shown)
    header = "| " + " | ".join(c.lstrip("_") for c in shown) + " |"
    lines = [header, "|" + "---|" * len(shown)]
    for row in rows.iter_rows():
        cells = ["" if v is None else str(v).replace("|", "\\|")[:60] for v in row]
        lines.append("| " + " | ".join(cells) + " |")
    if frame.height > limit:
        lines.append(f"\n… {frame.height - limit} more")
    return "\n".join(lines)


def validate_before_write(asset: str, frame: pl.DataFrame) -> None:
    """Refuse to hand rows that break ``ROW_RULES[asset]`` to the IO manager (nothing is written)."""
    rules = ROW_RULES.get(asset)
    if rules is None:
        return
    broken = [f for f in row_findings(frame, rules) if not f.passed]
    if not broken:
        return
    parts = []
    for finding in broken:
        columns = [*rules.key, *[c for c in rules.required if c not in rules.key]]
        sample = finding.failing.select([c for c in ["_broken_rule", *columns] if c in finding.failing.columns]).head(5)
        parts.append(f"{finding.check} ({finding.description}): {finding.failing.height} row(s), e.g. {sample.rows()}")
    raise DataQualityError(
        f"{asset}: refusing to write rows that break its rules; nothing was written. " + " | ".join(parts)
    )


# --- Dagster checks ------------------------------------------------------------------------------


def run_selection(context: dg.AssetCheckExecutionContext) -> PartitionSelection | None:
    """The run's date × region rectangle, or None when the check runs outside a partitioned run."""
    op = context.op_execution_context
    if op.has_partition_key or op.has_partition_key_range:
        return partition_selection(op)
    return None


def _result(asset: str, finding: Finding, scope: str, columns: Sequence[str]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=finding.check,
        passed=finding.passed,
        severity=dg.AssetCheckSeverity.WARN if finding.warn_only else dg.AssetCheckSeverity.ERROR,
        description=finding.description,
        metadata={
            "failing_rows": finding.failing.height,
            "checked": scope,
            "failing_sample": dg.MetadataValue.md(sample_markdown(finding.failing, columns)),
            **{k: v for k, v in finding.counts.items()},
        },
    )


@dataclass(frozen=True)
class AssetChecks:
    asset: str
    partitioned: bool
    names: tuple[str, ...]
    deps: tuple[str, ...]
    evaluate: Callable[[DeltaLake, PartitionSelection | None], list[Finding]]
    columns: tuple[str, ...] = ()


def _read(lake: DeltaLake, table: str, selection: PartitionSelection | None) -> pl.DataFrame:
    return lake.read(table, selection) if lake.exists(table) else pl.DataFrame()


def _findings_for(asset: str, partitioned: bool) -> Callable[[DeltaLake, PartitionSelection | None], list[Finding]]:
    def evaluate(lake: DeltaLake, selection: PartitionSelection | None) -> list[Finding]:
        frame = lake.read(asset, selection)
        findings: list[Finding] = []
        if asset in ROW_RULES:
            findings.append(row_rules(frame, ROW_RULES[asset]))
        if asset in FOREIGN_KEYS:
            parents = {
                fk: _read(lake, fk.table, selection if fk.same_partitions else None).select(
                    pl.col(fk.table_column) if lake.exists(fk.table) else pl.lit(None).alias(fk.table_column)
                )
                for fk in FOREIGN_KEYS[asset]
            }
            findings.append(referential_integrity(frame, parents))
        if asset in RECONCILIATIONS:
            spec = RECONCILIATIONS[asset]
            raw = lake.read(spec.raw_table, selection if partitioned else None)
            rejected = read_dead_letters(lake, spec.raw_table, selection if partitioned else None)
            findings.append(reconcile(raw, frame, rejected if rejected.height else _empty_dead(), spec))
        if asset in MART_TOTALS:
            fact = lake.read("fact_sales", selection)
            findings.append(mart_totals(frame, fact, MART_TOTALS[asset]))
        findings.extend(evaluate_table(frame) for _, evaluate_table in TABLE_RULES.get(asset, ()))
        return findings

    return evaluate


def _empty_dead() -> pl.DataFrame:
    return pl.DataFrame(schema={"source_table": pl.String, "source_key": pl.String})


def _check_names(asset: str) -> tuple[str, ...]:
    names: list[str] = []
    if asset in ROW_RULES:
        names.append("row_rules")
    if asset in FOREIGN_KEYS:
        names.append("referential_integrity")
    if asset in RECONCILIATIONS:
        names.append("reconciles_with_raw")
    if asset in MART_TOTALS:
        names.append("totals_match_fact_sales")
    names.extend(name for name, _ in TABLE_RULES.get(asset, ()))
    return tuple(names)


_DESCRIPTIONS = {
    "row_rules": "Primary key unique (duplicates would double-count sales); required columns not null; no negative "
    "or zero quantities, no zero or negative FX rates, no negative prices.",
    "referential_integrity": "Every key has its parent row (facts → dimensions, lines → headers).",
    "reconciles_with_raw": "raw rows = staged + dead-lettered + collapsed duplicates: no row lost or invented.",
    "totals_match_fact_sales": "Per date × region, mart revenue and units equal fact_sales.",
    "splits_sum_to_100": "Per account and validity period, the team's credit splits sum to 100 %. Over 100 fails "
    "(error: deals would be over-credited); under 100 warns (the opportunity owner gets the remainder).",
    "credits_add_back_to_booking": "Per booking line, the credited amounts add back to the booking amount: a team "
    "over 100 % is never scaled, so its lines fail here and no statement is built from them.",
}


def build_asset_checks(asset: str, partitioned: bool) -> dg.AssetChecksDefinition:
    names = _check_names(asset)
    fk_tables = sorted({fk.table for fk in FOREIGN_KEYS.get(asset, ())})
    evaluate = _findings_for(asset, partitioned)
    rules = ROW_RULES.get(asset)
    # The failing rows' own columns for table rules (they are per line or period, not per row).
    columns = [*rules.key, *rules.required] if rules else (["date", "region"] if asset in MART_TOTALS else [])

    @dg.multi_asset_check(
        name=f"{asset}_quality",
        specs=[
            dg.AssetCheckSpec(
                name,
                asset=asset,
                blocking=True,
                description=_DESCRIPTIONS[name],
                # Parents must be written before the integrity check reads them.
                additional_deps=fk_tables if name == "referential_integrity" else None,
            )
            for name in names
        ],
        can_subset=True,
        description=f"Blocking data-quality checks on {asset}.",
    )
    def _checks(context: dg.AssetCheckExecutionContext, lake: LakeResource) -> Iterator[dg.AssetCheckResult]:
        selection = run_selection(context) if partitioned else None
        scope = str(selection) if selection is not None else ("whole table" if partitioned else "table")
        selected = {key.name for key in context.selected_asset_check_keys}
        for finding in evaluate(lake.get_lake(), selection):
            if finding.check in selected:
                yield _result(asset, finding, scope, list(dict.fromkeys(columns)))

    return _checks


def build_all_checks(assets: Sequence[dg.AssetsDefinition]) -> list[dg.AssetChecksDefinition]:
    """One blocking multi-check per staging, core and mart asset that has rules."""
    checks = []
    for assets_def in assets:
        name = assets_def.key.to_user_string()
        if _check_names(name):
            checks.append(build_asset_checks(name, assets_def.partitions_def is not None))
    return checks
