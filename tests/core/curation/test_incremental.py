"""Incremental curation: adding a dump equals curating the union, or differs only as documented.

The documented differences (curate.py): (1) the union holds the previous selection, not every
snippet ever seen; (2) two previously selected snippets are never judged again; (3) ties
prefer previously selected snippets.
"""

from __future__ import annotations

from dataclasses import replace

import pandas as pd

from codeboost_dagster.core.curation import clique_violations, conservation_problems, curate
from codeboost_dagster.core.settings import CurationSettings
from tests.core.curation.support import comparable, frame, near_duplicate_families

SETTINGS = replace(CurationSettings(), mode="paper", chunk_size=60)
INPUT_COLUMNS = ["snippet_id", "dump", "code"]
BRIDGE_LINES = [f"line_{index}" for index in range(1, 10)]


def _without_provenance(result) -> dict[str, pd.DataFrame]:
    tables = comparable(result)
    tables["selection"] = tables["selection"].drop(columns="previously_selected")
    tables["removed"] = tables["removed"].drop(columns="previously_selected")
    tables["dumps"] = tables["dumps"].drop(columns=["kept_previously_selected", "removed_previously_selected"])
    return tables


def assert_same_up_to_provenance(incremental, scratch) -> None:
    for name, table in _without_provenance(incremental).items():
        pd.testing.assert_frame_equal(table, _without_provenance(scratch)[name], obj=name)


def test_adding_a_dump_equals_curating_all_dumps_when_nothing_was_removed_or_shared():
    first = frame(near_duplicate_families(families=70, members=1, seed=1, tag="a"), dump="first", prefix="a")
    second = frame(near_duplicate_families(families=20, members=6, seed=2, tag="b"), dump="second", prefix="b")
    before = curate(first, settings=SETTINGS)
    assert before.removed.empty
    incremental = curate(second, existing=before.selection, settings=SETTINGS)
    scratch = curate(pd.concat([first, second], ignore_index=True), settings=SETTINGS)
    assert len(incremental.removed) > 0 and incremental.rounds["chunks"].iloc[0] > 1
    assert_same_up_to_provenance(incremental, scratch)
    assert incremental.selection.query("dump == 'first'")["previously_selected"].all()


def test_adding_a_dump_equals_curating_the_previous_selection_plus_the_dump():
    first = frame(near_duplicate_families(families=8, members=6, seed=3, tag="a"), dump="first", prefix="a")
    second = frame(near_duplicate_families(families=20, members=6, seed=4, tag="b"), dump="second", prefix="b")
    before = curate(first, settings=SETTINGS)
    assert len(before.removed) > 0 and before.rounds["chunks"].iloc[0] == 1
    incremental = curate(second, existing=before.selection, settings=SETTINGS)
    scratch = curate(pd.concat([before.selection[INPUT_COLUMNS], second], ignore_index=True), settings=SETTINGS)
    assert_same_up_to_provenance(incremental, scratch)
    assert not set(before.removed["snippet_id"]) & set(incremental.removed["snippet_id"])
    assert conservation_problems([before.selection, second], incremental.selection, incremental.removed) == []


def test_incremental_results_do_not_depend_on_row_order():
    codes = near_duplicate_families(families=10, members=6, seed=7)
    first, second = frame(codes[0::2], dump="first", prefix="a"), frame(codes[1::2], dump="second", prefix="b")
    existing = curate(first, settings=SETTINGS).selection
    result = curate(second, existing=existing, settings=SETTINGS)
    again = curate(second.iloc[::-1], existing=existing.sample(frac=1.0, random_state=3), settings=SETTINGS)
    for name, table in comparable(result).items():
        pd.testing.assert_frame_equal(table, comparable(again)[name], obj=name)


