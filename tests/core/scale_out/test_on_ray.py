"""Scale-out of the data stages on a real local Ray head (2 CPUs, loopback, own temp dir):
the Ray path gives the local path's records, and a killed pool worker loses no row."""

from __future__ import annotations

import os
import signal
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.scale_out import SandboxPools, augment_on_ray, execute_on_ray
from codeboost_dagster.core.settings import AugmentationSettings, CurationSettings
from codeboost_dagster.core.variant_runs import plan_runs
from tests.helpers import (
    SCALE_OUT_LIMITS,
    SCALE_OUT_SETTINGS,
    comparable_records,
    local_records,
    slow_variants,
    snippets_with_a_broken_one,
    variant_row,
)

pytest.importorskip("ray")


def _mixed_variants() -> pd.DataFrame:
    """Every status the local path gives: ok, errors, stdin and call cases, a timeout, an unrunnable case."""
    rows = []
    for index in range(18):
        rows.append(variant_row(index, f"value = {index}\nprint(value * 3)\nprint(1 / (value % 4))\n"))
    rows.append(variant_row(20, "import sys\nprint(sys.stdin.read().upper())\n", [{"kind": "stdin", "stdin": "abc\n"}]))
    rows.append(
        variant_row(
            21,
            "def f(x):\n    return x[0]\n",
            [
                {"kind": "call", "func_name": "f", "args": [[7]], "kwargs": {}},
                {"kind": "call", "func_name": "f", "args": [[]], "kwargs": {}},
            ],
        )
    )
    rows.append(variant_row(22, "while True:\n    pass\n"))
    rows.append(variant_row(23, "print(1)\n", [{"kind": "mystery"}]))
    return pd.DataFrame(rows)


def _on_ray(variants, tmp_path, settings=SCALE_OUT_SETTINGS, on_batch=None, pools_hook=None):
    with SandboxPools("forkserver", SCALE_OUT_LIMITS, settings) as pools:
        callback = on_batch(pools) if on_batch else None
        stage = execute_on_ray(variants, tmp_path / "records.parquet", pools, settings, callback)
    return stage, stage.outputs[0].read()


def test_execution_on_ray_gives_the_local_records(ray_driver, tmp_path):
    variants = _mixed_variants()
    local = local_records(variants)
    stage, records = _on_ray(variants, tmp_path)
    assert stage.batches == 6 and stage.retried_batches == stage.lost_batches == 0
    assert set(local["status"]) >= {"ok", "error", "timeout", "sandbox_error"}
    pd.testing.assert_frame_equal(comparable_records(records), comparable_records(local))


def _kill_once(kill):
    """An on_batch callback factory that kills the pool's worker after the first written batch."""

    def factory(pools):
        def on_batch(batch, table, report):
            if report.index == 0:
                kill(pools)

        return on_batch

    return factory


def _sigkill_worker(pools):
    os.kill(pools.pids()[0], signal.SIGKILL)


def _ray_kill_actor(pools):
    import ray

    ray.kill(pools.actors[0], no_restart=False)


@pytest.mark.parametrize("kill", [_sigkill_worker, _ray_kill_actor], ids=["worker-pid-killed", "actor-ray-killed"])
def test_a_killed_pool_is_restarted_and_its_batches_retried(ray_driver, tmp_path, kill):
    variants = slow_variants(24)
    stage, records = _on_ray(variants, tmp_path, on_batch=_kill_once(kill))
    assert stage.retried_batches >= 1 and stage.lost_batches == 0
    assert len(records) == len(variants) and set(records["status"]) == {"ok"}
    pd.testing.assert_frame_equal(comparable_records(records), comparable_records(local_records(variants)))


def test_a_batch_that_fails_past_its_retries_becomes_sandbox_error_rows(ray_driver, tmp_path):
    variants = slow_variants(24)
    stage, records = _on_ray(
        variants, tmp_path, replace(SCALE_OUT_SETTINGS, batch_retries=0), on_batch=_kill_once(_sigkill_worker)
    )
    lost = records[records["status"] == "sandbox_error"]
    assert stage.lost_batches >= 1 and len(lost) == SCALE_OUT_SETTINGS.execution_batch_rows * stage.lost_batches
    assert lost["detail"].str.contains("failed 1 times on Ray").all()
    assert (lost["code"] != "").all()
    assert records["program_id"].tolist() == [run.program_id for run in plan_runs(variants)]


def test_augmentation_on_ray_gives_the_local_tables(ray_driver, tmp_path):
    snippets, settings = snippets_with_a_broken_one(14), AugmentationSettings(p=0.3, variants_per_snippet=3)
    local = augment_snippets(snippets, settings, workers=1)
    stage = augment_on_ray(snippets, tmp_path, settings, SCALE_OUT_SETTINGS)
    variants, dropped = (output.read() for output in stage.outputs)
    assert stage.batches == 3 and stage.lost_batches == 0
    pd.testing.assert_frame_equal(variants, local.variants)
    pd.testing.assert_frame_equal(dropped, local.dropped)


def test_curation_signatures_on_ray_give_the_local_selection(ray_driver):
    from functools import partial

    from codeboost_dagster.core.curation import code_band_keys, curate, lsh_parameters
    from codeboost_dagster.core.scale_out import band_keys_on_ray
    from tests.core.curation.support import frame, near_duplicate_families

    config = CurationSettings(signature_batch_size=7)
    parameters = lsh_parameters(config.gamma, config.minhash_rows, config.minhash_recall_at_threshold, config.seed)
    codes = near_duplicate_families(families=6, members=5, seed=3)
    on_ray = band_keys_on_ray(codes, parameters, str.strip, False, config.signature_batch_size, SCALE_OUT_SETTINGS)
    np.testing.assert_array_equal(on_ray, code_band_keys(codes, parameters, str.strip, False))
    ray_sign = partial(
        band_keys_on_ray,
        parameters=parameters,
        normalise=str.strip,
        rename=False,
        batch_size=config.signature_batch_size,
        settings=SCALE_OUT_SETTINGS,
    )
    local, remote = curate(frame(codes), settings=config), curate(frame(codes), settings=config, sign=ray_sign)
    pd.testing.assert_frame_equal(remote.selection, local.selection)
    pd.testing.assert_frame_equal(remote.removed, local.removed)
    pd.testing.assert_frame_equal(remote.signatures, local.signatures)
