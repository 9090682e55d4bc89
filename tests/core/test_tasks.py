"""Forward/backward task construction from execution records, called directly."""

from __future__ import annotations

import json

import pandas as pd

from codeboost_dagster.core.answers import last_block
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import SandboxLimits, TaskSettings
from codeboost_dagster.core.tasks import build_tasks, split_of

CODE = "def f(x):\n    return 10 // x\n\n\nprint(f(2))\nprint(f(0))\n"
TRACE = 'Traceback (most recent call last):\n  File "/sandbox/main.py", line 6, in <module>\nZeroDivisionError: integer division or modulo by zero\n'


def _record(index: int, status: str = "error", error_type: str | None = "ZeroDivisionError") -> dict:
    return {
        "program_id": f"p{index}", "variant_id": f"v{index}", "snippet_id": f"s{index % 7}", "case_index": 0,
        "code": CODE, "stdin": "", "stdout": "5\n", "stderr": TRACE if status == "error" else "", "returncode": 1,
        "status": status, "error_type": error_type, "wall_ms": 1.0, "cpu_ms": 1.0, "backend": "forkserver",
        "python_version": "3.11.7", "command": "python3 /sandbox/main.py", "started_at": "t", "finished_at": "t",
    }


def _frame(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=EXECUTION_RECORDS.names)


def test_error_aware_selection_accounts_for_every_record():
    rows = [_record(0), _record(1, "ok", None), _record(2, "timeout", None), _record(3, "error", "RuntimeError"),
            _record(4, "memory", "MemoryError")]
    build = build_tasks(_frame(rows), TaskSettings(), SandboxLimits())
    assert len(build.tasks) + len(build.dropped) == len(rows)
    assert set(build.tasks["program_id"]) == {"p0", "p1"}
    assert dict(zip(build.dropped["program_id"], build.dropped["reason"])) == {
        "p2": "status_timeout", "p3": "error_type_not_allowed", "p4": "status_memory"}


def test_task_mix_and_prompts():
    build = build_tasks(_frame([_record(i) for i in range(400)]), TaskSettings(), SandboxLimits())
    forward_share = (build.tasks["task_type"] == "forward").mean()
    assert 0.65 < forward_share < 0.85
    forward = build.tasks[build.tasks["task_type"] == "forward"].iloc[0]
    assert "Python: 3.11.7" in forward["prompt"] and "/sandbox/main.py" in forward["prompt"]
    assert last_block(forward["prompt"], "answer_stderr") is not None
    backward = build.tasks[build.tasks["task_type"] == "backward"].iloc[0]
    truth = json.loads(backward["ground_truth"])
    masked = truth["masked_code"].split("\n")
    assert masked[truth["masked_line_index"]] == "MASKED_LINE_0"
    assert CODE.split("\n")[truth["masked_line_index"]] == backward["masked_line"] != ""
    assert truth["limits"]["program_path"] == "/sandbox/main.py"


def test_splits_are_per_snippet_and_deterministic():
    build = build_tasks(_frame([_record(i) for i in range(70)]), TaskSettings(), SandboxLimits())
    assert build.tasks.groupby("snippet_id")["split"].nunique().max() == 1
    again = build_tasks(_frame([_record(i) for i in range(70)]), TaskSettings(), SandboxLimits())
    assert build.tasks.equals(again.tasks)
    shares = pd.Series([split_of(f"snippet{i}", TaskSettings()) for i in range(4000)]).value_counts(normalize=True)
    assert abs(shares["train"] - 0.9) < 0.03 and abs(shares["test"] - 0.05) < 0.02
