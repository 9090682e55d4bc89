"""Resource choosing the GRPO trainer: TRL on this machine (the embedded default) or verl as a
Ray job on a GPU cluster."""

from __future__ import annotations

from dagster import ConfigurableResource

from codeboost_dagster.verl.config import VerlCluster

BACKENDS = ("trl", "verl")


class GRPOTrainer(ConfigurableResource):
    """`backend="trl"` trains in the Dagster process (CPU or one GPU). `backend="verl"` submits
    `python -m codeboost_dagster.verl.job` to the Ray cluster whose dashboard is `ray_address`;
    the job runs verl in `verl_python` (an interpreter with requirements/verl-worker.txt) and
    reports back through Dagster Pipes. `dry_run` runs verl's preflight instead of training."""

    backend: str = "trl"
    ray_address: str = "http://127.0.0.1:8265"
    verl_python: str = "python3"
    n_gpus_per_node: int = 8
    nnodes: int = 1
    micro_batch_per_gpu: int = 4
    rollout_engine: str = "vllm"
    dry_run: bool = False

    def cluster(self, experiment_name: str) -> VerlCluster:
        """The cluster shape verl's overrides need."""
        return VerlCluster(
            n_gpus_per_node=self.n_gpus_per_node,
            nnodes=self.nnodes,
            micro_batch_per_gpu=self.micro_batch_per_gpu,
            rollout_engine=self.rollout_engine,
            experiment_name=experiment_name,
        )

    def validated_backend(self) -> str:
        """The backend name, or a clear error for an unknown one."""
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown trainer backend {self.backend!r}; known: {BACKENDS}")
        return self.backend
