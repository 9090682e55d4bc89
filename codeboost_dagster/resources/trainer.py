"""Resource choosing the GRPO trainer: TRL on this machine (the embedded default) or verl as a
Ray job on a GPU cluster."""

from __future__ import annotations

from dagster import ConfigurableResource

from codeboost_dagster.verl.config import VerlCluster

BACKENDS = ("trl", "verl")


class GRPOTrainer(ConfigurableResource):
    """`backend="trl"` trains in the Dagster process (CPU or one GPU). `backend="verl"` submits
    `python -m codeboost_dagster.verl.job` to the Ray cluster whose dashboard is `ray_address`;
    the job, and every actor verl starts, runs in `verl_python` (an interpreter with
    codeboost_dagster/verl/requirements/gpu.txt on every node) and reports back through Dagster
    Pipes. `dry_run` runs verl's preflight instead of training. The other fields are the cluster's
    shape (`VerlCluster` says what each does)."""

    backend: str = "trl"
    ray_address: str = "http://127.0.0.1:8265"
    verl_python: str = VerlCluster.worker_python
    n_gpus_per_node: int = VerlCluster.n_gpus_per_node
    nnodes: int = VerlCluster.nnodes
    micro_batch_per_gpu: int = VerlCluster.micro_batch_per_gpu
    rollout_engine: str = VerlCluster.rollout_engine
    rollout_tensor_parallel: int = VerlCluster.rollout_tensor_parallel
    attention: str = VerlCluster.attention
    reward_workers_per_node: int = VerlCluster.reward_workers_per_node
    dry_run: bool = False

    def cluster(self, experiment_name: str) -> VerlCluster:
        """The cluster shape verl's overrides need."""
        return VerlCluster(
            n_gpus_per_node=self.n_gpus_per_node,
            nnodes=self.nnodes,
            micro_batch_per_gpu=self.micro_batch_per_gpu,
            rollout_engine=self.rollout_engine,
            rollout_tensor_parallel=self.rollout_tensor_parallel,
            attention=self.attention,
            worker_python=self.verl_python,
            reward_workers_per_node=self.reward_workers_per_node,
            experiment_name=experiment_name,
        )

    def validated_backend(self) -> str:
        """The backend name, or a clear error for an unknown one."""
        if self.backend not in BACKENDS:
            raise ValueError(f"unknown trainer backend {self.backend!r}; known: {BACKENDS}")
        return self.backend
