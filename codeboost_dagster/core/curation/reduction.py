"""Exact reductions of a chunk's clique problem, done in-process before any search.

A maximum clique of the "distinct enough" graph G is a maximum independent set of its
complement, the near-duplicate graph A (an edge where distance < gamma), which is sparse on
real code. Two rules shrink A without changing its independence number:

- an isolated vertex is in every maximum independent set: take it;
- domination: if u and v are near-duplicates and N[u] (u and its near-duplicates) is inside
  N[v], some maximum independent set avoids v: drop v. Of twins (N[u] = N[v]) the preferred
  one stays. Clusters of mutual near-duplicates and pendant vertices reduce to one vertex.

Dropping every dominated vertex at once is safe: each one is dominated by a vertex that stays
(the preferred member of a minimal neighbourhood below it). What is left splits into
connected "kernels" that need a real search.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components


@dataclass(frozen=True)
class Reduction:
    """Vertices proven to be in a maximum independent set, and the kernels still undecided."""

    taken: np.ndarray
    kernels: list[np.ndarray]


def _dominated(near: np.ndarray, preference: np.ndarray) -> np.ndarray:
    """Vertices v with a near-duplicate u whose closed neighbourhood lies inside v's."""
    closed = (near | np.eye(len(near), dtype=bool)).astype(np.float32)
    common = closed @ closed.T
    inside = (common == closed.sum(axis=1)[:, None]) & near
    twins = inside & inside.T
    preferred_twin = twins & (preference[:, None] < preference[None, :])
    return (inside & ~twins).any(axis=0) | preferred_twin.any(axis=0)


def _kernels(near: np.ndarray, undecided: np.ndarray, preference: np.ndarray) -> list[np.ndarray]:
    vertices = np.flatnonzero(undecided)
    if len(vertices) == 0:
        return []
    _, labels = connected_components(sp.csr_array(near[np.ix_(vertices, vertices)]), directed=False)
    kernels = [vertices[labels == label] for label in range(labels.max() + 1)]
    return sorted(kernels, key=lambda kernel: preference[kernel].min())


def reduce_near_duplicate_graph(near: np.ndarray, preference: np.ndarray) -> Reduction:
    """Apply both rules to `near` (symmetric bool, no diagonal) until neither changes it.

    Lower `preference` values win ties between twins.
    """
    undecided = near.any(axis=1)
    taken = ~undecided
    while undecided.any():
        vertices = np.flatnonzero(undecided)
        sub = near[np.ix_(vertices, vertices)]
        isolated = ~sub.any(axis=1)
        if isolated.any():
            taken[vertices[isolated]] = True
            undecided[vertices[isolated]] = False
            continue
        dominated = _dominated(sub, preference[vertices])
        if not dominated.any():
            break
        undecided[vertices[dominated]] = False
    return Reduction(taken=np.flatnonzero(taken), kernels=_kernels(near, undecided, preference))
