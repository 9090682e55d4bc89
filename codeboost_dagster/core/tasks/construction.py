"""Forward and backward training tasks from execution records (METHOD.md section 5).

A task is only worth its reward if the only way to earn it is the skill it measures, so the
builder certifies every task in the sandbox before it exists:
1. Usable runs: ok, or an allowed error type; timeouts, memory kills, output-limit hits, sandbox
   errors and other error types are dropped with their reason (an import the runtime lacks:
   `module_not_in_runtime`). So is a program that reads what a warm server shares with it and a
   fresh interpreter would not (`sys.modules`, the heap, memory use: `reads_interpreter_state`).
2. One run per (snippet, stdin, visible outputs): the rest are `duplicate_outputs`.
3. Determinism: each program runs again in a fresh process; any difference in stdout, stderr or
   status drops it as `nondeterministic`. Then once on servers with another hash seed and once on
   servers whose clock is years ahead (`certificate_variations`), as a fresh `python3` elsewhere
   and later would run it: `hash_seed_dependent`, `clock_dependent`.
4. Each run becomes forward (probability `forward_fraction`) or backward. A forward task with
   empty stdout and stderr is `empty_output` (the empty answer would be right).
5. Backward: a maskable line (core.tasks.masking) whose text appears nowhere else in its prompt and
   that is load-bearing (`pass` in its place changes stdout, stderr or status; checked in the
   sandbox). A run with no such line becomes a forward task.
6. Hidden probes (core.tasks.probes): perturbations that change the original's output; none found is
   `no_probe`. The reference answer must reproduce every probe (else `probe_not_reproduced`).
7. Exploit audit (core.tasks.exploit_audit): trivial answers, forward and backward, scored as the reward
   scores them; a task one passes is `exploitable`.
Every check run gets a wall limit derived from the ground truth's own run (`check_wall_time_s`).
Splits are drawn per snippet, so no variant of a test snippet is ever in train.
"""

from __future__ import annotations

import dataclasses
import json
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from codeboost_dagster.core.frames import records
from codeboost_dagster.core.ids import ID_HEX_CHARS, content_id
from codeboost_dagster.core.sandbox import ExecutionResult, Program, Variation, derived_wall_time_s
from codeboost_dagster.core.sandbox.variation import libfaketime
from codeboost_dagster.core.schemas import TASK_DROPS, TRAINING_TASKS
from codeboost_dagster.core.settings import RewardSettings, SandboxLimits, TaskSettings
from codeboost_dagster.core.tasks.backward import score_answers
from codeboost_dagster.core.tasks.exploit_audit import forward_stub_answers, print_and_exit_line, stub_answers
from codeboost_dagster.core.tasks.masking import (
    indentation,
    mask,
    maskable_lines,
    noop_line,
    replace_line,
    shown_elsewhere,
)
from codeboost_dagster.core.tasks.probes import perturbations
from codeboost_dagster.core.tasks.prompts import RunContext, backward_prompt, forward_prompt
from codeboost_dagster.core.tasks.reward_score import max_score, reproduces, score_outputs

FORWARD = "forward"
BACKWARD = "backward"
DETERMINISM = "determinism"
OTHER_HASH_SEED = "determinism, other hash seed"
LATER_CLOCK = "determinism, clock years ahead"
VARIED_CHECKS = ((OTHER_HASH_SEED, "hash_seed_dependent"), (LATER_CLOCK, "clock_dependent"))
"""The certificate's runs on varied servers (`certificate_variations`) and the drop reason of each."""

INTERPRETER_STATE = re.compile(
    r"\bsys\.modules\b|\bgc\.get_(?:objects|referrers|referents|count|stats|freeze_count)\b|\bsys\.getallocatedblocks\b"
    r"|\btracemalloc\b|\bgetrusage\b|/proc/self/(?:status|statm|maps|smaps)"
)
"""Reads of interpreter state a forked program shares with its warm server (modules the server
imported, its heap and memory), where a fresh `python3` would show its own."""

Runner = Callable[[list[Program], str], list[ExecutionResult]]
"""Runs programs in the sandbox: runner(programs, phase) -> results in order (phase names the check;
the phases of `certificate_variations` must run on sandboxes opened with their variation)."""


