"""Resource selecting the sandbox backend: the fast local fork-server by default, Docker in production."""

from __future__ import annotations

from dagster import ConfigurableResource

from codeboost_dagster.core.sandbox import Sandbox, open_sandbox
from codeboost_dagster.core.settings import SandboxLimits


class SandboxResource(ConfigurableResource):
    """Which backend runs untrusted code, with how many slots (default: one per core)."""

    backend: str = "forkserver"
    concurrency: int | None = None
    docker_image: str = "codeboost-sandbox:latest"

    def open(self, limits: SandboxLimits) -> Sandbox:
        """Start the configured backend with the method's limits."""
        options = {"image": self.docker_image} if self.backend == "docker" else {}
        return open_sandbox(self.backend, limits, self.concurrency, **options)
