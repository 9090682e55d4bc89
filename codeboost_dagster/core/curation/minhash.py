"""MinHash LSH over line sets: which pairs of snippets could be near-duplicates.

Two snippets are near-duplicates when their line-Jaccard similarity exceeds s = 1 - gamma.
Each snippet gets a MinHash signature of `rows * bands` values (rensa's RMinHash, in Rust: 2.5x
faster than datasketch's bulk MinHash on the same line sets, same estimator; BENCHMARKS.md); each band of
`rows` values is folded into one 64-bit key. Two snippets become a candidate pair when some band
key is equal, which happens with probability 1 - (1 - J^rows)^bands for similarity J. `bands` is
the smallest number that gives `recall_at_threshold` at J = s, so pairs more similar than the
threshold are found at least that often. Candidates are then verified with exact distances, so
a key collision costs a verification, never a wrong removal.

We band with numpy (sort the keys, pair equal ones) rather than with rensa's or datasketch's LSH
index: those answer one query at a time from Python, while curation needs every pair at once, and
an incremental run joins a new dump's keys against the stored keys of the selection.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import rensa

from codeboost_dagster.core.curation.line_sets import LineNormaliser, line_set, renamed_identifiers
from codeboost_dagster.core.curation.pairs import PairSet, shared_key_pairs

_FOLD = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93], dtype=np.uint64)


@dataclass(frozen=True)
class LshParameters:
    """Band layout for a similarity threshold; `seed` seeds the MinHash permutations."""

    rows: int
    bands: int
    seed: int
    threshold: float

    @classmethod
    def for_threshold(cls, similarity: float, rows: int, recall_at_threshold: float, seed: int) -> LshParameters:
        """The fewest bands of `rows` values that find a pair of similarity `similarity` with
        probability >= `recall_at_threshold`."""
        if not (0.0 < similarity < 1.0 and rows >= 1 and 0.0 < recall_at_threshold < 1.0):
            raise ValueError(f"no LSH layout for similarity {similarity}, rows {rows}, recall {recall_at_threshold}")
        bands = math.ceil(math.log(1.0 - recall_at_threshold) / math.log(1.0 - similarity**rows))
        return cls(rows=rows, bands=max(1, bands), seed=seed, threshold=similarity)

    @property
    def num_perm(self) -> int:
        """Signature length."""
        return self.rows * self.bands

    @property
    def fingerprint(self) -> str:
        """Identifies keys made with these parameters (stored keys with another one are recomputed)."""
        version = getattr(rensa.RMinHash, "ALGORITHM_VERSION", "?")
        return f"rensa-rminhash-v{version}:rows={self.rows}:bands={self.bands}:seed={self.seed}"

    def candidate_probability(self, similarity: float | np.ndarray) -> float | np.ndarray:
        """P(a pair of this similarity becomes a candidate)."""
        return 1.0 - (1.0 - np.asarray(similarity, dtype=np.float64) ** self.rows) ** self.bands


def band_keys(line_sets: Sequence[Sequence[str]], parameters: LshParameters) -> np.ndarray:
    """One row of `bands` uint64 keys per line set (an empty set gets the same keys as every other)."""
    if len(line_sets) == 0:
        return np.zeros((0, parameters.bands), dtype=np.uint64)
    digests = rensa.RMinHash.digest_matrix_from_token_sets(
        [list(lines) for lines in line_sets], parameters.num_perm, parameters.seed
    )
    values = np.array(digests.to_rows(), dtype=np.uint64).reshape(len(line_sets), parameters.bands, parameters.rows)
    with np.errstate(over="ignore"):
        folded = values * _FOLD[np.arange(parameters.rows) % len(_FOLD)]
        keys = np.bitwise_xor.reduce(folded, axis=2)
        keys ^= keys >> np.uint64(29)
    return keys


def candidate_pairs(keys: np.ndarray, exempt: np.ndarray | None = None) -> np.ndarray:
    """Codes (`left * n + right`, see `pairs`) of node pairs sharing a band key, ascending.

    `exempt` marks nodes whose pairs among themselves are not wanted (two previously selected
    snippets are never judged again); their pairs with other nodes still are.
    """
    count = len(keys)
    found = PairSet()
    items = np.arange(count, dtype=np.int64)
    judged = exempt is not None and exempt.any()
    for band in range(keys.shape[1]):
        in_band, band_items = keys[:, band], items
        if judged:
            involved = np.isin(in_band, in_band[~exempt])
            in_band, band_items = in_band[involved], items[involved]
        for codes in shared_key_pairs(in_band, band_items, count):
            if judged:
                codes = codes[~(exempt[codes // count] & exempt[codes % count])]
            found.add(codes)
    return found.codes()


def lsh_parameters(gamma: float, rows: int, recall_at_threshold: float, seed: int) -> LshParameters:
    """The band layout for curation at distance threshold `gamma` (similarity 1 - gamma)."""
    return LshParameters.for_threshold(1.0 - gamma, rows, recall_at_threshold, seed)


def code_band_keys(
    codes: Sequence[str], parameters: LshParameters, normalise: LineNormaliser, rename: bool
) -> np.ndarray:
    """Band keys of snippets' line sets, lines as curation compares them (see `line_sets`)."""
    sets = [sorted(line_set(renamed_identifiers(code) if rename else code, normalise)) for code in codes]
    return band_keys(sets, parameters)
