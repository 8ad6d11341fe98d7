"""The generator's answers: ``_manifest.json`` and ``_ground_truth/`` (never read by assets).

The manifest starts with the arguments, regions, rates and unmapped codes; each writer adds the
rows, entities, files and exact defect counts it produced; the ground truth adds who is who
across systems and which people carry an injected hard identity case, so tests reconcile
against known answers instead of guessing.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from sales360_assets.sample_sources.crm import Crm
from sales360_assets.sample_sources.defects import DEFECT_RATES, UNKNOWN_CURRENCIES
from sales360_assets.sample_sources.parameters import CRM_ONLY_PRODUCTS, GENERATOR_VERSION, POS_LOCAL_SKUS
from sales360_assets.sample_sources.people import People
from sales360_assets.sample_sources.plan import Plan
from sales360_assets.settings import REGIONS

GENERATOR = "sales360_assets.sample_sources.generator"


def new_manifest(plan: Plan) -> dict[str, Any]:
    """What is known before the first row is written; the writers fill in the empty sections."""
    return {
        "generator": GENERATOR,
        "version": GENERATOR_VERSION,
        "arguments": {
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
            "order_lines": plan.order_lines,
            "seed": plan.seed,
        },
        "regions": {
            r: {"currency": REGIONS[r].currency, "stores": plan.stores_per_region[i], "reps": plan.reps_per_region[i]}
            for i, r in enumerate(plan.regions)
        },
        "rows": {},
        "entities": {},
        "files": {},
        "defects": {},
        "defect_details": {},
        "defect_rates": DEFECT_RATES,
        "unknown_currencies": list(UNKNOWN_CURRENCIES),
        "unmapped_products": {
            "pos_local_skus": [s for s, _ in POS_LOCAL_SKUS],
            "crm_only_product_codes": [c for c, _, _ in CRM_ONLY_PRODUCTS],
        },
    }


def write_ground_truth(out: Path, people: People, crm: Crm, manifest: dict[str, Any]) -> None:
    """``customer_identity.parquet`` and ``identity_cases.parquet``, and their counts in the manifest."""
    truth = _customer_identity(people, crm)
    (out / "_ground_truth").mkdir(parents=True, exist_ok=True)
    truth.write_parquet(out / "_ground_truth" / "customer_identity.parquet")
    cases = _identity_cases(people)
    cases.write_parquet(out / "_ground_truth" / "identity_cases.parquet")
    manifest["entities"]["identity_cases"] = dict(sorted(cases.group_by("case").len().iter_rows()))
    manifest["rows"]["customer_identity"] = truth.height
    manifest["entities"]["persons"] = truth["person_id"].n_unique()
    manifest["entities"]["persons_in_multiple_systems"] = int(
        truth.group_by("person_id").agg(pl.col("system").n_unique()).filter(pl.col("system") > 1).height
    )


def write_manifest(out: Path, manifest: dict[str, Any]) -> None:
    """Written last, so a manifest on disk means the sample is complete."""
    (out / "_manifest.json").write_text(json.dumps(manifest, indent=2, sort_keys=False) + "\n")


def _person_id(column: str) -> pl.Expr:
    return pl.concat_str(pl.lit("P"), (pl.col(column) + 1).cast(pl.String).str.zfill(8))


def _customer_identity(people: People, crm: Crm) -> pl.DataFrame:
    """person_id, system, source_key: each person's customer_id, loyalty_id and Contact Ids."""
    pf = people.frame.with_columns(person_id=_person_id("person"))
    web = pf.filter(pl.col("customer_id").is_not_null()).select(
        "person_id", pl.lit("warehouse").alias("system"), pl.col("customer_id").alias("source_key")
    )
    pos = pf.filter(pl.col("loyalty_id").is_not_null()).select(
        "person_id", pl.lit("pos").alias("system"), pl.col("loyalty_id").alias("source_key")
    )
    sf = pl.DataFrame(
        {
            "person_id": pf["person_id"].gather(crm.contact_person),
            "system": ["salesforce"] * len(crm.contact_person),
            "source_key": crm.contact_ids,
        }
    )
    return pl.concat([web, pos, sf]).sort("person_id", "system", "source_key")


def _identity_cases(people: People) -> pl.DataFrame:
    """person_id, case, other_person_id: which people carry an injected hard case (see the contract)."""
    return people.identity_cases.select(
        _person_id("person").alias("person_id"), "case", _person_id("other_person").alias("other_person_id")
    )
