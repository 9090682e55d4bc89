"""`codeboost gpu-smoke`: a few real verl GRPO steps on the sample, through the Dagster assets, on
this machine's CUDA GPU(s) (README "On a GPU"; `make gpu-smoke` builds verl's GPU environment
first).

It starts a Ray head of its own on loopback (`ray_head`), then runs `codeboost run --until
train_policy` in a child process whose environment points `grpo_training` at that head with the
verl backend: the job and verl's actors run in `verl_python` (codeboost_dagster/verl/requirements/
gpu.txt), one node with `gpus` GPUs, the settings of `verl/gpu_smoke.toml` unless
CODEBOOST_SETTINGS_FILE names others. The runs land in $DAGSTER_HOME, so `make dev` shows the
training curve afterwards. `dry_run` submits verl's preflight instead of training (what a machine
without a GPU can check, and what the tests run).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from codeboost_dagster.ray_head import local_ray_head, stop_with_parent

SMOKE_SETTINGS = Path(__file__).parent / "verl" / "gpu_smoke.toml"
LAST_JOB = "train_policy"


def smoke_environment(dashboard: str, verl_python: str, gpus: int, dry_run: bool) -> dict[str, str]:
    """The child's environment: verl on the smoke run's Ray head, sized to one node."""
    return {
        **os.environ,
        "CODEBOOST_TRAINER": "verl",
        "CODEBOOST_RAY_ADDRESS": dashboard,
        "CODEBOOST_VERL_PYTHON": verl_python,
        "CODEBOOST_VERL_GPUS_PER_NODE": str(gpus),
        "CODEBOOST_VERL_NNODES": "1",
        "CODEBOOST_SETTINGS_FILE": os.environ.get("CODEBOOST_SETTINGS_FILE") or str(SMOKE_SETTINGS),
        "CODEBOOST_TRAINER_DRY_RUN": "1" if dry_run else "",
    }


def run_gpu_smoke(dump: str, verl_python: str, gpus: int, dry_run: bool) -> int:
    """The smoke run's exit code (0 when every job up to `train_policy` succeeded)."""
    if not Path(verl_python).is_file():
        print(f"[codeboost] verl's GPU environment is missing at {verl_python}: `make gpu-smoke` builds it")
        return 2
    with local_ray_head(num_cpus=os.cpu_count() or 1, num_gpus=gpus) as head:
        print(f"[codeboost] Ray head for the smoke run: {head.dashboard} (logs in {head.temp_dir})", flush=True)
        command = [sys.executable, "-m", "codeboost_dagster.cli", "run", "--dump", dump, "--until", LAST_JOB]
        environment = smoke_environment(head.dashboard, verl_python, gpus, dry_run)
        # Both children stop with this process, by kill -9 too: the run, and (ray_head) the Ray head.
        return subprocess.run(command, env=environment, preexec_fn=stop_with_parent).returncode
