"""Crash consistency: a materialization killed with SIGKILL in the middle of writing a table, and a
table torn by something outside our writes, are both followed by a rerun that succeeds with the same
ids, leaves no partial file and no orphaned sandbox process. The runs are real subprocesses on one
instance folder; the slow writer (the deterministic crash window) is patched in by the test's script."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pandas as pd
import pytest

from codeboost_dagster.core.sample_dump import write_sample_dump
from tests.helpers import REPO, process_running, require_docker

DUMP = "crash.jsonl"
ROWS = 40
SCRIPT = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    import dagster as dg
    from codeboost_dagster.definitions import defs
    from codeboost_dagster.defs.ingestion import code_dumps
    from codeboost_dagster.resources import parquet_io
    from codeboost_dagster.resources.sandbox import SandboxResource
    from codeboost_dagster.resources.settings import SettingsResource
    from tests.helpers import make_resources

    root, slow_table, backend = Path(sys.argv[1]), sys.argv[2], sys.argv[3]
    write_table, copy_file = parquet_io.pq.write_table, parquet_io.shutil.copyfileobj

    def stall_half_written(handle, data):
        # The crash window: half the file is written, then the writer stalls until it is killed.
        handle.write(data[: len(data) // 2])
        handle.flush()
        (root / "writing").touch()
        time.sleep(600)

    def slow_write(table, handle, **options):  # a table the IO manager writes from a DataFrame
        expected = parquet_io.TABLE_SCHEMAS.get(slow_table)
        if expected is not None and table.schema.equals(expected) and (root / "armed").exists():
            import io
            buffer = io.BytesIO()
            write_table(table, buffer, **options)
            stall_half_written(handle, buffer.getvalue())
        write_table(table, handle, **options)

    def slow_copy(source, target, *options):  # a streamed table the IO manager copies into place
        if Path(getattr(source, "name", "")).stem == slow_table and (root / "armed").exists():
            stall_half_written(target, source.read())
        copy_file(source, target, *options)

    if __name__ == "__main__":  # augmentation spawns workers that import this script
        parquet_io.pq.write_table, parquet_io.shutil.copyfileobj = slow_write, slow_copy
        resources = {**make_resources(root / "dumps", root / "storage", root / "models"),
                     "settings": SettingsResource(settings_file=str(root / "settings.toml")),
                     "sandbox": SandboxResource(backend=backend)}
        with dg.DagsterInstance.get() as instance:
            if not instance.has_dynamic_partition(code_dumps.name, "crash.jsonl"):
                instance.add_dynamic_partitions(code_dumps.name, ["crash.jsonl"])
            assets = list(defs.assets)
            dg.materialize(assets, selection=["raw_snippets", "filtered_snippets", "filter_report",
                           "synthesized_snippets", "synthesis_report"],
                           partition_key="crash.jsonl", instance=instance, resources=resources)
            result = dg.materialize(assets, instance=instance, resources=resources, selection=[
                "curated_snippets", "curation_report", "curation_signatures", "augmented_variants",
                "augmentation_report", "execution_records"])
            print("success" if result.success else "failure", flush=True)
    """
)