@dataclass(frozen=True)
class TaskBuild:
    """Tasks (TRAINING_TASKS columns), the records that gave none (TASK_DROPS columns), the exploit
    audit (one row per task and stub, forward stubs named `forward:...`: task_id, program_id, stub,
    answer, passed) and the checks' counts."""

    tasks: pd.DataFrame
    dropped: pd.DataFrame
    audit: pd.DataFrame
    stats: dict[str, Any]


@dataclass
class _Backward:
    """A backward task in the making."""

    record: dict
    rng: random.Random
    index: int = -1
    probes: list[dict] = field(default_factory=list)


def split_of(snippet_id: str, settings: TaskSettings) -> str:
    """train / val / test for a snippet, stable under re-runs and independent of other snippets."""
    position = int(content_id(str(settings.seed), "split", snippet_id), 16) / 16**ID_HEX_CHARS
    train, val, _ = settings.split_fractions
    return "train" if position < train else "val" if position < train + val else "test"


def exclusion_reason(record: dict, settings: TaskSettings) -> tuple[str, str | None] | None:
    """Why a run gives no task, or None when it is usable (ok, or an allowed error type)."""
    state = INTERPRETER_STATE.search(record["code"])
    if state is not None:
        return "reads_interpreter_state", f"reads {state.group(0)}: a warm server's state, not a fresh interpreter's"
    status = record["status"]
    if status == "ok":
        return None
    if status == "timeout" and record.get("wall_limit_s") is not None:
        return "status_timeout", f"stopped at its {record['wall_limit_s']:g} s wall limit"
    if status != "error":
        return f"status_{status}", None
    if record["error_type"] in settings.allowed_error_types:
        return None
    if record["error_type"] == "ModuleNotFoundError":
        missing = record["stderr"].rstrip().rsplit("\n", 1)[-1]
        return "module_not_in_runtime", f"{missing} (runtime: {record['runtime'] or 'unknown'})"
    return "error_type_not_allowed", record["error_type"] or "unknown"


def certificate_variations(settings: TaskSettings) -> dict[str, Variation]:
    """The sandboxes the certificate needs beside the default one, by the runner phase that uses
    each: another hash seed, a clock years ahead (each unless the settings turn it off; the clock
    also unless libfaketime is missing here)."""
    variations = {}
    if settings.certificate_hash_seed:
        variations[OTHER_HASH_SEED] = Variation(hash_seed=settings.certificate_hash_seed)
    if settings.certificate_clock_shift_days and libfaketime() is not None:
        variations[LATER_CLOCK] = Variation(clock_shift_days=settings.certificate_clock_shift_days)
    return variations


def check_wall_time_s(wall_ms: float, settings: TaskSettings, limits: SandboxLimits) -> float:
    """Wall limit of a check or re-run: a multiple of the ground truth's own wall time, bounded."""
    return derived_wall_time_s(wall_ms, settings.check_wall_factor, settings.check_wall_min_s, limits.wall_time_s)


def _context(record: dict, limits: SandboxLimits) -> RunContext:
    return RunContext(
        limits.program_path,
        limits.working_dir,
        record["python_version"],
        record["command"],
        record["stdin"] or "",
        record["packages"] or "",
    )


def _returncode(record: dict) -> int:
    return record["returncode"] if record["returncode"] is not None else 1


def _observed(record: dict) -> dict[str, str]:
    return {"stdout": record["stdout"], "stderr": record["stderr"], "status": record["status"]}


