"""The launch checks: every rule verl 0.9.1 enforces only on the cluster, refused before submission."""

from __future__ import annotations

import json
from dataclasses import replace
from importlib import metadata
from pathlib import Path

import pytest

from codeboost_dagster.core.settings import GRPOSettings
from codeboost_dagster.verl.config import VerlCluster
from codeboost_dagster.verl.launch_checks import (
    GPU_LOCK,
    LaunchRefused,
    launch_findings,
    locked_packages,
    refuse_unfit,
)

SMALL = GRPOSettings(rollout_batch_prompts=16, update_batch_prompts=8)
ONE_GPU = VerlCluster(n_gpus_per_node=1)


@pytest.fixture
def smollm2(tmp_path) -> str:
    """A checkpoint folder with SmolLM2-135M's head counts (9 attention heads, 3 KV heads)."""
    (tmp_path / "config.json").write_text(json.dumps({"num_attention_heads": 9, "num_key_value_heads": 3}))
    return str(tmp_path)


def _failed(grpo: GRPOSettings, cluster: VerlCluster, model: str, rows: int, lock: Path = GPU_LOCK) -> set[str]:
    return {finding.name for finding in launch_findings(grpo, cluster, model, rows, lock) if not finding.ok}


def test_the_smoke_run_fits_one_gpu(smollm2):
    findings = launch_findings(SMALL, ONE_GPU, smollm2, 100)
    assert [finding.name for finding in findings] == [
        "rollout_tensor_parallel",
        "train_rows_fill_a_batch",
        "batch_arithmetic",
        "attention_kernel",
        "rollout_engine_locked",
        "ray_versions_match",
    ]
    assert all(finding.ok for finding in findings), findings
    refuse_unfit(findings)


def test_verls_default_tensor_parallelism_cannot_split_the_policy_or_run_on_one_gpu(smollm2):
    assert _failed(SMALL, replace(ONE_GPU, rollout_tensor_parallel=2), smollm2, 100) == {"rollout_tensor_parallel"}
    eight = VerlCluster(n_gpus_per_node=8, rollout_tensor_parallel=2)
    assert "rollout_tensor_parallel" in _failed(SMALL, eight, smollm2, 100)  # 9 heads
    three = VerlCluster(n_gpus_per_node=3, rollout_tensor_parallel=3)
    assert "rollout_tensor_parallel" not in _failed(GRPOSettings(rollout_batch_prompts=15), three, smollm2, 100)
    assert "rollout_tensor_parallel" in _failed(
        SMALL, VerlCluster(n_gpus_per_node=8, rollout_tensor_parallel=3), smollm2, 100
    )


def test_fewer_train_rows_than_one_batch_are_refused_with_the_figures(smollm2):
    findings = launch_findings(GRPOSettings(), ONE_GPU, smollm2, 100)  # the sample: ~100 rows, batch 512
    with pytest.raises(LaunchRefused, match=r"train_rows_fill_a_batch: 100 train rows, 512 prompts"):
        refuse_unfit(findings)


def test_batch_arithmetic_follows_verls_validate_config(smollm2):
    assert _failed(SMALL, VerlCluster(n_gpus_per_node=3), smollm2, 100) == {"batch_arithmetic"}  # 80 % 3
    assert _failed(GRPOSettings(rollout_batch_prompts=16, update_batch_prompts=32), ONE_GPU, smollm2, 100) == {
        "batch_arithmetic"
    }


def test_a_flash_kernel_needs_flash_attn_in_the_gpu_lock(smollm2, tmp_path):
    assert _failed(SMALL, replace(ONE_GPU, attention="flash_attention_2"), smollm2, 100) == {"attention_kernel"}
    lock = tmp_path / "gpu.txt"
    lock.write_text(f"-r {GPU_LOCK}\nflash-attn==2.8.3\n")
    assert _failed(SMALL, replace(ONE_GPU, attention="flash_attention_2"), smollm2, 100, lock) == set()


def test_the_rollout_engine_and_ray_must_be_the_locked_ones(smollm2, tmp_path):
    assert _failed(SMALL, replace(ONE_GPU, rollout_engine="sglang"), smollm2, 100) == {"rollout_engine_locked"}
    lock = tmp_path / "gpu.txt"
    lock.write_text("verl[vllm]==0.9.1\nvllm==0.24.0\nray[default]==2.41.0\n")
    assert _failed(SMALL, ONE_GPU, smollm2, 100, lock) == {"ray_versions_match"}


def test_the_gpu_lock_pins_the_engine_its_torch_and_the_drivers_ray():
    locked = locked_packages(GPU_LOCK)
    assert locked["vllm"] == "==0.24.0" and locked["torch"] == "==2.11.0" and locked["verl"] == "==0.9.1"
    assert locked["ray"] == f"=={metadata.version('ray')}"
    assert "flash-attn" not in locked and "dagster" not in locked
