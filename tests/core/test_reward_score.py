"""The reward formula (METHOD.md section 6) on hand-computed cases."""

from __future__ import annotations

import pytest

from codeboost_dagster.core.settings import RewardSettings
from codeboost_dagster.core.tasks.answers import fence_for, last_block
from codeboost_dagster.core.tasks.reward_score import score_outputs, stderr_iou, stdout_matches

WEIGHTS = RewardSettings()


def _forward(stdout: str | None, stderr: str | None, true_stdout: str, true_stderr: str) -> float:
    found = (stdout is not None) + (stderr is not None)
    return score_outputs(stdout, stderr, true_stdout, true_stderr, found, 2, WEIGHTS).score


def test_perfect_answer_is_0_775():
    assert _forward("4\n", "", "4\n", "") == pytest.approx(0.775)


def test_missing_stderr_block():
    assert _forward("4\n", None, "4\n", "") == pytest.approx(0.9 * (1 + 0) / 2 + 0.1 * 0.5)


def test_no_block_scores_zero():
    assert _forward(None, None, "4\n", "") == 0.0


@pytest.mark.parametrize("predicted", ["4\n", "4", "4\n\n", "\n4\n"])
def test_one_extra_newline_is_tolerated(predicted):
    assert stdout_matches(predicted, "4\n")


@pytest.mark.parametrize("predicted", ["4\n\n\n", " 4\n", "5\n"])
def test_other_differences_are_not(predicted):
    assert not stdout_matches(predicted, "4\n")


def test_empty_stderr_on_both_sides_is_full_overlap():
    assert stderr_iou("", "") == 1.0


def test_multiset_line_iou_with_repeated_lines():
    assert stderr_iou("a\na\nb\n", "a\nb\nb\nc\n") == pytest.approx(2 / 5)
    assert stderr_iou("a  \n", "a\n") == 1.0


def test_wrong_stdout_right_traceback():
    trace = "Traceback (most recent call last):\nZeroDivisionError: division by zero\n"
    assert _forward("1\n", trace, "3\n", trace) == pytest.approx(0.9 * 0.5 / 2 + 0.1)


def test_weights_come_from_settings():
    weights = RewardSettings(accuracy_weight=1.0, format_weight=0.0, stderr_weight=1.0)
    assert score_outputs("4\n", "", "4\n", "", 2, 2, weights).score == pytest.approx(1.0)


def test_last_block_wins_and_fences_may_be_longer():
    completion = "```answer_stdout\nexample\n```\nthinking...\n````answer_stdout\nreal ``` text\n````\n"
    assert last_block(completion, "answer_stdout") == "real ``` text\n"
    assert last_block("```answer_stdout\n```", "answer_stdout") == ""
    assert last_block("no blocks", "answer_stdout") is None
    assert fence_for("a ```` b") == "`````"
