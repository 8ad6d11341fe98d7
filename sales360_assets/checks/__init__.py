"""Blocking data-quality checks on staging, core and marts, plus the same row rules before writing.

Two lines of defence, one rule set:

* **Before writing** (``validate_before_write``, called by the staging assets and the facts):
  row rules — primary key unique, required columns present, value ranges (no negative or zero
  quantities past staging, no zero or negative FX rates). A frame that breaks one never reaches
  its Delta table; the step fails with the offending rows in the message.
* **After writing** (one blocking ``multi_asset_check`` per asset, ``asset_checks.py``): the row
  rules again on what actually landed, referential integrity (every fact key has its dimension
  row), and reconciliation (raw = staged + rejected + collapsed duplicates; mart totals = fact
  totals). A failure stops every downstream asset in the run, and the check's metadata shows the rows.

The rules are pure Polars, one subject per module: ``row_rules``, ``integrity``,
``reconciliation``, ``commission_credit``; each returns ``findings.Finding``. Only
``asset_checks`` knows Dagster.
"""

from collections.abc import Iterable, Iterator

import polars as pl

from sales360_assets.checks.row_rules import ROW_RULES, row_findings


class DataQualityError(ValueError):
    """A frame broke a row rule; raised before anything is written."""


# Here rather than in a submodule: it is the package's one entry point for the assets (staging and
# core call it before every write), so they import it from ``sales360_assets.checks`` itself.
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


def validated_blocks(asset: str, blocks: Iterable[pl.DataFrame]) -> Iterator[pl.DataFrame]:
    """``validate_before_write`` on each block of a table written a block at a time, and its key across blocks.

    A block's own rules cannot see a key that is also in an earlier block (a sales line staged on
    two dates in different months), which the whole table checked at once refused: the keys seen
    so far are kept, and a key seen again fails the write (nothing is committed).
    """
    key = ROW_RULES[asset].key if asset in ROW_RULES else ()
    seen = pl.DataFrame(schema={column: pl.String for column in key})
    for block in blocks:
        validate_before_write(asset, block)
        if key:
            keys = block.select(key)
            again = keys.join(seen.cast(keys.schema), on=list(key), how="semi")
            if again.height:
                raise DataQualityError(
                    f"{asset}: refusing to write rows that break its rules; nothing was written. "
                    f"unique {', '.join(key)} across the run: {again.height} row(s) repeat a key of an "
                    f"earlier part of the range, e.g. {again.head(5).rows()}"
                )
            seen = pl.concat([seen.cast(keys.schema), keys])
        yield block
