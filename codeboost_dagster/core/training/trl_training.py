"""GRPO on one machine with TRL: the embedded default trainer (CPU or one GPU).

Same data as verl (the `verl_dataset` train file), same reward (`compute_score_batch`), and the
METHOD.md section 7 hyper-parameters where TRL has them: group size, temperature, top_p, AdamW
lr / weight decay / grad clip, constant schedule, KL coefficient (TRL's k3 estimator is verl's
`low_var_kl` without its clamp), clip ratios 0.2 / 0.3 (`epsilon` / `epsilon_high`), dual clip 3.0
(`delta`, TRL's two-sided clipping bound), token-mean loss (`dapo`). Batch sizes, lengths, the
learning rate and opened answers come from `LocalTrainingSettings`, sized for minutes on a laptop
with a 135M model rather than a GPU cluster.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from codeboost_dagster.core.settings import GRPOSettings, LocalTrainingSettings, RewardSettings
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.tasks.prompts import STDERR_TAG, STDOUT_TAG, answer_opening

METRIC_NAMES = {
    "step": "step",
    "reward": "reward_mean",
    "reward_std": "reward_std",
    "frac_reward_zero_std": "frac_reward_zero_std",
    "format_rate": "format_rate",
    "stdout_ok": "stdout_ok",
    "empty_answer": "empty_answer",
    "infra_error": "infra_error_rate",
    "kl": "kl",
    "loss": "loss",
    "completions/mean_length": "completion_tokens",
    "step_time": "step_seconds",
}


@dataclass(frozen=True)
class TrainingRun:
    """What a training run left: the checkpoint, per-step metrics, and the exact trainer config."""

    checkpoint: str
    metrics: pd.DataFrame
    config: dict[str, Any]
    seconds: float
    train_rows: int


def trl_config(grpo: GRPOSettings, local: LocalTrainingSettings, output_dir: str, on_gpu: bool) -> dict[str, Any]:
    """Keyword arguments of TRL's `GRPOConfig` for our settings (plain data, so it can be shown and tested)."""
    return {
        "output_dir": output_dir,
        "num_generations": grpo.group_size,
        "per_device_train_batch_size": local.prompts_per_step * grpo.group_size,
        "gradient_accumulation_steps": 1,
        "steps_per_generation": 1,
        "temperature": grpo.temperature,
        "top_p": grpo.top_p,
        "learning_rate": local.learning_rate,
        "lr_scheduler_type": "constant",
        "warmup_steps": 0,
        "weight_decay": grpo.weight_decay,
        "max_grad_norm": grpo.grad_clip,
        "beta": grpo.kl_coef,
        "epsilon": grpo.clip_ratio_low,
        "epsilon_high": grpo.clip_ratio_high,
        "delta": grpo.dual_clip,
        "loss_type": "dapo",
        "max_completion_length": local.max_completion_length,
        "num_train_epochs": grpo.epochs,
        "max_steps": local.max_steps,
        "save_strategy": "steps",
        "save_steps": grpo.checkpoint_every_steps,
        "logging_steps": 1,
        "seed": local.seed,
        "data_seed": local.seed,
        "shuffle_dataset": local.curriculum == "shuffled",
        "use_cpu": not on_gpu,
        "bf16": on_gpu,
        "report_to": [],
        "disable_tqdm": True,
        "log_completions": False,
    }


def trl_dataset_rows(verl_rows: pd.DataFrame, local: LocalTrainingSettings, tokenizer: Any) -> list[dict[str, Any]]:
    """TRL rows for the verl rows within the local budgets (prompt and reference-answer tokens), in
    the curriculum's order; the reward's inputs ride along as extra columns. With `open_answers`,
    the prompt is the policy's full input text ending with the answer's opening line (kept in
    `opening` for the reward); otherwise the conversation, for TRL to template."""
    from codeboost_dagster.core.training.generation import policy_input

    kept = [
        row
        for row in verl_rows.to_dict("records")
        if row["extra_info"]["prompt_tokens"] <= local.max_prompt_tokens
        and row["extra_info"]["answer_tokens"] <= local.max_answer_tokens
    ]
    if local.curriculum == "shortest_first":
        kept.sort(key=lambda row: (row["extra_info"]["answer_tokens"], row["extra_info"]["prompt_tokens"]))
    rows = []
    for row in kept:
        ground_truth = row["reward_model"]["ground_truth"]
        messages = list(row["prompt"])
        opening = answer_opening(json.loads(ground_truth)) if local.open_answers else ""
        prompt = policy_input(tokenizer, messages[-1]["content"], opening) if local.open_answers else messages
        rows.append(
            {"prompt": prompt, "opening": opening, "data_source": row["data_source"], "ground_truth": ground_truth}
        )
    return rows


