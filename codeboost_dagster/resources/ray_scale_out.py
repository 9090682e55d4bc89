"""Resource saying where the heavy data stages (augmentation, execution) run: in this process
(default), on an existing Ray cluster (`address`), or on a single-node Ray the run starts and
stops (`local_ray`: started by the run's first Ray stage, in that stage's settings namespace,
shared by every later stage of the run, and shut down at the run's end). Ray is an optional
extra (`.[ray]`), imported only when enabled."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

from dagster import ConfigurableResource, InitResourceContext
from pydantic import PrivateAttr

import codeboost_dagster
from codeboost_dagster.core.scale_out.connection import ray_session


class RayScaleOut(ConfigurableResource):
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
        """True when the data stages go to Ray; False keeps the local path."""
        return self.address is not None or self.local_ray

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

    @contextmanager
    def scratch(self) -> Iterator[Path]:
        """A temporary folder for a stage's streamed output, removed after the block."""
        with tempfile.TemporaryDirectory(prefix="codeboost-scale-out-", dir=self.scratch_dir) as folder:
            yield Path(folder)
