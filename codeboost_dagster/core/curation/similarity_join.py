"""Exact all-pairs near-duplicate search by prefix filtering (no pair is missed, none guessed).

For line-Jaccard similarity J(A, B) > t (t = 1 - gamma), order every line by how rarely it
occurs; then A and B share a line among the first |A| - floor(t |A|) + 1 lines of A and the
first |B| - floor(t |B|) + 1 of B (the classic prefix-filter bound, taken one line longer to be
safe with floats). Pairs sharing a prefix line are the only candidates; a size bound
(J <= min / max) drops more, and exact distances decide. Because prefixes hold rare lines,
candidate groups stay small on real code. This is the ground truth that checks curation's
clique property and measures LSH recall; curation itself uses LSH, which also works
incrementally against stored signatures.
"""

from __future__ import annotations

import numpy as np

from codeboost_dagster.core.curation.distance import pair_distances
from codeboost_dagster.core.curation.line_sets import LineIncidence
from codeboost_dagster.core.curation.pairs import PairSet, decode, shared_key_pairs

VERIFY_BATCH = 1_000_000


def verified_near_pairs(
    incidence: LineIncidence, left: np.ndarray, right: np.ndarray, gamma: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The candidate pairs (incidence rows) whose exact distance is < gamma, with that distance.

    Pairs whose sizes alone rule them out (min / max <= 1 - gamma) are never computed.
    """
    small = np.minimum(incidence.sizes[left], incidence.sizes[right])
    large = np.maximum(incidence.sizes[left], incidence.sizes[right])
    possible = (large == 0) | (small > (1.0 - gamma) * large)
    left, right = left[possible], right[possible]
    distances = np.concatenate(
        [
            pair_distances(incidence, left[i : i + VERIFY_BATCH], right[i : i + VERIFY_BATCH])
            for i in range(0, len(left), VERIFY_BATCH)
        ]
        or [np.zeros(0)]
    )
    near = distances < gamma
    return left[near], right[near], distances[near]


def near_duplicate_pairs(
    incidence: LineIncidence, gamma: float, exempt: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every pair of rows with distance < gamma (left < right, ascending), and its distance.

    `exempt` rows are not paired with each other. Rows without lines are all at distance 0.
    """
    count = len(incidence)
    matrix = incidence.matrix
    row_of = np.repeat(np.arange(count, dtype=np.int64), np.diff(matrix.indptr))
    frequency = np.bincount(matrix.indices, minlength=matrix.shape[1])
    order = np.lexsort((matrix.indices, frequency[matrix.indices], row_of))
    position = np.arange(len(order)) - matrix.indptr[row_of[order]]
    prefix = incidence.sizes - np.floor((1.0 - gamma) * incidence.sizes).astype(np.int64) + 1
    in_prefix = position < prefix[row_of[order]]
    keys = matrix.indices[order][in_prefix].astype(np.int64)
    items = row_of[order][in_prefix]
    empty = np.flatnonzero(incidence.sizes == 0)
    keys = np.concatenate((keys, np.full(len(empty), -1, dtype=np.int64)))
    items = np.concatenate((items, empty))
    found = PairSet()
    for codes in shared_key_pairs(keys, items, count):
        if exempt is not None:
            codes = codes[~(exempt[codes // count] & exempt[codes % count])]
        found.add(codes)
    left, right = decode(found.codes(), count)
    return verified_near_pairs(incidence, left, right, gamma)
