"""Augmentation assets: the original plus K mutated variants per curated snippet (METHOD.md section 3)."""

import difflib
import json

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.assets.metadata import counts_table, preview, progress_logger
from codeboost_dagster.core.augmentation import accounting_problems, augment_snippets
from codeboost_dagster.resources.settings import SettingsResource

AUGMENTATION_GROUP = "augmentation"


def _mutation_counts(variants: pd.DataFrame) -> dict[str, int]:
    counts: dict[str, int] = {}
    for mutations in variants["mutations"]:
        for mutation in json.loads(mutations):
            label = f"{mutation['level']}:{mutation['kind']}"
            counts[label] = counts.get(label, 0) + 1
    return counts


def _example_diff(variants: pd.DataFrame) -> MetadataValue:
    mutated = variants[variants["variant_index"] > 0]
    if mutated.empty:
        return MetadataValue.md("_no mutated variants_")
    example = mutated.iloc[0]
    original = variants[(variants["snippet_id"] == example["snippet_id"]) & (variants["variant_index"] == 0)].iloc[0]
    diff = difflib.unified_diff(
        original["code"].splitlines(), example["code"].splitlines(), "original", f"variant {example['variant_id']}", lineterm=""
    )
    return MetadataValue.md("```diff\n" + "\n".join(diff) + "\n```\n\nmutations: `" + example["mutations"] + "`")


@multi_asset(
    group_name=AUGMENTATION_GROUP,
    outs={
        "augmented_variants": AssetOut(
            io_manager_key="parquet_io_manager",
            description="Each curated snippet's original and its variants, with the mutations that made them.",
        ),
        "augmentation_report": AssetOut(
            io_manager_key="parquet_io_manager", description="Every attempted variant that was not kept, with its reason."
        ),
    },
    check_specs=[AssetCheckSpec("augmentation_accounting", asset="augmented_variants", blocking=True)],
)
def augmented_variants(context: AssetExecutionContext, settings: SettingsResource, curated_snippets: pd.DataFrame):
    """Digit-, logical- and input-level variants of every curated snippet."""
    config = settings.get().augmentation
    result = augment_snippets(
        curated_snippets[["snippet_id", "code", "test_cases"]],
        config,
        progress=progress_logger(context.log, "augmentation"),
        max_code_chars=settings.get().filtering.max_chars,
    )
    variants, dropped = result.variants, result.dropped
    yield Output(
        variants,
        output_name="augmented_variants",
        metadata={
            "variants": len(variants),
            "mutated_variants": int((variants["variant_index"] > 0).sum()),
            "by_kind": counts_table(variants["kind"].value_counts().to_dict(), "kind"),
            "mutations": counts_table(_mutation_counts(variants), "level:kind"),
            "example_diff": _example_diff(variants),
            "preview": preview(variants, ["variant_id", "snippet_id", "variant_index", "kind", "mutations"]),
        },
    )
    yield Output(
        dropped,
        output_name="augmentation_report",
        metadata={
            "dropped": len(dropped),
            "dropped_by_reason": counts_table(dropped["reason"].value_counts().to_dict(), "reason"),
        },
    )
    problems = accounting_problems(curated_snippets["snippet_id"], result, config.variants_per_snippet)
    yield AssetCheckResult(
        check_name="augmentation_accounting",
        asset_key="augmented_variants",
        passed=not problems,
        metadata={"problems": "; ".join(problems[:20]) or "none"},
        description="every attempted variant is kept or dropped with a reason",
    )
