"""Sandboxes for the sandbox tests: every backend, one warm slot each, small limits.

Docker tests carry the `docker` marker. Without an engine or the sandbox image they are
skipped, except under CI=true, where a missing engine is a failure (CI must build it:
docker/sandbox/start_dockerd.sh, then docker/sandbox/build_image.sh).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from codeboost_dagster.core.sandbox import Sandbox, open_sandbox
from codeboost_dagster.core.settings import SandboxLimits
from tests.helpers import require_docker

# Small limits keep adversarial programs quick; the mechanisms are the ones the defaults use.
TEST_LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=1.0, memory_bytes=256 * 1024**2)

BACKENDS = ["forkserver", "subprocess", pytest.param("docker", marks=pytest.mark.docker)]


def start(backend: str, limits: SandboxLimits = TEST_LIMITS, concurrency: int = 1, **options) -> Sandbox:
    if backend == "docker":
        require_docker()
    return open_sandbox(backend, limits, concurrency=concurrency, **options)


@pytest.fixture(scope="session")
def test_limits() -> SandboxLimits:
    return TEST_LIMITS


@pytest.fixture(scope="session")
def start_sandbox() -> Callable[..., Sandbox]:
    """Factory: start_sandbox(backend, limits=TEST_LIMITS, concurrency=1, **backend_options);
    skips (fails under CI=true) for docker without an engine or image."""
    return start


@pytest.fixture(scope="module", params=BACKENDS)
def sandbox(request) -> Iterator[Sandbox]:
    """One warm single-slot sandbox per backend, so a follow-up run lands on the same server."""
    with start(request.param) as opened:
        yield opened
