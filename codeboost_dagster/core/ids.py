"""Stable content-hash identifiers, so the same content gets the same id in every run."""

from __future__ import annotations

import hashlib

ID_HEX_CHARS = 16


def content_id(*parts: str) -> str:
    """Hex id of the parts (joined by an unambiguous separator); 64 bits of sha256."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8", errors="surrogatepass"))
    return digest.hexdigest()[:ID_HEX_CHARS]
