"""Will a verl GRPO run fit: the rules verl 0.9.1 enforces only once the cluster is up, checked
before submission from the settings, the cluster shape, the model's config and the data.

Each check is a named `Finding`; `grpo_training` records them all in its metadata and refuses to
submit when one fails. The rules, with where verl applies them:
- `rollout_tensor_parallel`: a rollout replica spans `tensor_model_parallel_size` GPUs of one node;
  vLLM needs it to divide the attention heads (and the KV heads, or be a multiple of them), and
  verl needs it to divide the GPUs (`workers/engine_workers.py`: "world_size not divisible by
  infer_world_size").
- `train_rows_fill_a_batch`: `steps_per_epoch = len(train) // data.train_batch_size`
  (`trainer/ppo/v1/trainer_base.py`) is 0 below one batch, and the trainer divides by it.
- `batch_arithmetic`: `validate_config` wants `train_batch_size * rollout.n` divisible by the GPUs
  (`utils/config.py`); `ActorConfig.validate` wants `train_batch_size >= ppo_mini_batch_size`.
- `attention_kernel`: verl loads the model with `override_config.attn_implementation` (default
  flash_attention_2, `workers/config/model.py`); a flash kernel needs flash-attn in the GPU lock.
- `rollout_engine_locked`: verl 0.9.1 rolls out only through vLLM, SGLang or TRT-LLM servers; the GPU
  lock must install the engine the run names.
- `ray_versions_match`: the driver's Ray (this environment) and the GPU lock's must be equal.
Plain Python: no verl, no Dagster.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from codeboost_dagster.core.settings import GRPOSettings
from codeboost_dagster.verl.config import VerlCluster, uses_padding_removal

GPU_LOCK = Path(__file__).parent / "requirements" / "gpu.txt"
ENGINE_PACKAGES = {"vllm": "vllm", "sglang": "sglang", "trtllm": "tensorrt-llm"}
PORTABLE_ATTENTION = ("sdpa", "eager")


@dataclass(frozen=True)
class Finding:
    """One named check: whether it holds and what was compared (the preflight's findings too)."""

    name: str
    ok: bool
    detail: str


class LaunchRefused(ValueError):
    """A verl run that would stop on the cluster; the message lists every failed finding."""


def locked_packages(lock: Path) -> dict[str, str]:
    """{normalised name: the line's version specifier} of a requirements file, `-r` includes
    followed; extras (`verl[vllm]`) count as the package and add the packages they pin here."""
    packages: dict[str, str] = {}
    for raw in lock.read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if line.startswith("-r "):
            packages.update(locked_packages(lock.parent / line[3:].strip()))
            continue
        match = re.match(r"^([A-Za-z0-9_.-]+)(\[[^\]]*\])?\s*(.*)$", line)
        if match:
            name = re.sub(r"[-_.]+", "-", match.group(1)).lower()
            packages[name] = match.group(3).strip()
    return packages


def model_heads(model: str) -> tuple[int, int]:
    """(attention heads, KV heads) from a checkpoint folder's config.json, or from the config of a
    hub id (transformers' cache)."""
    local = Path(model) / "config.json"
    if local.is_file():
        config = json.loads(local.read_text())
    else:
        from transformers import AutoConfig

        config = AutoConfig.from_pretrained(model).to_dict()
    heads = int(config["num_attention_heads"])
    return heads, int(config.get("num_key_value_heads") or heads)


def _tensor_parallel(cluster: VerlCluster, heads: int, kv_heads: int) -> Finding:
    tp, gpus = cluster.rollout_tensor_parallel, cluster.n_gpus_per_node * cluster.nnodes
    kv_ok = kv_heads % tp == 0 if kv_heads >= tp else tp % kv_heads == 0
    ok = tp >= 1 and heads % tp == 0 and kv_ok and tp <= cluster.n_gpus_per_node and gpus % tp == 0
    detail = (
        f"rollout tensor parallel {tp}: the model's {heads} attention heads and {kv_heads} KV heads, "
        f"{cluster.n_gpus_per_node} GPUs per node x {cluster.nnodes} nodes"
    )
    return Finding("rollout_tensor_parallel", ok, detail)


def _train_rows(grpo: GRPOSettings, train_rows: int) -> Finding:
    ok = train_rows >= grpo.rollout_batch_prompts
    detail = (
        f"{train_rows} train rows, {grpo.rollout_batch_prompts} prompts per rollout batch "
        f"(grpo.rollout_batch_prompts): {train_rows // grpo.rollout_batch_prompts} steps per epoch"
    )
    return Finding("train_rows_fill_a_batch", ok, detail)


def _batch_arithmetic(grpo: GRPOSettings, cluster: VerlCluster) -> Finding:
    gpus = cluster.n_gpus_per_node * cluster.nnodes
    rollouts = grpo.rollout_batch_prompts * grpo.group_size
    ok = rollouts % gpus == 0 and grpo.rollout_batch_prompts >= grpo.update_batch_prompts
    detail = (
        f"{grpo.rollout_batch_prompts} prompts x {grpo.group_size} rollouts = {rollouts} over {gpus} GPUs; "
        f"update batches of {grpo.update_batch_prompts} prompts"
    )
    return Finding("batch_arithmetic", ok, detail)


def _attention(cluster: VerlCluster, locked: dict[str, str]) -> Finding:
    portable = cluster.attention in PORTABLE_ATTENTION
    ok = portable or (cluster.attention.startswith("flash_attention") and "flash-attn" in locked)
    detail = (
        f"attn_implementation {cluster.attention} ({'ships with torch' if portable else 'needs flash-attn'}); "
        f"padding removal {'on' if uses_padding_removal(cluster.attention) else 'off'}"
    )
    return Finding("attention_kernel", ok, detail)


def _engine(cluster: VerlCluster, locked: dict[str, str], lock: Path) -> Finding:
    package = ENGINE_PACKAGES.get(cluster.rollout_engine)
    ok = package is not None and package in locked
    detail = f"rollout engine {cluster.rollout_engine}: {package}{locked.get(package or '', ' not')} in {lock.name}"
    return Finding("rollout_engine_locked", ok, detail)


def _ray(locked: dict[str, str], lock: Path) -> Finding:
    try:
        driver = metadata.version("ray")
    except metadata.PackageNotFoundError:
        driver = "not installed"
    pinned = locked.get("ray", "")
    ok = pinned == f"=={driver}"
    return Finding("ray_versions_match", ok, f"driver ray {driver}, {lock.name} ray {pinned or 'unpinned'}")


def launch_findings(
    grpo: GRPOSettings, cluster: VerlCluster, model: str, train_rows: int, lock: Path = GPU_LOCK
) -> list[Finding]:
    """Every check above, in order."""
    heads, kv_heads = model_heads(model)
    locked = locked_packages(lock)
    return [
        _tensor_parallel(cluster, heads, kv_heads),
        _train_rows(grpo, train_rows),
        _batch_arithmetic(grpo, cluster),
        _attention(cluster, locked),
        _engine(cluster, locked, lock),
        _ray(locked, lock),
    ]


def refuse_unfit(findings: list[Finding]) -> None:
    """Raise `LaunchRefused` naming every failed finding; nothing when all hold."""
    failed = [finding for finding in findings if not finding.ok]
    if failed:
        lines = "\n".join(f"- {finding.name}: {finding.detail}" for finding in failed)
        raise LaunchRefused(f"verl would stop on the cluster; fix the settings or the cluster shape:\n{lines}")
