"""The record of one sandboxed run, identical in shape for every backend."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any, Literal

Status = Literal["ok", "error", "timeout", "memory", "output_limit", "sandbox_error"]
STATUSES: tuple[str, ...] = ("ok", "error", "timeout", "memory", "output_limit", "sandbox_error")
FINISHED_STATUSES: tuple[str, ...] = ("ok", "error", "memory")
"""A run with one of these ended by itself: its wall time says how long the program takes."""


@dataclass(frozen=True)
class ExecutionResult:
    """What a program did, and what the harness concluded.

    stdout / stderr: the program's bytes decoded as UTF-8 with errors="replace" (invalid bytes
      become U+FFFD), each capped at `SandboxLimits.max_output_bytes` bytes before decoding.
    returncode: the exit code, minus the signal number when a signal ended the program (as
      `subprocess` reports it), None when the sandbox itself failed.
    status: ok | error | timeout | memory | output_limit | sandbox_error; the last four come from
      the harness (it killed for time or output, it saw MemoryError, it failed), never from an
      exit code alone.
    error_type: the exception class name from the final traceback line, else None.
    wall_ms / cpu_ms: elapsed time and the program's user+system CPU time.
    command: the command line as shown to the model, e.g. "python3 /sandbox/main.py".
    runtime: the interpreter and package set it ran on (`runtime.Runtime.identity`), e.g.
      "python 3.11.2, lock 4cd988945615"; empty for a program that never reached a sandbox.
    started_at / finished_at: UTC ISO-8601 strings with milliseconds ("...T12:00:00.123+00:00").
    detail: the harness's reason for a sandbox_error (None otherwise); never shown to the model.
    wall_limit_s: the wall limit this run had (the sandbox's, or lower where the run's was derived
      from another run); None for a program that never reached a sandbox.
    """

    stdout: str
    stderr: str
    returncode: int | None
    status: Status
    error_type: str | None
    wall_ms: float
    cpu_ms: float
    backend: str
    python_version: str
    command: str
    started_at: str
    finished_at: str
    detail: str | None = None
    wall_limit_s: float | None = None
    runtime: str = ""

    def to_dict(self) -> dict[str, Any]:
        """Plain dict of every field, for Parquet rows and metadata."""
        return dataclasses.asdict(self)
