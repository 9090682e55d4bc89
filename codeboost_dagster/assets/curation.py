"""Curation assets: the maximum-clique selection across all dumps (METHOD.md section 2).

Incremental: each materialization starts from the previous selection and report, so a new dump
is curated against what is already selected without redoing everything (semantics in
`core.curation.curate`).
"""

import pandas as pd
from dagster import (
    AssetCheckResult,
    AssetCheckSpec,
    AssetExecutionContext,
    AssetIn,
    AssetOut,
    Output,
    multi_asset,
)

from codeboost_dagster.assets.metadata import counts_table, frame_table, histogram_plot, preview
from codeboost_dagster.core.curation import clique_violations, conservation_problems, curate
from codeboost_dagster.core.schemas import FILTERED_SNIPPETS
from codeboost_dagster.core.settings import CurationSettings

CURATION_GROUP = "curation"


def _all_filtered(partitions: dict[str, pd.DataFrame]) -> pd.DataFrame:
    frames = [frame for _, frame in sorted(partitions.items())]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=FILTERED_SNIPPETS.names)


def _undecided(candidates: pd.DataFrame, selection: pd.DataFrame | None, removed: pd.DataFrame | None) -> pd.DataFrame:
    decided = set()
    for frame in (selection, removed):
        if frame is not None:
            decided |= set(zip(frame["snippet_id"], frame["dump"]))
    keys = list(zip(candidates["snippet_id"], candidates["dump"]))
    return candidates[[key not in decided for key in keys]]


@multi_asset(
    group_name=CURATION_GROUP,
    ins={"filtered_snippets": AssetIn(metadata={"allow_missing_partitions": True})},
    outs={
        "curated_snippets": AssetOut(
            io_manager_key="parquet_io_manager", description="The most diverse subset of all filtered snippets."
        ),
        "curation_report": AssetOut(
            io_manager_key="parquet_io_manager",
            description="Every removed snippet with its round and the near-duplicate it lost to.",
        ),
    },
    required_resource_keys={"parquet_io_manager", "settings"},
    check_specs=[
        AssetCheckSpec("clique_property", asset="curated_snippets", blocking=True),
        AssetCheckSpec("curation_conservation", asset="curated_snippets", blocking=True),
        AssetCheckSpec("curation_determinism", asset="curated_snippets", blocking=True),
    ],
)
def curated_snippets(context: AssetExecutionContext, filtered_snippets: dict):
    """Maximum-clique curation of every dump's filtered snippets, incremental over earlier runs."""
    config = context.resources.settings.get().curation
    store = context.resources.parquet_io_manager
    previous_selection, previous_removed = (store.load_table("curated_snippets", context.log),
                                            store.load_table("curation_report", context.log))
    every_row = _all_filtered(filtered_snippets)
    candidates = _undecided(every_row, previous_selection, previous_removed)
    existing = previous_selection[every_row.columns] if previous_selection is not None else None
    context.log.info(
        f"curating {len(candidates)} new snippets against {0 if existing is None else len(existing)} selected "
        f"(gamma={config.gamma}, chunks of {config.chunk_size}, {config.rounds} rounds)"
    )
    result = curate(candidates, existing, settings=config)
    removed = pd.concat([frame for frame in (previous_removed, result.removed) if frame is not None], ignore_index=True)
    removed = removed.drop_duplicates(["snippet_id", "dump"], keep="last")
    yield Output(
        result.selection,
        output_name="curated_snippets",
        metadata={
            "selected": len(result.selection),
            "removed_this_run": len(result.removed),
            "fallback_chunks": result.fallback_chunks,
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
            "preview": preview(removed, ["snippet_id", "dump", "round", "nearest_survivor_id", "nearest_survivor_distance"]),
        },
    )
    violations = clique_violations(result.selection, config.gamma)
    yield AssetCheckResult(
        check_name="clique_property",
        asset_key="curated_snippets",
        passed=violations.empty,
        metadata={"violating_pairs": len(violations)},
        description=f"within every final chunk, all pairs have distance >= {config.gamma}",
    )
    problems = conservation_problems([every_row], result.selection, removed)
    yield AssetCheckResult(
        check_name="curation_conservation",
        asset_key="curated_snippets",
        passed=not problems,
        metadata={"filtered_rows": len(every_row), "problems": "; ".join(problems[:20]) or "none"},
        description="every filtered row is selected or in the curation report",
    )
    yield _determinism_check(candidates, existing, result.selection, config)


def _determinism_check(
    candidates: pd.DataFrame, existing: pd.DataFrame | None, selection: pd.DataFrame, config: CurationSettings
) -> AssetCheckResult:
    if len(candidates) > config.determinism_check_max_rows:
        return AssetCheckResult(
            check_name="curation_determinism",
            asset_key="curated_snippets",
            passed=True,
            metadata={"skipped": f"more than {config.determinism_check_max_rows} candidates"},
        )
    shuffled = candidates.sample(frac=1.0, random_state=config.seed + 1)
    again = curate(shuffled, existing, settings=config).selection
    same = sorted(again["snippet_id"]) == sorted(selection["snippet_id"])
    return AssetCheckResult(
        check_name="curation_determinism",
        asset_key="curated_snippets",
        passed=same,
        description="curating the same input in another row order gives the same selection",
    )
