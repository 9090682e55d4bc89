"""The streamed data stages, on Ray or on this machine: augmentation and execution run one batch
loop (`run_batches`) wherever their batches go; every batch runs the same core functions.

- `execute_on_ray(variants, out_path, pools, settings)` / `execute_here(variants, out_path,
  sandbox, backend, settings)`: execution records, streamed to Parquet.
- `augment_on_ray(snippets, out_dir, augmentation, settings)` / `augment_here(...)`: both
  augmentation tables, streamed.
- `band_keys_on_ray(codes, ...)`: curation's MinHash band keys, batch by batch on Ray tasks.
- `SandboxPools`: one warm sandbox pool (an actor) per node.
- `ParquetFile` / `ParquetSink` / `source_batches`: tables read and written batch by batch.
- `ExecutionTally` / `AugmentationTally`: a streamed stage's metadata, batch by batch.
- `ray_session(address, ...)`: connect to a cluster, or start a single-node Ray for a stage.
Plain Python, no Dagster; Ray is imported only when a function that needs it runs.
"""

from codeboost_dagster.core.scale_out.augmentation import augment_here, augment_on_ray
from codeboost_dagster.core.scale_out.batch_runner import BatchReport, run_batches
from codeboost_dagster.core.scale_out.connection import ray_session
from codeboost_dagster.core.scale_out.execution import StreamedStage, execute_here, execute_on_ray, lost_records
from codeboost_dagster.core.scale_out.parquet_streams import (
    ParquetFile,
    ParquetSink,
    TableSource,
    source_batches,
    source_rows,
)
from codeboost_dagster.core.scale_out.sandbox_pools import SandboxPools
from codeboost_dagster.core.scale_out.signatures import band_keys_on_ray
from codeboost_dagster.core.scale_out.summaries import AugmentationTally, ExecutionTally

__all__ = [
    "AugmentationTally",
    "BatchReport",
    "ExecutionTally",
    "ParquetFile",
    "ParquetSink",
    "SandboxPools",
    "StreamedStage",
    "TableSource",
    "augment_here",
    "augment_on_ray",
    "band_keys_on_ray",
    "execute_here",
    "execute_on_ray",
    "lost_records",
    "ray_session",
    "run_batches",
    "source_batches",
    "source_rows",
]
