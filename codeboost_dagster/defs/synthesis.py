"""Call-input synthesis: functions of one dump that nobody calls become programs with call cases
(core.synthesis), every candidate run in the sandbox."""

import pandas as pd
from dagster import AssetCheckSpec, AssetExecutionContext, AssetIn, AssetOut, MetadataValue, Output, multi_asset

from codeboost_dagster.core.synthesis import SYNTHESIZED, cases_by_source, synthesize_calls
from codeboost_dagster.defs.ingestion import INGESTION_GROUP, code_dumps
from codeboost_dagster.metadata import check_result, counts_table, histogram_plot, preview, progress_logger
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, reads_settings

SYNTHESIS_CONSERVATION = AssetCheckSpec(
    "synthesis_conservation",
    asset="synthesized_snippets",
    blocking=True,
    description="one program per function the report calls synthesized, ids unique",
)


@multi_asset(
    partitions_def=code_dumps,
    group_name=INGESTION_GROUP,
    ins={"raw_snippets": AssetIn(), "filtered_snippets": AssetIn()},
    outs={
        "synthesized_snippets": AssetOut(
            metadata=reads_settings("synthesis", "filtering", "sandbox"),
            kinds={"pandas", "parquet"},
            description="A program per uncalled function with synthesized call cases, curated with the filtered rows.",
        ),
        "synthesis_report": AssetOut(
            metadata=reads_settings("synthesis", "filtering", "sandbox"),
            kinds={"pandas", "parquet"},
            description="Every uncalled function considered: its cases by input source, or why it got none.",
        ),
    },
    pool="sandbox",
    check_specs=[SYNTHESIS_CONSERVATION],
)
def synthesized_snippets(
    context: AssetExecutionContext,
    settings: SettingsResource,
    sandbox: SandboxResource,
    raw_snippets: pd.DataFrame,
    filtered_snippets: pd.DataFrame,
):
    """Call inputs for the uncalled functions of one dump (also of modules too long to show whole),
    from examples, defaults, type hints, the module's literals and generic values; only candidates
    that ran in the sandbox are kept."""
    config = settings.for_stage(context)
    progress = progress_logger(context.log, f"probing candidates of dump {context.partition_key!r}")
    with sandbox.open(config.sandbox) as opened:
        outcome = synthesize_calls(
            raw_snippets, filtered_snippets, opened, config.synthesis, config.filtering, progress
        )
    report = outcome.report
    synthesized = report[report["outcome"] == SYNTHESIZED]
    by_outcome = report["outcome"].value_counts().to_dict()
    context.log.info(
        f"{len(synthesized)} of {len(report)} uncalled functions got call cases ({outcome.probes} probes, "
        f"{outcome.seconds:.1f} s); {by_outcome}"
    )
    yield Output(
        outcome.snippets,
        output_name="synthesized_snippets",
        metadata={
            "programs": len(outcome.snippets),
            "cases_by_source": counts_table(cases_by_source(synthesized), "input source"),
            "probes": outcome.probes,
            "synthesis_seconds": round(outcome.seconds, 2),
            "preview": preview(outcome.snippets, ["snippet_id", "origin", "test_cases"]),
        },
    )
    yield Output(
        report,
        output_name="synthesis_report",
        metadata={
            "functions": len(report),
            "by_outcome": counts_table(by_outcome, "outcome"),
            "probe_seconds_per_function": histogram_plot(
                report["probe_seconds"], "sandbox seconds of probes per function", "s"
            )
            if len(report)
            else MetadataValue.md("_no uncalled functions_"),
            "preview": preview(report, ["origin", "outcome", "detail", "cases_by_source"]),
        },
    )
    ids = set(outcome.snippets["snippet_id"])
    yield check_result(
        SYNTHESIS_CONSERVATION,
        ids == set(synthesized["snippet_id"]) and len(ids) == len(outcome.snippets),
        metadata={"programs": len(outcome.snippets), "synthesized_in_report": len(synthesized)},
    )
