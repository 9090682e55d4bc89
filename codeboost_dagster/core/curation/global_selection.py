"""Global mode (METHOD.md section 2): the maximum set of mutually distinct snippets, component by
component of the near-duplicate graph over every pair that matters.

Candidate pairs come from MinHash LSH (`minhash`); exact distances keep those below gamma; the
kept pairs are the edges of the near-duplicate graph. A maximum clique of the "distinct enough"
graph is a maximum independent set of this graph, and the independence number of a graph is the
sum over its connected components, so each component is solved on its own: the chunk machinery's
reductions, exact igraph search within `clique_time_limit_s`, greedy fallback (recorded), and for
components above `max_exact_component` the sparse greedy directly (recorded). Every removed
snippet lost to its nearest kept near-duplicate, which is also its representative.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components

from codeboost_dagster.core.curation.clique import (
    FALLBACK,
    ChunkClique,
    chunk_maximum_clique,
    greedy_independent_set_sparse,
)
from codeboost_dagster.core.curation.distance import jaccard_distance, pair_distances
from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from codeboost_dagster.core.curation.line_sets import LineIncidence
from codeboost_dagster.core.curation.minhash import LshParameters
from codeboost_dagster.core.curation.pairs import contained, decode
from codeboost_dagster.core.curation.rounds import RoundsOutcome, RoundStat, chunk_stat
from codeboost_dagster.core.curation.similarity_join import verified_near_pairs
from codeboost_dagster.core.settings import CurationSettings

RECALL_QUERY_BATCH = 50


@dataclass(frozen=True)
class LshReport:
    """What the LSH stage found, and how much of the truth it found (measured on a sample).

    `recall_estimate` is found / true over the exhaustively searched pairs of `recall_queries`
    sampled new snippets (NaN when they have no near-duplicate at all).
    """

    rows: int
    bands: int
    candidate_pairs: int
    near_duplicate_pairs: int
    components: int
    largest_component: int
    fallback_components: int
    recall_queries: int
    recall_true_pairs: int
    recall_found_pairs: int

    @property
    def recall_estimate(self) -> float:
        """Share of the sampled true near-duplicate pairs that LSH made candidates."""
        return self.recall_found_pairs / self.recall_true_pairs if self.recall_true_pairs else float("nan")


def preference_rank(preferred: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Tie-break rank of every node: previously selected first, then a seeded random order."""
    order = np.lexsort((rng.permutation(len(preferred)), ~preferred))
    rank = np.empty(len(preferred), dtype=np.int64)
    rank[order] = np.arange(len(preferred))
    return rank


def _components(count: int, left: np.ndarray, right: np.ndarray) -> np.ndarray:
    """Component id of every node of the graph with these edges, numbered by smallest member."""
    adjacency = sp.csr_array((np.ones(len(left), dtype=bool), (left, right)), shape=(count, count))
    _, labels = connected_components(adjacency, directed=False)
    first_member = np.full(labels.max() + 1 if count else 0, count, dtype=np.int64)
    np.minimum.at(first_member, labels, np.arange(count))
    renumber = np.empty(len(first_member), dtype=np.int64)
    renumber[np.argsort(first_member)] = np.arange(len(first_member))
    return renumber[labels]


def _solve(
    nodes: np.ndarray,
    local_edges: tuple[np.ndarray, np.ndarray],
    preferred: np.ndarray,
    rank: np.ndarray,
    settings: CurationSettings,
    search: ExactCliqueSearch,
) -> ChunkClique:
    """Kept positions (into `nodes`, ascending) of one component with these local edges."""
    size = len(nodes)
    if size > settings.max_exact_component:
        started = time.perf_counter()
        sub = sp.csr_array(
            (
                np.ones(2 * len(local_edges[0]), dtype=bool),
                (np.concatenate(local_edges), np.concatenate(local_edges[::-1])),
            ),
            shape=(size, size),
        )
        members = greedy_independent_set_sparse(sub, rank[nodes])
        reason = f"component of {size} snippets is above max_exact_component={settings.max_exact_component}"
        return ChunkClique(members, False, size, time.perf_counter() - started, reason)
    near = np.zeros((size, size), dtype=bool)
    near[local_edges[0], local_edges[1]] = True
    near[local_edges[1], local_edges[0]] = True
    return chunk_maximum_clique(near, preferred[nodes], rank[nodes], search, settings.clique_time_limit_s)


def _record_losses(
    outcome: RoundsOutcome, kept: np.ndarray, component: np.ndarray, edges: tuple[np.ndarray, np.ndarray, np.ndarray]
) -> None:
    """Each removed node lost to its nearest kept near-duplicate (ties: the smaller node)."""
    left, right, distance = edges
    loser = np.concatenate((left, right))
    winner = np.concatenate((right, left))
    both_distance = np.concatenate((distance, distance))
    relevant = ~kept[loser] & kept[winner]
    loser, winner, both_distance = loser[relevant], winner[relevant], both_distance[relevant]
    order = np.lexsort((winner, both_distance, loser))
    first = np.concatenate(([True], np.diff(loser[order]) != 0)) if len(order) else np.zeros(0, dtype=bool)
    chosen = order[first]
    outcome.removed.append(loser[chosen])
    outcome.removed_round.append(np.ones(len(chosen), dtype=np.int64))
    outcome.removed_chunk.append(component[loser[chosen]])
    outcome.lost_to.append(winner[chosen])
    outcome.lost_to_distance.append(both_distance[chosen])


