"""Decode one file as source text, refusing what is not text instead of crashing on it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class TextOrReason:
    """Either the decoded text, or a reason code and a message naming the file."""

    text: str | None
    reason: str | None = None
    detail: str | None = None


def read_source_text(path: Path, max_bytes: int) -> TextOrReason:
    """Read a UTF-8 source file, or say why not: symlink, too large, binary, not UTF-8, unreadable."""
    if path.is_symlink():
        return TextOrReason(None, "symlink_not_followed", f"{path} is a symbolic link")
    try:
        size = path.stat().st_size
        if size > max_bytes:
            return TextOrReason(None, "file_too_large", f"{path} has {size} bytes (limit {max_bytes})")
        data = path.read_bytes()
    except OSError as error:
        return TextOrReason(None, "unreadable_file", f"{path}: {error.strerror or error}")
    if b"\x00" in data:
        return TextOrReason(None, "binary_file", f"{path} contains NUL bytes")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        return TextOrReason(None, "not_utf8", f"{path}: invalid UTF-8 at byte {error.start}")
    return TextOrReason(text)
