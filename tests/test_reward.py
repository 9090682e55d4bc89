"""`codeboost_dagster.verl.reward`: verl's entry points, scored on hand-made completions, with
backward answers re-executed for real in the local sandbox."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, replace

import pytest

from codeboost_dagster.core.prompts import reference_completion
from codeboost_dagster.core.sandbox import Program, open_sandbox
from codeboost_dagster.core.settings import SandboxLimits
from codeboost_dagster.verl.reward import compute_score, compute_score_batch

CODE = "def f(x):\n    total = 10 // x\n    return total\n\n\nprint(f(2))\nprint(f(0))\n"
LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)


@pytest.fixture(scope="module")
def truth_run():
    with open_sandbox("forkserver", LIMITS, concurrency=1) as sandbox:
        return sandbox.run(Program(CODE))


def _forward_truth(run) -> str:
    return json.dumps({"task_type": "forward", "stdout": run.stdout, "stderr": run.stderr})


def _backward_truth(run, index: int = 1, probes: list | None = None) -> str:
    lines = CODE.split("\n")
    lines[index] = "MASKED_LINE_0"
    return json.dumps(
        {
            "task_type": "backward",
            "stdout": run.stdout,
            "stderr": run.stderr,
            "status": run.status,
            "masked_code": "\n".join(lines),
            "masked_line_index": index,
            "mask_token": "MASKED_LINE_0",
            "stdin": "",
            "probes": probes or [],
            "rerun_wall_time_s": 0.5,
            "backend": "forkserver",
            "python_version": run.python_version,
            "limits": asdict(LIMITS),
        }
    )


def _answer(tag: str, text: str) -> str:
    return f"```{tag}\n{text}```\n"


def test_perfect_forward_answer(truth_run):
    completion = _answer("answer_stdout", truth_run.stdout) + _answer("answer_stderr", truth_run.stderr)
    assert truth_run.status == "error" and truth_run.error_type == "ZeroDivisionError"
    assert compute_score("codeboost/forward", completion, _forward_truth(truth_run))["score"] == pytest.approx(0.775)


def test_backward_answer_that_reproduces_the_traceback(truth_run):
    right = _answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    wrong = _answer("answer_MASKED_LINE_0", "    total = 10 * x\n")
    truth = _backward_truth(truth_run)
    scores = compute_score_batch(["codeboost/backward"] * 3, [right, wrong, "no block"], [truth] * 3)
    assert scores[0]["score"] == pytest.approx(0.775)
    assert scores[0]["stderr_iou"] == 1.0
    assert scores[1]["stdout_ok"] == 0.0 and scores[1]["score"] == pytest.approx(0.1)  # format only
    assert scores[2]["score"] == 0.0
    assert all(score["infra_error"] == 0.0 for score in scores)


def test_hostile_backward_answers_are_bounded_and_score_low(truth_run):
    truth = _backward_truth(truth_run)
    hostile = [
        _answer("answer_MASKED_LINE_0", "    while True: pass\n"),
        _answer("answer_MASKED_LINE_0", "    import os; os.fork(); os.fork()\n"),
        _answer("answer_MASKED_LINE_0", "    print('x' * 10**9)\n"),
        _answer("answer_MASKED_LINE_0", "    import time; time.sleep(60)\n"),
    ]
    scores = compute_score_batch(["codeboost/backward"] * len(hostile), hostile, [truth] * len(hostile))
    assert len(scores) == len(hostile)
    assert all(score["stdout_ok"] == 0.0 for score in scores)


def test_crlf_completions_score_like_lf_ones(truth_run):
    completion = _answer("answer_stdout", truth_run.stdout) + _answer("answer_stderr", truth_run.stderr)
    crlf = completion.replace("\n", "\r\n")
    assert compute_score("codeboost_forward", crlf, _forward_truth(truth_run))["score"] == pytest.approx(0.775)


def test_a_batch_with_fewer_ground_truths_than_completions_is_refused(truth_run):
    with pytest.raises(ValueError, match="ground truths"):
        compute_score_batch(["x"] * 2, ["a", "b"], [_forward_truth(truth_run)])


def test_a_sandbox_failure_is_reported_not_a_silent_zero(truth_run, monkeypatch):
    from codeboost_dagster.verl import reward

    def broken(backend, limits, scale_out, programs):
        return [replace(truth_run, status="sandbox_error", detail="engine gone") for _ in programs]

    monkeypatch.setattr(reward, "_rerun", broken)
    score = compute_score(
        "codeboost_backward", _answer("answer_MASKED_LINE_0", "    total = 10 // x\n"), _backward_truth(truth_run)
    )
    assert score["infra_error"] == 1.0 and score["score"] < 0.775


def test_a_spinning_answer_is_stopped_at_the_derived_wall_limit(truth_run):
    score = compute_score(
        "codeboost_backward", _answer("answer_MASKED_LINE_0", "    while True: pass\n"), _backward_truth(truth_run)
    )
    assert score["stdout_ok"] == 0.0
    with open_sandbox("forkserver", LIMITS, concurrency=1) as sandbox:
        result = sandbox.run(Program("while True: pass\n", wall_time_s=0.5))
    assert result.status == "timeout" and result.wall_ms < 1500


def test_concurrent_calls_like_verls_reward_loop_score_as_the_batch_does(truth_run):
    right = _answer("answer_MASKED_LINE_0", "    total = 10 // x\n")
    wrong = _answer("answer_MASKED_LINE_0", "    total = x\n")
    forward = _answer("answer_stdout", truth_run.stdout) + _answer("answer_stderr", "")
    jobs = [
        (right, _backward_truth(truth_run)),
        (wrong, _backward_truth(truth_run)),
        (forward, _forward_truth(truth_run)),
    ] * 8
    with ThreadPoolExecutor(max_workers=8) as pool:
        concurrent = list(pool.map(lambda job: compute_score("codeboost_backward", *job), jobs))
    batch = compute_score_batch(["codeboost_backward"] * len(jobs), *map(list, zip(*jobs)))
    assert concurrent == batch
    assert batch[0]["score"] == pytest.approx(0.775)
    assert batch[1]["score"] < 0.775 and batch[2]["stderr_iou"] == 0.0


def test_reference_completions_get_the_maximum_score(truth_run):
    forward = reference_completion(json.loads(_forward_truth(truth_run)))
    backward = reference_completion(json.loads(_backward_truth(truth_run)), "    total = 10 // x")
    scores = compute_score_batch(
        ["codeboost"] * 2, [forward, backward], [_forward_truth(truth_run), _backward_truth(truth_run)]
    )
    assert [score["score"] for score in scores] == [pytest.approx(0.775)] * 2


def test_the_reward_uses_the_weights_verl_passes_it(truth_run):
    completion = _answer("answer_stdout", truth_run.stdout) + _answer("answer_stderr", truth_run.stderr)
    truth = _forward_truth(truth_run)
    assert compute_score("codeboost_forward", completion, truth)["score"] == pytest.approx(0.775)
    weighted = compute_score(
        "codeboost_forward", completion, truth, accuracy_weight=0.8, format_weight=0.2, scale_out={"namespace": "x"}
    )
    assert weighted["score"] == pytest.approx(0.8)
