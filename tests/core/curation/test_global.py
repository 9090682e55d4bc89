"""Global curation: every near-duplicate pair found and removed, none wrongly; incremental runs
on stored signatures; determinism; fallbacks; rename-insensitive lines; the exact join and LSH."""

from __future__ import annotations

import itertools
from dataclasses import replace

import igraph
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.curation import (
    clique_violations,
    code_band_keys,
    conservation_problems,
    curate,
    line_incidence,
    lsh_parameters,
)
from codeboost_dagster.core.curation.similarity_join import near_duplicate_pairs
from codeboost_dagster.core.schemas import REMOVED_DTYPES, SELECTION_ADDED_DTYPES
from codeboost_dagster.core.settings import CurationSettings
from tests.core.curation.support import assert_same_result, frame, naive_distance, near_duplicate_families

SETTINGS = CurationSettings()


def exact_graph(codes: list[str], gamma: float) -> np.ndarray:
    """The near-duplicate graph by brute force over every pair."""
    near = np.zeros((len(codes), len(codes)), dtype=bool)
    for a, b in itertools.combinations(range(len(codes)), 2):
        near[a, b] = near[b, a] = naive_distance(codes[a], codes[b]) < gamma
    return near


def independence_number(near: np.ndarray) -> int:
    rows, cols = np.nonzero(np.triu(near, k=1))
    return igraph.Graph(n=len(near), edges=list(zip(rows.tolist(), cols.tolist()))).independence_number()


@pytest.fixture(scope="module")
def planted() -> tuple[pd.DataFrame, np.ndarray]:
    """Families of near-variants plus chains a~b~c with a and c distinct, in two dumps."""
    codes = near_duplicate_families(families=12, members=8, seed=3)
    for chain in range(6):
        lines = [f"chain{chain}_line_{line} = {line}" for line in range(16)]
        codes += ["\n".join(lines[start : start + 10]) for start in (0, 3, 6)]  # 7/13 shared: a~b~c, a vs c 4/16
    candidates = pd.concat(
        [frame(codes[::2], dump="a", prefix="a"), frame(codes[1::2], dump="b", prefix="b")], ignore_index=True
    ).sort_values("snippet_id", ignore_index=True)
    return candidates, exact_graph(list(candidates["code"]), SETTINGS.gamma)


@pytest.fixture(scope="module")
def curated(planted):
    return curate(planted[0], settings=SETTINGS)


def test_every_planted_pair_is_found_and_the_selection_is_a_maximum_distinct_set(planted, curated):
    candidates, near = planted
    assert curated.lsh.near_duplicate_pairs == int(near.sum()) // 2 > 50
    kept = candidates["snippet_id"].isin(curated.selection["snippet_id"]).to_numpy()
    assert not near[np.ix_(kept, kept)].any(), "two selected snippets are near-duplicates"
    assert near[np.ix_(~kept, kept)].any(axis=1).all(), "a snippet was removed without a near-duplicate survivor"
    assert kept.sum() == independence_number(near), "not a maximum set of mutually distinct snippets"
    assert conservation_problems([candidates], curated.selection, curated.removed) == []
    assert clique_violations(curated.selection, SETTINGS.gamma, chunk_column=None).empty


def test_chains_keep_both_ends(planted, curated):
    chain_rows = planted[0][planted[0]["code"].str.startswith("chain")]
    middles = chain_rows[chain_rows["code"].str.match(r"chain\d_line_3 ")]
    assert set(middles["snippet_id"]) <= set(curated.removed["snippet_id"])
    assert len(set(chain_rows["snippet_id"]) & set(curated.selection["snippet_id"])) == 12


def test_the_report_names_the_nearest_survivor_and_the_component(planted, curated):
    candidates, near = planted
    position = {snippet_id: index for index, snippet_id in enumerate(candidates["snippet_id"])}
    codes = candidates.set_index("snippet_id")["code"]
    selected = set(curated.selection["snippet_id"])
    components = curated.selection.set_index("snippet_id")["component"]
    for row in curated.removed.itertuples():
        assert row.nearest_survivor_id in selected and row.representative_id == row.nearest_survivor_id
        assert near[position[row.snippet_id], position[row.nearest_survivor_id]]
        survivors = [other for other in selected if near[position[row.snippet_id], position[other]]]
        best = min(naive_distance(codes[row.snippet_id], codes[other]) for other in survivors)
        assert row.nearest_survivor_distance == pytest.approx(best)
        assert row.component == components[row.nearest_survivor_id] >= 0
    assert list(curated.removed.columns) == list(REMOVED_DTYPES)
    assert list(curated.selection.columns)[-len(SELECTION_ADDED_DTYPES) :] == list(SELECTION_ADDED_DTYPES)
    assert (curated.chunks["size"] >= 2).all() and len(curated.chunks) == curated.lsh.components
    assert curated.lsh.recall_estimate == 1.0


def test_row_order_does_not_matter(planted, curated):
    shuffled = planted[0].sample(frac=1.0, random_state=7)
    assert_same_result(curate(shuffled, settings=SETTINGS), curated)