class _Builder:
    """One build: records in, tasks, drops, audit and counts out."""

    def __init__(self, settings: TaskSettings, limits: SandboxLimits, run: Runner) -> None:
        self.settings, self.limits, self.run = settings, limits, run
        self.dropped: list[dict] = []
        self.audit: list[dict] = []
        self.stats: Counter = Counter()

    def drop(self, record: dict, reason: str, detail: str | None = None) -> None:
        self.dropped.append(
            {"program_id": record["program_id"], "variant_id": record["variant_id"], "reason": reason, "detail": detail}
        )

    def wall(self, record: dict) -> float:
        return check_wall_time_s(record["wall_ms"], self.settings, self.limits)

    def program(self, record: dict, code: str | None = None, stdin: str | None = None) -> Program:
        return Program(
            code=record["code"] if code is None else code,
            stdin=(record["stdin"] or "") if stdin is None else stdin,
            wall_time_s=self.wall(record),
        )

    # ---- 1-3: usable, unique, deterministic runs -------------------------------------------
    def usable(self, rows: Sequence[dict]) -> list[dict]:
        kept, first_of = [], {}
        for record in rows:
            reason = exclusion_reason(record, self.settings)
            if reason is not None:
                self.drop(record, *reason)
                continue
            key = (record["snippet_id"], record["stdin"] or "", record["stdout"], record["stderr"], record["status"])
            if key in first_of:
                self.drop(record, "duplicate_outputs", f"same visible run as program {first_of[key]}")
                continue
            first_of[key] = record["program_id"]
            kept.append(record)
        return kept

    def deterministic(self, rows: list[dict]) -> list[dict]:
        reruns = max(0, self.settings.determinism_runs - 1)
        varied = certificate_variations(self.settings)
        checks = [(DETERMINISM, "nondeterministic", reruns)] + [
            (phase, reason, 1) for phase, reason in VARIED_CHECKS if phase in varied
        ]
        for phase, reason, runs in checks:
            results = self.run([self.program(record) for record in rows for _ in range(runs)], phase)
            kept = []
            for position, record in enumerate(rows):
                again = results[position * runs : (position + 1) * runs]
                differing = [
                    result
                    for result in again
                    if (result.stdout, result.stderr, result.status)
                    != (record["stdout"], record["stderr"], record["status"])
                ]
                if differing:
                    self.drop(record, reason, f"a {phase} run ended {differing[0].status} with other output")
                else:
                    kept.append(record)
            rows = kept
        return rows

    # ---- 5: load-bearing masks -------------------------------------------------------------
    def prompt(self, record: dict, index: int) -> str:
        masked = mask(record["code"], index, self.settings.mask_token)
        return backward_prompt(
            masked, self.settings.mask_token, record["stdout"], record["stderr"], _context(record, self.limits)
        )

    def choose_masks(self, drawn: list[_Backward]) -> tuple[list[_Backward], list[dict]]:
        """Backward tasks with a load-bearing mask, and the records that fall back to forward."""
        checks: list[tuple[_Backward, int]] = []
        for task in drawn:
            lines = task.record["code"].split("\n")
            candidates = [
                index
                for index in maskable_lines(task.record["code"])
                if not shown_elsewhere(lines[index], self.prompt(task.record, index))
            ]
            task.rng.shuffle(candidates)
            checks += [(task, index) for index in candidates[: self.settings.mask_candidates]]
        programs = [
            self.program(
                task.record, replace_line(task.record["code"], index, noop_line(task.record["code"].split("\n")[index]))
            )
            for task, index in checks
        ]
        results = self.run(programs, "load-bearing lines")
        for (task, index), result in zip(checks, results):
            load_bearing = not reproduces(result.stdout, result.stderr, result.status, _observed(task.record))
            self.stats["mask_lines_checked"] += 1
            self.stats["mask_lines_load_bearing"] += load_bearing
            if load_bearing and task.index < 0:
                task.index = index
        chosen = [task for task in drawn if task.index >= 0]
        self.stats["backward_without_load_bearing_line"] = len(drawn) - len(chosen)
        return chosen, [task.record for task in drawn if task.index < 0]

    # ---- 6: hidden probes ------------------------------------------------------------------
    def find_probes(self, tasks: list[_Backward]) -> list[_Backward]:
        """Probes that change the output and reach the masked line: with the line replaced by one that
        writes the visible output and exits, the perturbed program must no longer reproduce the probe."""
        tried = [
            (task, candidate)
            for task in tasks
            for candidate in perturbations(
                task.record["code"],
                task.index,
                task.record["stdin"] or "",
                task.rng,
                self.settings.probe_candidates,
                self.settings.probe_edits,
            )
        ]
        programs = []
        for task, candidate in tried:
            record, lines = task.record, task.record["code"].split("\n")
            stop = print_and_exit_line(
                indentation(lines[task.index]), record["stdout"], record["stderr"], _returncode(record)
            )
            programs += [
                self.program(record, candidate.code, candidate.stdin),
                self.program(record, replace_line(candidate.code, task.index, stop), candidate.stdin),
            ]
        results = self.run(programs, "probes")
        for position, (task, candidate) in enumerate(tried):
            result, stopped = results[2 * position], results[2 * position + 1]
            observed = {"stdout": result.stdout, "stderr": result.stderr, "status": result.status}
            usable = (
                result.status in ("ok", "error")
                and not reproduces(result.stdout, result.stderr, result.status, _observed(task.record))
                and not reproduces(stopped.stdout, stopped.stderr, stopped.status, observed)
            )
            if usable and len(task.probes) < self.settings.probes_per_task:
                task.probes.append(
                    {
                        "masked_code": mask(candidate.code, task.index, self.settings.mask_token),
                        "stdin": candidate.stdin,
                        **observed,
                        "edits": list(candidate.edits),
                    }
                )
        kept = []
        for task in tasks:
            self.stats[f"probes_per_task_{len(task.probes)}"] += 1
            if task.probes:
                kept.append(task)
            else:
                self.drop(
                    task.record,
                    "no_probe",
                    "no perturbation outside the masked line changed the output of a run that reaches the masked line",
                )
        return kept

    # ---- 7: exploit audit ------------------------------------------------------------------
    def audited(self, tasks: list[_Backward], weights: RewardSettings) -> list[_Backward]:
        """Tasks that the reference answer passes and no stub does; the rest are dropped."""
        answers: list[tuple[_Backward, str, str]] = []
        for task in tasks:
            record, lines = task.record, task.record["code"].split("\n")
            answers.append((task, "reference", lines[task.index]))
            stubs = stub_answers(
                self.settings.exploit_stubs, lines, task.index, record["stdout"], record["stderr"], _returncode(record)
            )
            answers += [(task, name, line) for name, line in stubs.items()]
        truths = {id(task): self.truth(task) for task in tasks}
        scores = score_answers(
            [(truths[id(task)], line) for task, _, line in answers],
            lambda programs: self.run(programs, "exploit audit"),
            weights,
        )
        verdicts: dict[int, dict[str, bool]] = {}
        for (task, name, line), score in zip(answers, scores):
            passed = score.score >= max_score(weights) - 1e-9
            verdicts.setdefault(id(task), {})[name] = passed
            if name != "reference":
                self.audit.append(
                    {
                        "task_id": self.task_id(task),
                        "program_id": task.record["program_id"],
                        "stub": name,
                        "answer": line,
                        "passed": passed,
                    }
                )
        kept = []
        for task in tasks:
            verdict = verdicts[id(task)]
            exploits = sorted(name for name, passed in verdict.items() if passed and name != "reference")
            if not verdict["reference"]:
                self.drop(task.record, "probe_not_reproduced", "the original line does not reproduce every probe")
            elif exploits:
                self.drop(task.record, "exploitable", f"passed by stub(s): {', '.join(exploits)}")
            else:
                kept.append(task)
        return kept

    # ---- rows ------------------------------------------------------------------------------
    def task_id(self, task: _Backward) -> str:
        return content_id(task.record["program_id"], BACKWARD, str(task.index))

    def truth(self, task: _Backward) -> dict[str, Any]:
        record = task.record
        return {
            "task_type": BACKWARD,
            "stdout": record["stdout"],
            "stderr": record["stderr"],
            "status": record["status"],
            "masked_code": mask(record["code"], task.index, self.settings.mask_token),
            "masked_line_index": task.index,
            "mask_token": self.settings.mask_token,
            "stdin": record["stdin"] or "",
            "probes": task.probes,
            "rerun_wall_time_s": self.wall(record),
            "backend": record["backend"],
            "python_version": record["python_version"],
            "runtime": record["runtime"],
            "limits": dataclasses.asdict(self.limits),
        }

    def row(self, record: dict, task_type: str, prompt: str, truth: dict, index: int, line: str | None) -> dict:
        return {
            "task_id": content_id(record["program_id"], task_type, str(index)),
            "program_id": record["program_id"],
            "variant_id": record["variant_id"],
            "snippet_id": record["snippet_id"],
            "task_type": task_type,
            "split": split_of(record["snippet_id"], self.settings),
            "prompt": prompt,
            "ground_truth": json.dumps(truth, ensure_ascii=False),
            "masked_line_index": index,
            "masked_line": line,
            "status": record["status"],
            "error_type": record["error_type"],
            "python_version": record["python_version"],
            "command": record["command"],
            "stdin": record["stdin"] or "",
        }

    def forward_row(self, record: dict, weights: RewardSettings) -> dict | None:
        if not record["stdout"] and not record["stderr"]:
            self.drop(record, "empty_output", "stdout and stderr are both empty: the empty answer would be right")
            return None
        truth = {
            "task_type": FORWARD,
            "stdout": record["stdout"],
            "stderr": record["stderr"],
            "runtime": record["runtime"],
        }
        row = self.row(record, FORWARD, forward_prompt(record["code"], _context(record, self.limits)), truth, -1, None)
        exploits = []
        for name, answers in forward_stub_answers(record["stdin"] or "", record["code"]).items():
            passing = [
                stdout
                for stdout, stderr in answers
                if score_outputs(stdout, stderr, record["stdout"], record["stderr"], 2, 2, weights).score
                >= max_score(weights) - 1e-9
            ]
            if answers:
                self.audit.append(
                    {
                        "task_id": row["task_id"],
                        "program_id": record["program_id"],
                        "stub": f"forward:{name}",
                        "answer": (passing or [answers[0][0]])[0],
                        "passed": bool(passing),
                    }
                )
            exploits += [name] if passing else []
        if exploits:
            self.drop(record, "exploitable", f"passed by stub(s): {', '.join('forward:' + n for n in exploits)}")
            return None
        return row

    def backward_row(self, task: _Backward) -> dict:
        line = task.record["code"].split("\n")[task.index]
        return self.row(task.record, BACKWARD, self.prompt(task.record, task.index), self.truth(task), task.index, line)


