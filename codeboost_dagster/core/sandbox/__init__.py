"""Execution sandbox: run untrusted snippets under identical limits on any backend.

One interface: `open_sandbox(backend, limits)` gives a `Sandbox` (a context manager) whose
`run(program)` / `run_many(programs)` return `ExecutionResult`s; `run(program, limits)` is the
one-shot form. Backends: "forkserver" (local default), "subprocess" (local, fresh interpreter
per program), "docker" (warm locked-down containers). Every backend presents the program as
/sandbox/main.py with cwd /sandbox, so tracebacks are byte-identical between runs.
No Dagster import: verl's Ray workers use this package to re-run model answers.
"""

from __future__ import annotations

from typing import Any

from codeboost_dagster.core.settings import SandboxLimits

from .base import Sandbox, SandboxUnavailable
from .labels import classify, parse_error_type
from .program import Program, derived_wall_time_s, program_from_test_case, programs_from_test_cases, stitch
from .result import FINISHED_STATUSES, STATUSES, ExecutionResult, Status
from .runtime import Runtime, RuntimeMismatch, declared_lock, require_lock
from .variation import Variation

BACKENDS: tuple[str, ...] = ("forkserver", "subprocess", "docker")
DEFAULT_BACKEND = "forkserver"


def open_sandbox(
    backend: str = DEFAULT_BACKEND,
    limits: SandboxLimits | None = None,
    concurrency: int | None = None,
    **backend_options: Any,
) -> Sandbox:
    """Start the named backend with `concurrency` slots (default: one per core).

    Options: forkserver/subprocess take python=, uid_base=, isolate=; docker takes image=,
    uid_base=, recycle_after=, exec_mode=, client=. Without uid_base the sandbox leases a uid
    block no other sandbox on the machine holds (`uids`). Raises SandboxUnavailable if it cannot start.
    """
    limits = limits or SandboxLimits()
    if backend == "forkserver":
        from .local import ForkServerSandbox as backend_class
    elif backend == "subprocess":
        from .local import SubprocessSandbox as backend_class
    elif backend == "docker":
        from .docker_backend import DockerSandbox as backend_class
    else:
        raise ValueError(f"unknown sandbox backend {backend!r}; known: {BACKENDS}")
    return backend_class(limits, concurrency, **backend_options)


def open_declared_sandbox(
    backend: str, limits: SandboxLimits, concurrency: int | None = None, **backend_options: Any
) -> Sandbox:
    """`open_sandbox`, refusing (RuntimeMismatch) a sandbox whose runtime was not built from the lock
    `limits.runtime_lock` declares: what the pipeline's stages use, here and on every Ray node."""
    sandbox = open_sandbox(backend, limits, concurrency, **backend_options)
    try:
        require_lock(sandbox.runtime, declared_lock(limits.runtime_lock), backend)
    except BaseException:
        sandbox.close()
        raise
    return sandbox


def run(program: Program, limits: SandboxLimits | None = None, backend: str = DEFAULT_BACKEND) -> ExecutionResult:
    """Run one program on a fresh one-slot sandbox (convenient, not fast: keep a Sandbox open)."""
    with open_sandbox(backend, limits, concurrency=1) as sandbox:
        return sandbox.run(program)


__all__ = [
    "BACKENDS",
    "DEFAULT_BACKEND",
    "FINISHED_STATUSES",
    "STATUSES",
    "ExecutionResult",
    "Program",
    "Runtime",
    "RuntimeMismatch",
    "Sandbox",
    "SandboxUnavailable",
    "Status",
    "Variation",
    "classify",
    "derived_wall_time_s",
    "open_declared_sandbox",
    "open_sandbox",
    "parse_error_type",
    "program_from_test_case",
    "programs_from_test_cases",
    "run",
    "stitch",
]
