"""Our reward as verl 0.9.1's trainer calls it, started by verl's own code on a real Ray cluster.

`main_ppo` starts a `TaskRunnerV1` actor through `run_ppo` (verl's `ray.init` with its runtime env,
`ray_kwargs.ray_init.runtime_env` included); the trainer there creates a `RewardLoopManager`,
whose reward-loop workers (Ray actors, `reward.num_workers`) load our `compute_score`; verl's
agent loop then sends every finished rollout to a random worker (`compute_score.remote`, one
rollout per call). `TaskRunnerStandIn` takes `TaskRunnerV1`'s place in `run_ppo`: it imports what
`TaskRunnerV1.run` imports, starts the same manager, and scores rollouts the agent loop's way. No
GPU is needed for any of it: the preflight's `--actors` check and the reward-loop benchmark use it.

    python -m codeboost_dagster.verl.reward_loop --rollouts FILE --report FILE OVERRIDE ...

scores a JSONL file of rollouts (`data_source`, `raw_prompt`, `completion`, `ground_truth`,
`extra_info`) through the loop and through `compute_score_batch` in this process, and writes both
with their seconds. Runs in verl's environment; Ray's address comes from RAY_ADDRESS.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def rollout_item(tokenizer: Any, row: dict, completion: str) -> Any:
    """A one-row DataProto like verl's rollout output: prompt, response and attention mask, with
    the dataset row's `data_source`, `reward_model` and `extra_info`."""
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


class TaskRunnerStandIn:
    """In `TaskRunnerV1`'s place: what its `run` imports, the trainer's `RewardLoopManager`, and
    scoring the agent loop's way. Remembers the interpreter and versions it ran with."""

    def __init__(self) -> None:
        self.found: dict[str, Any] = {}
        self.manager: Any = None

    def run(self, config: Any) -> None:
        import ray
        import transfer_queue  # noqa: F401  (TaskRunnerV1.run imports it first)
        import verl
        from verl.experimental.reward_loop import RewardLoopManager
        from verl.trainer.ppo.reward import get_custom_reward_fn
        from verl.trainer.ppo.v1 import get_trainer_cls

        get_trainer_cls(config.trainer.v1.trainer_mode)
        reward = get_custom_reward_fn(config)
        self.manager = RewardLoopManager(config=config, rm_resource_pool=None)
        self.found = {
            "python": sys.executable,
            "verl": verl.__version__,
            "ray": ray.__version__,
            "reward": reward.args[0].__module__ if reward is not None else None,
            "reward_workers": len(self.manager.reward_loop_worker_handles or []),
        }

    def report(self) -> dict[str, Any]:
        return self.found

    def warm(self, warm_up: list[Any]) -> int:
        """Every worker scores every `warm_up` rollout (its sandbox starts on its first backward
        rollout); the number of rollouts scored."""
        import ray

        handles = self.manager.reward_loop_worker_handles
        return len(ray.get([handle.compute_score.remote(item) for handle in handles for item in warm_up]))

    def score(self, items: list[Any], seed: int = 0) -> tuple[list[dict], float]:
        """Each rollout to a random reward-loop worker, all in flight at once, as verl's agent
        loop sends them; (results in order, seconds)."""
        import ray

        choose = random.Random(seed).choice
        handles = self.manager.reward_loop_worker_handles
        started = time.perf_counter()
        results = ray.get([choose(handles).compute_score.remote(item) for item in items])
        return results, time.perf_counter() - started


class _KeptActorClass:
    """The task-runner class handed to `run_ppo`, keeping the actor's handle for later calls."""

    def __init__(self, actor_class: Any) -> None:
        self.actor_class = actor_class
        self.handles: list[Any] = []

    def remote(self) -> Any:
        handle = self.actor_class.remote()
        self.handles.append(handle)
        return handle


