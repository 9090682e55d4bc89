"""Basic filters (METHOD.md section 1) over raw rows, called directly."""

from __future__ import annotations

from dataclasses import replace

from codeboost_dagster.core.filtering import drop_reason, filter_snippets, raw_snippets_frame
from codeboost_dagster.core.readers import read_dump
from codeboost_dagster.core.settings import FilterSettings, IngestionSettings
from tests.helpers import GOOD_PROGRAM, write_messy_dump


def _row(code: str) -> dict:
    return {"code": code, "test_cases": "[]", "read_error": None, "read_error_detail": None}


def test_messy_dump_outcomes_and_conservation(tmp_path):
    expected = write_messy_dump(tmp_path / "messy")
    raw = raw_snippets_frame(read_dump(tmp_path / "messy", "messy", IngestionSettings()))
    outcome = filter_snippets(raw, FilterSettings())
    assert len(raw) == len(outcome.kept) + len(outcome.dropped)
    got = {origin: "kept" for origin in outcome.kept["origin"]}
    got.update(dict(zip(outcome.dropped["origin"], outcome.dropped["reason"])))
    assert got == expected
    twin = outcome.dropped.set_index("origin").loc["twin.py"]
    assert twin["duplicate_of"] == "good.py"
    assert outcome.kept["snippet_id"].is_unique


def test_thresholds_come_from_settings():
    code = "\n".join(f"x{i} = {i}" for i in range(5))
    assert drop_reason(_row(code), FilterSettings())[0] == "too_short"
    assert drop_reason(_row(code), replace(FilterSettings(), min_lines=5, min_chars=10)) is None
    assert drop_reason(_row(GOOD_PROGRAM * 50), replace(FilterSettings(), max_lines=100))[0] == "too_large"


def test_compile_and_libcst_failures_carry_details():
    reason, detail = drop_reason(_row(GOOD_PROGRAM + "\n)"), FilterSettings())
    assert reason == "syntax_error" and "line" in detail
    deep = "x = " + "(" * 300 + "1" + ")" * 300 + "\n" + GOOD_PROGRAM
    assert drop_reason(_row(deep), FilterSettings())[0] in {"syntax_error", "libcst_parse_error", None}


def test_empty_frame_filters_to_empty_frames():
    outcome = filter_snippets(raw_snippets_frame([]), FilterSettings())
    assert outcome.kept.empty and outcome.dropped.empty
