"""Local backends: one warm sandbox server process per slot on this machine.

`forkserver` (the default) runs each program in a child forked from the warm server (no
interpreter start-up per program). `subprocess` lets that child exec a fresh
`python3 -s /sandbox/main.py` instead: exact CPython start-up and shutdown, slower. Both
share the server's isolation: as root, namespaces, a private read-only root, a per-slot uid
(uid_base + slot from the sandbox's own uid block, no passwd entry); not as root, an
unprivileged user namespace if the kernel allows one, else only rlimits, a new session and a
temp dir (see `Sandbox.isolation`).
"""

from __future__ import annotations

import os
import posixpath
import shutil
import sys
from typing import Any

from codeboost_dagster.core.settings import SandboxLimits

from .base import SERVER_SOURCE, Sandbox, SandboxUnavailable, Slot
from .channel import PipeChannel
from .runtime import SYSTEM_PYTHON, built_runtime_python
from .variation import DEFAULT as DEFAULT_VARIATION
from .variation import Variation


def default_interpreter() -> str:
    """The built runtime's interpreter (`runtime.built_runtime_python`: Debian's python3 with the
    lock's packages); else Debian's bare /usr/bin/python3 (the same build as the sandbox image),
    else the real interpreter behind this process (a venv resolves to its base)."""
    built = built_runtime_python()
    if built is not None:
        return built
    if os.access(SYSTEM_PYTHON, os.X_OK):
        return SYSTEM_PYTHON
    return os.path.realpath(sys.executable)


class LocalSandbox(Sandbox):
    """Shared by the two local backends; `exec_mode` picks fork-and-run or fork-and-exec."""

    exec_mode: bool = False

    def __init__(
        self,
        limits: SandboxLimits,
        concurrency: int | None = None,
        *,
        python: str | None = None,
        uid_base: int | None = None,
        isolate: bool = True,
        variation: Variation = DEFAULT_VARIATION,
    ) -> None:
        self.python = python or default_interpreter()
        if not os.access(self.python, os.X_OK):
            raise SandboxUnavailable(f"sandbox interpreter {self.python} is not executable")
        self.isolate = isolate
        super().__init__(limits, concurrency, uid_base, variation)

    def _open_channel(self, slot: Slot) -> PipeChannel:
        return PipeChannel([self.python, "-s", "-c", SERVER_SOURCE], env=self._server_env())

    def _server_config(self, slot: Slot) -> dict[str, Any]:
        return {**super()._server_config(slot), "isolate": self.isolate, "exec_mode": self.exec_mode}

    def _discard(self, slot: Slot, force: bool = True) -> None:
        """Also remove the temp working dir a killed no-namespace server could not remove."""
        super()._discard(slot, force)
        if slot.hello and not slot.hello["isolation"]["fixed_path"]:
            shutil.rmtree(posixpath.dirname(slot.hello["program_path"]), ignore_errors=True)


class ForkServerSandbox(LocalSandbox):
    """Local default: a warm server forks a fresh child per program and runs it in-process."""

    backend = "forkserver"
    exec_mode = False


class SubprocessSandbox(LocalSandbox):
    """Fallback: the forked child execs a fresh `python3 -s /sandbox/main.py` per program."""

    backend = "subprocess"
    exec_mode = True
