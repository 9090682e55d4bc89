"""Crash-consistent files: a reader sees the previous complete version or the new one, never a torn one.

`publish(path, write)` writes to a temporary name beside the target and publishes it in one step:
on a local filesystem an fsync'd file renamed over the target (POSIX rename is atomic), on an
object store a single put of the whole object. The version it replaces is kept as
`previous_version(path)` (a hard link locally, so there is no moment without a current file),
which is what lets state that builds on itself (curation's selection) recover when the newest
file is damaged by something outside our writes. Temporary files a killed writer left behind
are removed by the next successful publish of the same path.
"""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable
from typing import BinaryIO

from upath import UPath

LOCAL_PROTOCOLS = ("", "file", "local")
PREVIOUS_SUFFIX = ".previous"
_TEMPORARY = ".tmp"


def is_local(path: UPath) -> bool:
    """The path is on this machine's filesystem (rename is atomic there)."""
    return path.protocol in LOCAL_PROTOCOLS


def previous_version(path: UPath) -> UPath:
    """Where the version before the current one of `path` is kept."""
    return path.with_name(path.name + PREVIOUS_SUFFIX)


def _temporary(path: UPath) -> UPath:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex}{_TEMPORARY}")


def _remove_leftovers(path: UPath) -> None:
    for leftover in path.parent.glob(f".{path.name}.*{_TEMPORARY}"):
        leftover.unlink(missing_ok=True)


def publish(path: UPath, write: Callable[[BinaryIO], None]) -> None:
    """Write the file through `write(handle)` and make it the current version of `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not is_local(path):
        buffer = io.BytesIO()
        write(buffer)
        if path.exists():
            path.fs.copy(path.path, previous_version(path).path)
        path.write_bytes(buffer.getvalue())
        return
    temporary = _temporary(path)
    try:
        with open(temporary.path, "wb") as handle:
            write(handle)
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            previous = previous_version(path)
            previous.unlink(missing_ok=True)
            os.link(path.path, previous.path)
        os.replace(temporary.path, path.path)
        directory = os.open(path.parent.path, os.O_RDONLY)
        try:
            os.fsync(directory)
        finally:
            os.close(directory)
    finally:
        temporary.unlink(missing_ok=True)
    _remove_leftovers(path)
