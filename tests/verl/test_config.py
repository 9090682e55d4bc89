"""verl's command line from the settings: every METHOD.md section 7 number reaches its verl key."""

from __future__ import annotations

from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.verl.config import VerlCluster, verl_command, verl_overrides


def _overrides(settings: CodeBoostSettings, cluster: VerlCluster | None = None) -> dict[str, str]:
    cluster = cluster or VerlCluster()
    pairs = verl_overrides(settings, cluster, "/models/policy", ["/d/train.parquet"], ["/d/val.parquet"], "/ckpt")
    return dict(pair.split("=", 1) for pair in pairs)


def test_the_papers_grpo_settings_map_to_verl_keys():
    overrides = _overrides(CodeBoostSettings())
    assert overrides["algorithm.adv_estimator"] == "'grpo'"
    assert overrides["actor_rollout_ref.rollout.n"] == "5"
    assert overrides["actor_rollout_ref.rollout.top_p"] == "0.99"
    assert overrides["data.train_batch_size"] == "512"
    assert overrides["actor_rollout_ref.actor.ppo_mini_batch_size"] == "128"
    assert overrides["actor_rollout_ref.actor.kl_loss_type"] == "'low_var_kl'"
    assert overrides["actor_rollout_ref.actor.kl_loss_coef"] == "0.01"
    assert (
        overrides["actor_rollout_ref.actor.clip_ratio_low"],
        overrides["actor_rollout_ref.actor.clip_ratio_high"],
        overrides["actor_rollout_ref.actor.clip_ratio_c"],
    ) == ("0.2", "0.3", "3.0")
    assert overrides["data.truncation"] == "'error'"
    assert overrides["data.train_files"] == "['/d/train.parquet']"
    assert overrides["reward.custom_reward_function.path"] == "'pkg://codeboost_dagster.verl.reward'"
    assert overrides["trainer.save_freq"] == "15"


def test_settings_overrides_and_cluster_shape_reach_the_command():
    settings = CodeBoostSettings().with_overrides({"grpo": {"group_size": 8, "learning_rate": 2e-6}})
    overrides = _overrides(settings, VerlCluster(n_gpus_per_node=4, nnodes=2))
    assert overrides["actor_rollout_ref.rollout.n"] == "8"
    assert overrides["actor_rollout_ref.actor.optim.lr"] == "2e-06"
    assert (overrides["trainer.n_gpus_per_node"], overrides["trainer.nnodes"]) == ("4", "2")
    command = verl_command(verl_overrides(settings, VerlCluster(), "m", ["t"], ["v"], "c"))
    assert command[:3] == ["python3", "-m", "verl.trainer.main_ppo"]


def test_paths_with_quotes_are_escaped_for_hydra():
    settings = CodeBoostSettings()
    overrides = dict(
        pair.split("=", 1) for pair in verl_overrides(settings, VerlCluster(), "/m/it's", ["/t"], ["/v"], "/c")
    )
    assert overrides["actor_rollout_ref.model.path"] == "'/m/it\\'s'"


def test_the_reward_settings_and_workers_reach_verls_reward_kwargs():
    settings = CodeBoostSettings().with_overrides({"reward": {"format_weight": 0.25}})
    overrides = _overrides(settings, VerlCluster(nnodes=3, reward_workers_per_node=2, experiment_name="run-1"))
    kwargs = "+reward.custom_reward_function.reward_kwargs"
    assert overrides[f"{kwargs}.format_weight"] == "0.25"
    assert overrides[f"{kwargs}.accuracy_weight"] == "0.9"
    assert overrides[f"{kwargs}.workers_per_node"] == "2"
    assert overrides["reward.num_workers"] == "6"  # verl's default is 8 per job, whatever the nodes
    assert overrides[f"{kwargs}.tally"] == "'codeboost-reward-tally-codeboost-run-1'"


def test_rollout_parallelism_attention_and_the_actors_interpreter_are_set():
    overrides = _overrides(CodeBoostSettings(), VerlCluster(worker_python="/opt/verl/bin/python"))
    # verl's defaults: tensor parallel 2 (cannot split SmolLM2's 9 heads, nor run on one GPU),
    # flash_attention_2 (not installed), actors on the Ray node's own interpreter (no verl there).
    assert overrides["actor_rollout_ref.rollout.tensor_model_parallel_size"] == "1"
    assert overrides["+actor_rollout_ref.model.override_config.attn_implementation"] == "'sdpa'"
    assert overrides["actor_rollout_ref.model.use_remove_padding"] == "false"
    assert overrides["ray_kwargs.ray_init.runtime_env.py_executable"] == "'/opt/verl/bin/python'"
    flash = _overrides(CodeBoostSettings(), VerlCluster(attention="flash_attention_2", rollout_tensor_parallel=4))
    assert flash["actor_rollout_ref.model.use_remove_padding"] == "true"
    assert flash["actor_rollout_ref.rollout.tensor_model_parallel_size"] == "4"
