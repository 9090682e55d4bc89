"""Divide and conquer (METHOD.md section 2): M rounds of shuffle, chunk, clique, union.

Nodes are the rows of a `LineIncidence` in snippet_id order, so the seeded shuffle of each
round, and with it the whole selection, does not depend on the input's row order.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from codeboost_dagster.core.curation.clique import EXACT, ChunkClique, chunk_maximum_clique
from codeboost_dagster.core.curation.distance import chunk_distances
from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from codeboost_dagster.core.curation.line_sets import LineIncidence
from codeboost_dagster.core.settings import CurationSettings


@dataclass(frozen=True)
class ChunkStat:
    """What happened in one chunk of one round (`edge_density`: distinct pairs / pairs)."""

    round: int
    chunk: int
    size: int
    pairs: int
    near_duplicate_pairs: int
    edge_density: float
    clique_size: int
    removed: int
    kernel_vertices: int
    method: str
    fallback_reason: str | None
    seconds: float
    search_seconds: float


@dataclass(frozen=True)
class RoundStat:
    """Counts and wall time of one round."""

    round: int
    snippets_in: int
    chunks: int
    kept: int
    removed: int
    exact_chunks: int
    fallback_chunks: int
    seconds: float


@dataclass
class RoundsOutcome:
    """Survivors (node indices, ascending) with their last chunk, and every removal.

    A removed node lost to `lost_to`: its nearest near-duplicate among the snippets its
    chunk kept in that round (ties to the smaller node), at distance `lost_to_distance`.
    The distance sample holds pairs that shared a chunk in round 1 (random pairs).
    """

    survivors: np.ndarray
    final_chunk: np.ndarray
    rounds: list[RoundStat] = field(default_factory=list)
    chunks: list[ChunkStat] = field(default_factory=list)
    removed: list[np.ndarray] = field(default_factory=list)
    removed_round: list[np.ndarray] = field(default_factory=list)
    removed_chunk: list[np.ndarray] = field(default_factory=list)
    lost_to: list[np.ndarray] = field(default_factory=list)
    lost_to_distance: list[np.ndarray] = field(default_factory=list)
    sample_pairs: list[np.ndarray] = field(default_factory=list)
    sample_distance: list[np.ndarray] = field(default_factory=list)


def _preference(preferred: np.ndarray) -> np.ndarray:
    """Rank of each chunk position: preferred (existing) snippets first, then shuffle order."""
    order = np.lexsort((np.arange(len(preferred)), ~preferred))
    rank = np.empty(len(preferred), dtype=np.int64)
    rank[order] = np.arange(len(preferred))
    return rank


def _near_duplicates(distances: np.ndarray, preferred: np.ndarray, gamma: float) -> np.ndarray:
    """Pairs judged too similar; two previously selected snippets are never judged again."""
    near = distances < gamma
    np.fill_diagonal(near, False)
    near[np.ix_(preferred, preferred)] = False
    return near


def _sample_pairs(
    nodes: np.ndarray, distances: np.ndarray, wanted: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    left, right = np.triu_indices(len(nodes), k=1)
    picked = rng.choice(len(left), size=min(wanted, len(left)), replace=False)
    return np.column_stack((nodes[left[picked]], nodes[right[picked]])), distances[left[picked], right[picked]]


def chunk_stat(
    round_number: int, chunk_number: int, size: int, near_pairs: int, clique: ChunkClique, seconds: float
) -> ChunkStat:
    """The stat row of one solved chunk (or, in global mode, component)."""
    pairs = size * (size - 1) // 2
    return ChunkStat(
        round=round_number,
        chunk=chunk_number,
        size=size,
        pairs=pairs,
        near_duplicate_pairs=near_pairs,
        edge_density=(pairs - near_pairs) / pairs if pairs else 1.0,
        clique_size=len(clique.members),
        removed=size - len(clique.members),
        kernel_vertices=clique.kernel_vertices,
        method=clique.method,
        fallback_reason=clique.fallback_reason,
        seconds=seconds,
        search_seconds=clique.search_seconds,
    )


def _record_removals(
    outcome: RoundsOutcome,
    round_number: int,
    chunk_number: int,
    nodes: np.ndarray,
    distances: np.ndarray,
    near: np.ndarray,
    members: np.ndarray,
) -> None:
    removed = np.setdiff1d(np.arange(len(nodes)), members)
    if len(removed) == 0:
        return
    members_by_node = members[np.argsort(nodes[members])]
    candidate = np.where(near[np.ix_(removed, members_by_node)], distances[np.ix_(removed, members_by_node)], np.inf)
    nearest = np.argmin(candidate, axis=1)
    outcome.removed.append(nodes[removed])
    outcome.removed_round.append(np.full(len(removed), round_number))
    outcome.removed_chunk.append(np.full(len(removed), chunk_number))
    outcome.lost_to.append(nodes[members_by_node[nearest]])
    outcome.lost_to_distance.append(candidate[np.arange(len(removed)), nearest])


def _curate_chunk(
    outcome: RoundsOutcome,
    incidence: LineIncidence,
    preferred: np.ndarray,
    settings: CurationSettings,
    search: ExactCliqueSearch,
    position: tuple[int, int, np.ndarray],
) -> tuple[np.ndarray, np.ndarray]:
    """Kept nodes of one chunk (round, chunk, nodes) and its distances; records removals and stats."""
    round_number, chunk_number, nodes = position
    started = time.perf_counter()
    distances = chunk_distances(incidence, nodes)
    chunk_preferred = preferred[nodes]
    near = _near_duplicates(distances, chunk_preferred, settings.gamma)
    clique = chunk_maximum_clique(
        near, chunk_preferred, _preference(chunk_preferred), search, settings.clique_time_limit_s
    )
    _record_removals(outcome, round_number, chunk_number, nodes, distances, near, clique.members)
    seconds = time.perf_counter() - started
    outcome.chunks.append(chunk_stat(round_number, chunk_number, len(near), int(near.sum()) // 2, clique, seconds))
    return nodes[clique.members], distances


def _round_stat(round_number: int, chunk_stats: list[ChunkStat], snippets_in: int, seconds: float) -> RoundStat:
    exact_chunks = sum(stat.method == EXACT for stat in chunk_stats)
    kept = sum(stat.clique_size for stat in chunk_stats)
    return RoundStat(
        round=round_number,
        snippets_in=snippets_in,
        chunks=len(chunk_stats),
        kept=kept,
        removed=snippets_in - kept,
        exact_chunks=exact_chunks,
        fallback_chunks=len(chunk_stats) - exact_chunks,
        seconds=seconds,
    )


def run_rounds(
    incidence: LineIncidence,
    preferred: np.ndarray,
    settings: CurationSettings,
    search: ExactCliqueSearch,
    distance_sample_size: int,
) -> RoundsOutcome:
    """Curate all nodes of `incidence`; `preferred` marks the previously selected ones.

    Chunks of a round are `np.array_split` parts of the shuffled survivors: ceil(n / chunk_size)
    chunks whose sizes differ by at most one, so no chunk is a tiny remainder.
    """
    shuffle_rng, sample_rng = (np.random.default_rng(seed) for seed in np.random.SeedSequence(settings.seed).spawn(2))
    alive = np.arange(len(incidence))
    outcome = RoundsOutcome(survivors=alive, final_chunk=np.zeros(len(alive), dtype=np.int64))
    for round_number in range(1, settings.rounds + 1):
        if len(alive) == 0:
            break
        round_started = time.perf_counter()
        chunks = np.array_split(shuffle_rng.permutation(alive), math.ceil(len(alive) / settings.chunk_size))
        pairs_in_round = sum(len(nodes) * (len(nodes) - 1) // 2 for nodes in chunks)
        kept, kept_chunk = [], []
        for chunk_number, nodes in enumerate(chunks):
            position = (round_number, chunk_number, nodes)
            kept_nodes, distances = _curate_chunk(outcome, incidence, preferred, settings, search, position)
            kept.append(kept_nodes)
            kept_chunk.append(np.full(len(kept_nodes), chunk_number))
            if round_number == 1 and pairs_in_round:
                wanted = math.ceil(distance_sample_size * len(nodes) * (len(nodes) - 1) / 2 / pairs_in_round)
                pairs, sampled = _sample_pairs(nodes, distances, wanted, sample_rng)
                outcome.sample_pairs.append(pairs)
                outcome.sample_distance.append(sampled)
        survivors = np.concatenate(kept)
        order = np.argsort(survivors)
        outcome.survivors, outcome.final_chunk = survivors[order], np.concatenate(kept_chunk)[order]
        seconds = time.perf_counter() - round_started
        outcome.rounds.append(_round_stat(round_number, outcome.chunks[-len(chunks) :], len(alive), seconds))
        removed_any = len(survivors) < len(alive)
        alive = outcome.survivors
        if not removed_any:
            break
    return outcome