def _recall(
    incidence: LineIncidence,
    queries: np.ndarray,
    involved: np.ndarray,
    candidate_codes: np.ndarray,
    gamma: float,
) -> tuple[int, int]:
    """(true, found) near-duplicate pairs of `queries` among `involved` nodes, by exhaustive search."""
    count = len(incidence)
    targets = np.flatnonzero(involved)
    transposed = sp.csr_array(incidence.matrix[targets].T)
    true_codes = []
    for start in range(0, len(queries), RECALL_QUERY_BATCH):
        batch = queries[start : start + RECALL_QUERY_BATCH]
        shared = sp.coo_array(incidence.matrix[batch] @ transposed)
        query, target = batch[shared.row], targets[shared.col]
        distance = jaccard_distance(shared.data.astype(np.int64), incidence.sizes[query], incidence.sizes[target])
        near = (distance < gamma) & (query != target)
        query, target = query[near], target[near]
        true_codes.append(np.minimum(query, target) * count + np.maximum(query, target))
    truth = np.unique(np.concatenate(true_codes)) if true_codes else np.zeros(0, dtype=np.int64)
    return len(truth), int(contained(candidate_codes, truth).sum())


def select_globally(
    incidence: LineIncidence,
    candidate_codes: np.ndarray,
    preferred: np.ndarray,
    involved: np.ndarray,
    settings: CurationSettings,
    parameters: LshParameters,
    search: ExactCliqueSearch,
    distance_sample_size: int,
) -> tuple[RoundsOutcome, np.ndarray, LshReport]:
    """Curate every node of `incidence` given LSH candidate pairs (codes, see `pairs`).

    `involved` marks the nodes whose line sets the incidence holds (the others are previously
    selected snippets that no candidate touches: kept without comparison). Returns the outcome
    (one round; "chunks" are the components with a near-duplicate pair), the component id of
    every node, and the LSH report.
    """
    started = time.perf_counter()
    count = len(incidence)
    shuffle_rng, sample_rng = (np.random.default_rng(seed) for seed in np.random.SeedSequence(settings.seed).spawn(2))
    rank = preference_rank(preferred, shuffle_rng)
    edges = verified_near_pairs(incidence, *decode(candidate_codes, count), settings.gamma)
    component = _components(count, edges[0], edges[1])
    sizes = np.bincount(component, minlength=component.max() + 1 if count else 0)
    kept = np.ones(count, dtype=bool)
    outcome = RoundsOutcome(survivors=np.zeros(0, dtype=np.int64), final_chunk=np.zeros(0, dtype=np.int64))
    members_of = np.argsort(component, kind="stable")
    node_bounds = np.concatenate(([0], np.cumsum(sizes)))
    edge_order = np.argsort(component[edges[0]], kind="stable")
    edge_bounds = np.searchsorted(component[edges[0]][edge_order], np.arange(len(sizes) + 1))
    for number in np.flatnonzero(sizes > 1):
        component_started = time.perf_counter()
        nodes = members_of[node_bounds[number] : node_bounds[number + 1]]
        own = edge_order[edge_bounds[number] : edge_bounds[number + 1]]
        local_edges = (np.searchsorted(nodes, edges[0][own]), np.searchsorted(nodes, edges[1][own]))
        clique = _solve(nodes, local_edges, preferred, rank, settings, search)
        kept[nodes] = False
        kept[nodes[clique.members]] = True
        seconds = time.perf_counter() - component_started
        outcome.chunks.append(chunk_stat(1, int(number), len(nodes), len(own), clique, seconds))
    _record_losses(outcome, kept, component, edges)
    outcome.survivors = np.flatnonzero(kept)
    outcome.final_chunk = np.zeros(len(outcome.survivors), dtype=np.int64)
    new = np.flatnonzero(~preferred & involved)
    _sample_distances(outcome, incidence, new, distance_sample_size, sample_rng)
    queries = np.sort(sample_rng.choice(new, size=min(settings.recall_sample_size, len(new)), replace=False))
    true_pairs, found_pairs = _recall(incidence, queries, involved, candidate_codes, settings.gamma)
    fallback = sum(stat.method == FALLBACK for stat in outcome.chunks)
    outcome.rounds.append(
        RoundStat(
            round=1,
            snippets_in=count,
            chunks=len(outcome.chunks),
            kept=len(outcome.survivors),
            removed=count - len(outcome.survivors),
            exact_chunks=len(outcome.chunks) - fallback,
            fallback_chunks=fallback,
            seconds=time.perf_counter() - started,
        )
    )
    report = LshReport(
        rows=parameters.rows,
        bands=parameters.bands,
        candidate_pairs=len(candidate_codes),
        near_duplicate_pairs=len(edges[0]),
        components=len(outcome.chunks),
        largest_component=int(sizes.max()) if len(sizes) else 0,
        fallback_components=fallback,
        recall_queries=len(queries),
        recall_true_pairs=true_pairs,
        recall_found_pairs=found_pairs,
    )
    return outcome, component, report


def _sample_distances(
    outcome: RoundsOutcome, incidence: LineIncidence, nodes: np.ndarray, wanted: int, rng: np.random.Generator
) -> None:
    """Random pairs of new snippets and their distances, for the distribution plot."""
    if len(nodes) < 2 or wanted <= 0:
        return
    left, right = rng.choice(nodes, size=wanted), rng.choice(nodes, size=wanted)
    distinct = left != right
    pairs = np.column_stack((np.minimum(left, right), np.maximum(left, right)))[distinct]
    outcome.sample_pairs.append(pairs)
    outcome.sample_distance.append(pair_distances(incidence, pairs[:, 0], pairs[:, 1]))
