"""The Sandbox interface shared by every backend: warm servers in slots, one program per slot."""

from __future__ import annotations

import dataclasses
import os
import posixpath
import queue
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, Self

from codeboost_dagster.core.settings import SandboxLimits

from .channel import Channel, ChannelError
from .labels import classify
from .program import Program, stitch
from .result import ExecutionResult
from .runtime import Runtime, imported_modules
from .uids import fixed_uid_block, lease_uid_block
from .variation import DEFAULT as DEFAULT_VARIATION
from .variation import Variation

SERVER_SOURCE = (Path(__file__).parent / "server.py").read_text(encoding="utf-8")
# The environment every program sees, whatever the backend: no host variables, a fixed hash
# seed so set/dict-of-str iteration order (and so stdout) is the same on every re-run, and
# single-threaded BLAS/OpenMP (numerical results and thread counts independent of the node's cores).
SANDBOX_ENV = {
    "PATH": "/usr/local/bin:/usr/bin:/bin",
    "LANG": "C.UTF-8",
    "PYTHONHASHSEED": "0",
    "OPENBLAS_NUM_THREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
}
SANDBOX_HOSTNAME = "sandbox"
# Standard-library modules the fork servers import once: snippets import them constantly and a
# forked program then skips their import cost. Observable only through sys.modules; a program
# cannot shadow them with a module file it writes at run time.
PRELOADED_MODULES = (
    "bisect",
    "collections",
    "copy",
    "dataclasses",
    "datetime",
    "decimal",
    "enum",
    "fractions",
    "functools",
    "heapq",
    "itertools",
    "json",
    "math",
    "operator",
    "random",
    "re",
    "statistics",
    "string",
    "typing",
)
# Protocol slack on top of the program's wall limit: the server kills, drains, cleans, replies.
REPLY_GRACE_S = 10.0
STARTUP_TIMEOUT_S = 60.0

Progress = Callable[[int, int], None]


class SandboxUnavailable(RuntimeError):
    """A backend cannot start here (no engine, no image, no interpreter, server refused)."""


@dataclass
class Slot:
    """One server's place in the pool: its channel, its hello message, programs run so far.
    A warm slot's server pre-imports the runtime's heavy modules (`SandboxLimits.warm_modules`)."""

    index: int
    warm: bool = False
    channel: Channel | None = None
    hello: dict[str, Any] = field(default_factory=dict)
    runs: int = 0


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="milliseconds")


