"""The schema registry: explicit pyarrow schemas of every table the pipeline writes (keyed by asset
name in TABLE_SCHEMAS, enforced by the IO manager, shown in the UI's Columns tab), and the pandas
dtypes of curation's in-memory tables. A leaf module: it imports pyarrow only."""

from __future__ import annotations

import pyarrow as pa

RAW_SNIPPETS = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("expected_stdout", pa.large_string()),
        pa.field("read_error", pa.string()),
        pa.field("read_error_detail", pa.string()),
    ]
)

FILTERED_SNIPPETS = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("expected_stdout", pa.large_string()),
        pa.field("lines", pa.int32(), nullable=False),
        pa.field("chars", pa.int32(), nullable=False),
    ]
)

FILTER_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("duplicate_of", pa.string()),
    ]
)

SYNTHESIS_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string()),
        pa.field("module_snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("origin", pa.string(), nullable=False),
        pa.field("function", pa.string(), nullable=False),
        pa.field("line", pa.int32(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("candidates", pa.int32(), nullable=False),
        pa.field("rejected_at_boundary", pa.int32(), nullable=False),
        pa.field("cases", pa.int32(), nullable=False),
        pa.field("cases_by_source", pa.string(), nullable=False),
        pa.field("probe_seconds", pa.float64(), nullable=False),
    ]
)

AUGMENTED_VARIANTS = pa.schema(
    [
        pa.field("variant_id", pa.string(), nullable=False),
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("variant_index", pa.int32(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("mutations", pa.large_string(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("test_cases", pa.large_string(), nullable=False),
        pa.field("source_lines", pa.large_string(), nullable=False),
    ]
)
"""Kept rows: originals (variant_index 0, kind `original`, mutations `[]`) and variants. `code` is the
canonical program (core.tasks.canonical); `source_lines` is a JSON list giving, for each of its lines, the
1-based line of the snippet's code in the dump it came from (null for a line canonicalisation added)."""

AUGMENTATION_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("variant_index", pa.int32(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.large_string()),
    ]
)
"""Attempted variants that were not kept, with a reason from `core.augmentation.reasons.DROP_REASONS`."""

EXECUTION_RECORDS = pa.schema(
    [
        pa.field("program_id", pa.string(), nullable=False),
        pa.field("variant_id", pa.string(), nullable=False),
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("case_index", pa.int32(), nullable=False),
        pa.field("code", pa.large_string(), nullable=False),
        pa.field("stdin", pa.large_string(), nullable=False),
        pa.field("stdout", pa.large_string(), nullable=False),
        pa.field("stderr", pa.large_string(), nullable=False),
        pa.field("returncode", pa.int32()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error_type", pa.string()),
        pa.field("wall_ms", pa.float64(), nullable=False),
        pa.field("cpu_ms", pa.float64(), nullable=False),
        pa.field("backend", pa.string(), nullable=False),
        pa.field("python_version", pa.string(), nullable=False),
        pa.field("command", pa.string(), nullable=False),
        pa.field("started_at", pa.string(), nullable=False),
        pa.field("finished_at", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
        pa.field("wall_limit_s", pa.float64()),
        pa.field("runtime", pa.string(), nullable=False),
        pa.field("packages", pa.string(), nullable=False),
    ]
)
"""One row per (variant, test case) run. `wall_limit_s` is the wall limit the run had: the sandbox's,
or for a mutated variant one derived from its original's run (`SandboxLimits.variant_wall_factor`);
a `timeout` row was stopped there. Null for a run that never reached a sandbox. `runtime` is the
interpreter and package set it ran on (`core.sandbox.runtime`), `packages` the runtime packages
the program imports with their versions ("numpy 2.4.6, pandas 3.1.1"; empty if none)."""

TRAINING_TASKS = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("program_id", pa.string(), nullable=False),
        pa.field("variant_id", pa.string(), nullable=False),
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("task_type", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("prompt", pa.large_string(), nullable=False),
        pa.field("ground_truth", pa.large_string(), nullable=False),
        pa.field("masked_line_index", pa.int32(), nullable=False),
        pa.field("masked_line", pa.large_string()),
        pa.field("status", pa.string(), nullable=False),
        pa.field("error_type", pa.string()),
        pa.field("python_version", pa.string(), nullable=False),
        pa.field("command", pa.string(), nullable=False),
        pa.field("stdin", pa.large_string(), nullable=False),
    ]
)

TASK_DROPS = pa.schema(
    [
        pa.field("program_id", pa.string(), nullable=False),
        pa.field("variant_id", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
    ]
)

CURATED_SNIPPETS = pa.schema(
    [
        *list(FILTERED_SNIPPETS),
        pa.field("previously_selected", pa.bool_(), nullable=False),
        pa.field("final_chunk", pa.int32(), nullable=False),
        pa.field("rounds_survived", pa.int32(), nullable=False),
        pa.field("near_duplicates_represented", pa.int32(), nullable=False),
        pa.field("component", pa.int64(), nullable=False),
    ]
)

CURATION_SIGNATURES = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("lsh_fingerprint", pa.string(), nullable=False),
        pa.field("band_keys", pa.list_(pa.uint64()), nullable=False),
    ]
)

CURATION_REPORT = pa.schema(
    [
        pa.field("snippet_id", pa.string(), nullable=False),
        pa.field("dump", pa.string(), nullable=False),
        pa.field("previously_selected", pa.bool_(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("round", pa.int32(), nullable=False),
        pa.field("chunk", pa.int32(), nullable=False),
        pa.field("component", pa.int64(), nullable=False),
        pa.field("nearest_survivor_id", pa.string()),
        pa.field("nearest_survivor_dump", pa.string()),
        pa.field("nearest_survivor_distance", pa.float64()),
        pa.field("representative_id", pa.string()),
        pa.field("representative_dump", pa.string()),
        pa.field("representative_distance", pa.float64()),
    ]
)

VERL_ROWS = pa.schema(
    [
        pa.field("data_source", pa.string(), nullable=False),
        pa.field(
            "prompt",
            pa.list_(pa.struct([pa.field("role", pa.string()), pa.field("content", pa.large_string())])),
            nullable=False,
        ),
        pa.field("ability", pa.string(), nullable=False),
        pa.field(
            "reward_model",
            pa.struct([pa.field("style", pa.string()), pa.field("ground_truth", pa.large_string())]),
            nullable=False,
        ),
        pa.field(
            "extra_info",
            pa.struct(
                [
                    pa.field("index", pa.int64()),
                    pa.field("split", pa.string()),
                    pa.field("task_id", pa.string()),
                    pa.field("task_type", pa.string()),
                    pa.field("snippet_id", pa.string()),
                    pa.field("program_id", pa.string()),
                    pa.field("error_type", pa.string()),
                    pa.field("prompt_tokens", pa.int64()),
                    pa.field("answer_tokens", pa.int64()),
                    pa.field("reference_answer", pa.large_string()),
                ]
            ),
            nullable=False,
        ),
    ]
)

VERL_DATASET = pa.schema(
    [
        pa.field("split", pa.string(), nullable=False),
        pa.field("path", pa.string(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("forward", pa.int64(), nullable=False),
        pa.field("backward", pa.int64(), nullable=False),
        pa.field("version", pa.string(), nullable=False),
        pa.field("tokenizer", pa.string(), nullable=False),
        pa.field("max_prompt_tokens", pa.int64(), nullable=False),
        pa.field("max_answer_tokens", pa.int64(), nullable=False),
    ]
)

VERL_DROPS = pa.schema(
    [
        pa.field("task_id", pa.string(), nullable=False),
        pa.field("split", pa.string(), nullable=False),
        pa.field("task_type", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("prompt_tokens", pa.int64(), nullable=False),
        pa.field("answer_tokens", pa.int64(), nullable=False),
    ]
)

GRPO_RUNS = pa.schema(
    [
        pa.field("backend", pa.string(), nullable=False),
        pa.field("model", pa.string(), nullable=False),
        pa.field("dataset_version", pa.string(), nullable=False),
        pa.field("checkpoint", pa.string(), nullable=False),
        pa.field("steps", pa.int64(), nullable=False),
        pa.field("seconds", pa.float64(), nullable=False),
        pa.field("dry_run", pa.bool_(), nullable=False),
        pa.field("trainer_config", pa.large_string(), nullable=False),
    ]
)

TRAINING_METRICS = pa.schema(
    [
        pa.field("step", pa.int64(), nullable=False),
        pa.field("reward_mean", pa.float64()),
        pa.field("reward_std", pa.float64()),
        pa.field("frac_reward_zero_std", pa.float64()),
        pa.field("format_rate", pa.float64()),
        pa.field("stdout_ok", pa.float64()),
        pa.field("empty_answer", pa.float64()),
        pa.field("infra_error_rate", pa.float64()),
        pa.field("kl", pa.float64()),
        pa.field("loss", pa.float64()),
        pa.field("completion_tokens", pa.float64()),
        pa.field("step_seconds", pa.float64()),
    ]
)

EVALUATION_ITEMS = pa.schema(
    [
        pa.field(name, pa.large_string() if name == "code" else pa.string(), nullable=False)
        for name in ("item_id", "kind", "problem_id", "entry_point", "code", "input", "output")
    ]
)

EVALUATION_ITEM_DROPS = pa.schema(
    [
        pa.field("problem_id", pa.string(), nullable=False),
        pa.field("input", pa.large_string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("detail", pa.string()),
    ]
)

EVALUATION_PREDICTIONS = pa.schema(
    [
        pa.field("model", pa.string(), nullable=False),
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("item_id", pa.string(), nullable=False),
        pa.field("error_type", pa.string()),
        pa.field("prompt", pa.large_string(), nullable=False),
        pa.field("answer", pa.large_string(), nullable=False),
        pa.field("prediction", pa.large_string()),
        pa.field("correct", pa.bool_(), nullable=False),
        pa.field("score", pa.float64(), nullable=False),
        pa.field("format", pa.float64(), nullable=False),
        pa.field("reason", pa.string()),
        pa.field("score_parts", pa.large_string(), nullable=False),
    ]
)
"""Every evaluated completion, of every model and heuristic (`heuristic:...`): `prediction` is the
parsed answer (a CRUXEval expression; a forward task's blocks as JSON `{"stdout", "stderr"}`, null
for a missing block; a backward task's line), `score_parts` the reward's parts as JSON (for a
held-out task `compute_score`'s dict; for an item `{"correct"}`); `item_id` is the task id of a
held-out task, so `codeboost trace` reaches its answers."""

EVALUATION_SUMMARY = pa.schema(
    [
        pa.field("model", pa.string(), nullable=False),
        pa.field("benchmark", pa.string(), nullable=False),
        pa.field("items", pa.int64(), nullable=False),
        pa.field("pass_at_1", pa.float64(), nullable=False),
        pa.field("mean_reward", pa.float64(), nullable=False),
        pa.field("format_rate", pa.float64(), nullable=False),
    ]
)

TABLE_SCHEMAS: dict[str, pa.Schema] = {
    "evaluation_items": EVALUATION_ITEMS,
    "evaluation_item_report": EVALUATION_ITEM_DROPS,
    "evaluation_predictions": EVALUATION_PREDICTIONS,
    "evaluation": EVALUATION_SUMMARY,
    "grpo_training": GRPO_RUNS,
    "training_metrics": TRAINING_METRICS,
    "verl_dataset": VERL_DATASET,
    "verl_dataset_report": VERL_DROPS,
    "curated_snippets": CURATED_SNIPPETS,
    "curation_report": CURATION_REPORT,
    "curation_signatures": CURATION_SIGNATURES,
    "augmented_variants": AUGMENTED_VARIANTS,
    "augmentation_report": AUGMENTATION_REPORT,
    "execution_records": EXECUTION_RECORDS,
    "training_tasks": TRAINING_TASKS,
    "task_report": TASK_DROPS,
    "raw_snippets": RAW_SNIPPETS,
    "filtered_snippets": FILTERED_SNIPPETS,
    "filter_report": FILTER_REPORT,
    "synthesized_snippets": FILTERED_SNIPPETS,
    "synthesis_report": SYNTHESIS_REPORT,
}


# The in-memory tables `core.curation.curate` returns, as pandas dtypes in column order ("str" is
# pandas' string dtype, missing values NaN; it maps to pa.string()). The selection is a filtered
# snippet plus SELECTION_ADDED_DTYPES (CURATED_SNIPPETS), the report is REMOVED_DTYPES (CURATION_REPORT).

SELECTION_ADDED_DTYPES = {
    "previously_selected": "bool",
    "final_chunk": "int32",
    "rounds_survived": "int32",
    "near_duplicates_represented": "int32",
    "component": "int64",
}
REMOVED_DTYPES = {
    "snippet_id": "str",
    "dump": "str",
    "previously_selected": "bool",
    "reason": "str",
    "round": "int32",
    "chunk": "int32",
    "component": "int64",
    "nearest_survivor_id": "str",
    "nearest_survivor_dump": "str",
    "nearest_survivor_distance": "float64",
    "representative_id": "str",
    "representative_dump": "str",
    "representative_distance": "float64",
}
CHUNK_DTYPES = {
    "round": "int32",
    "chunk": "int32",
    "size": "int32",
    "pairs": "int64",
    "near_duplicate_pairs": "int64",
    "edge_density": "float64",
    "clique_size": "int32",
    "removed": "int32",
    "kernel_vertices": "int32",
    "method": "str",
    "fallback_reason": "str",
    "seconds": "float64",
    "search_seconds": "float64",
}
ROUND_DTYPES = {
    "round": "int32",
    "snippets_in": "int64",
    "chunks": "int32",
    "kept": "int64",
    "removed": "int64",
    "exact_chunks": "int32",
    "fallback_chunks": "int32",
    "seconds": "float64",
}
DUMP_DTYPES = {
    "dump": "str",
    "snippets_in": "int64",
    "kept": "int64",
    "kept_previously_selected": "int64",
    "removed": "int64",
    "removed_previously_selected": "int64",
    "removed_for_other_dump": "int64",
}
DISTANCE_SAMPLE_DTYPES = {"snippet_id_a": "str", "snippet_id_b": "str", "distance": "float64"}
SIGNATURE_DTYPES = {"snippet_id": "str", "lsh_fingerprint": "str", "band_keys": "object"}
"""band_keys: one uint64 array per snippet (LSH band keys, see `minhash`)."""


def schema_problems(columns: list[str], schema: pa.Schema) -> list[str]:
    """Human-readable differences between a table's columns and its schema's (order included)."""
    expected = schema.names
    missing = [name for name in expected if name not in columns]
    extra = [name for name in columns if name not in expected]
    problems = [f"missing column {name!r}" for name in missing] + [f"unexpected column {name!r}" for name in extra]
    if not problems and list(columns) != expected:
        problems.append(f"column order {list(columns)} differs from {expected}")
    return problems
