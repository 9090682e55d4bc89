"""Row-level lineage over hand-made tables: each stage's decision about a snippet is named."""

from __future__ import annotations

import pandas as pd
import pytest

from codeboost_dagster.core.lineage import UnknownId, trace


def _reader(tables: dict[str, pd.DataFrame]):
    return tables.get


def test_a_filtered_out_snippet_names_its_reason_and_duplicate():
    raw = pd.DataFrame([{"snippet_id": "s2", "dump": "d.jsonl", "origin": "d.jsonl:row=1"}])
    report = pd.DataFrame([{"snippet_id": "s2", "reason": "exact_duplicate", "duplicate_of": "s1"}])
    lines = trace("s2", _reader({"raw_snippets": raw, "filter_report": report}))
    assert lines == [
        "snippet s2: dump d.jsonl, d.jsonl:row=1",
        "dropped by the filters (exact_duplicate, duplicate of s1)",
    ]


def test_an_exact_duplicate_removed_by_curation_shows_distance_zero():
    raw = pd.DataFrame([{"snippet_id": "s2", "dump": "d.jsonl", "origin": "o"}])
    removed = pd.DataFrame(
        [
            {
                "snippet_id": "s2",
                "reason": "near_duplicate",
                "nearest_survivor_id": "s1",
                "nearest_survivor_distance": 0.0,
                "representative_id": None,
                "representative_distance": None,
            }
        ]
    )
    lines = trace("s2", _reader({"raw_snippets": raw, "curation_report": removed}))
    assert lines[-1] == "removed by curation (near_duplicate): lost to s1 at distance 0.000"


def test_an_unknown_id_is_an_error():
    with pytest.raises(UnknownId):
        trace("nothing", _reader({}))


def test_a_run_stopped_at_a_derived_limit_names_that_limit():
    records = pd.DataFrame(
        [{"program_id": "p1", "variant_id": "v1", "case_index": 0, "status": "timeout", "error_type": None}]
    )
    lines = trace("p1", _reader({"execution_records": records.assign(wall_limit_s=0.1)}))
    assert lines[0] == "program p1: test case 0, timeout at its 0.1 s wall limit"


def test_a_run_names_its_runtime_and_the_packages_it_imported():
    records = pd.DataFrame(
        [{"program_id": "p1", "variant_id": "v1", "case_index": 0, "status": "ok", "error_type": None}]
    )
    on = records.assign(runtime="python 3.11.2, lock 4cd988945615", packages="numpy 2.4.6")
    lines = trace("p1", _reader({"execution_records": on}))
    assert lines[0] == "program p1: test case 0, ok, on python 3.11.2, lock 4cd988945615, importing numpy 2.4.6"


def test_a_held_out_task_shows_how_each_model_and_heuristic_answered_it():
    tasks = pd.DataFrame(
        [{"task_id": "t1", "task_type": "forward", "split": "test", "program_id": "p9", "masked_line_index": -1}]
    )
    predictions = pd.DataFrame(
        [
            {
                "item_id": "t1",
                "model": "trained",
                "score": 0.325,
                "correct": False,
                "reason": "wrong_output",
                "prediction": '{"stdout": "", "stderr": ""}',
            },
            {
                "item_id": "t1",
                "model": "heuristic:empty",
                "score": 0.325,
                "correct": False,
                "reason": "wrong_output",
                "prediction": '{"stdout": "", "stderr": ""}',
            },
        ]
    )
    lines = trace("t1", _reader({"training_tasks": tasks, "evaluation_predictions": predictions}))
    assert lines[1:] == [
        '  evaluated: trained scored 0.325 (wrong_output), read as {"stdout": "", "stderr": ""}',
        '  evaluated: heuristic:empty scored 0.325 (wrong_output), read as {"stdout": "", "stderr": ""}',
    ]
