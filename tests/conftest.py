"""Shared fixtures: a sample dump built from the installed package, a messy dump, the whole
pipeline materialized once, verl's interpreter, a tiny model, a local Ray head. The helpers they
use, and that tests import, are in tests/helpers.py."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from codeboost_dagster.core.sample_dump import write_sample_dump
from codeboost_dagster.definitions import defs
from codeboost_dagster.defs.ingestion import INGESTION_GROUP, code_dumps
from codeboost_dagster.defs.training_data import training_data_job
from codeboost_dagster.ray_head import QUIET_RAY, local_ray_head
from codeboost_dagster.resources.settings import SettingsResource
from tests.helpers import DUMP, REPO, make_resources, write_messy_dump


@pytest.fixture(scope="session")
def dumps_root(tmp_path_factory) -> Path:
    """A dumps folder holding the bundled sample dump, built once per test session."""
    root = tmp_path_factory.mktemp("dumps")
    write_sample_dump(root / "sample.jsonl")
    return root


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
            selection=dg.AssetSelection.groups(INGESTION_GROUP),
            partition_key=DUMP,
            instance=instance,
            resources=resources,
        )
        downstream = dg.materialize(
            assets,
            selection=training_data_job.selection,
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
        for name, value in QUIET_RAY.items():
            patch.setenv(name, value)
        ray.init(address=ray_cluster.address, namespace="codeboost-tests", log_to_driver=False)
        try:
            yield ray_cluster
        finally:
            ray.shutdown()
