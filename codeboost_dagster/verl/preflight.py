"""verl's own checks of a CodeBoost training run, without GPUs: the dry run of `grpo_training`.

    python -m codeboost_dagster.verl.preflight [--rows N] [--report FILE] [--actors] -- OVERRIDE ...

Runs inside verl's environment (a Ray worker, or the `.venv-verl` of the tests), never inside
Dagster's (the two cannot share one; see requirements/common.txt beside it). With the same hydra
overrides that `python -m verl.trainer.main_ppo` would get, it
1. composes verl's `ppo_trainer` config and runs verl's `validate_config`;
2. loads the train and val files through verl's `create_rl_dataset` (its `RLHFDataset`, with
   verl's overlong-prompt filter at the configured budget);
3. loads our reward through verl's `load_reward_manager` (`reward.custom_reward_function`) and
   scores the reference completions of the first rows of every data source, and an empty
   completion, through the manager's `run_single` on a DataProto shaped like a rollout batch;
4. with `--actors` (the Ray job's dry run), starts verl's task-runner actor the way `main_ppo`
   does (`run_ppo`: verl's `ray.init` with its runtime env), with a stand-in for `TaskRunnerV1`
   that imports what it imports and starts the trainer's `RewardLoopManager` (`reward_loop`), and
   scores the same completions again through verl's reward-loop workers: actors started with
   another Python than verl's, or a reward that scores differently in them, fail here, not on
   the GPU cluster.
It prints one JSON report with named findings; a failed check raises.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from codeboost_dagster.core.tasks.prompts import reference_completion
from codeboost_dagster.verl.config import REWARD_MODULE, compose_config
from codeboost_dagster.verl.launch_checks import Finding
from codeboost_dagster.verl.reward_loop import rollout_item, score_on_reward_loop


def preflight(
    overrides: Sequence[str], rows: int = 8, actors: bool = False, driver_ray: str | None = None
) -> dict[str, Any]:
    """Run verl's config, dataset and reward checks (and, with `actors`, its actor start-up);
    return what each found. `driver_ray`: the Ray version of the Dagster process that submitted."""
    import ray
    import verl
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
    scored, items = [], []
    per_source: dict[str, int] = {}
    for index in range(len(train)):
        row = train[index]
        if per_source.get(row["data_source"], 0) >= rows:
            continue
        per_source[row["data_source"]] = per_source.get(row["data_source"], 0) + 1
        truth = json.loads(row["reward_model"]["ground_truth"])
        completion = reference_completion(truth, row["extra_info"].get("reference_answer"))
        for kind, text in (("reference", completion), ("empty", "")):
            items.append(rollout_item(tokenizer, row, text))
            result = manager.loop.run_until_complete(manager.run_single(items[-1]))
            scored.append(
                {
                    "task_id": row["extra_info"]["task_id"],
                    "data_source": row["data_source"],
                    "completion": kind,
                    "score": float(result["reward_score"]),
                    "parts": result["reward_extra_info"],
                }
            )
    reference = [item["score"] for item in scored if item["completion"] == "reference"]
    findings = [
        Finding("config_valid", True, "verl's validate_config accepted the composed ppo_trainer config"),
        Finding("datasets_load", len(train) > 0, f"RLHFDataset: {len(train)} train rows, {len(val)} val rows"),
        Finding(
            "reward_scores_references",
            rows == 0 or (bool(reference) and min(reference) > 0),
            f"{len(reference)} reference completions scored through {type(manager).__name__}.run_single",
        ),
    ]
    actor: dict[str, Any] | None = None
    if actors:
        actor, results, _ = score_on_reward_loop(config, items)
        findings.append(
            Finding(
                "actors_run_verl",
                actor["verl"] == verl.__version__ and f"pkg://{actor['reward']}" == REWARD_MODULE,
                f"verl's task-runner actor ran {actor['python']} with verl {actor['verl']}, reward {actor['reward']}",
            )
        )
        in_loop = [float(result["reward_score"]) for result in results]
        findings.append(
            Finding(
                "reward_loop_agrees",
                in_loop == [item["score"] for item in scored],
                f"{len(in_loop)} completions scored again by {actor['reward_workers']} reward-loop worker(s)",
            )
        )
    versions = {"job": ray.__version__, **({"driver": driver_ray} if driver_ray else {})}
    if actor is not None:
        versions["actors"] = actor["ray"]
    findings.append(
        Finding(
            "ray_versions_equal",
            len(set(versions.values())) == 1,
            ", ".join(f"{where} ray {version}" for where, version in versions.items()),
        )
    )
    failed = [finding for finding in findings if not finding.ok]
    if failed:
        raise RuntimeError(f"verl preflight failed: {failed}")
    return {
        "findings": [dataclasses.asdict(finding) for finding in findings],
        "actor": actor,
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
    parser.add_argument("--actors", action="store_true", help="also start verl's task-runner actor (needs Ray)")
    parser.add_argument("--driver-ray", help="the submitting driver's Ray version, compared with this one's")
    parser.add_argument("overrides", nargs="*", help="hydra overrides, as for verl.trainer.main_ppo")
    args = parser.parse_args(argv)
    report = json.dumps(preflight(args.overrides, args.rows, args.actors, args.driver_ray))
    if args.report:
        args.report.write_text(report)
    print(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
