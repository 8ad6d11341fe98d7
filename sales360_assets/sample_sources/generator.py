"""Deterministic sample sources: a Salesforce export, a BigQuery-shaped warehouse and POS CSV drops.

Why a generator: the platform must run and be testable without anyone's CRM, warehouse or
stores. The data has the shape of the real feeds (wire formats, seasonality, repeat buyers,
the same person spelled differently in each system) and carries deliberate defects at small,
documented rates (``defects.DEFECT_RATES``). Every defect is counted exactly in
``_manifest.json`` so downstream quality checks reconcile against known answers instead of
guessing.

Everything derives from ``(start, end, order_lines, seed)``; no wall-clock time enters the data.
Row volumes are numpy/polars vectors; Python loops run over days, stores, regions and other
small dimensions only, which keeps 10 million order lines within minutes and a few GiB. Each
part draws from its own random stream (``vectors.component_rng``), so changing one part never
reshuffles the others.

This module is the entry point; the parts live beside it: ``plan`` (sizes), ``catalogue``,
``people`` (with ``spellings`` and ``identity_cases``), ``crm`` (``crm_accounts``,
``crm_masters``, ``crm_history``, ``crm_opportunities``, ``crm_export``, ``salesforce_pages``),
``warehouse``, ``pos``, ``defects`` and ``manifest``.

Usage::

    python -m sales360_assets.sample_sources.generator --out data/sources --days 30
"""

from __future__ import annotations

import argparse
import shutil
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sales360_assets.sample_sources.catalogue import build_catalogue
from sales360_assets.sample_sources.crm import plan_crm
from sales360_assets.sample_sources.crm_export import finish_crm
from sales360_assets.sample_sources.manifest import GENERATOR, new_manifest, write_ground_truth, write_manifest
from sales360_assets.sample_sources.people import build_people, plan_accounts
from sales360_assets.sample_sources.plan import make_plan
from sales360_assets.sample_sources.pos import generate_pos
from sales360_assets.sample_sources.warehouse import generate_web, write_reference_tables

# What the generator owns in the sources directory; a re-run removes exactly these first.
_OUTPUTS = ("crm", "warehouse", "landing", "_ground_truth", "_manifest.json")


def generate_sources(
    out_dir: Path, start: date, end: date, order_lines: int = 20_000, seed: int = 42
) -> dict[str, Any]:
    """Write every sample source under ``out_dir`` for business days start..end; return the manifest."""
    if end < start:
        raise ValueError(f"end {end} is before start {start}")
    if order_lines < 100:
        raise ValueError("order_lines must be at least 100")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for name in _OUTPUTS:  # only what this generator owns; anything else in out_dir stays
        target = out / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()

    plan = make_plan(start, end, order_lines, seed)
    manifest = new_manifest(plan)
    cat = build_catalogue(plan)
    accounts = plan_accounts(plan)
    people = build_people(plan, accounts)
    crm = plan_crm(plan, people, accounts, cat)
    # The web shop fulfils some won deals; their order lines become the deals' line items.
    linked = generate_web(plan, people, cat, crm.link_requests, out, manifest)
    finish_crm(plan, crm, linked, out / "crm", manifest)
    generate_pos(plan, people, cat, out, manifest)
    write_reference_tables(plan, out, people, cat, manifest)
    write_ground_truth(out, people, crm, manifest)
    write_manifest(out, manifest)
    return manifest


def main(argv: list[str] | None = None) -> int:
    """``python -m sales360_assets.sample_sources.generator`` and ``sales360 generate``."""
    parser = argparse.ArgumentParser(
        prog=f"python -m {GENERATOR}",
        description="Write deterministic sample Salesforce, warehouse and POS sources.",
    )
    parser.add_argument("--out", type=Path, default=Path("data/sources"), help="sources directory to (re)write")
    parser.add_argument("--days", type=int, default=30, help="number of business days ending at --end")
    parser.add_argument(
        "--end", type=date.fromisoformat, default=None, help="last day, YYYY-MM-DD (default: yesterday UTC)"
    )
    parser.add_argument("--order-lines", type=int, default=20_000, help="web + POS order lines in total")
    parser.add_argument("--seed", type=int, default=42)
    args = parser.parse_args(argv)
    if args.days < 1:
        parser.error("--days must be at least 1")
    end = args.end or datetime.now(UTC).date() - timedelta(days=1)
    start = end - timedelta(days=args.days - 1)
    manifest = generate_sources(args.out, start, end, order_lines=args.order_lines, seed=args.seed)
    rows = manifest["rows"]
    print(
        f"wrote sources for {start}..{end} to {args.out}: {rows['orders']} orders, {rows['order_lines']} order lines, "
        f"{rows['pos_transactions']} POS lines, {rows['Opportunity']} opportunity versions (seed {args.seed})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
