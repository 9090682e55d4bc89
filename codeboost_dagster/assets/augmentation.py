"""Augmentation assets: the original plus K mutated variants per curated snippet (METHOD.md section 3).

Locally a process pool over this machine's cores augments the snippets. With `scale_out` enabled
they stream in batches to Ray tasks and both tables stream back to Parquet (core.scale_out);
each snippet's variants depend only on its row and the settings, so the rows are the same.
With the streamed IO manager the snippets arrive as a Parquet handle and both tables leave as
handles, so the run's memory does not grow with the dump.
"""

import difflib
import json
from collections import Counter

import pandas as pd
from dagster import (
    Any,
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.assets.metadata import counts_table, preview, progress_logger
from codeboost_dagster.assets.ray_progress import batch_progress
from codeboost_dagster.core.augmentation import (
    AUGMENTED_VARIANTS,
    AugmentationResult,
    accounting_problems,
    augment_snippets,
)
from codeboost_dagster.core.scale_out import ParquetFile, TableSource, augment_on_ray
from codeboost_dagster.resources.ray_scale_out import RayScaleOut
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.streamed_parquet_io import STREAMED_INPUT

AUGMENTATION_GROUP = "augmentation"
PROBLEMS_SHOWN = 20


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


def _variants_metadata(
    variants: int, mutated: int, by_kind, mutations, example: MetadataValue, head: pd.DataFrame
) -> dict:
    return {
        "variants": variants,
        "mutated_variants": mutated,
        "by_kind": counts_table(by_kind, "kind"),
        "mutations": counts_table(mutations, "level:kind"),
        "example_diff": example,
        "preview": preview(head, ["variant_id", "snippet_id", "variant_index", "kind", "mutations"]),
    }


def _on_ray(
    context: AssetExecutionContext, settings: SettingsResource, scale_out: RayScaleOut, curated_snippets: TableSource
):
    config = settings.get()
    counts = {"problems": 0, "variants": 0, "mutated": 0, "kind": Counter(), "mutations": Counter(), "reason": Counter()}
    firsts: dict[str, object] = {}
    problems: list[str] = []
    progress = batch_progress(context, "augmented_variants", "augmentation", config.scale_out.progress_interval_s)

    def on_batch(batch, tables, report) -> None:
        variants, dropped = tables[0].to_pandas(), tables[1].to_pandas()
        found = accounting_problems(batch["snippet_id"], AugmentationResult(variants, dropped),
                                    config.augmentation.variants_per_snippet)
        counts["problems"] += len(found)
        problems.extend(found[: PROBLEMS_SHOWN - len(problems)])
        counts["variants"] += len(variants)
        counts["mutated"] += int((variants["variant_index"] > 0).sum())
        counts["kind"].update(variants["kind"].value_counts().to_dict())
        counts["mutations"].update(_mutation_counts(variants))
        counts["reason"].update(dropped["reason"].value_counts().to_dict())
        firsts.setdefault("head", variants)
        if "diff" not in firsts and (variants["variant_index"] > 0).any():
            firsts["diff"] = _example_diff(variants)
        progress(report)

    with scale_out.session(config.scale_out.namespace), scale_out.scratch() as scratch:
        stage = augment_on_ray(curated_snippets, scratch, config.augmentation, config.scale_out,
                               config.filtering.max_chars, on_batch)
        variants_file, dropped_file = stage.outputs
        metadata = _variants_metadata(counts["variants"], counts["mutated"], counts["kind"], counts["mutations"],
                                      firsts.get("diff", MetadataValue.md("_no mutated variants_")),
                                      firsts.get("head", pd.DataFrame(columns=AUGMENTED_VARIANTS.names)))
        metadata.update({"ray_batches": stage.batches, "retried_batches": stage.retried_batches,
                         "lost_batches": stage.lost_batches})
        streamed = isinstance(curated_snippets, ParquetFile)
        yield Output(
            variants_file if streamed else variants_file.read(), output_name="augmented_variants", metadata=metadata
        )
        yield Output(
            dropped_file if streamed else dropped_file.read(),
            output_name="augmentation_report",
            metadata={"dropped": dropped_file.rows, "dropped_by_reason": counts_table(counts["reason"], "reason")},
        )
    yield AssetCheckResult(
        check_name="augmentation_accounting",
        asset_key="augmented_variants",
        passed=counts["problems"] == 0,
        metadata={"problems": "; ".join(problems) or "none", "problem_count": counts["problems"]},
        description="every attempted variant is kept or dropped with a reason",
    )


@multi_asset(
    group_name=AUGMENTATION_GROUP,
    ins={"curated_snippets": AssetIn(metadata={STREAMED_INPUT: True}, dagster_type=Any)},
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
def augmented_variants(
    context: AssetExecutionContext, settings: SettingsResource, scale_out: RayScaleOut, curated_snippets: TableSource
):
    """Digit-, logical- and input-level variants of every curated snippet."""
    if scale_out.enabled:
        yield from _on_ray(context, settings, scale_out, curated_snippets)
        return
    if isinstance(curated_snippets, ParquetFile):
        curated_snippets = curated_snippets.read()
    config = settings.get().augmentation
    result = augment_snippets(
        curated_snippets[["snippet_id", "code", "test_cases"]],
        config,
        progress=progress_logger(context.log, "augmentation"),
        max_code_chars=settings.get().filtering.max_chars,
    )
    variants, dropped = result.variants, result.dropped
    metadata = _variants_metadata(len(variants), int((variants["variant_index"] > 0).sum()),
                                  variants["kind"].value_counts().to_dict(), _mutation_counts(variants),
                                  _example_diff(variants), variants)
    yield Output(variants, output_name="augmented_variants", metadata=metadata)
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
        metadata={"problems": "; ".join(problems[:PROBLEMS_SHOWN]) or "none"},
        description="every attempted variant is kept or dropped with a reason",
    )