class CodeBoostReward:
    """A TRL reward function: `compute_score_batch` over a generation batch, logging its parts."""

    __name__ = "codeboost"

    def __init__(self, weights: RewardSettings) -> None:
        self.weights = weights

    def __call__(
        self,
        prompts: list,
        completions: list,
        data_source: list[str],
        ground_truth: list[str],
        opening: list[str] | None = None,
        log_metric: Callable[[str, float], None] | None = None,
        **_: Any,
    ) -> list[float]:
        """Scores in completion order, each answer read from its opening on; `format_rate`,
        `stdout_ok`, `empty_answer` (the share of forward answers whose blocks are both empty: what
        a policy that reads nothing converges on) and `infra_error` (the share of rollouts whose
        re-run failed inside the sandbox) go to TRL's step metrics."""
        from codeboost_dagster.verl.reward import compute_score_batch

        openings = opening or [""] * len(completions)
        texts = [
            opening + (completion[-1]["content"] if isinstance(completion, list) else completion)
            for opening, completion in zip(openings, completions)
        ]
        scores = compute_score_batch(data_source, texts, ground_truth, None, **vars(self.weights))
        if log_metric is not None and scores:
            log_metric("format_rate", sum(score["format"] for score in scores) / len(scores))
            log_metric("stdout_ok", sum(score["stdout_ok"] for score in scores) / len(scores))
            forward = [text for text, truth in zip(texts, ground_truth) if json.loads(truth)["task_type"] == "forward"]
            if forward:
                log_metric("empty_answer", sum(map(is_empty_forward_answer, forward)) / len(forward))
            log_metric("infra_error", sum(score["infra_error"] for score in scores) / len(scores))
        return [score["score"] for score in scores]


def is_empty_forward_answer(completion: str) -> bool:
    """Both forward answer blocks present and blank."""
    blocks = [last_block(completion, tag) for tag in (STDOUT_TAG, STDERR_TAG)]
    return all(block is not None and not block.strip() for block in blocks)


def metrics_frame(log_history: list[dict[str, Any]]) -> pd.DataFrame:
    """One row per training step from TRL's log history, with our column names."""
    rows = [entry for entry in log_history if "reward" in entry]
    frame = pd.DataFrame(rows).reindex(columns=list(METRIC_NAMES)).rename(columns=METRIC_NAMES)
    return frame.astype({"step": "int64"}) if len(frame) else frame


def train_with_trl(
    model_location: str,
    train_file: str | Path,
    grpo: GRPOSettings,
    local: LocalTrainingSettings,
    weights: RewardSettings,
    output_dir: str | Path,
    on_step: Callable[[dict[str, Any]], None] | None = None,
) -> TrainingRun:
    """Train the policy with GRPO on the train file; returns the saved checkpoint and the curve."""
    import torch
    from datasets import Dataset
    from transformers import AutoModelForCausalLM, AutoTokenizer, TrainerCallback
    from trl import GRPOConfig, GRPOTrainer

    output_dir = Path(output_dir)
    on_gpu = torch.cuda.is_available()
    config = trl_config(grpo, local, str(output_dir), on_gpu)
    tokenizer = AutoTokenizer.from_pretrained(model_location)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = AutoModelForCausalLM.from_pretrained(model_location, dtype=torch.bfloat16 if on_gpu else torch.float32)
    rows = trl_dataset_rows(pd.read_parquet(train_file), local, tokenizer)
    if not rows:
        raise ValueError(
            f"{train_file} holds no rows with prompts of at most {local.max_prompt_tokens} tokens "
            f"and reference answers of at most {local.max_answer_tokens}"
        )

    class StepReporter(TrainerCallback):
        """Forwards each step's logs (reward, KL, step time) as training goes."""

        def on_log(self, args, state, control, logs=None, **kwargs):
            if on_step is not None and logs is not None and "reward" in logs:
                on_step({"step": state.global_step, **logs})

    trainer = GRPOTrainer(
        model=model,
        reward_funcs=[CodeBoostReward(weights)],
        args=GRPOConfig(**config),
        train_dataset=Dataset.from_list(rows),
        processing_class=tokenizer,
        callbacks=[StepReporter()],
    )
    started = time.perf_counter()
    trainer.train()
    seconds = time.perf_counter() - started
    checkpoint = output_dir / "final"
    trainer.save_model(str(checkpoint))
    tokenizer.save_pretrained(str(checkpoint))
    (checkpoint / "codeboost_trl_config.json").write_text(json.dumps(config, indent=2))
    return TrainingRun(str(checkpoint), metrics_frame(trainer.state.log_history), config, seconds, len(rows))
