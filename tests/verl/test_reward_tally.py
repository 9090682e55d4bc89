"""The reward tally's step summary and the job's reading of verl's step lines as Ray prints them."""

from __future__ import annotations

import math

import pytest

from codeboost_dagster.verl.job import parse_step_line
from codeboost_dagster.verl.reward_tally import summarize

PARTS = ("score", "format", "stdout_ok", "stderr_iou", "infra_error")


def _parts(score: float, fmt: float = 1.0, stdout_ok: float = 0.0, infra: float = 0.0) -> dict[str, float]:
    return dict(zip(PARTS, (score, fmt, stdout_ok, 1.0, infra)))


def test_a_steps_parts_summarize_per_group():
    scored = [
        ("a", _parts(0.775, stdout_ok=1.0)),
        ("a", _parts(0.325)),
        ("b", _parts(0.325)),
        ("b", _parts(0.325)),
        ("c", _parts(0.0, fmt=0.0, infra=1.0)),
    ]
    summary = summarize(scored)
    assert summary["rollouts"] == 5
    assert summary["reward_mean"] == pytest.approx((0.775 + 0.325 * 3) / 5)
    assert summary["format_rate"] == pytest.approx(0.8)
    assert summary["stdout_ok"] == pytest.approx(0.2)
    assert summary["infra_error_rate"] == pytest.approx(0.2)
    assert summary["frac_reward_zero_std"] == pytest.approx(0.5)  # b; c has one rollout: no group spread
    assert summary["reward_std"] == pytest.approx((0.225 + 0.0) / 2)
    assert summarize([]) == {}


@pytest.mark.parametrize(
    "line",
    [
        "step:3 - critic/score/mean:0.41 - actor/kl_loss:0.002",
        "(TaskRunnerV1 pid=4242) step:3 - critic/score/mean:0.41 - actor/kl_loss:0.002",
        "\x1b[36m(TaskRunnerV1 pid=4242, ip=10.0.0.3)\x1b[0m step:3 - critic/score/mean:np.float64(0.41) - "
        "actor/kl_loss:np.float32(0.002) [repeated 2x across cluster]\n",
    ],
)
def test_step_lines_parse_bare_and_as_ray_forwards_them(line):
    assert parse_step_line(line) == {"step": 3, "critic/score/mean": 0.41, "actor/kl_loss": pytest.approx(0.002)}


def test_other_lines_and_unreadable_values_are_left_out():
    assert parse_step_line("(TaskRunnerV1 pid=1) Training Progress: 10%") is None
    assert parse_step_line("(RewardLoopWorker pid=9) step:oops") is None
    parsed = parse_step_line("step:0 - val-core/codeboost_forward/score/mean@1:nan - note:n/a - x:tensor(1.)")
    assert set(parsed) == {"step", "val-core/codeboost_forward/score/mean@1"}
    assert math.isnan(parsed["val-core/codeboost_forward/score/mean@1"])
