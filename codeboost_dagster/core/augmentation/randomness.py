"""One random stream per (seed, snippet, variant), so variants never depend on order or workers."""

from __future__ import annotations

import hashlib
import random


def variant_rng(seed: int, snippet_id: str, variant_index: int) -> random.Random:
    """A generator seeded from sha256 of (seed, snippet_id, variant_index): same inputs, same draws."""
    key = f"{seed}\x1f{snippet_id}\x1f{variant_index}".encode("utf-8", errors="surrogatepass")
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:16], "big"))
