"""Helpers the tests share (fixtures live in conftest.py): sample dumps and programs, the
resources pointed at test folders, scale-out data, reward ground truths, and running a module in
verl's environment (local Ray nodes are codeboost_dagster.ray_head's)."""

from __future__ import annotations

import json
import os
import subprocess
from dataclasses import asdict
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from codeboost_dagster.core.sandbox import SandboxUnavailable, open_sandbox
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import SandboxLimits, ScaleOutSettings
from codeboost_dagster.core.variant_runs import execute_runs, plan_runs
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.parquet_io import ParquetIOManagerFactory
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource
from codeboost_dagster.resources.stage_executor import StageExecutor
from codeboost_dagster.resources.trainer import GRPOTrainer
from codeboost_dagster.resources.training_files import TrainingFiles

DUMP = "sample.jsonl"
REPO = Path(__file__).resolve().parents[1]

GOOD_PROGRAM = "\n".join(
    [
        "def total(values):",
        "    result = 0",
        "    for value in values:",
        "        result += value",
        "    return result",
        "",
        "",
        "def main():",
        "    numbers = [1, 2, 3, 4]",
        "    print(total(numbers))",
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
)


def write_messy_dump(folder: Path) -> dict[str, str]:
    """A folder dump with one example of every kind of bad input; returns origin -> expected reason."""
    folder.mkdir(parents=True)
    (folder / "good.py").write_text(GOOD_PROGRAM)
    (folder / "twin.py").write_text(GOOD_PROGRAM)
    (folder / "short.py").write_text("print(1)\n")
    (folder / "broken.py").write_text(GOOD_PROGRAM.replace("def main():", "def main(:"))
    (folder / "py2.py").write_text(GOOD_PROGRAM.replace("print(total(numbers))", "print total(numbers)"))
    (folder / "binary.py").write_bytes(b"\x7fELF\x00\x01\x02" * 20)
    (folder / "latin1.py").write_bytes(("# café\n" + GOOD_PROGRAM).encode("latin-1"))
    (folder / "empty.py").write_text("")
    with (folder / "huge.py").open("wb") as handle:
        handle.truncate(100 * 1024 * 1024)
    (folder / "notes.txt").write_text("not code")
    (folder / "link.py").symlink_to("/etc/passwd")
    rows = [
        {"code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", "[5, 6]"), "test_cases_str": "[]"},
        {"code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", "[7]"), "test_cases_str": json.dumps([{"input": "3\n"}])},
        {
            "code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", "[8]"),
            "test_cases_str": json.dumps([{"input": [[1, 2]], "func_name": "total"}]),
        },
        {"code_str": GOOD_PROGRAM.replace("[1, 2, 3, 4]", "[9]"), "test_cases_str": "[{not json"},
    ]
    lines = [json.dumps(row) for row in rows] + ["{this line is not json"]
    (folder / "rows.jsonl").write_text("\n".join(lines) + "\n")
    (folder / "no_code.csv").write_text("id,text\n1,hello\n")
    return {
        "good.py": "kept",
        "twin.py": "exact_duplicate",
        "short.py": "too_short",
        "broken.py": "syntax_error",
        "py2.py": "syntax_error",
        "binary.py": "binary_file",
        "latin1.py": "not_utf8",
        "empty.py": "empty_code",
        "huge.py": "file_too_large",
        "notes.txt": "unsupported_file",
        "link.py": "symlink_not_followed",
        "rows.jsonl:row=0": "kept",
        "rows.jsonl:row=1": "kept",
        "rows.jsonl:row=2": "kept",
        "rows.jsonl:row=3": "invalid_test_cases",
        "rows.jsonl:row=4": "invalid_row",
        "no_code.csv:row=0:id=1": "missing_code_column",
    }


def make_resources(dumps_path: Path, storage_path: Path, model_cache: Path | None = None) -> dict:
    """The resources the assets need, pointed at test folders."""
    return {
        "io_manager": ParquetIOManagerFactory(base_path=str(storage_path)),
        "training_files": TrainingFiles(base_path=str(storage_path / "training")),
        "models": ModelCache(cache_dir=str(model_cache or storage_path / "models")),
        "trainer": GRPOTrainer(),
        "sandbox": SandboxResource(backend="forkserver"),
        "scale_out": StageExecutor(),
        "dumps": DumpFolder(path=str(dumps_path)),
        "settings": SettingsResource(),
    }


# Scale-out data: variants and snippets the local and Ray paths both run.

SCALE_OUT_LIMITS = SandboxLimits(wall_time_s=1.0, cpu_time_s=1.0)
SCALE_OUT_SETTINGS = ScaleOutSettings(execution_batch_rows=4, augmentation_batch_rows=5)
TIMED = ["started_at", "finished_at", "wall_ms", "cpu_ms", "wall_limit_s"]


