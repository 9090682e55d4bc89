"""A chunk's maximum clique: exact reductions, the igraph worker, preferences, the fallback."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.curation import exact_search
from codeboost_dagster.core.curation.clique import (
    chunk_maximum_clique,
    greedy_independent_set,
    reduce_near_duplicate_graph,
)
from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from tests.core.curation.support import independence_number, is_independent, is_maximal_independent


@st.composite
def graphs(draw, max_vertices: int = 10) -> np.ndarray:
    """Symmetric boolean adjacency matrices without loops."""
    size = draw(st.integers(1, max_vertices))
    density = draw(st.floats(0.0, 1.0))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    upper = np.triu(rng.random((size, size)) < density, 1)
    return upper | upper.T


def cycle(size: int) -> np.ndarray:
    near = np.zeros((size, size), dtype=bool)
    for vertex in range(size):
        near[vertex, (vertex + 1) % size] = near[(vertex + 1) % size, vertex] = True
    return near


@pytest.fixture(scope="module")
def search():
    with ExactCliqueSearch() as shared:
        yield shared


@settings(max_examples=150, deadline=None)
@given(graphs())
def test_reductions_keep_the_independence_number(near):
    reduction = reduce_near_duplicate_graph(near, np.arange(len(near)))
    kernel_vertices = np.concatenate(reduction.kernels) if reduction.kernels else np.zeros(0, dtype=int)
    assert is_independent(near, reduction.taken)
    assert not near[np.ix_(reduction.taken, kernel_vertices)].any()
    kernels_alpha = sum(independence_number(near[np.ix_(kernel, kernel)]) for kernel in reduction.kernels)
    assert len(reduction.taken) + kernels_alpha == independence_number(near)


@settings(max_examples=100, deadline=None)
@given(graphs(max_vertices=30))
def test_greedy_fallback_is_maximal(near):
    members = greedy_independent_set(near, np.arange(len(near)), np.arange(len(near)))
    assert is_maximal_independent(near, members)


def test_a_cluster_of_mutual_near_duplicates_keeps_its_preferred_member():
    near = ~np.eye(5, dtype=bool)
    preference = np.array([3, 1, 4, 0, 2])
    assert list(reduce_near_duplicate_graph(near, preference).taken) == [3]


def test_a_pendant_vertex_wins_over_its_hub():
    near = np.zeros((4, 4), dtype=bool)
    for leaf in (1, 2, 3):
        near[0, leaf] = near[leaf, 0] = True
    reduction = reduce_near_duplicate_graph(near, np.arange(4))
    assert list(reduction.taken) == [1, 2, 3] and not reduction.kernels


@settings(max_examples=40, deadline=None)
@given(graphs(max_vertices=11))
def test_exact_chunk_clique_is_maximum(search, near):
    clique = chunk_maximum_clique(near, np.zeros(len(near), dtype=bool), np.arange(len(near)), search, 30.0)
    assert clique.exact and clique.method == "exact"
    assert is_maximal_independent(near, clique.members)
    assert len(clique.members) == independence_number(near)


def test_kernels_go_to_igraph_and_ties_prefer_previously_selected(search):
    near = cycle(4)
    assert reduce_near_duplicate_graph(near, np.arange(4)).kernels
    plain = chunk_maximum_clique(near, np.zeros(4, dtype=bool), np.arange(4), search, 30.0)
    assert list(plain.members) == [0, 2] and plain.exact and plain.kernel_vertices == 4
    preferred = np.array([False, True, False, False])
    assert list(chunk_maximum_clique(near, preferred, np.arange(4), search, 30.0).members) == [1, 3]
    by_rank = chunk_maximum_clique(near, np.zeros(4, dtype=bool), np.array([3, 2, 1, 0]), search, 30.0)
    assert list(by_rank.members) == [1, 3]


def test_no_time_left_falls_back_to_a_maximal_clique(search):
    near = cycle(7)
    clique = chunk_maximum_clique(near, np.zeros(7, dtype=bool), np.arange(7), search, 0.0)
    assert not clique.exact and clique.method == "fallback" and "no time left" in clique.fallback_reason
    assert is_maximal_independent(near, clique.members)


def test_a_dense_kernel_hits_the_time_limit_and_the_worker_recovers(search):
    rng = np.random.default_rng(0)
    upper = np.triu(rng.random((150, 150)) < 0.1, 1)
    near = upper | upper.T
    clique = chunk_maximum_clique(near, np.zeros(150, dtype=bool), np.arange(150), search, 0.2)
    assert not clique.exact and "time limit" in clique.fallback_reason
    assert is_maximal_independent(near, clique.members)
    assert chunk_maximum_clique(cycle(5), np.zeros(5, dtype=bool), np.arange(5), search, 30.0).exact


def test_a_worker_that_cannot_start_means_fallback_not_failure(monkeypatch, tmp_path):
    broken = tmp_path / "broken_worker.py"
    broken.write_text("raise SystemExit(1)\n")
    monkeypatch.setattr(exact_search, "WORKER_SCRIPT", broken)
    with ExactCliqueSearch() as search:
        clique = chunk_maximum_clique(cycle(5), np.zeros(5, dtype=bool), np.arange(5), search, 30.0)
    assert not clique.exact and "did not start" in clique.fallback_reason
    assert is_maximal_independent(cycle(5), clique.members)
