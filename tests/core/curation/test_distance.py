"""Line-level Jaccard distance: vectorised values equal a naive Python set implementation."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.curation import chunk_distances, line_incidence, line_set, pair_distances
from tests.core.curation.support import naive_distance

LINES = st.sampled_from(["a = 1", "  a = 1  ", "b = 2", "return a", "", "   ", "\tpass", "x=1", "x = 1"])
CODES = st.lists(st.lists(LINES, max_size=8).map("\n".join), min_size=1, max_size=12)


@settings(max_examples=60, deadline=None)
@given(CODES)
def test_chunk_distances_equal_naive_sets(codes):
    distances = chunk_distances(line_incidence(codes), np.arange(len(codes)))
    expected = np.array([[naive_distance(a, b) for b in codes] for a in codes])
    assert np.array_equal(distances, expected)


@settings(max_examples=40, deadline=None)
@given(CODES, st.randoms(use_true_random=False))
def test_pair_distances_and_row_subsets_equal_naive_sets(codes, rng):
    incidence = line_incidence(codes)
    left = np.array([rng.randrange(len(codes)) for _ in range(10)])
    right = np.array([rng.randrange(len(codes)) for _ in range(10)])
    assert np.array_equal(
        pair_distances(incidence, left, right),
        [naive_distance(codes[a], codes[b]) for a, b in zip(left, right, strict=True)],
    )
    subset = np.unique(left)
    assert np.array_equal(
        chunk_distances(incidence, subset), [[naive_distance(codes[a], codes[b]) for b in subset] for a in subset]
    )


def test_empty_snippets_are_identical_to_each_other_and_disjoint_from_the_rest():
    codes = ["", "  \n\n\t", "x = 1"]
    distances = chunk_distances(line_incidence(codes), np.arange(3))
    assert distances[0, 1] == 0.0 and distances[0, 2] == 1.0 and distances[1, 2] == 1.0


def test_line_sets_strip_and_ignore_order_and_repeats():
    assert line_set("  a\nb  \n\na\n") == {"a", "b"}
    shuffled = chunk_distances(line_incidence(["a\nb\nc", "c\nb\na\na"]), np.arange(2))
    assert shuffled[0, 1] == 0.0


def test_normalisation_is_configurable():
    codes = ["x = 1  # first", "x = 1  # second"]
    assert chunk_distances(line_incidence(codes), np.arange(2))[0, 1] == 1.0

    def without_comment(line: str) -> str:
        return line.split("#")[0].strip()

    assert chunk_distances(line_incidence(codes, without_comment), np.arange(2))[0, 1] == 0.0


def test_single_huge_lines():
    huge = "x = '" + "a" * 2_000_000 + "'"
    codes = [huge, huge + " ", huge[:-2] + "b'", "y = 2"]
    distances = chunk_distances(line_incidence(codes), np.arange(4))
    assert distances[0, 1] == 0.0 and distances[0, 2] == 1.0 and distances[0, 3] == 1.0
