"""`codeboost_dagster.verl.reward`: verl's entry points, scored on hand-made completions, with
backward answers re-executed for real in the local sandbox."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace

import pytest

from codeboost_dagster.core.sandbox import Program, open_sandbox
from codeboost_dagster.core.tasks.prompts import reference_completion
from codeboost_dagster.verl.reward import RewardRuntimeMismatch, compute_score, compute_score_batch, reward_slots
from tests.helpers import REWARD_CODE, REWARD_LIMITS, answer, backward_truth, forward_truth


@pytest.fixture(scope="module")
def truth_run():
    with open_sandbox("forkserver", REWARD_LIMITS, concurrency=1) as sandbox:
        return sandbox.run(Program(REWARD_CODE))


def test_perfect_forward_answer(truth_run):
    completion = answer("answer_stdout", truth_run.stdout) + answer("answer_stderr", truth_run.stderr)
    assert truth_run.status == "error" and truth_run.error_type == "ZeroDivisionError"
    assert compute_score("codeboost/forward", completion, forward_truth(truth_run))["score"] == pytest.approx(0.775)


def test_backward_answer_that_reproduces_the_traceback(truth_run):
    right = answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    wrong = answer("answer_MASKED_LINE_0", "    total = 10 * x\n")
    truth = backward_truth(truth_run)
    scores = compute_score_batch(["codeboost/backward"] * 3, [right, wrong, "no block"], [truth] * 3)
    assert scores[0]["score"] == pytest.approx(0.775)
    assert scores[0]["stderr_iou"] == 1.0
    assert scores[1]["stdout_ok"] == 0.0 and scores[1]["score"] == pytest.approx(0.1)  # format only
    assert scores[2]["score"] == 0.0
    assert all(score["infra_error"] == 0.0 for score in scores)


def test_hostile_backward_answers_are_bounded_and_score_low(truth_run):
    truth = backward_truth(truth_run)
    hostile = [
        answer("answer_MASKED_LINE_0", "    while True: pass\n"),
        answer("answer_MASKED_LINE_0", "    import os; os.fork(); os.fork()\n"),
        answer("answer_MASKED_LINE_0", "    print('x' * 10**9)\n"),
        answer("answer_MASKED_LINE_0", "    import time; time.sleep(60)\n"),
    ]
    scores = compute_score_batch(["codeboost/backward"] * len(hostile), hostile, [truth] * len(hostile))
    assert len(scores) == len(hostile)
    assert all(score["stdout_ok"] == 0.0 for score in scores)


def test_crlf_completions_score_like_lf_ones(truth_run):
    completion = answer("answer_stdout", truth_run.stdout) + answer("answer_stderr", truth_run.stderr)
    crlf = completion.replace("\n", "\r\n")
    assert compute_score("codeboost_forward", crlf, forward_truth(truth_run))["score"] == pytest.approx(0.775)


def test_a_batch_with_fewer_ground_truths_than_completions_is_refused(truth_run):
    with pytest.raises(ValueError, match="ground truths"):
        compute_score_batch(["x"] * 2, ["a", "b"], [forward_truth(truth_run)])


def test_a_sandbox_failure_is_reported_not_a_silent_zero(truth_run, monkeypatch):
    from codeboost_dagster.verl import reward

    class BrokenSandbox:
        def run_many(self, programs):
            return [replace(truth_run, status="sandbox_error", detail="engine gone") for _ in programs]

    monkeypatch.setattr(reward, "_shared_sandbox", lambda key: BrokenSandbox())
    score = compute_score(
        "codeboost_backward", answer("answer_MASKED_LINE_0", "    total = 10 // x\n"), backward_truth(truth_run)
    )
    assert score["infra_error"] == 1.0 and score["score"] < 0.775


def test_a_spinning_answer_is_stopped_at_the_derived_wall_limit(truth_run):
    score = compute_score(
        "codeboost_backward", answer("answer_MASKED_LINE_0", "    while True: pass\n"), backward_truth(truth_run)
    )
    assert score["stdout_ok"] == 0.0
    with open_sandbox("forkserver", REWARD_LIMITS, concurrency=1) as sandbox:
        result = sandbox.run(Program("while True: pass\n", wall_time_s=0.5))
    assert result.status == "timeout" and result.wall_ms < 1500


def test_concurrent_calls_like_verls_reward_loop_score_as_the_batch_does(truth_run):
    right = answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    wrong = answer("answer_MASKED_LINE_0", "    total = x\n")
    forward = answer("answer_stdout", truth_run.stdout) + answer("answer_stderr", "")
    jobs = [
        (right, backward_truth(truth_run)),
        (wrong, backward_truth(truth_run)),
        (forward, forward_truth(truth_run)),
    ] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda job: compute_score("codeboost_backward", *job), jobs))
    batch = compute_score_batch(["codeboost_backward"] * len(jobs), *map(list, zip(*jobs)))
    assert concurrent == batch
    assert batch[0]["score"] == pytest.approx(0.775)
    assert batch[1]["score"] < 0.775 and batch[2]["stderr_iou"] == 0.0


def test_reference_completions_get_the_maximum_score(truth_run):
    forward = reference_completion(json.loads(forward_truth(truth_run)))
    backward = reference_completion(json.loads(backward_truth(truth_run)), "    total = 10 // x")
    scores = compute_score_batch(
        ["codeboost"] * 2, [forward, backward], [forward_truth(truth_run), backward_truth(truth_run)]
    )
    assert [score["score"] for score in scores] == [pytest.approx(0.775)] * 2


def test_the_reward_uses_the_weights_verl_passes_it(truth_run):
    completion = answer("answer_stdout", truth_run.stdout) + answer("answer_stderr", truth_run.stderr)
    truth = forward_truth(truth_run)
    assert compute_score("codeboost_forward", completion, truth)["score"] == pytest.approx(0.775)
    weighted = compute_score(
        "codeboost_forward", completion, truth, accuracy_weight=0.8, format_weight=0.2, scale_out={"namespace": "x"}
    )
    assert weighted["score"] == pytest.approx(0.8)


def test_a_sandbox_of_another_runtime_refuses_to_score(truth_run):
    truth = json.loads(backward_truth(truth_run))
    assert truth["runtime"] == truth_run.runtime != ""
    right = answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    assert compute_score("codeboost_backward", right, json.dumps(truth))["score"] == pytest.approx(0.775)
    truth["runtime"] = f"python {truth_run.python_version}, lock 000000000000"  # built from another lock
    with pytest.raises(RewardRuntimeMismatch, match=r"ran on python .*, lock 000000000000, but the forkserver"):
        compute_score("codeboost_backward", right, json.dumps(truth))


def test_a_ground_truth_without_a_runtime_still_refuses_another_python(truth_run):
    truth = json.loads(backward_truth(truth_run))
    del truth["runtime"]
    truth["python_version"] = "3.12.3"  # what a GPU image's own python3 may be
    right = answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    with pytest.raises(RewardRuntimeMismatch, match=r"ground truth ran on 3\.12\.3, but the forkserver"):
        compute_score("codeboost_backward", right, json.dumps(truth))


def test_each_reward_worker_takes_its_share_of_the_cores():
    assert reward_slots(1) == (os.cpu_count() or 1)
    assert reward_slots(10**6) == 1