def variant_row(index: int, code: str, cases: list | None = None) -> dict:
    """One original variant row with the AUGMENTED_VARIANTS columns execution reads."""
    return {
        "variant_id": f"v{index:03d}",
        "snippet_id": f"s{index:03d}",
        "variant_index": 0,
        "kind": "original",
        "mutations": "[]",
        "code": code,
        "test_cases": json.dumps(cases or []),
    }


def slow_variants(count: int) -> pd.DataFrame:
    """`count` variants that each sleep 0.15 s, so a stage on them takes measurable time."""
    return pd.DataFrame([variant_row(i, f"import time\ntime.sleep(0.15)\nprint({i})\n") for i in range(count)])


def local_records(variants: pd.DataFrame) -> pd.DataFrame:
    """The records the local path gives for `variants` (forkserver, 2 slots)."""
    with open_sandbox("forkserver", SCALE_OUT_LIMITS, 2) as sandbox:
        records = execute_runs(plan_runs(variants), sandbox, "forkserver")
    return pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False).to_pandas()


def comparable_records(records: pd.DataFrame) -> pd.DataFrame:
    """Records without their times; a timeout's return code goes too: whether the CPU limit
    (SIGXCPU, -24) or the wall limit (SIGKILL, -9) fires first depends on the machine's load."""
    comparable = records.drop(columns=TIMED).reset_index(drop=True)
    comparable["returncode"] = comparable["returncode"].where(comparable["status"] != "timeout")
    return comparable


def snippets_with_a_broken_one(count: int) -> pd.DataFrame:
    """`count` good snippets (every other one with a stdin case) and one that does not parse."""
    rows = []
    for index in range(count):
        code = GOOD_PROGRAM.replace("[1, 2, 3, 4]", f"[{index}, {index + 1}, 3]")
        cases = json.dumps([{"kind": "stdin", "stdin": f"{index} 5\n"}]) if index % 2 else "[]"
        rows.append({"snippet_id": f"s{index:03d}", "code": code, "test_cases": cases})
    rows.append({"snippet_id": "broken", "code": "def f(:\n", "test_cases": "[]"})
    return pd.DataFrame(rows)


# Reward ground truths: a program that prints, then raises ZeroDivisionError.

REWARD_CODE = "def f(x):\n    total = 10 // x\n    return total\n\n\nprint(f(2))\nprint(f(0))\n"
REWARD_LIMITS = SandboxLimits(wall_time_s=2.0, cpu_time_s=2.0)


def forward_truth(run) -> str:
    """A forward task's ground truth from the run of REWARD_CODE."""
    return json.dumps({"task_type": "forward", "stdout": run.stdout, "stderr": run.stderr})


def backward_truth(run, index: int = 1, probes: list | None = None) -> str:
    """A backward task's ground truth: REWARD_CODE with line `index` masked."""
    lines = REWARD_CODE.split("\n")
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
            "runtime": run.runtime,
            "limits": asdict(REWARD_LIMITS),
        }
    )


def answer(tag: str, text: str) -> str:
    """A completion's fenced answer block."""
    return f"```{tag}\n{text}```\n"


def run_in_verl(verl_python: str, module: str, arguments: list[str], cwd: Path, env: dict | None = None) -> dict:
    """`python -m module ARGUMENTS --report FILE` in verl's environment; the JSON report it wrote."""
    report = cwd / f"report-{len(list(cwd.iterdir()))}.json"
    completed = subprocess.run(
        [verl_python, "-m", module, "--report", str(report), *arguments],
        cwd=cwd,
        env={**os.environ, "TOKENIZERS_PARALLELISM": "false", **(env or {})},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    return json.loads(report.read_text())


def require_docker() -> None:
    """Skip (or, under CI, fail) unless a Docker engine answers and the sandbox image exists."""
    from codeboost_dagster.core.sandbox.docker_backend import DEFAULT_IMAGE, docker_client, image_exists

    try:
        client = docker_client()
        if not image_exists(client, DEFAULT_IMAGE):
            raise SandboxUnavailable(f"image {DEFAULT_IMAGE} missing (docker/sandbox/build_image.sh)")
    except SandboxUnavailable as error:
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but the docker backend cannot run: {error}")
        pytest.skip(str(error))


def process_running(pid: int) -> bool:
    """Whether process `pid` exists and is not a zombie (what the kill -9 tests wait to see end)."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (OSError, IndexError):
        return False
    return state != "Z"


def child_pids(pid: int) -> set[int]:
    """The direct children of process `pid`."""
    found = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout.split()
    return {int(child) for child in found}
