"""Helpers the tests share (fixtures live in conftest.py): sample dumps and programs, the
resources pointed at test folders, local Ray nodes, scale-out data, and reward ground truths."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import asdict, dataclass
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pytest

from codeboost_dagster.core.sandbox import open_sandbox
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
from tests.dagster_graphql_client import free_port

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


# Local Ray nodes (loopback, own temp dirs), stopped by PID.

RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


@dataclass(frozen=True)
class RayHead:
    """A running local Ray head: its dashboard URL (job submission) and GCS address (ray.init)."""

    dashboard: str
    address: str
    temp_dir: str


def start_ray_node(arguments: list[str], temp_dir: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    """`ray start --block` on loopback in a process group of its own (stopped with `stop_ray_node`);
    its output goes to a log in `temp_dir`, where Ray's own logs are."""
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
        *arguments,
    ]
    with open(Path(temp_dir) / f"ray-start-{time.monotonic_ns()}.log", "w") as log:
        return subprocess.Popen(
            command,
            env={**os.environ, **RAY_ENV, **(env or {}), "RAY_TMPDIR": temp_dir},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop_ray_node(node: subprocess.Popen) -> None:
    """SIGTERM to `ray start` (it stops its node), then SIGKILL to whatever of its group is left."""
    node.send_signal(signal.SIGTERM)
    try:
        node.wait(timeout=30)
    finally:
        with suppress(ProcessLookupError):
            os.killpg(node.pid, signal.SIGKILL)


@contextmanager
def local_ray_head(num_cpus: int, env: dict[str, str] | None = None) -> Iterator[RayHead]:
    """A Ray head on loopback with `num_cpus` CPUs, its own temp dir and a dashboard."""
    pytest.importorskip("ray.job_submission")
    from ray.job_submission import JobSubmissionClient

    temp_dir = tempfile.mkdtemp(prefix="ray", dir="/tmp")
    dashboard, gcs = free_port(), free_port()
    head = start_ray_node(
        [
            "--head",
            f"--port={gcs}",
            "--dashboard-host=127.0.0.1",
            f"--dashboard-port={dashboard}",
            f"--num-cpus={num_cpus}",
            "--include-dashboard=true",
        ],
        temp_dir,
        env,
    )
    address = f"http://127.0.0.1:{dashboard}"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                JobSubmissionClient(address).list_jobs()
                break
            except Exception:
                if time.monotonic() > deadline or head.poll() is not None:
                    pytest.fail("the local Ray head did not come up")
                time.sleep(1)
        yield RayHead(address, f"127.0.0.1:{gcs}", temp_dir)
    finally:
        stop_ray_node(head)


# Scale-out data: variants and snippets the local and Ray paths both run.

SCALE_OUT_LIMITS = SandboxLimits(wall_time_s=1.0, cpu_time_s=1.0)
SCALE_OUT_SETTINGS = ScaleOutSettings(execution_batch_rows=4, augmentation_batch_rows=5)
TIMED = ["started_at", "finished_at", "wall_ms", "cpu_ms"]


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
            "limits": asdict(REWARD_LIMITS),
        }
    )


def answer(tag: str, text: str) -> str:
    """A completion's fenced answer block."""
    return f"```{tag}\n{text}```\n"
