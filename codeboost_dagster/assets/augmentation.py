"""Augmentation assets: the original plus K mutated variants per curated snippet (METHOD.md section 3).

Locally a process pool over this machine's cores augments the snippets. With `scale_out` enabled
they stream in batches to Ray tasks and both tables stream back to Parquet (core.scale_out);
each snippet's variants depend only on its row and the settings, so the rows are the same.
With the streamed IO manager the snippets arrive as a Parquet handle and both tables leave as
handles, so the run's memory does not grow with the dump.
"""

import difflib

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
    accounting_problems,
    augment_snippets,
    mutation_counts,
)
from codeboost_dagster.core.scale_out import AugmentationTally, ParquetFile, TableSource, augment_on_ray
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.resources.ray_scale_out import RayScaleOut
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.streamed_parquet_io import STREAMED_INPUT

AUGMENTATION_GROUP = "augmentation"
PROBLEMS_SHOWN = 20


def _example_diff(variants: pd.DataFrame | None) -> MetadataValue:
    mutated = variants[variants["variant_index"] > 0] if variants is not None else pd.DataFrame()
    if mutated.empty:
        return MetadataValue.md("_no mutated variants_")
    example = mutated.iloc[0]
    original = variants[(variants["snippet_id"] == example["snippet_id"]) & (variants["variant_index"] == 0)].iloc[0]
    diff = difflib.unified_diff(
        original["code"].splitlines(),
        example["code"].splitlines(),
        "original",
        f"variant {example['variant_id']}",
        lineterm="",
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
    context: AssetExecutionContext, config: CodeBoostSettings, scale_out: RayScaleOut, curated_snippets: TableSource
):
    tally = AugmentationTally(config.augmentation.variants_per_snippet, PROBLEMS_SHOWN)
    progress = batch_progress(context, "augmented_variants", "augmentation", config.scale_out.progress_interval_s)

    def on_batch(batch, tables, report) -> None:
        tally.add(batch, tables[0].to_pandas(), tables[1].to_pandas())
        progress(report)

    with scale_out.session(config.scale_out.namespace), scale_out.scratch() as scratch:
        stage = augment_on_ray(
            curated_snippets, scratch, config.augmentation, config.scale_out, config.filtering.max_chars, on_batch
        )
        variants_file, dropped_file = stage.outputs
        example = _example_diff(tally.first_mutated if tally.first_mutated is not None else tally.first_variants)
        head = (
            tally.first_variants if tally.first_variants is not None else pd.DataFrame(columns=AUGMENTED_VARIANTS.names)
        )
        metadata = _variants_metadata(tally.variants, tally.mutated, tally.by_kind, tally.mutations, example, head)
        metadata.update(
            {"ray_batches": stage.batches, "retried_batches": stage.retried_batches, "lost_batches": stage.lost_batches}
        )
        streamed = isinstance(curated_snippets, ParquetFile)
        yield Output(
            variants_file if streamed else variants_file.read(), output_name="augmented_variants", metadata=metadata
        )
        yield Output(
            dropped_file if streamed else dropped_file.read(),
            output_name="augmentation_report",
            metadata={"dropped": dropped_file.rows, "dropped_by_reason": counts_table(tally.by_reason, "reason")},
        )
    yield AssetCheckResult(
        check_name="augmentation_accounting",
        asset_key="augmented_variants",
        passed=tally.problems == 0,
        metadata={"problems": "; ".join(tally.problem_examples) or "none", "problem_count": tally.problems},
        description="every attempted variant is kept or dropped with a reason",
    )


@multi_asset(
    group_name=AUGMENTATION_GROUP,
    ins={"curated_snippets": AssetIn(metadata={STREAMED_INPUT: True}, dagster_type=Any)},
    outs={
        "augmented_variants": AssetOut(
            metadata=reads_settings("augmentation", "filtering"),
            kinds={"pandas", "parquet", "ray"},
            description="Each curated snippet's original and its variants, with the mutations that made them.",
        ),
        "augmentation_report": AssetOut(
            metadata=reads_settings("augmentation", "filtering"),
            kinds={"pandas", "parquet", "ray"},
            description="Every attempted variant that was not kept, with its reason.",
        ),
    },
    check_specs=[
        AssetCheckSpec(
            "augmentation_accounting",
            asset="augmented_variants",
            blocking=True,
            description="every attempted variant is kept or dropped with a reason",
        )
    ],
)
def augmented_variants(
    context: AssetExecutionContext, settings: SettingsResource, scale_out: RayScaleOut, curated_snippets: TableSource
):
    """Digit-, logical- and input-level variants of every curated snippet."""
    run_settings = settings.for_stage(context)
    if scale_out.enabled:
        yield from _on_ray(context, run_settings, scale_out, curated_snippets)
        return
    if isinstance(curated_snippets, ParquetFile):
        curated_snippets = curated_snippets.read()
    config = run_settings.augmentation
    result = augment_snippets(
        curated_snippets[["snippet_id", "code", "test_cases"]],
        config,
        progress=progress_logger(context.log, "augmentation"),
        max_code_chars=run_settings.filtering.max_chars,
    )
    variants, dropped = result.variants, result.dropped
    metadata = _variants_metadata(
        len(variants),
        int((variants["variant_index"] > 0).sum()),
        variants["kind"].value_counts().to_dict(),
        mutation_counts(variants["mutations"]),
        _example_diff(variants),
        variants,
    )
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
