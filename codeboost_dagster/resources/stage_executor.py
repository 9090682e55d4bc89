"""The stage executor: the one resource that runs the streamed data stages (augmentation and
execution, core.scale_out) and says where: on this machine (default: a process pool over its
cores, its open sandbox), on an existing Ray cluster (`address`), or on a single-node Ray the run
starts and stops (`local_ray`: started by the run's first Ray stage, in that stage's settings
namespace, shared by every later stage of the run, and shut down at the run's end). Either way a
stage runs one batch loop and streams its tables to a scratch folder that lives until the IO
manager has stored them. Ray is an optional extra (`.[ray]`), imported only when enabled."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager, nullcontext
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

import codeboost_dagster
from codeboost_dagster.core.scale_out import (
    StreamedStage,
    TableSource,
    augment_here,
    augment_on_ray,
    execute_here,
    execute_on_ray,
)
from codeboost_dagster.core.scale_out.augmentation import BatchDone as AugmentationBatchDone
from codeboost_dagster.core.scale_out.connection import ray_session
from codeboost_dagster.core.scale_out.execution import BatchDone as ExecutionBatchDone
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.resources.sandbox import SandboxResource


class StageExecutor(ConfigurableResource):
    """`address`: a Ray cluster's GCS address ("head:6379", or "auto" on a cluster node);
    `local_ray`: with no address, start a Ray on this machine for the run (`local_num_cpus`);
    `ship_code`: send this package to the workers (for a cluster whose image lacks it);
    `scratch_dir`: where streamed outputs are written before the IO manager stores them."""

    address: str | None = None
    local_ray: bool = False
    local_num_cpus: int | None = None
    ship_code: bool = False
    scratch_dir: str | None = None
    _local: ExitStack = PrivateAttr(default_factory=ExitStack)
    _local_started: bool = PrivateAttr(default=False)

    @property
    def enabled(self) -> bool:
        """True when the data stages go to Ray; False keeps them on this machine."""
        return self.address is not None or self.local_ray

    @property
    def place(self) -> str:
        """Where the stages run, as the metadata and the logs say it."""
        return "on Ray" if self.enabled else "on this machine"

    def _session(self, namespace: str):
        runtime_env = {"py_modules": [str(Path(codeboost_dagster.__file__).parent)]} if self.ship_code else None
        return ray_session(self.address, namespace, self.local_num_cpus, runtime_env)

    def teardown_after_execution(self, context: InitResourceContext) -> None:
        """The run's local Ray stops with the run."""
        self._local.close()
        self._local_started = False

    @contextmanager
    def session(self, namespace: str) -> Iterator[None]:
        """Connected to the configured Ray for the duration of the block; a run's local Ray starts
        with its first block and stays up for the run's later stages."""
        if self.local_ray and self.address is None:
            if not self._local_started:
                self._local.enter_context(self._session(namespace))
                self._local_started = True
            yield
            return
        with self._session(namespace):
            yield

    def _connected(self, namespace: str):
        """The Ray session when the stages go to Ray; nothing to connect to on this machine."""
        return self.session(namespace) if self.enabled else nullcontext()

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary folder for a stage's streamed output, removed after the block."""
        with tempfile.TemporaryDirectory(prefix="codeboost-scale-out-", dir=self.scratch_dir) as folder:
            yield Path(folder)

    @contextmanager
    def augmentation(
        self, snippets: TableSource, settings: CodeBoostSettings, on_batch: AugmentationBatchDone | None = None
    ) -> Iterator[StreamedStage]:
        """The augmentation stage over `snippets`; its two files live until the block ends."""
        with self._connected(settings.scale_out.namespace), self.scratch() as scratch:
            augment = augment_on_ray if self.enabled else augment_here
            yield augment(
                snippets, scratch, settings.augmentation, settings.scale_out, settings.filtering.max_chars, on_batch
            )

    @contextmanager
    def execution(
        self,
        variants: TableSource,
        settings: CodeBoostSettings,
        sandbox: SandboxResource,
        on_batch: ExecutionBatchDone | None = None,
    ) -> Iterator[StreamedStage]:
        """The execution stage over `variants` on `sandbox`'s backend (one warm pool per Ray node, or
        the sandbox opened here); its records file lives until the block ends."""
        with self._connected(settings.scale_out.namespace), self.scratch() as scratch:
            records = scratch / "execution_records.parquet"
            if self.enabled:
                with sandbox.pools(settings.sandbox, settings.scale_out) as pools:
                    stage = execute_on_ray(variants, records, pools, settings.scale_out, on_batch)
            else:
                with sandbox.open(settings.sandbox) as opened:
                    stage = execute_here(variants, records, opened, sandbox.backend, settings.scale_out, on_batch)
            yield stage
