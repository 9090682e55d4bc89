"""Resource selecting the sandbox backend: the fast local fork-server by default, Docker in production."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource

from codeboost_dagster.core.sandbox import Sandbox, Variation, open_declared_sandbox
from codeboost_dagster.core.settings import SandboxLimits, ScaleOutSettings


class SandboxResource(ConfigurableResource):
    """Which backend runs untrusted code, with how many slots (default: one per core)."""

    backend: str = "forkserver"
    concurrency: int | None = None
    docker_image: str = "codeboost-sandbox:latest"

    def _options(self) -> dict[str, Any]:
        return {"image": self.docker_image} if self.backend == "docker" else {}

    def open(self, limits: SandboxLimits, variation: Variation | None = None) -> Sandbox:
        """Start the configured backend with the method's limits (and servers varied as `variation`
        says: another hash seed or a later clock, for the determinism certificate); refuse one whose runtime is not
        the declared one (`SandboxLimits.runtime_lock`) with `RuntimeMismatch`."""
        options = self._options() if variation is None else {**self._options(), "variation": variation}
        return open_declared_sandbox(self.backend, limits, self.concurrency, **options)

    def pools(self, limits: SandboxLimits, settings: ScaleOutSettings):
        """The same backend as one warm pool per node of the connected Ray cluster (`SandboxPools`)."""
        from codeboost_dagster.core.scale_out import SandboxPools

        return SandboxPools(self.backend, limits, settings, self._options())
