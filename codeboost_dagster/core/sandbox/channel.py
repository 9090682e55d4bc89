"""Newline-delimited JSON channels between the host and a sandbox server."""

from __future__ import annotations

import json
import os
import select
import subprocess
import tempfile
import time
from typing import Any, Protocol

DIAGNOSTIC_TAIL_BYTES = 2000
READ_CHUNK = 1 << 20
STOP_WAIT_S = 5.0


class ChannelError(RuntimeError):
    """The server did not answer as the protocol says (it died, hung, or sent garbage)."""


class Channel(Protocol):
    """How a Sandbox talks to one server: send a message, wait for the next one, stop it."""

    def send(self, message: dict[str, Any]) -> None: ...

    def receive(self, timeout: float) -> dict[str, Any]: ...

    def alive(self) -> bool: ...

    def close(self, force: bool = False) -> None: ...


class LineBuffer:
    """Accumulates bytes and hands out complete JSON lines."""

    def __init__(self) -> None:
        self._data = bytearray()

    def feed(self, data: bytes) -> None:
        self._data += data

    def pop(self) -> dict[str, Any] | None:
        end = self._data.find(b"\n")
        if end < 0:
            return None
        line = bytes(self._data[:end])
        del self._data[: end + 1]
        try:
            return json.loads(line)
        except ValueError as error:
            raise ChannelError(f"unreadable reply from the sandbox server: {error}") from None


class PipeChannel:
    """A local server process, talking over its stdin/stdout; its stderr goes to a temp file."""

    def __init__(self, argv: list[str], env: dict[str, str]) -> None:
        self._stderr = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server; closed in close()
        self.process = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._stderr, env=env, cwd="/", bufsize=0
        )
        self._lines = LineBuffer()

    def send(self, message: dict[str, Any]) -> None:
        data = memoryview(json.dumps(message).encode() + b"\n")
        try:
            while data:
                data = data[self.process.stdin.write(data) :]
        except OSError as error:
            raise ChannelError(f"sandbox server gone ({error}); {self.diagnostics()}") from None

    def receive(self, timeout: float) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        fd = self.process.stdout.fileno()
        while (message := self._lines.pop()) is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
                raise ChannelError(f"no reply from the sandbox server within {timeout:.1f}s")
            data = os.read(fd, READ_CHUNK)
            if not data:
                raise ChannelError(f"sandbox server exited ({self.process.poll()}); {self.diagnostics()}")
            self._lines.feed(data)
        return message

    def alive(self) -> bool:
        return self.process.poll() is None

    def diagnostics(self) -> str:
        self._stderr.seek(0, os.SEEK_END)
        self._stderr.seek(max(0, self._stderr.tell() - DIAGNOSTIC_TAIL_BYTES))
        return "server stderr: " + (self._stderr.read().decode("utf-8", "replace").strip() or "(empty)")

    def close(self, force: bool = False) -> None:
        """Stop the server: end its input and wait, or (force, or if it lingers) kill it; reap it."""
        try:
            if force:
                self.process.kill()
            self.process.stdin.close()
            self.process.wait(STOP_WAIT_S)
        except (OSError, subprocess.TimeoutExpired):
            self.process.kill()
            self.process.wait()
        self.process.stdout.close()
        self._stderr.close()
