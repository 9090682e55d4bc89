"""The maximum clique of one chunk (or component): exact reductions, then an exact search per
kernel (`exact_search`), with a greedy fallback.

Reductions, done in-process before any search. A maximum clique of the "distinct enough" graph
G is a maximum independent set of its complement, the near-duplicate graph A (an edge where
distance < gamma), which is sparse on real code. Two rules shrink A without changing its
independence number:

- an isolated vertex is in every maximum independent set: take it;
- domination: if u and v are near-duplicates and N[u] (u and its near-duplicates) is inside
  N[v], some maximum independent set avoids v: drop v. Of twins (N[u] = N[v]) the preferred
  one stays. Clusters of mutual near-duplicates and pendant vertices reduce to one vertex.

Dropping every dominated vertex at once is safe: each one is dominated by a vertex that stays
(the preferred member of a minimal neighbourhood below it). What is left splits into
connected "kernels" that need a real search.

Greedy fallback: a large maximal independent set of the near-duplicate graph, for a kernel whose
exact search did not finish within the time limit, and for a component too large for the exact
path. The result is maximal (every dropped vertex has a near-duplicate among the kept ones), so
every removed snippet still has a survivor it lost to.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch


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


EXACT = "exact"
FALLBACK = "fallback"


@dataclass(frozen=True)
class ChunkClique:
    """Kept local indices of a chunk and how they were found.

    `exact` is True when `members` is a maximum clique (every kernel was searched to the end);
    otherwise `fallback_reason` says why a kernel got the greedy result instead.
    """

    members: np.ndarray
    exact: bool
    kernel_vertices: int
    search_seconds: float
    fallback_reason: str | None

    @property
    def method(self) -> str:
        """EXACT or FALLBACK, as the chunk report names it."""
        return EXACT if self.exact else FALLBACK


def chunk_maximum_clique(
    near: np.ndarray,
    preferred: np.ndarray,
    preference: np.ndarray,
    search: ExactCliqueSearch,
    time_limit_s: float,
) -> ChunkClique:
    """Maximum clique of the complement of `near` (the near-duplicate graph) within the limit.

    Ties between maximum cliques go to the one with more `preferred` vertices where the exact
    search decides, and to lower `preference` values (preferred vertices rank first) where the
    reductions decide. The time limit bounds the exact searches of the chunk together (not
    the one-off start of the search worker); kernels left when it runs out get the greedy
    result.
    """
    reduction = reduce_near_duplicate_graph(near, preference)
    members = [reduction.taken]
    fallback_reason: str | None = None
    if reduction.kernels and time_limit_s > 0:
        search.start()
    started = time.perf_counter()
    for kernel in reduction.kernels:
        remaining = time_limit_s - (time.perf_counter() - started)
        answer = search.maximum_independent_set(
            near[np.ix_(kernel, kernel)], preferred[kernel], preference[kernel], remaining
        )
        if answer.members is None:
            fallback_reason = fallback_reason or answer.failure
            members.append(greedy_independent_set(near, kernel, preference))
        else:
            members.append(kernel[answer.members])
    return ChunkClique(
        members=np.sort(np.concatenate(members)),
        exact=fallback_reason is None,
        kernel_vertices=sum(len(kernel) for kernel in reduction.kernels),
        search_seconds=time.perf_counter() - started,
        fallback_reason=fallback_reason,
    )