def start_task_runner(config: Any) -> Any:
    """verl's own `run_ppo` with the stand-in as its task runner; the stand-in's handle, with its
    reward loop started. The caller shuts Ray down."""
    import ray
    from verl.trainer.main_ppo import run_ppo

    runner = _KeptActorClass(ray.remote(num_cpus=0)(TaskRunnerStandIn))
    run_ppo(config, task_runner_class=runner)
    return runner.handles[0]


def score_on_reward_loop(
    config: Any, items: list[Any], warm_up: Sequence[Any] = ()
) -> tuple[dict[str, Any], list[dict], float]:
    """(what the task runner found, verl's results per rollout, seconds) through verl's loop. The
    task runner's report also holds what the run's reward tally (`reward_tally`) summed up."""
    import ray

    from codeboost_dagster.verl.reward_tally import open_tally

    try:
        runner = start_task_runner(config)
        name = config.reward.custom_reward_function.reward_kwargs.get("tally")
        tally = open_tally(name) if name else None
        warmed = ray.get(runner.warm.remote(list(warm_up)))
        if tally is not None:
            _drain_once_reported(tally, warmed)  # the warm-up's rollouts are not the step's
        results, seconds = ray.get(runner.score.remote(items))
        found = ray.get(runner.report.remote())
        return {**found, "tally": _drain_once_reported(tally, len(items)) if tally else None}, results, seconds
    finally:
        ray.shutdown()


def _drain_once_reported(tally: Any, rollouts: int, timeout_s: float = 30.0) -> dict[str, float]:
    """The tally's summary once `rollouts` reports arrived (workers send theirs in batches)."""
    import ray

    deadline = time.monotonic() + timeout_s
    while ray.get(tally.pending.remote()) < rollouts and time.monotonic() < deadline:
        time.sleep(0.05)
    return ray.get(tally.drain.remote())


def _read_rollouts(path: Path) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    for row in rows:
        row["reward_model"] = {"ground_truth": row["ground_truth"]}
    return rows


def main(argv: Sequence[str] | None = None) -> int:
    """Score the rollouts file both ways; write the report."""
    from verl.trainer.ppo.reward import get_custom_reward_fn
    from verl.utils import hf_tokenizer

    from codeboost_dagster.verl.config import compose_config
    from codeboost_dagster.verl.reward import compute_score_batch

    parser = argparse.ArgumentParser(prog="codeboost_dagster.verl.reward_loop", description=__doc__)
    parser.add_argument("--rollouts", type=Path, required=True, help="JSONL of rollouts to score")
    parser.add_argument("--report", type=Path, required=True, help="where the JSON report goes")
    parser.add_argument("overrides", nargs="*", help="hydra overrides, as for verl.trainer.main_ppo")
    args = parser.parse_args(argv)
    config = compose_config(args.overrides)
    tokenizer = hf_tokenizer(config.actor_rollout_ref.model.path)
    rows = _read_rollouts(args.rollouts)
    items = [rollout_item(tokenizer, row, row["completion"]) for row in rows]
    # The baseline: the batch API in this process, one sandbox slot per core, with the reward_kwargs
    # verl merges into every call; its sandbox is warmed first, as the loop's workers are.
    kwargs = {**get_custom_reward_fn(config).args[1], "workers_per_node": 1}
    columns = [[row[key] for row in rows] for key in ("data_source", "completion", "ground_truth", "extra_info")]
    backward = [index for index, row in enumerate(rows) if row["data_source"].endswith("backward")][:1]
    compute_score_batch(*[[column[index] for index in backward] for column in columns], **kwargs)
    started = time.perf_counter()
    batch = compute_score_batch(*columns, **kwargs)
    batch_seconds = time.perf_counter() - started
    runner, results, loop_seconds = score_on_reward_loop(config, items, [items[index] for index in backward])
    report = {
        "rollouts": len(rows),
        "task_runner": runner,
        "batch": {"seconds": batch_seconds, "scores": [score["score"] for score in batch]},
        "loop": {
            "seconds": loop_seconds,
            "scores": [float(result["reward_score"]) for result in results],
            "parts": [result["reward_extra_info"] for result in results],
        },
    }
    args.report.write_text(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
