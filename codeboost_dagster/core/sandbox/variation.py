"""What a fresh `python3` varies and a warm server holds fixed: the hash seed. A sandbox opened
with a `Variation` starts its servers with another PYTHONHASHSEED (a forked program inherits its
server's hash secret), so the determinism certificate can run a program as a fresh interpreter
would and drop output in hash order (a set of strings); the programs' own environment stays the
sandbox's.

The clock, which the certificate should vary too (a program printing this year's calendar passes
two runs on one day), is not varied: Debian's libfaketime 0.9.10 makes Python's `time.sleep` fail
with EINVAL (clock_nanosleep on the monotonic clock) or sleep for the shift."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Variation:
    """How a sandbox's servers differ from a default one: the interpreter's hash seed."""

    hash_seed: int = 0

    def server_env(self) -> dict[str, str]:
        """The environment variables a server starts with (on top of the sandbox's)."""
        return {"PYTHONHASHSEED": str(self.hash_seed)}


DEFAULT = Variation()
