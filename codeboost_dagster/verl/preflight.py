"""verl's own checks of a CodeBoost training run, without GPUs: the dry run of `grpo_training`.

    python -m codeboost_dagster.verl.preflight [--rows N] [--report FILE] -- OVERRIDE ...

Runs inside verl's environment (a Ray worker, or the `.venv-verl` of the tests), never inside
Dagster's (the two cannot share one; see requirements/verl-worker.txt). With the same hydra
overrides that `python -m verl.trainer.main_ppo` would get, it
1. composes verl's `ppo_trainer` config and runs verl's `validate_config`;
2. loads the train and val files through verl's `create_rl_dataset` (its `RLHFDataset`, with
   verl's overlong-prompt filter at the configured budget);
3. loads our reward through verl's `load_reward_manager` (`reward.custom_reward_function`) and
   scores the reference completions of the first rows of every data source, and an empty
   completion, through the manager's `run_single` on a DataProto shaped like a rollout batch.
It prints one JSON report; a failed check raises.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codeboost_dagster.core.prompts import reference_completion


def compose_config(overrides: Sequence[str]) -> Any:
    """verl's `ppo_trainer` config with our overrides, exactly as `main_ppo`'s hydra entry point builds it."""
    import verl.trainer
    from hydra import compose, initialize_config_dir

    config_dir = Path(verl.trainer.__file__).parent / "config"
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return compose(config_name="ppo_trainer", overrides=list(overrides))


def _rollout_item(tokenizer: Any, row: dict, completion: str) -> Any:
    """A one-row DataProto like verl's rollout output: left-padded prompt, response, attention mask."""
    import numpy as np
    import torch
    from verl import DataProto

    prompt_ids = tokenizer.apply_chat_template(row["raw_prompt"], add_generation_prompt=True, tokenize=True)[
        "input_ids"
    ]
    response_ids = tokenizer(completion, add_special_tokens=False)["input_ids"] + [tokenizer.eos_token_id]
    prompts = torch.tensor([prompt_ids])
    responses = torch.tensor([response_ids])
    mask = torch.ones((1, len(prompt_ids) + len(response_ids)), dtype=torch.long)
    non_tensors = {key: np.array([row[key]], dtype=object) for key in ("data_source", "reward_model", "extra_info")}
    return DataProto.from_dict(
        tensors={"prompts": prompts, "responses": responses, "attention_mask": mask},
        non_tensors=non_tensors,
    )


def preflight(overrides: Sequence[str], rows: int = 8) -> dict[str, Any]:
    """Run verl's config, dataset and reward checks; return what each found."""
    from omegaconf import OmegaConf
    from verl.trainer.ppo.reward import load_reward_manager
    from verl.trainer.ppo.utils import create_rl_dataset, need_critic, need_reference_policy
    from verl.utils import hf_tokenizer
    from verl.utils.config import validate_config

    config = compose_config(overrides)
    validate_config(config=config, use_reference_policy=need_reference_policy(config), use_critic=need_critic(config))
    tokenizer = hf_tokenizer(config.actor_rollout_ref.model.path)
    train = create_rl_dataset(config.data.train_files, config.data, tokenizer, None, is_train=True)
    val = create_rl_dataset(config.data.val_files, config.data, tokenizer, None, is_train=False)
    manager = load_reward_manager(config, tokenizer)
    scored = []
    per_source: dict[str, int] = {}
    for index in range(len(train)):
        row = train[index]
        if per_source.get(row["data_source"], 0) >= rows:
            continue
        per_source[row["data_source"]] = per_source.get(row["data_source"], 0) + 1
        truth = json.loads(row["reward_model"]["ground_truth"])
        completion = reference_completion(truth, row["extra_info"].get("reference_answer"))
        for kind, text in (("reference", completion), ("empty", "")):
            result = manager.loop.run_until_complete(manager.run_single(_rollout_item(tokenizer, row, text)))
            scored.append(
                {
                    "task_id": row["extra_info"]["task_id"],
                    "data_source": row["data_source"],
                    "completion": kind,
                    "score": float(result["reward_score"]),
                    "parts": result["reward_extra_info"],
                }
            )
    return {
        "config_valid": True,
        "adv_estimator": config.algorithm.adv_estimator,
        "rollout_n": config.actor_rollout_ref.rollout.n,
        "train_rows": len(train),
        "val_rows": len(val),
        "max_prompt_length": config.data.max_prompt_length,
        "reward_manager": type(manager).__name__,
        "reward_function": config.reward.custom_reward_function.path + ":" + config.reward.custom_reward_function.name,
        "reward_kwargs": OmegaConf.to_container(config.reward.custom_reward_function.get("reward_kwargs", {})),
        "scores": scored,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Command-line entry point: prints the report as JSON (and writes it to --report)."""
    parser = argparse.ArgumentParser(
        prog="codeboost_dagster.verl.preflight",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--rows", type=int, default=8, help="train rows per data source whose completions are scored")
    parser.add_argument("--report", type=Path, help="also write the JSON report here")
    parser.add_argument("overrides", nargs="*", help="hydra overrides, as for verl.trainer.main_ppo")
    args = parser.parse_args(argv)
    report = json.dumps(preflight(args.overrides, args.rows))
    if args.report:
        args.report.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