class Sandbox(ABC):
    """Runs programs under `limits` on `concurrency` warm servers; a context manager.

    `run` is thread-safe (it takes an idle slot); `run_many` keeps every slot busy and returns
    results in input order. A server that misbehaves is replaced and its program gets a
    `sandbox_error` result; the Sandbox itself keeps working.

    Each slot has a plain server and, started the first time a program needs it, a warm one: a
    program whose imports (a static scan) name a warm module runs there, skipping the import,
    while the rest keep the plain server's faster fork. Exec mode has no warm servers.
    """

    backend: ClassVar[str]
    recycle_after: int | None = None
    exec_mode: bool = False
    runtime: Runtime
    """The interpreter and package set the servers run (`runtime.Runtime`), as their first one said."""

    def __init__(
        self,
        limits: SandboxLimits,
        concurrency: int | None = None,
        uid_base: int | None = None,
        variation: Variation = DEFAULT_VARIATION,
    ) -> None:
        if posixpath.dirname(limits.program_path) != limits.working_dir:
            raise ValueError("limits.program_path must sit directly in limits.working_dir")
        self.limits = limits
        self.variation = variation
        self.concurrency = max(1, concurrency or os.cpu_count() or 1)
        # Slot i runs as uid_base + i; unless given, a block no other sandbox on this machine holds.
        self._uids = fixed_uid_block(uid_base) if uid_base is not None else lease_uid_block(self.concurrency)
        self.uid_base = self._uids.base
        self._slots = [Slot(index) for index in range(self.concurrency)]
        self._warm_slots = [Slot(index, warm=True) for index in range(self.concurrency)]
        self.warm_modules = frozenset(() if self.exec_mode else limits.warm_modules)
        self._idle: queue.Queue[Slot] = queue.Queue()
        self._closed = False
        self._start_all()

    # ---- backend hooks --------------------------------------------------------------------
    @abstractmethod
    def _open_channel(self, slot: Slot) -> Channel:
        """Start one server for `slot` and return the channel to it."""

    def _server_env(self) -> dict[str, str]:
        """The environment a server process starts with: the sandbox's, with the variation's."""
        return {**SANDBOX_ENV, **self.variation.server_env()}

    def _server_config(self, slot: Slot) -> dict[str, Any]:
        """The config message a new server receives; backends override the isolation fields."""
        return {
            "exec_env": self.variation.exec_env(),
            "limits": dataclasses.asdict(self.limits),
            "uid": self.uid_base + slot.index,
            "isolate": True,
            "exec_mode": False,
            "private_scratch": False,
            "env": SANDBOX_ENV,
            "hostname": SANDBOX_HOSTNAME,
            "preload": list(PRELOADED_MODULES),
            "warm": sorted(self.warm_modules) if slot.warm else [],
        }

    # ---- public API -----------------------------------------------------------------------
    @property
    def python_version(self) -> str:
        return self._slots[0].hello.get("python_version", "")

    @property
    def isolation(self) -> dict[str, Any]:
        """What the servers could set up (namespaces, uid, fixed path); recorded for audits."""
        return dict(self._slots[0].hello.get("isolation", {}))

    @property
    def command(self) -> str:
        """The command line as shown to the model."""
        return f"python3 {self._slots[0].hello.get('program_path', self.limits.program_path)}"

    def run(self, program: Program) -> ExecutionResult:
        """Run one program and return what it did."""
        if self._closed:
            raise RuntimeError("sandbox is closed")
        slot = self._idle.get()
        try:
            warm = sorted(self.warm_modules & imported_modules(program.code))
            return self._run_on(self._warm_slots[slot.index] if warm else slot, program, warm)
        finally:
            self._idle.put(slot)

    def run_many(self, programs: Iterable[Program], progress: Progress | None = None) -> list[ExecutionResult]:
        """Run programs on every slot at once; results in input order; progress(done, total)."""
        programs = list(programs)
        results: list[ExecutionResult | None] = [None] * len(programs)
        if not programs:
            return []
        with ThreadPoolExecutor(max_workers=min(self.concurrency, len(programs))) as pool:
            futures = {pool.submit(self.run, program): index for index, program in enumerate(programs)}
            for done, future in enumerate(as_completed(futures), start=1):
                results[futures[future]] = future.result()
                if progress is not None:
                    progress(done, len(programs))
        return results  # type: ignore[return-value]

    def close(self) -> None:
        """Stop every server (containers are removed), then give the uid block back."""
        self._closed = True
        for slot in [*self._slots, *self._warm_slots]:
            self._discard(slot, force=False)
        self._uids.release()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- slots ----------------------------------------------------------------------------
    def _start_all(self) -> None:
        errors: list[BaseException] = []

        def start(slot: Slot) -> None:
            try:
                self._start(slot)
            except BaseException as error:
                errors.append(error)

        threads = [threading.Thread(target=start, args=(slot,)) for slot in self._slots]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            self.close()
            raise errors[0] if isinstance(errors[0], SandboxUnavailable) else SandboxUnavailable(str(errors[0]))
        self.runtime = Runtime.from_hello(self._slots[0].hello)
        for slot in self._slots:
            self._idle.put(slot)

    def _start(self, slot: Slot) -> None:
        channel = self._open_channel(slot)
        try:
            channel.send(self._server_config(slot))
            hello = channel.receive(STARTUP_TIMEOUT_S)
        except ChannelError as error:
            channel.close(force=True)
            raise SandboxUnavailable(f"{self.backend} server did not start: {error}") from None
        if "fatal" in hello:
            channel.close(force=True)
            raise SandboxUnavailable(f"{self.backend} server refused to start: {hello['fatal']}")
        slot.channel, slot.hello, slot.runs = channel, hello, 0

    def _discard(self, slot: Slot, force: bool = True) -> None:
        if slot.channel is not None:
            slot.channel.close(force=force)
            slot.channel = None

    def _run_on(self, slot: Slot, program: Program, imports: list[str]) -> ExecutionResult:
        started = time.time()
        wall_time_s = min(program.wall_time_s or self.limits.wall_time_s, self.limits.wall_time_s)
        try:
            worn_out = self.recycle_after is not None and slot.runs >= self.recycle_after
            if slot.channel is None or worn_out or not slot.channel.alive():
                self._discard(slot, force=False)
                self._start(slot)
            request = {"code": stitch(program), "stdin": program.stdin, "wall_time_s": wall_time_s, "imports": imports}
            try:
                slot.channel.send(request)
            except ChannelError:  # the server died between programs: not this program's doing
                self._discard(slot)
                self._start(slot)
                slot.channel.send(request)
            reply = slot.channel.receive(self.limits.wall_time_s + REPLY_GRACE_S)  # a lowered limit may grow
        except (ChannelError, SandboxUnavailable) as error:
            self._discard(slot)
            return self._failure(str(error), started, wall_time_s)
        if "fatal" in reply:
            self._discard(slot)
            return self._failure(f"sandbox server failed: {reply['fatal']}", started, wall_time_s)
        slot.runs += 1
        if reply.get("recycle"):
            self._discard(slot, force=False)
        return self._result(reply, wall_time_s)

    # ---- results --------------------------------------------------------------------------
    def _result(self, reply: dict[str, Any], wall_limit_s: float) -> ExecutionResult:
        status, error_type = classify(reply, self.limits)
        if reply.get("setup_error"):
            returncode = None
        elif reply.get("exit_code") is not None:
            returncode = reply["exit_code"]
        else:
            returncode = -reply["signal"]
        return ExecutionResult(
            stdout=reply["stdout"],
            stderr=reply["stderr"],
            returncode=returncode,
            status=status,
            error_type=error_type,
            wall_ms=reply["wall_ms"],
            cpu_ms=reply["cpu_ms"],
            backend=self.backend,
            python_version=self.python_version,
            runtime=self.runtime.identity,
            command=self.command,
            started_at=_iso(reply["started_at"]),
            finished_at=_iso(reply["finished_at"]),
            detail=f"sandbox setup failed: {reply['setup_error']}" if reply.get("setup_error") else None,
            wall_limit_s=reply.get("wall_limit_s", wall_limit_s),
        )

    def _failure(self, detail: str, started: float, wall_limit_s: float) -> ExecutionResult:
        finished = time.time()
        return ExecutionResult(
            stdout="",
            stderr="",
            returncode=None,
            status="sandbox_error",
            error_type=None,
            wall_ms=(finished - started) * 1000,
            cpu_ms=0.0,
            backend=self.backend,
            python_version=self.python_version,
            runtime=self.runtime.identity,
            command=self.command,
            started_at=_iso(started),
            finished_at=_iso(finished),
            detail=detail,
            wall_limit_s=wall_limit_s,
        )
