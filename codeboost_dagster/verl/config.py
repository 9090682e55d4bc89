"""verl's command line for CodeBoost GRPO: hydra overrides of `verl.trainer.main_ppo` from the settings.

Every METHOD.md section 7 number comes from `GRPOSettings`; the cluster shape (GPUs, micro-batch
sizes, rollout engine and its tensor parallelism, attention kernel, the interpreter of verl's
actors, reward workers) comes from `VerlCluster`. The reward is ours, loaded by verl from the
installed package (`pkg://codeboost_dagster.verl.reward`), scored per rollout by verl's reward
loop: `reward.num_workers` worker actors (one per node by default), each calling `compute_score`
from its thread pool; each worker's sandbox takes the node's cores divided among the node's
workers. `launch_checks` says whether these fit the model, the data and the GPU environment.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from codeboost_dagster.core.settings import CodeBoostSettings

REWARD_MODULE = "pkg://codeboost_dagster.verl.reward"
REWARD_FUNCTION = "compute_score"
VERL_ENTRYPOINT = ("python3", "-m", "verl.trainer.main_ppo")


@dataclass(frozen=True)
class VerlCluster:
    """Where and how verl runs: hardware knobs that are not part of the method."""

    n_gpus_per_node: int = 8
    nnodes: int = 1
    micro_batch_per_gpu: int = 4
    rollout_engine: str = "vllm"
    # GPUs one rollout replica spans: must divide the model's attention heads and the node's GPUs
    # (verl's default of 2 cannot split SmolLM2-135M's 9 heads, nor run on one GPU).
    rollout_tensor_parallel: int = 1
    # sdpa ships with torch; flash_attention_2 (verl's default) needs the flash-attn package built
    # for the node's CUDA. Padding removal packs sequences and needs a varlen (flash) kernel.
    attention: str = "sdpa"
    gpu_memory_utilization: float = 0.6
    # The interpreter Ray starts verl's actors with (Ray's runtime_env py_executable): one with
    # requirements/gpu.txt, like the job's own entrypoint.
    worker_python: str = "python3"
    # verl's reward-loop workers per node (verl's default: 8 per job, wherever they land); each
    # worker's sandbox takes this share of its node's cores. BENCHMARKS.md compares counts.
    reward_workers_per_node: int = 1
    project_name: str = "codeboost"
    experiment_name: str = "grpo"
    loggers: tuple[str, ...] = ("console",)


def _value(value: object) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, (list, tuple)):
        return "[" + ",".join(_value(item) for item in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{key}:{_value(item)}" for key, item in value.items()) + "}"
    if isinstance(value, str):
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return str(value)


def verl_overrides(
    settings: CodeBoostSettings,
    cluster: VerlCluster,
    model_path: str,
    train_files: Sequence[str],
    val_files: Sequence[str],
    checkpoint_dir: str,
) -> list[str]:
    """Hydra overrides for verl's `ppo_trainer` config implementing the paper's GRPO run. The
    reward's weights, its workers per node and the run's tally reach `compute_score` as verl's
    `reward_kwargs`."""
    grpo = settings.grpo
    actor = "actor_rollout_ref.actor"
    rollout = "actor_rollout_ref.rollout"
    values: dict[str, object] = {
        "algorithm.adv_estimator": "grpo",
        "algorithm.use_kl_in_reward": False,
        "data.train_files": list(train_files),
        "data.val_files": list(val_files),
        "data.train_batch_size": grpo.rollout_batch_prompts,
        "data.max_prompt_length": grpo.max_prompt_length,
        "data.max_response_length": grpo.max_response_length,
        "data.filter_overlong_prompts": True,
        "data.truncation": "error",
        "actor_rollout_ref.model.path": model_path,
        "+actor_rollout_ref.model.override_config.attn_implementation": cluster.attention,
        "actor_rollout_ref.model.use_remove_padding": uses_padding_removal(cluster.attention),
        f"{actor}.optim.lr": grpo.learning_rate,
        f"{actor}.optim.lr_scheduler_type": "constant",
        f"{actor}.optim.weight_decay": grpo.weight_decay,
        f"{actor}.optim.clip_grad": grpo.grad_clip,
        f"{actor}.ppo_mini_batch_size": grpo.update_batch_prompts,
        f"{actor}.ppo_micro_batch_size_per_gpu": cluster.micro_batch_per_gpu,
        f"{actor}.use_kl_loss": True,
        f"{actor}.kl_loss_coef": grpo.kl_coef,
        f"{actor}.kl_loss_type": grpo.kl_loss_type,
        f"{actor}.clip_ratio_low": grpo.clip_ratio_low,
        f"{actor}.clip_ratio_high": grpo.clip_ratio_high,
        f"{actor}.clip_ratio_c": grpo.dual_clip,
        f"{actor}.loss_agg_mode": grpo.loss_agg_mode,
        f"{rollout}.name": cluster.rollout_engine,
        f"{rollout}.tensor_model_parallel_size": cluster.rollout_tensor_parallel,
        f"{rollout}.n": grpo.group_size,
        f"{rollout}.temperature": grpo.temperature,
        f"{rollout}.top_p": grpo.top_p,
        f"{rollout}.gpu_memory_utilization": cluster.gpu_memory_utilization,
        f"{rollout}.log_prob_micro_batch_size_per_gpu": cluster.micro_batch_per_gpu,
        "actor_rollout_ref.ref.log_prob_micro_batch_size_per_gpu": cluster.micro_batch_per_gpu,
        "reward.custom_reward_function.path": REWARD_MODULE,
        "reward.custom_reward_function.name": REWARD_FUNCTION,
        "reward.reward_manager.name": "naive",
        "reward.num_workers": cluster.reward_workers_per_node * cluster.nnodes,
        "ray_kwargs.ray_init.runtime_env.py_executable": cluster.worker_python,
        "trainer.total_epochs": grpo.epochs,
        "trainer.save_freq": grpo.checkpoint_every_steps,
        "trainer.default_local_dir": checkpoint_dir,
        "trainer.n_gpus_per_node": cluster.n_gpus_per_node,
        "trainer.nnodes": cluster.nnodes,
        "trainer.project_name": cluster.project_name,
        "trainer.experiment_name": cluster.experiment_name,
        "trainer.logger": list(cluster.loggers),
    }
    if grpo.max_steps:
        values["trainer.total_training_steps"] = grpo.max_steps
    reward_kwargs = {
        **dataclasses.asdict(settings.reward),
        "workers_per_node": cluster.reward_workers_per_node,
        "tally": reward_tally_name(cluster),
    }
    added = {f"+reward.custom_reward_function.reward_kwargs.{key}": value for key, value in reward_kwargs.items()}
    return [f"{key}={_value(value)}" for key, value in {**values, **added}.items()]


def uses_padding_removal(attention: str) -> bool:
    """verl's padding removal packs a batch into one sequence: only varlen flash kernels keep the
    packed sequences apart (sdpa and eager would attend across them)."""
    return attention.startswith("flash_attention")


def reward_tally_name(cluster: VerlCluster) -> str:
    """The named actor the run's reward workers report their score parts to (`verl.reward_tally`)."""
    return f"codeboost-reward-tally-{cluster.project_name}-{cluster.experiment_name}"


def verl_command(overrides: Sequence[str]) -> list[str]:
    """The full `python3 -m verl.trainer.main_ppo ...` argument list."""
    return [*VERL_ENTRYPOINT, *overrides]


def compose_config(overrides: Sequence[str]) -> Any:
    """verl's `ppo_trainer` config with our overrides, exactly as `main_ppo`'s hydra entry point builds it."""
    import verl.trainer
    from hydra import compose, initialize_config_dir

    config_dir = Path(verl.trainer.__file__).parent / "config"
    with initialize_config_dir(config_dir=str(config_dir), version_base=None):
        return compose(config_name="ppo_trainer", overrides=list(overrides))
