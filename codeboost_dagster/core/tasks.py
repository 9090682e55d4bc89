"""Forward and backward training tasks from execution records (METHOD.md section 5).

Error-aware: a run that raised is kept when its error type is allowed (the task then asks the
model to predict the traceback too); timeouts, memory kills, output-limit hits, sandbox errors
and other error types are dropped with their reason. Each kept run becomes one task, forward
with probability `forward_fraction`, else backward with one random non-empty line masked.
Splits are drawn per snippet, so no variant of a test snippet is ever in train.
"""

from __future__ import annotations

import dataclasses
import json
import random
from dataclasses import dataclass

import pandas as pd

from codeboost_dagster.core.frames import records
from codeboost_dagster.core.ids import ID_HEX_CHARS, content_id
from codeboost_dagster.core.prompts import RunContext, backward_prompt, forward_prompt
from codeboost_dagster.core.schemas import TASK_DROPS, TRAINING_TASKS
from codeboost_dagster.core.settings import SandboxLimits, TaskSettings

FORWARD = "forward"
BACKWARD = "backward"


@dataclass(frozen=True)
class TaskBuild:
    """Tasks (TRAINING_TASKS columns) and the records that gave none (TASK_DROPS columns)."""

    tasks: pd.DataFrame
    dropped: pd.DataFrame


def split_of(snippet_id: str, settings: TaskSettings) -> str:
    """train / val / test for a snippet, stable under re-runs and independent of other snippets."""
    position = int(content_id(str(settings.seed), "split", snippet_id), 16) / 16**ID_HEX_CHARS
    train, val, _ = settings.split_fractions
    return "train" if position < train else "val" if position < train + val else "test"


def exclusion_reason(record: dict, settings: TaskSettings) -> tuple[str, str | None] | None:
    """Why a run gives no task, or None when it is usable (ok, or an allowed error type)."""
    status = record["status"]
    if status == "ok":
        return None
    if status != "error":
        return f"status_{status}", None
    if record["error_type"] in settings.allowed_error_types:
        return None
    return "error_type_not_allowed", record["error_type"] or "unknown"


def mask_line(code: str, rng: random.Random, mask_token: str) -> tuple[str, int, str]:
    """(masked code, 0-based line index, original line) for one random non-empty line."""
    lines = code.split("\n")
    candidates = [index for index, line in enumerate(lines) if line.strip()]
    index = rng.choice(candidates)
    original = lines[index]
    lines[index] = mask_token
    return "\n".join(lines), index, original


def _context(record: dict, limits: SandboxLimits) -> RunContext:
    return RunContext(
        program_path=limits.program_path,
        working_dir=limits.working_dir,
        python_version=record["python_version"],
        command=record["command"],
        stdin=record["stdin"] or "",
    )


def _task(record: dict, settings: TaskSettings, limits: SandboxLimits) -> dict:
    rng = random.Random(content_id(str(settings.seed), "task", record["program_id"]))
    context = _context(record, limits)
    truth = {"stdout": record["stdout"], "stderr": record["stderr"]}
    if rng.random() < settings.forward_fraction:
        task_type, prompt, masked_index, masked_line = FORWARD, forward_prompt(record["code"], context), -1, None
        ground_truth = {"task_type": FORWARD, **truth}
    else:
        masked_code, masked_index, masked_line = mask_line(record["code"], rng, settings.mask_token)
        task_type = BACKWARD
        prompt = backward_prompt(masked_code, settings.mask_token, record["stdout"], record["stderr"], context)
        ground_truth = {
            "task_type": BACKWARD,
            **truth,
            "masked_code": masked_code,
            "masked_line_index": masked_index,
            "mask_token": settings.mask_token,
            "stdin": context.stdin,
            "backend": record["backend"],
            "python_version": record["python_version"],
            "limits": dataclasses.asdict(limits),
        }
    return {
        "task_id": content_id(record["program_id"], task_type, str(masked_index)),
        "program_id": record["program_id"],
        "variant_id": record["variant_id"],
        "snippet_id": record["snippet_id"],
        "task_type": task_type,
        "split": split_of(record["snippet_id"], settings),
        "prompt": prompt,
        "ground_truth": json.dumps(ground_truth, ensure_ascii=False),
        "masked_line_index": masked_index,
        "masked_line": masked_line,
        "status": record["status"],
        "error_type": record["error_type"],
        "python_version": record["python_version"],
        "command": record["command"],
        "stdin": context.stdin,
    }


def build_tasks(execution_records: pd.DataFrame, settings: TaskSettings, limits: SandboxLimits) -> TaskBuild:
    """One task per usable run; every other run is listed with its reason."""
    tasks: list[dict] = []
    dropped: list[dict] = []
    for record in records(execution_records):
        reason = exclusion_reason(record, settings)
        if reason is None:
            tasks.append(_task(record, settings, limits))
        else:
            dropped.append({"program_id": record["program_id"], "variant_id": record["variant_id"],
                            "reason": reason[0], "detail": reason[1]})
    return TaskBuild(
        tasks=pd.DataFrame(tasks, columns=TRAINING_TASKS.names),
        dropped=pd.DataFrame(dropped, columns=TASK_DROPS.names),
    )
