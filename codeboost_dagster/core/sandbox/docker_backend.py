"""Docker backend: one long-lived warm container per slot, running the same sandbox server.

Each container (network none, memory and pids limits, read-only root, tmpfs /sandbox, /tmp and
/dev/shm, all capabilities dropped, no-new-privileges, uid uid_base + slot) runs the server as
its pid 1, fed over the container's attached stdin/stdout. The server enforces the limits
inside; a container that stops answering is removed (`docker kill` semantics, never by killing
a CLI) and replaced, and every container is replaced after `recycle_after` programs.
The image comes from docker/sandbox/build_image.sh (no registry needed).
"""

from __future__ import annotations

import json
import os
import select
import socket
import time
import uuid
from contextlib import suppress
from functools import partial
from typing import Any

from codeboost_dagster.core.settings import SandboxLimits

from .base import SANDBOX_HOSTNAME, SERVER_SOURCE, Sandbox, SandboxUnavailable, Slot
from .channel import ChannelError, LineBuffer
from .variation import DEFAULT as DEFAULT_VARIATION
from .variation import Variation

DEFAULT_IMAGE = "codeboost-sandbox:latest"
IMAGE_PYTHON = "/usr/bin/python3"
DEFAULT_RECYCLE_AFTER = 500
# Memory of the server itself, added to the program's memory limit: a warm server holds numpy,
# pandas, scipy, sympy and networkx (about 100 MB resident, measured), a plain one far less.
SERVER_MEMORY_BYTES = 192 * 1024**2
SCRATCH_DIRS = ("/tmp",)
LABEL = "codeboost.sandbox"
STREAM_HEADER_BYTES = 8
STDOUT_STREAM = 1
READ_CHUNK = 1 << 20


def docker_client(timeout_s: float = 10.0):
    """A Docker SDK client for the local engine; raises SandboxUnavailable if none answers."""
    try:
        import docker

        client = docker.from_env(timeout=int(timeout_s))
        client.ping()
    except Exception as error:
        raise SandboxUnavailable(f"no Docker engine answers: {error}") from None
    return client


def image_exists(client, image: str) -> bool:
    import docker

    try:
        client.images.get(image)
    except docker.errors.ImageNotFound:
        return False
    return True


class DockerChannel:
    """A server running as a container's main process, spoken to over the attach socket."""

    def __init__(self, client, create_kwargs: dict[str, Any]) -> None:
        self.container = client.containers.create(**create_kwargs)
        try:
            self._attach = self.container.attach_socket(params={"stdin": 1, "stdout": 1, "stderr": 1, "stream": 1})
            self._socket: socket.socket = self._attach._sock
            self.container.start()
        except Exception:
            self.container.remove(force=True)
            raise
        self._frames = bytearray()
        self._lines = LineBuffer()
        self._stderr = bytearray()

    def send(self, message: dict[str, Any]) -> None:
        try:
            self._socket.sendall(json.dumps(message).encode() + b"\n")
        except OSError as error:
            raise ChannelError(f"sandbox container gone ({error}); {self.diagnostics()}") from None

    def receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while (message := self._lines.pop()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise ChannelError(f"no reply from the sandbox container within {timeout:.1f}s")
            self._socket.settimeout(remaining)
            try:
                data = self._socket.recv(READ_CHUNK)
            except TimeoutError:
                continue
            except OSError as error:
                raise ChannelError(f"sandbox container connection failed: {error}") from None
            if not data:
                raise ChannelError(f"sandbox container exited; {self.diagnostics()}")
            self._demultiplex(data)
        return message

    def alive(self) -> bool:
        """False once the engine has closed the attach stream (the container stopped)."""
        if not select.select([self._socket], [], [], 0)[0]:
            return True
        try:
            return bool(self._socket.recv(1, socket.MSG_PEEK))
        except OSError:
            return False

    def _demultiplex(self, data: bytes) -> None:
        """Split Docker's attach stream (8-byte header: stream id, size) into stdout / stderr."""
        self._frames += data
        while len(self._frames) >= STREAM_HEADER_BYTES:
            size = int.from_bytes(self._frames[4:STREAM_HEADER_BYTES], "big")
            if len(self._frames) < STREAM_HEADER_BYTES + size:
                return
            payload = bytes(self._frames[STREAM_HEADER_BYTES : STREAM_HEADER_BYTES + size])
            if self._frames[0] == STDOUT_STREAM:
                self._lines.feed(payload)
            else:
                self._stderr += payload
            del self._frames[: STREAM_HEADER_BYTES + size]

    def diagnostics(self) -> str:
        text = bytes(self._stderr[-2000:]).decode("utf-8", "replace").strip()
        return "server stderr: " + (text or "(empty)")

    def close(self, force: bool = False) -> None:
        """Remove the container (killing it) whether or not `force`: the server needs no graceful stop."""
        for step in (self._attach.close, self._socket.close, partial(self.container.remove, force=True)):
            with suppress(Exception):  # already closed or auto-removed is fine
                step()


class DockerSandbox(Sandbox):
    """Production backend: warm, locked-down containers, one per slot."""

    backend = "docker"

    def __init__(
        self,
        limits: SandboxLimits,
        concurrency: int | None = None,
        *,
        image: str = DEFAULT_IMAGE,
        uid_base: int | None = None,
        recycle_after: int = DEFAULT_RECYCLE_AFTER,
        exec_mode: bool = False,
        client=None,
        variation: Variation = DEFAULT_VARIATION,
    ) -> None:
        self.client = client or docker_client()
        if not image_exists(self.client, image):
            raise SandboxUnavailable(f"image {image} not found; build it with docker/sandbox/build_image.sh")
        self.image = image
        self.recycle_after = recycle_after
        self.exec_mode = exec_mode
        self._run_id = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        super().__init__(limits, concurrency, uid_base, variation)

    def _server_config(self, slot: Slot) -> dict[str, Any]:
        return {**super()._server_config(slot), "isolate": False, "exec_mode": self.exec_mode, "private_scratch": True}

    def _open_channel(self, slot: Slot) -> DockerChannel:
        limits = self.limits
        scratch = f"rw,nosuid,nodev,noexec,size={limits.max_file_bytes},mode=1777"
        memory = limits.memory_bytes + 3 * limits.max_file_bytes + SERVER_MEMORY_BYTES
        uid, index = self.uid_base + slot.index, slot.index
        return DockerChannel(
            self.client,
            {
                "image": self.image,
                "command": [IMAGE_PYTHON, "-s", "-c", SERVER_SOURCE],
                "name": f"codeboost-sandbox-{self._run_id}-{index}-{uuid.uuid4().hex[:6]}",
                "labels": {LABEL: self._run_id},
                "stdin_open": True,  # with detach False (the default) this also sets StdinOnce:
                "tty": False,  # the server sees end of input, exits and is auto-removed when we go
                "auto_remove": True,
                "network_mode": "none",
                "hostname": SANDBOX_HOSTNAME,
                "user": f"{uid}:{uid}",
                "environment": self._server_env(),
                "working_dir": limits.working_dir,
                "read_only": True,
                "tmpfs": {limits.working_dir: scratch, **{path: scratch for path in SCRATCH_DIRS}},
                "shm_size": limits.max_file_bytes,
                "mem_limit": memory,
                "memswap_limit": memory,
                "pids_limit": limits.max_processes + 1,
                "cap_drop": ["ALL"],
                "security_opt": ["no-new-privileges"],
                "ipc_mode": "private",
            },
        )
