"""Dump partition keys come from file names, so they must be safe as path segments and labels."""

from __future__ import annotations

import re

_SAFE_KEY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class UnsafePartitionKey(ValueError):
    """A partition key that could escape its folder or break a path or label."""


def is_safe_partition_key(key: str) -> bool:
    """True for 1-128 chars of letters, digits, '.', '_' and '-', not starting with a dot, no '..'."""
    return bool(_SAFE_KEY.match(key)) and ".." not in key


def validate_partition_key(key: str) -> str:
    """Return the key, or raise `UnsafePartitionKey` saying why it is refused."""
    if not is_safe_partition_key(key):
        raise UnsafePartitionKey(
            f"unsafe dump partition key {key!r}: use 1-128 letters, digits, '.', '_' or '-', "
            "starting with a letter or digit and without '..' (rename the dump file or folder)"
        )
    return key
