"""Pairs of items that share a key: the candidate generator behind LSH banding and prefix joins.

Items are integers (node indices). Pairs come back as int64 codes `left * base + right` with
left < right, so duplicate pairs from different keys collapse with one `np.unique`, and a code
decodes with `divmod(code, base)`. Generation is vectorised and slices the groups so that no
step materialises more than about `max_pairs_per_step` codes at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

MAX_PAIRS_PER_STEP = 20_000_000


def _pairs_of_sorted_groups(items: np.ndarray, starts: np.ndarray, sizes: np.ndarray, base: int) -> np.ndarray:
    """All pairs within each group of `items` (groups are runs starting at `starts`)."""
    positions = np.repeat(starts, sizes) + (np.arange(sizes.sum()) - np.repeat(np.cumsum(sizes) - sizes, sizes))
    later = np.repeat(starts + sizes, sizes) - positions - 1
    left = np.repeat(positions, later)
    offsets = np.arange(later.sum()) - np.repeat(np.cumsum(later) - later, later)
    a, b = items[left], items[left + 1 + offsets]
    return np.minimum(a, b) * base + np.maximum(a, b)


def shared_key_pairs(
    keys: np.ndarray, items: np.ndarray, base: int, max_pairs_per_step: int = MAX_PAIRS_PER_STEP
) -> Iterator[np.ndarray]:
    """Codes of every pair of distinct `items` with equal `keys`, in steps (may repeat pairs)."""
    order = np.argsort(keys, kind="stable")
    keys, items = keys[order], items[order]
    boundaries = np.flatnonzero(np.diff(keys)) + 1
    starts = np.concatenate(([0], boundaries)).astype(np.int64)
    sizes = np.diff(np.concatenate((starts, [len(keys)]))).astype(np.int64)
    plural = sizes > 1
    starts, sizes = starts[plural], sizes[plural]
    pair_counts = sizes * (sizes - 1) // 2
    step_of = np.cumsum(pair_counts) // max(1, max_pairs_per_step)
    for step in np.unique(step_of):
        chosen = step_of == step
        codes = _pairs_of_sorted_groups(items, starts[chosen], sizes[chosen], base)
        yield codes[codes % base != codes // base]


def _deduplicated(ordered: np.ndarray) -> np.ndarray:
    keep = np.ones(len(ordered), dtype=bool)
    keep[1:] = ordered[1:] != ordered[:-1]
    return ordered[keep]


class PairSet:
    """A growing set of pair codes, deduplicated in bulk whenever the pending part gets large.

    The pending codes are sorted on their own, then merged into the sorted distinct set by a
    stable sort of the two runs (timsort merges presorted runs in linear time), so a compaction
    costs the pending part's sort plus one pass over the set, not a sort of the whole set.
    """

    def __init__(self, compact_every: int = MAX_PAIRS_PER_STEP) -> None:
        self._unique = np.zeros(0, dtype=np.int64)
        self._pending: list[np.ndarray] = []
        self._pending_size = 0
        self._compact_every = compact_every

    def add(self, codes: np.ndarray) -> None:
        """Add codes (duplicates allowed)."""
        self._pending.append(codes.astype(np.int64, copy=False))
        self._pending_size += len(codes)
        if self._pending_size >= self._compact_every:
            self._compact()

    def _compact(self) -> None:
        if not self._pending:
            return
        pending = _deduplicated(np.sort(np.concatenate(self._pending)))
        self._pending, self._pending_size = [], 0
        merged = np.concatenate([self._unique, pending])
        self._unique = _deduplicated(np.sort(merged, kind="stable"))

    def codes(self) -> np.ndarray:
        """The distinct codes added so far, ascending."""
        self._compact()
        return self._unique


def contained(sorted_codes: np.ndarray, codes: np.ndarray) -> np.ndarray:
    """Which `codes` are in `sorted_codes` (ascending, as `PairSet.codes` returns them), by binary search."""
    if len(sorted_codes) == 0:
        return np.zeros(len(codes), dtype=bool)
    positions = np.minimum(np.searchsorted(sorted_codes, codes), len(sorted_codes) - 1)
    return sorted_codes[positions] == codes


def decode(codes: np.ndarray, base: int) -> tuple[np.ndarray, np.ndarray]:
    """(left, right) arrays of pair codes."""
    return codes // base, codes % base
