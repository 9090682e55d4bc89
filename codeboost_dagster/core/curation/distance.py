"""Line-level Jaccard distance, 1 - |L(a) & L(b)| / |L(a) | L(b)| (METHOD.md section 2).

Two snippets without any non-empty line are identical (distance 0); an empty and a non-empty
snippet share nothing (distance 1). The float operations are the naive formula's, so the
values equal a pure-Python set computation bit for bit.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp

from codeboost_dagster.core.curation.line_sets import LineIncidence


def jaccard_distance(shared: np.ndarray, size_a: np.ndarray, size_b: np.ndarray) -> np.ndarray:
    """Distances from shared-line counts and the two line-set sizes."""
    union = size_a + size_b - shared
    distance = 1.0 - shared / np.maximum(union, 1)
    distance[union == 0] = 0.0
    return distance


def chunk_distances(incidence: LineIncidence, rows: np.ndarray) -> np.ndarray:
    """Dense distance matrix among `rows` of the incidence, from one sparse product.

    The block's line columns are renumbered to the lines it actually has, so the product
    never touches the whole input's vocabulary.
    """
    block = incidence.matrix[rows]
    local_lines, local_index = np.unique(block.indices, return_inverse=True)
    block = sp.csr_array((block.data, local_index, block.indptr), shape=(len(rows), len(local_lines)))
    shared = (block @ block.T).toarray().astype(np.int64, copy=False)
    sizes = incidence.sizes[rows]
    return jaccard_distance(shared, sizes[:, None], sizes[None, :])


def pair_distances(incidence: LineIncidence, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Distance of each pair (left[k], right[k]), without forming any other pair."""
    if len(left) == 0:
        return np.zeros(0, dtype=np.float64)
    shared = np.asarray(incidence.matrix[left].multiply(incidence.matrix[right]).sum(axis=1)).ravel()
    return jaccard_distance(shared.astype(np.int64), incidence.sizes[left], incidence.sizes[right])


def nearest_in_pool(incidence: LineIncidence, queries: np.ndarray, pool: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For each query row, the position in `pool` of its nearest row and that distance (1.0 and
    position -1 when it shares no line with any), via one sparse product over shared lines only."""
    positions = np.full(len(queries), -1, dtype=np.int64)
    distances = np.ones(len(queries), dtype=np.float64)
    if len(queries) == 0 or len(pool) == 0:
        return positions, distances
    shared = sp.csr_array(incidence.matrix[queries] @ incidence.matrix[pool].T)
    for row in range(len(queries)):
        start, end = shared.indptr[row], shared.indptr[row + 1]
        if start == end:
            continue
        columns = shared.indices[start:end]
        candidate = jaccard_distance(
            shared.data[start:end].astype(np.int64),
            np.full(end - start, incidence.sizes[queries[row]]),
            incidence.sizes[pool[columns]],
        )
        best = int(np.argmin(candidate))
        positions[row], distances[row] = columns[best], candidate[best]
    return positions, distances