def test_incremental_on_stored_signatures_equals_curating_the_union(planted):
    candidates = planted[0]
    first, second = candidates[candidates["dump"] == "a"], candidates[candidates["dump"] == "b"]
    earlier = curate(first, settings=SETTINGS)
    stored = curate(second, earlier.selection, settings=SETTINGS, signatures=earlier.signatures)
    recomputed = curate(second, earlier.selection, settings=SETTINGS)
    assert_same_result(stored, recomputed)
    pd.testing.assert_frame_equal(stored.signatures, recomputed.signatures)
    assert earlier.selection["previously_selected"].eq(False).all()
    union = pd.concat([earlier.selection[first.columns], second], ignore_index=True)
    near = exact_graph(list(union["code"]), SETTINGS.gamma)
    old = np.arange(len(union)) < len(earlier.selection)
    near[np.ix_(old, old)] = False  # two selected snippets are never judged again
    kept = union["snippet_id"].isin(stored.selection["snippet_id"]).to_numpy()
    assert not near[np.ix_(kept, kept)].any() and kept.sum() == independence_number(near)
    left = stored.removed[stored.removed["previously_selected"]]
    assert left["nearest_survivor_id"].isin(second["snippet_id"]).all(), "an old snippet leaves only for new ones"
    assert conservation_problems([second, earlier.selection[first.columns]], stored.selection, stored.removed) == []


def test_a_dump_with_nothing_near_is_added_whole_and_hashes_only_itself(planted):
    earlier = curate(planted[0], settings=SETTINGS)
    new = frame(near_duplicate_families(families=3, members=1, seed=9, tag="g"), dump="c", prefix="c")
    parameters = lsh_parameters(
        SETTINGS.gamma, SETTINGS.minhash_rows, SETTINGS.minhash_recall_at_threshold, SETTINGS.seed
    )
    hashed: list[int] = []

    def sign(codes):
        hashed.append(len(codes))
        return code_band_keys(codes, parameters, str.strip, False)

    later = curate(new, earlier.selection, settings=SETTINGS, signatures=earlier.signatures, sign=sign)
    assert sum(hashed) == len(new)
    assert set(later.selection["snippet_id"]) == set(earlier.selection["snippet_id"]) | set(new["snippet_id"])
    assert later.removed.empty


def test_signatures_from_other_parameters_are_recomputed(planted):
    earlier = curate(planted[0], settings=SETTINGS)
    other = replace(SETTINGS, minhash_rows=2)
    new = planted[0].head(5).assign(snippet_id=lambda rows: "new" + rows["snippet_id"], dump="c")
    stale = curate(new, earlier.selection, settings=other, signatures=earlier.signatures)
    fresh = curate(new, earlier.selection, settings=other)
    assert_same_result(stale, fresh)
    assert len(stale.removed) == 5, "exact copies of selected snippets are removed"


def test_a_component_above_the_exact_limit_takes_the_recorded_greedy_fallback(planted):
    candidates, near = planted
    bounded = curate(candidates, settings=replace(SETTINGS, max_exact_component=3))
    fallback = bounded.chunks[bounded.chunks["method"] == "fallback"]
    assert len(fallback) > 0 and fallback["fallback_reason"].str.contains("max_exact_component").all()
    assert bounded.lsh.fallback_components == len(fallback)
    kept = candidates["snippet_id"].isin(bounded.selection["snippet_id"]).to_numpy()
    assert not near[np.ix_(kept, kept)].any() and near[np.ix_(~kept, kept)].any(axis=1).all()


def test_renamed_clones_meet_only_with_rename_insensitive_lines():
    base = "\n".join(f"total_{line} = count_{line} + {line}" for line in range(10))
    renamed = base.replace("total_", "sum_").replace("count_", "n_")
    candidates = frame([base, renamed])
    assert len(curate(candidates, settings=SETTINGS).selection) == 2
    assert len(curate(candidates, settings=replace(SETTINGS, rename_identifiers=True)).selection) == 1


def test_paper_mode_has_no_components_and_no_signatures(planted):
    paper = curate(planted[0], settings=replace(SETTINGS, mode="paper"))
    assert paper.lsh is None and paper.signatures.empty
    assert (paper.selection["component"] == -1).all() and (paper.removed["component"] == -1).all()
    with pytest.raises(ValueError, match="mode"):
        curate(planted[0], settings=replace(SETTINGS, mode="chunks"))


def test_bands_follow_gamma_and_reach_the_recall_target():
    parameters = lsh_parameters(0.5, 3, 0.998, 0)
    assert (parameters.rows, parameters.bands) == (3, 47)
    assert parameters.candidate_probability(0.5) >= 0.998 > parameters.candidate_probability(0.45)
    assert lsh_parameters(0.3, 3, 0.998, 0).bands < parameters.bands


@settings(max_examples=40, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 14), min_size=0, max_size=7), min_size=2, max_size=25),
    st.sampled_from([0.3, 0.5, 0.8]),
)
def test_the_prefix_join_finds_exactly_the_pairs_below_gamma(line_choices, gamma):
    codes = ["\n".join(f"line_{line}" for line in lines) for lines in line_choices]
    left, right, distance = near_duplicate_pairs(line_incidence(codes), gamma)
    expected = {
        (a, b) for a, b in itertools.combinations(range(len(codes)), 2) if naive_distance(codes[a], codes[b]) < gamma
    }
    assert set(zip(left.tolist(), right.tolist())) == expected
    assert all(d == pytest.approx(naive_distance(codes[a], codes[b])) for a, b, d in zip(left, right, distance))
