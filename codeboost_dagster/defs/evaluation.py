"""Evaluation assets: CRUXEval-style items from HumanEval, and base vs. trained policy on them and on
the held-out CodeBoost tasks."""

import pandas as pd
from dagster import (
    AssetCheckSpec,
    AssetExecutionContext,
    AssetOut,
    AssetSelection,
    MetadataValue,
    Output,
    define_asset_job,
    multi_asset,
)

from codeboost_dagster.core.evaluation.decontamination import contamination_report
from codeboost_dagster.core.evaluation.heldout import select_heldout
from codeboost_dagster.core.evaluation.intervals import heuristic_margins, interval_table
from codeboost_dagster.core.evaluation.items import build_items, humaneval_problems, select_items, unaccounted_problems
from codeboost_dagster.core.evaluation.scoring import (
    answer_and_score,
    evaluation_prompts,
    right_by_output_kind,
    summarize,
)
from codeboost_dagster.defs import TRANSIENT_FAILURE_RETRY
from codeboost_dagster.metadata import bar_plot, check_result, counts_table, frame_table, progress_logger
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource, reads_settings

EVALUATION_GROUP = "evaluation"

EVALUATION_ITEM_CONSERVATION = AssetCheckSpec(
    "evaluation_item_conservation",
    asset="evaluation_items",
    blocking=True,
    description="every HumanEval problem has an item or a report row",
)


def headline_margins(margins: pd.DataFrame, model: str) -> dict[str, MetadataValue]:
    """The model's margin over the best heuristic on held-out forward and backward tasks, for pass@1
    and mean reward: `margin [low, high] over heuristic:NAME`."""
    headline = {}
    for row in margins[(margins["model"] == model) & margins["benchmark"].str.startswith("codeboost")].itertuples():
        if row.metric in ("pass_at_1", "mean_reward"):
            headline[f"{row.benchmark}_{row.metric}_margin"] = MetadataValue.text(
                f"{row.margin:+.3f} [{row.margin_low:+.3f}, {row.margin_high:+.3f}] over {row.best_heuristic} "
                f"({row.value:.3f} vs {row.heuristic_value:.3f}, {model})"
            )
    return headline


def comparison_plot(intervals: pd.DataFrame, confidence: float) -> MetadataValue:
    """pass@1 per benchmark, one bar per model with its bootstrap interval, shown in the UI."""
    rows = intervals[intervals["metric"] == "pass_at_1"].set_index("benchmark")
    models = [model for model in ("base", "trained") if rows[model].notna().any()]
    errors = {model: (rows[model] - rows[f"{model}_low"], rows[f"{model}_high"] - rows[model]) for model in models}
    title = f"pass@1 (CRUXEval) / stdout exact (CodeBoost), greedy, {confidence:.0%} intervals"
    return bar_plot(rows[models], title, errors)


@multi_asset(
    group_name=EVALUATION_GROUP,
    pool="sandbox",
    outs={
        "evaluation_items": AssetOut(
            metadata=reads_settings("sandbox"),
            kinds={"pandas", "parquet"},
            description="Output- and input-prediction items from HumanEval's canonical solutions and asserts.",
        ),
        "evaluation_item_report": AssetOut(
            metadata=reads_settings("sandbox"),
            kinds={"pandas", "parquet"},
            description="HumanEval asserts that gave no item, and problems without an exact assert, with the reason.",
        ),
    },
    check_specs=[EVALUATION_ITEM_CONSERVATION],
)
def evaluation_items(context: AssetExecutionContext, settings: SettingsResource, sandbox: SandboxResource):
    """Every exact-equality assert of HumanEval, verified deterministic and bounded in the sandbox."""
    problems = humaneval_problems()
    with sandbox.open(settings.for_stage(context).sandbox) as opened:
        build = build_items(problems, opened)
    context.log.info(f"{len(build.items)} items from {len(problems)} problems; {len(build.dropped)} asserts dropped")
    yield Output(
        build.items,
        output_name="evaluation_items",
        metadata={
            "items": len(build.items),
            "problems": len(problems),
            "by_kind": counts_table(build.items["kind"].value_counts().to_dict(), "kind"),
        },
    )
    yield Output(
        build.dropped,
        output_name="evaluation_item_report",
        metadata={
            "dropped": len(build.dropped),
            "by_reason": counts_table(build.dropped["reason"].value_counts().to_dict(), "reason"),
        },
    )
    missing = unaccounted_problems(problems, build)
    yield check_result(
        EVALUATION_ITEM_CONSERVATION,
        not missing,
        metadata={"problems": len(problems), "unaccounted": ", ".join(missing[:20]) or "none"},
    )


