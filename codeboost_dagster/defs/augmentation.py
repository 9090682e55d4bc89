"""Augmentation: the original plus K mutated variants per curated snippet (METHOD.md section 3).

One batch loop wherever it runs (the `scale_out` resource, core.scale_out): the snippets arrive
as a Parquet handle, stream in batches to a process pool over this machine's cores or to Ray
tasks, and both tables stream back to Parquet and leave as handles, so the run's memory does not
grow with the dump. Each snippet's variants depend only on its row and the settings, so the rows
are the same wherever they ran; the metadata is summed batch by batch the same way.
"""

import difflib

import pandas as pd
from dagster import (
    Any,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    AutomationCondition,
    MetadataValue,
    Output,
    multi_asset,
)

from codeboost_dagster.core.scale_out import AugmentationTally, ParquetFile
from codeboost_dagster.core.schemas import AUGMENTED_VARIANTS
from codeboost_dagster.metadata import batch_progress, check_result, counts_table, preview, stage_metadata
from codeboost_dagster.resources.parquet_io import STREAMED_INPUT
from codeboost_dagster.resources.settings import SettingsResource, reads_settings
from codeboost_dagster.resources.stage_executor import StageExecutor

AUGMENTATION_GROUP = "augmentation"
PROBLEMS_SHOWN = 20

AUGMENTATION_ACCOUNTING = AssetCheckSpec(
    "augmentation_accounting",
    asset="augmented_variants",
    blocking=True,
    description="every attempted variant is kept or dropped with a reason",
)


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


@multi_asset(
    group_name=AUGMENTATION_GROUP,
    ins={"curated_snippets": AssetIn(metadata={STREAMED_INPUT: True}, dagster_type=Any)},
    outs={
        "augmented_variants": AssetOut(
            metadata=reads_settings("augmentation", "filtering"),
            kinds={"pandas", "parquet", "ray"},
            automation_condition=AutomationCondition.eager(),
            description="Each curated snippet's original and its variants, with the mutations that made them.",
        ),
        "augmentation_report": AssetOut(
            metadata=reads_settings("augmentation", "filtering"),
            kinds={"pandas", "parquet", "ray"},
            automation_condition=AutomationCondition.eager(),
            description="Every attempted variant that was not kept, with its reason.",
        ),
    },
    check_specs=[AUGMENTATION_ACCOUNTING],
)
def augmented_variants(
    context: AssetExecutionContext, settings: SettingsResource, scale_out: StageExecutor, curated_snippets: ParquetFile
):
    """Digit-, logical- and input-level variants of every curated snippet."""
    config = settings.for_stage(context)
    tally = AugmentationTally(config.augmentation.variants_per_snippet, PROBLEMS_SHOWN)
    progress = batch_progress(context, "augmented_variants", "augmentation", config.scale_out.progress_interval_s)

    def on_batch(batch, tables, report) -> None:
        tally.add(batch, tables[0].to_pandas(), tables[1].to_pandas())
        progress(report)

    with scale_out.augmentation(curated_snippets, config, on_batch) as stage:
        variants_file, dropped_file = stage.outputs
        head = (
            tally.first_variants if tally.first_variants is not None else pd.DataFrame(columns=AUGMENTED_VARIANTS.names)
        )
        yield Output(
            variants_file,
            output_name="augmented_variants",
            metadata={
                "variants": tally.variants,
                "mutated_variants": tally.mutated,
                "by_kind": counts_table(tally.by_kind, "kind"),
                "mutations": counts_table(tally.mutations, "level:kind"),
                "example_diff": _example_diff(tally.first_mutated if tally.first_mutated is not None else head),
                "preview": preview(head, ["variant_id", "snippet_id", "variant_index", "kind", "mutations"]),
                **stage_metadata(stage, scale_out.place),
            },
        )
        yield Output(
            dropped_file,
            output_name="augmentation_report",
            metadata={"dropped": dropped_file.rows, "dropped_by_reason": counts_table(tally.by_reason, "reason")},
        )
    yield check_result(
        AUGMENTATION_ACCOUNTING,
        tally.problems == 0,
        metadata={"problems": "; ".join(tally.problem_examples) or "none", "problem_count": tally.problems},
    )
