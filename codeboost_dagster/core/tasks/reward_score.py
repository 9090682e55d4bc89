"""METHOD.md section 6: the rule-based reward, as pure functions of predicted and true outputs."""

from __future__ import annotations

from collections import Counter
from dataclasses import asdict, dataclass

from codeboost_dagster.core.settings import RewardSettings


@dataclass(frozen=True)
class Score:
    """The reward and its parts; `score` is what GRPO optimises. `infra_error` is 1.0 when a re-run
    failed inside the sandbox itself (not the answer's doing): such a 0 is reported, never silent."""

    score: float
    format: float
    stdout_ok: float
    stderr_iou: float
    infra_error: float = 0.0

    def to_dict(self) -> dict[str, float]:
        """Plain dict, the shape verl's reward managers expect (`score` plus extra keys)."""
        return asdict(self)


def stdout_matches(predicted: str, expected: str) -> bool:
    """Exact match, tolerating one extra leading or trailing newline on either side."""
    if predicted == expected:
        return True
    longer, shorter = (predicted, expected) if len(predicted) > len(expected) else (expected, predicted)
    return longer in (shorter + "\n", "\n" + shorter)


def stderr_iou(predicted: str, expected: str) -> float:
    """Multiset intersection over union of lines (trailing spaces ignored); 1.0 when both are empty."""
    predicted_lines = Counter(line.rstrip() for line in predicted.splitlines())
    expected_lines = Counter(line.rstrip() for line in expected.splitlines())
    union = sum((predicted_lines | expected_lines).values())
    if union == 0:
        return 1.0
    return sum((predicted_lines & expected_lines).values()) / union


def reproduces(stdout: str, stderr: str, status: str, expected: dict) -> bool:
    """Full accuracy against a recorded run (`expected` has stdout, stderr, status): the test every
    hidden probe, load-bearing check and exploit stub is held to."""
    return (
        status == expected["status"]
        and stdout_matches(stdout, expected["stdout"])
        and stderr_iou(stderr, expected["stderr"]) == 1.0
    )


def max_score(weights: RewardSettings) -> float:
    """The reward of a perfect answer (0.775 with the defaults)."""
    return weights.accuracy_weight * (1 + weights.stderr_weight) / 2 + weights.format_weight


def combine(
    blocks_found: int, blocks_required: int, stdout_ok: bool, stderr_overlap: float, weights: RewardSettings
) -> Score:
    """reward = accuracy_weight * (stdout_ok + stderr_weight * iou) / 2 + format_weight * fmt; 0 without any block."""
    fmt = blocks_found / blocks_required
    if fmt == 0:
        return Score(0.0, 0.0, 0.0, 0.0)
    accuracy = (float(stdout_ok) + weights.stderr_weight * stderr_overlap) / 2
    score = weights.accuracy_weight * accuracy + weights.format_weight * fmt
    return Score(score, fmt, float(stdout_ok), stderr_overlap)


def score_outputs(
    predicted_stdout: str | None,
    predicted_stderr: str | None,
    expected_stdout: str,
    expected_stderr: str,
    blocks_found: int,
    blocks_required: int,
    weights: RewardSettings,
) -> Score:
    """Score predicted outputs against the truth; a missing prediction scores 0 on its part."""
    stdout_ok = predicted_stdout is not None and stdout_matches(predicted_stdout, expected_stdout)
    overlap = stderr_iou(predicted_stderr, expected_stderr) if predicted_stderr is not None else 0.0
    return combine(blocks_found, blocks_required, stdout_ok, overlap, weights)
