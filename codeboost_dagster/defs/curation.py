"""Curation: the maximum-clique selection across all dumps (METHOD.md section 2).

Incremental: each materialization starts from the previous selection, report and LSH signatures,
so a new dump is curated against what is already selected without redoing everything (semantics
in `core.curation.curate`). With the data stages on Ray, the MinHash signatures are computed there.
A dump is curated as soon as its ingestion succeeds, and the whole selection again every night.
"""

import itertools
from datetime import timedelta
from functools import partial

import numpy as np
import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    AssetSelection,
    DagsterRunStatus,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    FreshnessPolicy,
    MetadataValue,
    Output,
    RunRequest,
    RunStatusSensorContext,
    ScheduleDefinition,
    define_asset_job,
    multi_asset,
    run_status_sensor,
)

from codeboost_dagster.core.curation import (
    GLOBAL,
    CurationResult,
    clique_violations,
    conservation_problems,
    curate,
    lsh_parameters,
)
from codeboost_dagster.core.schemas import FILTERED_SNIPPETS
from codeboost_dagster.core.settings import CurationSettings, ScaleOutSettings
from codeboost_dagster.defs import ingestion
from codeboost_dagster.metadata import check_result, counts_table, frame_table, histogram_plot, preview
from codeboost_dagster.resources.settings import reads_settings
from codeboost_dagster.resources.stage_executor import StageExecutor

CURATION_GROUP = "curation"
COMPONENT_SIZE_BINS = (2, 3, 5, 10, 20, 50, 100, 1_000, 10_000)
RECURATION_CRON = "0 3 * * *"
SELECTION_FRESHNESS = FreshnessPolicy.time_window(fail_window=timedelta(hours=26), warn_window=timedelta(hours=25))
"""Re-curation runs daily (RECURATION_CRON): a selection older than a day and two hours means it failed."""

CLIQUE_PROPERTY = AssetCheckSpec(
    "clique_property",
    asset="curated_snippets",
    blocking=True,
    description="selected snippets are pairwise at least gamma apart, by exact distance",
)
CURATION_CONSERVATION = AssetCheckSpec(
    "curation_conservation",
    asset="curated_snippets",
    blocking=True,
    description="every filtered or synthesized row is selected or in the curation report",
)
CURATION_DETERMINISM = AssetCheckSpec(
    "curation_determinism",
    asset="curated_snippets",
    blocking=True,
    description="curating the same input in another row order gives the same selection",
)


