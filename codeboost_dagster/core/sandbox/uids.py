"""Blocks of sandbox uids, one per open sandbox on a machine.

Per-uid kernel limits (RLIMIT_NPROC counts every process of a uid, machine-wide) and the right to
signal are per uid, so two sandboxes on one node must never run programs as the same uid: verl's
reward workers each open a sandbox, beside the execution stage's. A block is held by an exclusive
`flock` on a file in a machine-wide folder; the kernel drops the lock when its holder exits, by
`kill -9` too, so a dead process never keeps its block.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path

UID_FLOOR = 61000
UIDS_PER_BLOCK = 256
BLOCKS = 64
LOCK_DIR = Path("/tmp/codeboost-sandbox-uids")


class UidBlock:
    """uids `base` .. `base + UIDS_PER_BLOCK - 1`, this process's until `release`."""

    def __init__(self, base: int, lock_fd: int | None) -> None:
        self.base = base
        self._lock_fd = lock_fd

    def release(self) -> None:
        """Give the block back (idempotent)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


def lease_uid_block(slots: int, lock_dir: Path = LOCK_DIR) -> UidBlock:
    """The first free block on this machine, for a sandbox of `slots` slots."""
    if slots > UIDS_PER_BLOCK:
        raise ValueError(f"a sandbox has at most {UIDS_PER_BLOCK} slots (one uid each), not {slots}")
    lock_dir.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(PermissionError):  # shared by every user of the machine, like /tmp
        lock_dir.chmod(0o1777)
    for block in range(BLOCKS):
        base = UID_FLOOR + block * UIDS_PER_BLOCK
        # Read-only is enough for flock, and opens a lock file another user created.
        fd = os.open(lock_dir / f"{base}.lock", os.O_RDONLY | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        return UidBlock(base, fd)
    raise RuntimeError(f"all {BLOCKS} sandbox uid blocks on this machine are in use (locks in {lock_dir})")


def fixed_uid_block(base: int) -> UidBlock:
    """A caller-chosen base (tests, a deployment that assigns uids itself): nothing is locked."""
    return UidBlock(base, None)
