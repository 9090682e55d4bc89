"""The maximum clique of one chunk: exact reductions, exact search per kernel, greedy fallback."""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from codeboost_dagster.core.curation.greedy import greedy_independent_set
from codeboost_dagster.core.curation.reduction import reduce_near_duplicate_graph

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