def _all_rows(*tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Every dump's rows of every table, dump by dump (a dump without synthesized rows has none)."""
    frames = [frame for partitions in tables for _, frame in sorted(partitions.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FILTERED_SNIPPETS.names)


def _undecided(candidates: pd.DataFrame, selection: pd.DataFrame | None, removed: pd.DataFrame | None) -> pd.DataFrame:
    decided = set()
    for frame in (selection, removed):
        if frame is not None:
            decided |= set(zip(frame["snippet_id"], frame["dump"]))
    keys = list(zip(candidates["snippet_id"], candidates["dump"]))
    return candidates[[key not in decided for key in keys]]


def _ray_signer(scale_out: StageExecutor, config: CurationSettings, scale_settings: ScaleOutSettings):
    """Band keys computed on the configured Ray (the session is open while `curate` runs)."""
    from codeboost_dagster.core.scale_out import band_keys_on_ray

    parameters = lsh_parameters(config.gamma, config.minhash_rows, config.minhash_recall_at_threshold, config.seed)
    return partial(
        band_keys_on_ray,
        parameters=parameters,
        normalise=str.strip,
        rename=config.rename_identifiers,
        batch_size=config.signature_batch_size,
        settings=scale_settings,
    )


def _component_sizes(result: CurationResult) -> pd.DataFrame:
    """Components with a near-duplicate pair, counted by size range."""
    sizes = result.chunks["size"].to_numpy() if result.lsh is not None else np.zeros(0, dtype=np.int64)
    edges = (*COMPONENT_SIZE_BINS, max(COMPONENT_SIZE_BINS[-1], int(sizes.max(initial=0))) + 1)
    counts, _ = np.histogram(sizes, bins=edges)
    labels = [f"{low}-{high - 1}" if high - 1 > low else str(low) for low, high in itertools.pairwise(edges)]
    return pd.DataFrame({"component size": labels, "components": counts})


def _lsh_metadata(result: CurationResult) -> dict:
    if result.lsh is None:
        return {}
    lsh = result.lsh
    return {
        "lsh_bands_x_rows": f"{lsh.bands} x {lsh.rows}",
        "lsh_candidate_pairs": lsh.candidate_pairs,
        "verified_near_duplicate_pairs": lsh.near_duplicate_pairs,
        "lsh_recall_estimate": MetadataValue.float(lsh.recall_estimate),
        "lsh_recall_sample": f"{lsh.recall_found_pairs} of {lsh.recall_true_pairs} true pairs of "
        f"{lsh.recall_queries} sampled new snippets",
        "components_with_near_duplicates": lsh.components,
        "largest_component": lsh.largest_component,
        "fallback_components": lsh.fallback_components,
        "component_sizes": frame_table(_component_sizes(result)),
        "component_size_distribution": histogram_plot(
            np.log10(result.chunks["size"].astype(float)), "components with near-duplicates", "log10(component size)"
        ),
    }


def _previous_report(removed: pd.DataFrame | None) -> pd.DataFrame | None:
    """A report written before components existed reads as component -1 (unknown)."""
    if removed is not None and "component" not in removed.columns:
        removed = removed.assign(component=np.int64(-1))
    return removed


@multi_asset(
    group_name=CURATION_GROUP,
    ins={
        "filtered_snippets": AssetIn(metadata={"allow_missing_partitions": True}),
        "synthesized_snippets": AssetIn(metadata={"allow_missing_partitions": True}),
    },
    outs={
        "curated_snippets": AssetOut(
            metadata=reads_settings("curation"),
            kinds={"pandas", "parquet", "ray"},
            freshness_policy=SELECTION_FRESHNESS,
            description="The most diverse subset of all filtered snippets.",
        ),
        "curation_report": AssetOut(
            metadata=reads_settings("curation"),
            kinds={"pandas", "parquet", "ray"},
            description="Every removed snippet with its component and the near-duplicate it lost to.",
        ),
        "curation_signatures": AssetOut(
            metadata=reads_settings("curation"),
            kinds={"pandas", "parquet", "ray"},
            description="MinHash LSH band keys of the selection, which the next dump is queried against.",
        ),
    },
    required_resource_keys={"io_manager", "settings", "scale_out"},
    check_specs=[CLIQUE_PROPERTY, CURATION_CONSERVATION, CURATION_DETERMINISM],
)
def curated_snippets(context: AssetExecutionContext, filtered_snippets: dict, synthesized_snippets: dict):
    """Maximum-clique curation of every dump's filtered snippets and synthesized function programs,
    incremental over earlier runs."""
    settings = context.resources.settings.for_stage(context)
    config = settings.curation
    scale_out: StageExecutor = context.resources.scale_out
    store = context.resources.io_manager
    previous_selection = store.load_table("curated_snippets", context.log)
    previous_removed = _previous_report(store.load_table("curation_report", context.log))
    previous_signatures = store.load_table("curation_signatures", context.log)
    every_row = _all_rows(filtered_snippets, synthesized_snippets)
    candidates = _undecided(every_row, previous_selection, previous_removed)
    existing = previous_selection[every_row.columns] if previous_selection is not None else None
    layout = f"chunks of {config.chunk_size}, {config.rounds} rounds" if config.mode != GLOBAL else "global"
    signed_on_ray = scale_out.enabled and config.mode == GLOBAL
    context.log.info(
        f"curating {len(candidates)} new snippets against {0 if existing is None else len(existing)} selected "
        f"(gamma={config.gamma}, {layout}{', signatures on Ray' if signed_on_ray else ''})"
    )
    if signed_on_ray:
        with scale_out.session(settings.scale_out.namespace):
            result = curate(
                candidates,
                existing,
                settings=config,
                signatures=previous_signatures,
                sign=_ray_signer(scale_out, config, settings.scale_out),
            )
    else:
        result = curate(candidates, existing, settings=config, signatures=previous_signatures)
    removed = pd.concat([frame for frame in (previous_removed, result.removed) if frame is not None], ignore_index=True)
    removed = removed.drop_duplicates(["snippet_id", "dump"], keep="last")
    yield Output(
        result.selection,
        output_name="curated_snippets",
        metadata={
            "mode": config.mode,
            "signatures_computed_on": "ray" if signed_on_ray else "this process",
            "selected": len(result.selection),
            "removed_this_run": len(result.removed),
            "fallback_chunks": result.fallback_chunks,
            **_lsh_metadata(result),
            "per_dump": frame_table(result.dumps),
            "per_round": frame_table(result.rounds),
            "distance_distribution": histogram_plot(
                result.distance_sample["distance"], "pairwise line-Jaccard distance (sample)", "distance"
            ),
            "preview": preview(result.selection, ["snippet_id", "dump", "origin", "lines"]),
        },
    )
    yield Output(
        removed,
        output_name="curation_report",
        metadata={
            "removed": len(removed),
            "removed_by_reason": counts_table(removed["reason"].value_counts().to_dict(), "reason"),
            "preview": preview(
                removed, ["snippet_id", "dump", "component", "nearest_survivor_id", "nearest_survivor_distance"]
            ),
        },
    )
    yield Output(
        result.signatures,
        output_name="curation_signatures",
        metadata={"snippets": len(result.signatures), "mode": config.mode},
    )
    yield _clique_check(result.selection, config)
    problems = conservation_problems([every_row], result.selection, removed)
    yield check_result(
        CURATION_CONSERVATION,
        not problems,
        metadata={"filtered_rows": len(every_row), "problems": "; ".join(problems[:20]) or "none"},
    )
    yield _determinism_check(candidates, existing, result.selection, config)


def _clique_check(selection: pd.DataFrame, config: CurationSettings) -> AssetCheckResult:
    """Global mode: every pair of the selection (a seeded sample beyond `exact_check_max_rows`);
    paper mode: every pair within each final chunk."""
    checked = selection
    if config.mode == GLOBAL and len(selection) > config.exact_check_max_rows:
        checked = selection.sample(n=config.exact_check_max_rows, random_state=config.seed)
    violations = clique_violations(
        checked,
        config.gamma,
        chunk_column=None if config.mode == GLOBAL else "final_chunk",
        rename_identifiers=config.rename_identifiers,
    )
    scope = "across the selection" if config.mode == GLOBAL else "within every final chunk"
    return check_result(
        CLIQUE_PROPERTY,
        violations.empty,
        metadata={
            "violating_pairs": len(violations),
            "snippets_checked": len(checked),
            "violations": frame_table(violations.head(20)),
        },
        description=f"{scope}, all pairs of newly judged snippets have distance >= {config.gamma}",
    )


def _determinism_check(
    candidates: pd.DataFrame, existing: pd.DataFrame | None, selection: pd.DataFrame, config: CurationSettings
) -> AssetCheckResult:
    if len(candidates) > config.determinism_check_max_rows:
        return check_result(
            CURATION_DETERMINISM,
            True,
            metadata={"skipped": f"more than {config.determinism_check_max_rows} candidates"},
        )
    shuffled = candidates.sample(frac=1.0, random_state=config.seed + 1)
    again = curate(shuffled, existing, settings=config).selection
    same = sorted(again["snippet_id"]) == sorted(selection["snippet_id"])
    return check_result(CURATION_DETERMINISM, same)


curation_job = define_asset_job(
    name="recurate",
    selection=AssetSelection.groups(CURATION_GROUP),
    description="Re-curate the selection across every ingested dump (incremental).",
)

recuration_schedule = ScheduleDefinition(
    name="recuration_schedule",
    job=curation_job,
    cron_schedule=RECURATION_CRON,
    description="Daily incremental re-curation across every ingested dump.",
    default_status=DefaultScheduleStatus.RUNNING,
)


@run_status_sensor(
    run_status=DagsterRunStatus.SUCCESS,
    monitored_jobs=[ingestion.ingest_dump_job],
    request_job=curation_job,
    minimum_interval_seconds=30,
    default_status=DefaultSensorStatus.RUNNING,
)
def curate_after_ingestion(context: RunStatusSensorContext):
    """A newly ingested dump is curated against the existing selection right away."""
    return RunRequest(run_key=f"curate-after-{context.dagster_run.run_id}")
