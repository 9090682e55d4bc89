"""`curate`: clique property, conservation, determinism, nearest survivors, reports, bad input."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from codeboost_dagster.core.curation import (
    clique_violations,
    conservation_problems,
    curate,
)
from codeboost_dagster.core.schemas import (
    CHUNK_DTYPES,
    DUMP_DTYPES,
    REMOVED_DTYPES,
    ROUND_DTYPES,
    SELECTION_ADDED_DTYPES,
)
from codeboost_dagster.core.settings import CurationSettings
from tests.core.curation.support import (
    assert_same_result,
    frame,
    naive_distance,
    near_duplicate_families,
    pool_snippets,
)

SETTINGS = CurationSettings(mode="paper")
SMALL_CHUNKS = replace(SETTINGS, chunk_size=40)


@pytest.fixture(scope="module")
def families() -> pd.DataFrame:
    codes = near_duplicate_families(families=15, members=16, seed=1)
    half = len(codes) // 2
    return pd.concat(
        [frame(codes[:half], dump="a", prefix="a"), frame(codes[half:], dump="b", prefix="b")], ignore_index=True
    )


@pytest.fixture(scope="module")
def curated(families):
    return curate(families, settings=SMALL_CHUNKS)


def test_every_final_chunk_is_a_clique_and_every_row_is_accounted_for(families, curated):
    assert len(curated.removed) > 0 and curated.rounds["chunks"].iloc[0] > 1
    assert clique_violations(curated.selection, SMALL_CHUNKS.gamma).empty
    assert conservation_problems([families], curated.selection, curated.removed) == []
    assert len(curated.selection) + len(curated.removed) == len(families)


def test_one_chunk_gives_a_pairwise_distinct_selection():
    codes = near_duplicate_families(families=6, members=6, seed=2)
    result = curate(frame(codes), settings=SETTINGS)
    assert result.rounds["chunks"].iloc[0] == 1
    assert clique_violations(result.selection, SETTINGS.gamma, chunk_column=None).empty


def test_clique_violations_finds_near_duplicates():
    selection = frame(["a\nb\nc\nd", "a\nb\nc\ne", "a\nb\nx", "x"]).assign(final_chunk=[0, 0, 0, 1])
    violations = clique_violations(selection, 0.5)
    assert violations[["snippet_id_a", "snippet_id_b"]].values.tolist() == [["s0000", "s0001"]]
    assert violations["distance"].iloc[0] == naive_distance("a\nb\nc\nd", "a\nb\nc\ne")
    assert len(clique_violations(selection, 0.5, chunk_column=None)) == 1
    assert clique_violations(selection.assign(previously_selected=True), 0.5).empty


def test_removed_rows_name_their_nearest_survivor_and_representative(families, curated):
    codes = families.set_index("snippet_id")["code"]
    removed = curated.removed
    assert (removed["reason"] == "near_duplicate").all()
    assert (removed["nearest_survivor_distance"] < SMALL_CHUNKS.gamma).all()
    assert set(removed["representative_id"]) <= set(curated.selection["snippet_id"])
    for row in removed.itertuples():
        assert row.nearest_survivor_distance == naive_distance(codes[row.snippet_id], codes[row.nearest_survivor_id])
        assert row.representative_distance == naive_distance(codes[row.snippet_id], codes[row.representative_id])
    round_of = removed.set_index("snippet_id")["round"]
    for row in removed.itertuples():
        assert round_of.get(row.nearest_survivor_id, np.inf) > row.round
    chain_end = {}
    for row in removed.sort_values("round", ascending=False).itertuples():
        chain_end[row.snippet_id] = chain_end.get(row.nearest_survivor_id, row.nearest_survivor_id)
    assert removed.set_index("snippet_id")["representative_id"].to_dict() == chain_end
    represented = curated.selection.set_index("snippet_id")["near_duplicates_represented"]
    assert represented.sum() == len(removed)
    assert (
        represented[removed["representative_id"].value_counts().index] == removed["representative_id"].value_counts()
    ).all()


def test_nearest_survivor_on_a_hand_made_case():
    lines = [f"line_{index}" for index in range(1, 10)]
    left, right, bridge = "\n".join(lines[:6]), "\n".join(lines[4:]), "\n".join(lines)
    result = curate(frame([bridge, right, left, "\n".join(lines[3:])]), settings=SETTINGS)
    assert sorted(result.selection["snippet_id"]) == ["s0001", "s0002"]
    removed = result.removed.set_index("snippet_id")
    assert removed.loc["s0000", "nearest_survivor_id"] == "s0002"
    assert removed.loc["s0000", "nearest_survivor_distance"] == 1 - 6 / 9
    assert removed.loc["s0003", "nearest_survivor_id"] == "s0001"
    assert removed.loc["s0003", "nearest_survivor_distance"] == 1 - 5 / 6


def test_nearest_survivor_ties_go_to_the_smaller_id():
    lines = [f"line_{index}" for index in range(1, 10)]
    left, right, bridge = "\n".join(lines[:5]), "\n".join(lines[4:]), "\n".join(lines)
    result = curate(frame([right, left, bridge]), settings=SETTINGS)
    removed = result.removed.set_index("snippet_id")
    assert list(removed.index) == ["s0002"] and removed.loc["s0002", "nearest_survivor_id"] == "s0000"


def test_same_input_and_seed_give_the_same_result_in_any_row_order(families, curated):
    shuffled = families.sample(frac=1.0, random_state=7).reset_index(drop=True)
    assert_same_result(curate(shuffled, settings=SMALL_CHUNKS), curated)
    other_seed = curate(families, settings=replace(SMALL_CHUNKS, seed=1))
    assert not other_seed.chunks["size"].equals(curated.chunks["size"]) or not other_seed.selection.equals(
        curated.selection
    )


def test_report_tables_have_the_documented_columns_and_consistent_counts(families, curated):
    selection_added = {name: str(curated.selection[name].dtype) for name in SELECTION_ADDED_DTYPES}
    assert selection_added == SELECTION_ADDED_DTYPES
    assert list(curated.selection.columns[: len(families.columns)]) == list(families.columns)
    for table, dtypes in [
        (curated.removed, REMOVED_DTYPES),
        (curated.rounds, ROUND_DTYPES),
        (curated.dumps, DUMP_DTYPES),
        (curated.chunks, CHUNK_DTYPES),
    ]:
        assert list(table.columns) == list(dtypes)
    rounds = curated.rounds
    assert list(rounds["round"]) == list(range(1, len(rounds) + 1))
    assert (rounds["snippets_in"] - rounds["removed"] == rounds["kept"]).all()
    assert (rounds["kept"].iloc[:-1].to_numpy() == rounds["snippets_in"].iloc[1:].to_numpy()).all()
    assert rounds["removed"].sum() == len(curated.removed)
    per_round = curated.chunks.groupby("round")[["size", "removed"]].sum()
    assert (per_round["size"].to_numpy() == rounds["snippets_in"].to_numpy()).all()
    assert (curated.chunks["size"] <= SMALL_CHUNKS.chunk_size).all()
    dumps = curated.dumps.set_index("dump")
    assert dumps["snippets_in"].to_dict() == families["dump"].value_counts().to_dict()
    assert dumps["kept"].sum() == len(curated.selection) and dumps["removed"].sum() == len(curated.removed)
    assert (curated.selection["rounds_survived"] == len(rounds)).all()


def test_distance_sample_holds_true_distances_of_round_one_pairs(families, curated):
    codes = families.set_index("snippet_id")["code"]
    sample = curated.distance_sample
    assert 0 < len(sample) <= sum(size * (size - 1) // 2 for size in curated.chunks.query("round == 1")["size"])
    for row in sample.head(200).itertuples():
        assert row.distance == naive_distance(codes[row.snippet_id_a], codes[row.snippet_id_b])
    bounded = curate(families, settings=SMALL_CHUNKS, distance_sample_size=50)
    assert 50 <= len(bounded.distance_sample) <= 50 + len(bounded.chunks.query("round == 1"))


def test_rounds_stop_early_when_nothing_is_removed():
    result = curate(frame([f"x = {index}" for index in range(50)]), settings=replace(SETTINGS, chunk_size=10))
    assert list(result.rounds["removed"]) == [0] and result.removed.empty


def test_forced_fallback_still_gives_cliques_and_conserves():
    candidates = frame(pool_snippets(count=300, pool_size=14, lines_each=7, seed=3))
    settings = replace(SETTINGS, chunk_size=150, clique_time_limit_s=0.0)
    result = curate(candidates, settings=settings)
    assert result.fallback_chunks > 0
    fallback = result.chunks.query("method == 'fallback'")
    assert fallback["fallback_reason"].str.contains("no time left").all() and (fallback["kernel_vertices"] > 0).all()
    assert result.rounds["fallback_chunks"].sum() == result.fallback_chunks
    assert clique_violations(result.selection, settings.gamma).empty
    assert conservation_problems([candidates], result.selection, result.removed) == []
    assert (result.removed["nearest_survivor_distance"] < settings.gamma).all()


def test_empty_input():
    result = curate(frame([]), settings=SETTINGS)
    assert result.selection.empty and result.removed.empty and result.rounds.empty and result.chunks.empty
    assert result.dumps.empty and result.distance_sample.empty


def test_one_snippet():
    result = curate(frame(["print(1)"]), settings=SETTINGS)
    assert list(result.selection["snippet_id"]) == ["s0000"] and result.removed.empty


def test_all_identical_snippets_keep_one():
    result = curate(frame(["a = 1\nprint(a)"] * 1000), settings=SETTINGS)
    assert len(result.selection) == 1 and len(result.removed) == 999
    assert (result.removed["nearest_survivor_distance"] == 0.0).all()
    assert (result.removed["representative_id"] == result.selection["snippet_id"].iloc[0]).all()


def test_empty_and_whitespace_only_snippets_are_duplicates_of_each_other():
    result = curate(frame(["", "  \n\t", "x = 1"]), settings=SETTINGS)
    assert len(result.selection) == 2 and result.removed["nearest_survivor_distance"].tolist() == [0.0]


def test_single_huge_line_snippets():
    huge = ["v = '" + letter * 1_000_000 + "'" for letter in "abcab"]
    result = curate(frame(huge), settings=SETTINGS)
    assert sorted(result.selection["code"].str[5]) == ["a", "b", "c"]
    assert conservation_problems([frame(huge)], result.selection, result.removed) == []


def test_a_hundred_thousand_copies_of_one_snippet():
    candidates = frame(["def f(x):\n    return x + 1\n"] * 100_000)
    result = curate(candidates, settings=SETTINGS)
    assert len(result.selection) == 1 and len(result.removed) == 99_999
    assert result.rounds["removed"].iloc[0] == 100_000 - result.rounds["chunks"].iloc[0]


def test_repeated_snippet_ids_keep_one_row_and_report_the_others():
    candidates = pd.DataFrame(
        {"snippet_id": ["x", "x", "y"], "dump": ["d2", "d1", "d1"], "code": ["a = 1", "a = 1", "b = 2"]}
    )
    result = curate(candidates, settings=SETTINGS)
    assert result.selection[["snippet_id", "dump"]].values.tolist() == [["x", "d1"], ["y", "d1"]]
    duplicate = result.removed.iloc[0]
    assert (duplicate["snippet_id"], duplicate["dump"], duplicate["reason"]) == ("x", "d2", "duplicate_snippet_id")
    assert (duplicate["round"], duplicate["chunk"], duplicate["nearest_survivor_dump"]) == (0, -1, "d1")
    assert duplicate["nearest_survivor_distance"] == 0.0
    assert conservation_problems([candidates], result.selection, result.removed) == []


def test_extra_columns_pass_through_to_the_selection():
    candidates = frame(["a = 1", "b = 2"]).assign(origin=["f.py", "g.py"], test_cases="[]")
    selection = curate(candidates, settings=SETTINGS).selection
    assert selection["origin"].tolist() == ["f.py", "g.py"] and (selection["test_cases"] == "[]").all()


@pytest.mark.parametrize(
    "candidates",
    [
        pd.DataFrame({"snippet_id": ["a"], "code": ["x"]}),
        pd.DataFrame({"snippet_id": ["a"], "dump": ["d"], "code": [None]}),
        pd.DataFrame({"snippet_id": [1], "dump": ["d"], "code": ["x"]}),
    ],
)
def test_malformed_input_is_refused(candidates):
    with pytest.raises(ValueError):
        curate(candidates, settings=SETTINGS)


def test_invalid_settings_are_refused():
    with pytest.raises(ValueError):
        curate(frame(["x"]), settings=replace(SETTINGS, chunk_size=0))