@multi_asset(
    group_name=EVALUATION_GROUP,
    pool="sandbox",
    outs={
        "evaluation": AssetOut(
            metadata=reads_settings("evaluation", "model", "reward", "sandbox", "curation"),
            kinds={"pandas", "parquet", "pytorch", "huggingface"},
            description="Base vs. trained policy per benchmark: pass@1, mean reward, format rate.",
        ),
        "evaluation_predictions": AssetOut(
            metadata=reads_settings("evaluation", "model", "reward", "sandbox", "curation"),
            kinds={"pandas", "parquet", "pytorch", "huggingface"},
            description="Every prompt, raw answer, extracted prediction and verdict, for both models.",
        ),
    },
)
def evaluation(
    context: AssetExecutionContext,
    settings: SettingsResource,
    models: ModelCache,
    sandbox: SandboxResource,
    grpo_training: pd.DataFrame,
    training_tasks: pd.DataFrame,
    evaluation_items: pd.DataFrame,
    curated_snippets: pd.DataFrame,
):
    """Greedy answers of the base and the trained policy on the same items, scored by execution."""
    config = settings.for_stage(context)
    items = select_items(evaluation_items, config.evaluation.items_per_kind)
    heldout = select_heldout(
        training_tasks[training_tasks["split"] == "test"], config.evaluation.heldout_tasks, config.evaluation.seed
    )
    prompts = evaluation_prompts(items, heldout)
    run = grpo_training.iloc[0]
    candidates = {"base": models.location(config.model.policy)}
    if not run["dry_run"]:
        candidates["trained"] = run["checkpoint"]
    context.log.info(f"answering {len(prompts)} prompts greedily with {candidates}")
    with sandbox.open(config.sandbox) as opened:
        predictions = answer_and_score(
            candidates,
            prompts,
            items,
            heldout,
            opened,
            config,
            lambda name: progress_logger(context.log, f"{name} generation"),
            train_tasks=training_tasks[training_tasks["split"] == "train"],
        )
    summary = summarize(predictions)
    intervals = interval_table(
        predictions, config.evaluation.bootstrap_resamples, config.evaluation.confidence, config.evaluation.seed
    )
    margins = heuristic_margins(
        predictions, config.evaluation.bootstrap_resamples, config.evaluation.confidence, config.evaluation.seed
    )
    contamination = contamination_report(
        evaluation_items[["problem_id", "code"]],
        curated_snippets[["snippet_id", "code"]],
        config.curation.gamma,
    )
    heldout_by_error = (
        predictions[predictions["benchmark"].str.startswith("codeboost")]
        .assign(error_type=lambda frame: frame["error_type"].fillna("none"))
        .pivot_table(index=["benchmark", "error_type"], columns="model", values="score", aggfunc="mean")
        .reset_index()
    )
    yield Output(
        summary,
        output_name="evaluation",
        metadata={
            "summary": frame_table(summary.round(3)),
            "comparison": comparison_plot(intervals, config.evaluation.confidence),
            "intervals": frame_table(intervals.round(3)),
            "margins_over_heuristics": frame_table(margins.round(3)),
            **headline_margins(margins, "trained" if "trained" in candidates else "base"),
            "heldout_strata": counts_table(
                (heldout["task_type"] + "/" + heldout["error_type"].fillna("none")).value_counts().to_dict(), "stratum"
            ),
            "heldout_by_error_type": frame_table(heldout_by_error.round(3)),
            "forward_right_by_output_kind": frame_table(right_by_output_kind(predictions, heldout).round(3)),
            "items_evaluated": len(prompts),
            "trained_checkpoint": str(run["checkpoint"]),
            "dataset_version": str(run["dataset_version"]),
            "contaminated_problems": int(contamination["near_duplicate"].sum()),
            "closest_training_snippets": frame_table(contamination.nsmallest(5, "distance").round(3)),
        },
    )
    yield Output(
        predictions,
        output_name="evaluation_predictions",
        metadata={
            "predictions": len(predictions),
            "failures_by_reason": counts_table(predictions["reason"].dropna().value_counts().to_dict(), "reason"),
        },
    )


evaluation_job = define_asset_job(
    name="evaluate_policy",
    selection=AssetSelection.groups(EVALUATION_GROUP),
    op_retry_policy=TRANSIENT_FAILURE_RETRY,
    description="Base vs. trained policy on CRUXEval-style items from HumanEval and on held-out tasks.",
)
