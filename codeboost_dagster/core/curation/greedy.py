"""Greedy fallback: a large maximal independent set of the near-duplicate graph.

Used for a kernel whose exact search did not finish within the time limit, and for a component
too large for the exact path. The result is maximal (every dropped vertex has a near-duplicate
among the kept ones), so every removed snippet still has a survivor it lost to.
"""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp


def greedy_independent_set(near: np.ndarray, vertices: np.ndarray, priority: np.ndarray) -> np.ndarray:
    """Repeatedly keep the vertex with the fewest undecided near-duplicates (ties by priority)."""
    sub = near[np.ix_(vertices, vertices)]
    sub_priority = priority[vertices]
    undecided = np.ones(len(vertices), dtype=bool)
    degree = sub.sum(axis=1).astype(np.int64)
    kept: list[int] = []
    while undecided.any():
        candidates = np.flatnonzero(undecided)
        vertex = candidates[np.lexsort((sub_priority[candidates], degree[candidates]))[0]]
        kept.append(vertex)
        dropped = undecided & sub[vertex]
        dropped[vertex] = True
        undecided &= ~dropped
        degree -= sub[:, dropped].sum(axis=1)
    return np.sort(vertices[kept])


def greedy_independent_set_sparse(adjacency: sp.csr_array, priority: np.ndarray) -> np.ndarray:
    """The same idea for a component too large for dense matrices: vertices in order of fewest
    near-duplicates (ties by priority), each kept unless a kept one is its near-duplicate."""
    degree = np.diff(adjacency.indptr)
    kept = np.zeros(adjacency.shape[0], dtype=bool)
    blocked = np.zeros(adjacency.shape[0], dtype=bool)
    for vertex in np.lexsort((priority, degree)):
        if blocked[vertex]:
            continue
        kept[vertex] = True
        blocked[adjacency.indices[adjacency.indptr[vertex] : adjacency.indptr[vertex + 1]]] = True
    return np.flatnonzero(kept)