@pytest.fixture()
def root(tmp_path: Path) -> Path:
    (tmp_path / "dumps").mkdir()
    write_sample_dump(tmp_path / "sample.jsonl")
    lines = (tmp_path / "sample.jsonl").read_text().splitlines()[:ROWS]
    (tmp_path / "dumps" / DUMP).write_text("\n".join(lines) + "\n")
    (tmp_path / "settings.toml").write_text("[augmentation]\nvariants_per_snippet = 1\n[sandbox]\nwall_time_s = 2.0\n")
    (tmp_path / "home").mkdir()
    (tmp_path / "home" / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    (tmp_path / "script.py").write_text(SCRIPT)
    return tmp_path


def _start(root: Path, slow_table: str = "-", backend: str = "forkserver") -> subprocess.Popen:
    env = {**os.environ, "DAGSTER_HOME": str(root / "home"), "PYTHONPATH": str(REPO)}
    return subprocess.Popen(
        [sys.executable, str(root / "script.py"), str(root), slow_table, backend],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def _run(root: Path) -> None:
    process = _start(root)
    output, _ = process.communicate(timeout=600)
    assert process.returncode == 0 and output.strip().endswith("success"), output[-3000:]


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry.name))
    found, stack = set(), [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            found.add(child)
            stack.append(child)
    return found


def _kill_and_wait_for_orphans(process: subprocess.Popen, within_s: float = 30) -> None:
    family = _descendants(process.pid)
    os.kill(process.pid, signal.SIGKILL)
    process.wait(timeout=30)
    deadline = time.monotonic() + within_s
    while any(process_running(pid) for pid in family) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not [pid for pid in family if process_running(pid)], (
        f"processes of the killed run outlived it by {within_s} s"
    )


def _ids(root: Path) -> tuple[list[str], list[str]]:
    storage = root / "storage"
    curated = pd.read_parquet(storage / "curated_snippets.parquet")["snippet_id"]
    records = pd.read_parquet(storage / "execution_records.parquet")["program_id"]
    return sorted(curated), sorted(records)


def _leftovers(root: Path) -> list[Path]:
    return [path for path in (root / "storage").rglob("*") if path.name.endswith(".tmp")]


def test_a_run_killed_while_writing_a_table_leaves_the_previous_table_and_the_rerun_succeeds(root):
    _run(root)
    before = _ids(root)
    (root / "armed").touch()
    process = _start(root, slow_table="execution_records")
    deadline = time.monotonic() + 300
    while not (root / "writing").exists():
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()[-3000:]
        time.sleep(0.2)
    _kill_and_wait_for_orphans(process)
    assert _ids(root) == before, "a reader still sees the previous complete table"
    assert _leftovers(root), "the killed writer's partial file is only ever under a temporary name"
    (root / "armed").unlink()
    _run(root)
    assert _ids(root) == before
    assert _leftovers(root) == []


AUGMENTATION, EXECUTION = "augmentation", "execution"


def _sandbox_containers(run_pid: int, status: str | None = None) -> set[str]:
    """Sandbox containers a process opened (their label value starts with its pid), in `status`."""
    from codeboost_dagster.core.sandbox.docker_backend import LABEL, docker_client

    # The low-level list: one call, no inspection of each container (one may remove itself meanwhile).
    filters = {"label": LABEL, **({"status": status} if status else {})}
    containers = docker_client().api.containers(all=True, filters=filters)
    return {container["Id"] for container in containers if container["Labels"][LABEL].startswith(f"{run_pid}-")}


def _cmdlines(pid: int) -> list[bytes]:
    found = []
    for child in _descendants(pid):
        try:
            found.append(Path(f"/proc/{child}/cmdline").read_bytes())
        except OSError:
            continue
    return found


def _in_stage(process: subprocess.Popen, stage: str, backend: str) -> bool:
    """Augmentation: a worker of its spawned process pool runs. Execution: a sandbox server runs
    (`python3 -s -c SERVER_SOURCE` below the run, or a container the run opened)."""
    if stage == AUGMENTATION:
        return any(b"spawn_main" in line for line in _cmdlines(process.pid))
    if backend == "docker":  # running: one created but not yet started when the run dies stays
        return bool(_sandbox_containers(process.pid, "running"))
    return any(b"-s\x00-c" in line for line in _cmdlines(process.pid))


@pytest.mark.parametrize(
    ("backend", "stage"),
    [
        ("forkserver", AUGMENTATION),
        ("forkserver", EXECUTION),
        pytest.param("docker", AUGMENTATION, marks=pytest.mark.docker),
        pytest.param("docker", EXECUTION, marks=pytest.mark.docker),
    ],
)
def test_a_run_killed_mid_stage_leaves_no_process_or_container_within_10_s(root, backend, stage):
    """kill -9 of the run while its augmentation pool or its sandbox servers work: within 10 s
    nothing it started is left (pool workers, resource tracker, servers, their programs,
    containers), and the rerun gives the same ids."""
    if backend == "docker":
        require_docker()
    _run(root)
    before = _ids(root)
    process = _start(root, backend=backend)
    deadline = time.monotonic() + 300
    while not _in_stage(process, stage, backend):
        assert process.poll() is None and time.monotonic() < deadline, process.stdout.read()[-3000:]
        time.sleep(0.05)
    _kill_and_wait_for_orphans(process, within_s=10)
    if backend == "docker":
        deadline = time.monotonic() + 10
        while (left := _sandbox_containers(process.pid)) and time.monotonic() < deadline:
            time.sleep(0.2)
        assert not left, f"sandbox containers of the killed run still exist 10 s later: {left}"
    _run(root)
    assert _ids(root) == before


def test_a_torn_newest_selection_falls_back_to_the_version_before_it(root):
    _run(root)
    _run(root)  # a second materialization keeps the first as the previous version
    before = _ids(root)
    selection = root / "storage" / "curated_snippets.parquet"
    selection.write_bytes(selection.read_bytes()[: selection.stat().st_size // 2])
    _run(root)
    assert _ids(root) == before
    assert _leftovers(root) == []