def build_tasks(
    execution_records: pd.DataFrame,
    settings: TaskSettings,
    limits: SandboxLimits,
    run: Runner,
    weights: RewardSettings | None = None,
) -> TaskBuild:
    """Certified tasks from every usable run; every other run is listed with its reason.

    `run(programs, phase)` executes check programs in the sandbox (the records' backend);
    `weights` are the reward's, so the audit scores stubs exactly as training will.
    """
    builder = _Builder(settings, limits, run)
    rows = records(execution_records)
    usable = builder.deterministic(builder.usable(rows))
    forward, drawn = [], []
    for record in usable:
        rng = random.Random(content_id(str(settings.seed), "task", record["program_id"]))
        if rng.random() < settings.forward_fraction:
            forward.append(record)
        else:
            drawn.append(_Backward(record, rng))
    backward, fallback = builder.choose_masks(drawn)
    weights = weights or RewardSettings()
    backward = builder.audited(builder.find_probes(backward), weights)
    made = {task.record["program_id"]: builder.backward_row(task) for task in backward}
    for record in [*forward, *fallback]:
        row = builder.forward_row(record, weights)
        if row is not None:
            made[record["program_id"]] = row
    tasks = [made[record["program_id"]] for record in rows if record["program_id"] in made]
    stats = dict(
        builder.stats,
        records=len(rows),
        usable=len(usable),
        forward_drawn=len(forward),
        backward_drawn=len(drawn),
        backward_kept=len(backward),
    )
    return TaskBuild(
        tasks=pd.DataFrame(tasks, columns=TRAINING_TASKS.names),
        dropped=pd.DataFrame(builder.dropped, columns=TASK_DROPS.names),
        audit=pd.DataFrame(builder.audit, columns=["task_id", "program_id", "stub", "answer", "passed"]),
        stats=stats,
    )
