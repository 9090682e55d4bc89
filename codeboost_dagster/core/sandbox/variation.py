"""What a fresh `python3` on another day varies and a warm server holds fixed: the hash seed and
the clock. A sandbox opened with a `Variation` starts its servers with another PYTHONHASHSEED (a
forked program inherits its server's hash secret) and, where Debian's libfaketime is installed,
with the wall clock shifted by some days, so the determinism certificate can run a program as it
would run elsewhere and later, and drop output in hash order (a set of strings) or that depends on
the date (this year's calendar); the programs' own environment stays the sandbox's.

The clock shift needs libfaketime in the servers' root (the host for the local backends, the image
for Docker: both install Debian's package). Two workarounds for its release 0.9.10 go with it: the
shift is read once (`FAKETIME_CACHE_DURATION`), since a forked program clears its environment and
libfaketime would otherwise re-read it; and the monotonic clock is left alone, while `time.sleep`,
whose clock_nanosleep on that clock libfaketime breaks (EINVAL), becomes a select-based sleep in
the forked program (server.py, `sleep_by_select`). An exec'd program (the subprocess backend, exec
mode) gets the hash seed but no shift: there the clock check changes nothing."""

from __future__ import annotations

import glob
from dataclasses import dataclass

LIBFAKETIME_PATTERN = "/usr/lib/*/faketime/libfaketime.so.1"
CLOCK_READ_ONCE_S = "1000000000"  # libfaketime's cache of the shift, in seconds: longer than any server lives


def libfaketime() -> str | None:
    """Debian's libfaketime on this machine (the same path in the sandbox image), if installed."""
    found = sorted(glob.glob(LIBFAKETIME_PATTERN))
    return found[0] if found else None


@dataclass(frozen=True)
class Variation:
    """How a sandbox's servers differ from a default one: the interpreter's hash seed, and the days
    the wall clock is ahead (0: the real clock)."""

    hash_seed: int = 0
    clock_shift_days: int = 0

    def exec_env(self) -> dict[str, str]:
        """The environment variables an exec'd fresh interpreter must start with, as its server did."""
        return {"PYTHONHASHSEED": str(self.hash_seed)}

    def server_env(self) -> dict[str, str]:
        """The environment variables a server starts with (on top of the sandbox's)."""
        if not self.clock_shift_days:
            return self.exec_env()
        library = libfaketime()
        if library is None:
            raise ValueError("a clock shift needs Debian's libfaketime (apt-get install libfaketime)")
        return {
            **self.exec_env(),
            "LD_PRELOAD": library,
            "FAKETIME": f"+{self.clock_shift_days}d",
            "FAKETIME_DONT_FAKE_MONOTONIC": "1",
            "FAKETIME_CACHE_DURATION": CLOCK_READ_ONCE_S,
        }


DEFAULT = Variation()
