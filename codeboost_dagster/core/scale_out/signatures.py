"""Curation's MinHash band keys on Ray: batches of snippet codes go to Ray tasks (one CPU each)
that run the same `code_band_keys` as the local path, so the keys, and with them the selection,
are identical. A batch lost after its retries is hashed on the driver instead: keys are cheap
to make, and a curation without some of them would silently miss near-duplicates."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from codeboost_dagster.core.curation import LshParameters, code_band_keys
from codeboost_dagster.core.curation.line_sets import LineNormaliser
from codeboost_dagster.core.scale_out.augmentation import cluster_cpus
from codeboost_dagster.core.scale_out.batch_runner import run_batches
from codeboost_dagster.core.settings import ScaleOutSettings


class _SignatureTasks:
    """A `Dispatcher` that starts one Ray task per batch of codes."""

    def __init__(self, parameters: LshParameters, normalise: LineNormaliser, rename: bool) -> None:
        import ray

        self._task = ray.remote(code_band_keys).options(num_cpus=1, max_retries=0)
        self._arguments = (parameters, normalise, rename)

    def submit(self, batch: Sequence[str]):
        """Start one batch."""
        return self._task.remote(list(batch), *self._arguments)

    def done(self, ref: object, failed: bool) -> None:
        """Tasks hold no place to free."""


def band_keys_on_ray(
    codes: Sequence[str],
    parameters: LshParameters,
    normalise: LineNormaliser,
    rename: bool,
    batch_size: int,
    settings: ScaleOutSettings,
) -> np.ndarray:
    """Band keys of `codes` (in order), computed in batches of `batch_size` on the connected Ray."""
    batches = (codes[start : start + batch_size] for start in range(0, len(codes), batch_size))
    parts = [
        keys
        for _, keys, _ in run_batches(
            batches,
            _SignatureTasks(parameters, normalise, rename),
            lambda batch, _detail: code_band_keys(batch, parameters, normalise, rename),
            window=cluster_cpus() * 2,
            retries=settings.batch_retries,
            rows=len,
            rows_total=len(codes),
        )
    ]
    return np.concatenate(parts) if parts else np.zeros((0, parameters.bands), dtype=np.uint64)