def test_a_new_near_duplicate_never_swaps_one_for_one_with_an_existing_snippet():
    old, new = "a = 1\nb = 2\nc = 3", "a = 1\nb = 2\nc = 3\nd = 4"
    existing = frame([old], dump="first", prefix="old")
    candidates = frame([new], dump="second", prefix="new")
    scratch_winners = set()
    for seed in range(12):
        settings = replace(SETTINGS, seed=seed)
        result = curate(candidates, existing=existing, settings=settings)
        assert result.selection["snippet_id"].tolist() == ["old0000"]
        removed = result.removed.iloc[0]
        assert (removed["snippet_id"], removed["nearest_survivor_id"], removed["nearest_survivor_dump"]) == (
            "new0000",
            "old0000",
            "first",
        )
        assert result.dumps.set_index("dump").loc["second", "removed_for_other_dump"] == 1
        scratch = curate(pd.concat([existing, candidates], ignore_index=True), settings=settings)
        scratch_winners |= set(scratch.selection["snippet_id"])
    assert scratch_winners == {"old0000", "new0000"}


def test_previously_selected_pairs_are_never_judged_again():
    twins = frame(["a = 1\nb = 2\nc = 3\nd = 4", "a = 1\nb = 2\nc = 3\ne = 5"], dump="first", prefix="old")
    candidates = frame(["z = 26"], dump="second", prefix="new")
    incremental = curate(candidates, existing=twins, settings=SETTINGS)
    assert len(incremental.selection) == 3 and incremental.removed.empty
    assert clique_violations(incremental.selection, SETTINGS.gamma, chunk_column=None).empty
    scratch = curate(pd.concat([twins, candidates], ignore_index=True), settings=SETTINGS)
    assert len(scratch.selection) == 2


def test_new_snippets_replace_an_existing_one_when_the_clique_grows():
    existing = frame(["\n".join(BRIDGE_LINES)], dump="first", prefix="old")
    candidates = frame(["\n".join(BRIDGE_LINES[:6]), "\n".join(BRIDGE_LINES[4:])], dump="second", prefix="new")
    result = curate(candidates, existing=existing, settings=SETTINGS)
    assert sorted(result.selection["snippet_id"]) == ["new0000", "new0001"]
    replaced = result.removed.iloc[0]
    assert replaced["snippet_id"] == "old0000" and replaced["previously_selected"]
    assert (replaced["nearest_survivor_id"], replaced["nearest_survivor_distance"]) == ("new0000", 1 - 6 / 9)
    assert result.dumps.set_index("dump").loc["first", "removed_previously_selected"] == 1


def test_cross_dump_near_duplicates_are_removed():
    codes = near_duplicate_families(families=10, members=4, seed=5)
    first = frame(codes[0::2], dump="first", prefix="a")
    second = frame(codes[1::2], dump="second", prefix="b")
    before = curate(first, settings=SETTINGS)
    result = curate(second, existing=before.selection, settings=SETTINGS)
    assert result.rounds["chunks"].iloc[0] == 1
    crossed = result.removed.query("dump == 'second' and representative_dump == 'first'")
    assert len(crossed) > 0
    assert clique_violations(result.selection, SETTINGS.gamma, chunk_column=None).empty


def test_a_candidate_already_selected_keeps_the_existing_row():
    existing = frame(["a = 1", "b = 2"], dump="first")
    candidates = frame(["a = 1", "c = 3"], dump="second", prefix="n").assign(snippet_id=["s0000", "n0001"])
    result = curate(candidates, existing=existing, settings=SETTINGS)
    assert result.selection[["snippet_id", "dump", "previously_selected"]].values.tolist() == [
        ["n0001", "second", False],
        ["s0000", "first", True],
        ["s0001", "first", True],
    ]
    assert result.removed[["snippet_id", "dump", "reason"]].values.tolist() == [
        ["s0000", "second", "duplicate_snippet_id"]
    ]


def test_three_dumps_in_a_row_conserve_every_row():
    codes = near_duplicate_families(families=12, members=9, seed=6)
    dumps = [frame(codes[index::3], dump=f"d{index}", prefix=f"d{index}_") for index in range(3)]
    selection = None
    for dump in dumps:
        result = curate(dump, existing=selection, settings=SETTINGS)
        inputs = [dump] if selection is None else [dump, selection]
        assert conservation_problems(inputs, result.selection, result.removed) == []
        assert clique_violations(result.selection, SETTINGS.gamma).empty
        selection = result.selection
