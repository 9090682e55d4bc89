"""Shared fixtures: a sample dump built from the installed package, a messy dump, resources."""

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
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import pytest

from codeboost_dagster.core.sample_dump import write_sample_dump
from codeboost_dagster.definitions import defs
from codeboost_dagster.partitions import code_dumps
from codeboost_dagster.resources.dumps import DumpFolder
from codeboost_dagster.resources.models import ModelCache
from codeboost_dagster.resources.parquet_io import ParquetIOManagerFactory
from codeboost_dagster.resources.ray_scale_out import RayScaleOut
from codeboost_dagster.resources.sandbox import SandboxResource
from codeboost_dagster.resources.settings import SettingsResource
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


@pytest.fixture(scope="session")
def dumps_root(tmp_path_factory) -> Path:
    """A dumps folder holding the bundled sample dump, built once per test session."""
    root = tmp_path_factory.mktemp("dumps")
    write_sample_dump(root / "sample.jsonl")
    return root


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


@pytest.fixture
def messy_dump(tmp_path) -> tuple[Path, dict[str, str]]:
    """A dumps folder with one messy folder dump named `messy`, and the expected outcome per origin."""
    root = tmp_path / "dumps"
    expected = write_messy_dump(root / "messy")
    return root, expected


@pytest.fixture(scope="session")
def model_cache(tmp_path_factory) -> Path:
    """One cache of converted packaged models per test session (the conversion takes ~15 s)."""
    return tmp_path_factory.mktemp("models")


def make_resources(dumps_path: Path, storage_path: Path, model_cache: Path | None = None) -> dict:
    """The resources the assets need, pointed at test folders."""
    return {
        "io_manager": ParquetIOManagerFactory(base_path=str(storage_path)),
        "training_files": TrainingFiles(base_path=str(storage_path / "training")),
        "models": ModelCache(cache_dir=str(model_cache or storage_path / "models")),
        "trainer": GRPOTrainer(),
        "sandbox": SandboxResource(backend="forkserver"),
        "scale_out": RayScaleOut(),
        "dumps": DumpFolder(path=str(dumps_path)),
        "settings": SettingsResource(),
    }


@pytest.fixture(scope="session")
def pipeline(dumps_root, model_cache, tmp_path_factory):
    """Materialize every stage of the sample dump once per session; yields (storage folder, run results)."""
    storage = tmp_path_factory.mktemp("storage")
    settings_file = storage / "settings.toml"
    settings_file.write_text(
        "[augmentation]\nvariants_per_snippet = 1\n[sandbox]\nwall_time_s = 2.0\ncpu_time_s = 2.0\n"
    )
    resources = {
        **make_resources(dumps_root, storage, model_cache),
        "settings": SettingsResource(settings_file=str(settings_file)),
    }
    assets = list(defs.assets)
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions(code_dumps.name, [DUMP])
        ingest = dg.materialize(
            assets,
            selection=["raw_snippets", "filtered_snippets", "filter_report"],
            partition_key=DUMP,
            instance=instance,
            resources=resources,
        )
        downstream = dg.materialize(
            assets,
            selection=[
                "curated_snippets",
                "curation_report",
                "curation_signatures",
                "augmented_variants",
                "augmentation_report",
                "execution_records",
                "training_tasks",
                "task_report",
                "verl_dataset",
                "verl_dataset_report",
            ],
            instance=instance,
            resources=resources,
        )
    yield storage, ingest, downstream


@pytest.fixture(scope="session")
def verl_python() -> str:
    """verl's interpreter: $CODEBOOST_VERL_PYTHON or the .venv-verl that `make test` builds."""
    python = os.environ.get("CODEBOOST_VERL_PYTHON", str(REPO / ".venv-verl/bin/python"))
    if not Path(python).is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"CI=true but verl's environment is missing at {python}")
        pytest.skip(f"verl's environment is missing at {python}; `make test` builds it")
    return python


@pytest.fixture(scope="session")
def tiny_model(model_cache, tmp_path_factory) -> str:
    """A 2-layer random Llama with the default policy's real tokenizer, built offline."""
    from transformers import LlamaConfig, LlamaForCausalLM

    from codeboost_dagster.core.models import load_tokenizer
    from codeboost_dagster.core.settings import CodeBoostSettings

    tokenizer = load_tokenizer(CodeBoostSettings().model.policy, model_cache)
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        max_position_embeddings=4096,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id,
    )
    folder = tmp_path_factory.mktemp("tiny-model")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return str(folder)


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path_factory, monkeypatch):
    """Keep DAGSTER_HOME, HF_HOME and RAY_TMPDIR of every test in a temp folder of its own."""
    scratch = tmp_path_factory.mktemp("home")
    for name in ("HF_HOME", "RAY_TMPDIR"):
        monkeypatch.setenv(name, str(scratch / name.lower()))
    home = scratch / "dagster_home"
    home.mkdir()
    (home / "dagster.yaml").write_text("telemetry:\n  enabled: false\n")
    monkeypatch.setenv("DAGSTER_HOME", str(home))
    os.environ.setdefault("DAGSTER_DISABLE_TELEMETRY", "1")


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


@pytest.fixture(scope="session")
def ray_cluster():
    """A Ray head on loopback with 2 CPUs and its own temp dir, shared by the session; stopped by PID."""
    with local_ray_head(num_cpus=2) as head:
        yield head


@pytest.fixture(scope="module")
def ray_head(ray_cluster) -> str:
    """The shared local Ray head's dashboard address (what job submission and dagster-ray use)."""
    return ray_cluster.dashboard


@pytest.fixture(scope="module")
def ray_driver(ray_cluster):
    """This test process connected to the shared local Ray head as a driver; disconnected after the module."""
    import ray

    with pytest.MonkeyPatch.context() as patch:
        for name, value in RAY_ENV.items():
            patch.setenv(name, value)
        ray.init(address=ray_cluster.address, namespace="codeboost-tests", log_to_driver=False)
        try:
            yield ray_cluster
        finally:
            ray.shutdown()
