"""`codeboost`: run the pipeline headless for one dump, recording runs in the Dagster instance.

It prints a concise summary per stage (rows written, rows dropped by reason, checks, time) and
only Dagster's warnings and errors; the full logs land with the runs in $DAGSTER_HOME, so
`dg dev` shows them afterwards with their metadata.
"""

from __future__ import annotations

import argparse
import functools
import os
import sys
import time
from pathlib import Path

from dagster import DagsterInstance

from codeboost_dagster.core.lineage import UnknownId, trace
from codeboost_dagster.core.partition_keys import UnsafePartitionKey, validate_partition_key
from codeboost_dagster.definitions import defs
from codeboost_dagster.defs.evaluation import evaluation_job
from codeboost_dagster.defs.ingestion import code_dumps, ingest_dump_job
from codeboost_dagster.defs.training import train_policy_job
from codeboost_dagster.defs.training_data import training_data_job
from codeboost_dagster.gpu_smoke import run_gpu_smoke
from codeboost_dagster.metadata import counts_of
from codeboost_dagster.resources.parquet_io import read_stored
from codeboost_dagster.run_launcher import run_worker_tags

PIPELINE_JOB_NAMES = tuple(job.name for job in (ingest_dump_job, training_data_job, train_policy_job, evaluation_job))
"""What `codeboost run` runs for a dump, in order."""


def jobs_until(last: str) -> tuple[str, ...]:
    """The pipeline's jobs, in order, up to and including `last`."""
    return PIPELINE_JOB_NAMES[: PIPELINE_JOB_NAMES.index(last) + 1]


def run_pipeline(dump: str, instance: DagsterInstance, until: str = PIPELINE_JOB_NAMES[-1]) -> bool:
    """Register the dump as a partition and run the pipeline's jobs for it, in order, up to and
    including `until`; True if all succeed."""
    validate_partition_key(dump)
    if not instance.has_dynamic_partition(code_dumps.name, dump):
        instance.add_dynamic_partitions(code_dumps.name, [dump])
    for job_name in jobs_until(until):
        job = defs.resolve_job_def(job_name)
        partition_key = dump if job.partitions_def is not None else None
        print(f"[codeboost] running {job_name} for dump {dump!r}", flush=True)
        started = time.perf_counter()
        result = job.execute_in_process(
            instance=instance,
            partition_key=partition_key,
            raise_on_error=False,
            tags=run_worker_tags(),
            run_config=QUIET_CONSOLE,
        )
        if not result.success:
            print(f"[codeboost] {job_name} failed (run {result.run_id}); see `dg dev` for logs", file=sys.stderr)
            return False
        print(f"[codeboost] {job_name}: done in {time.perf_counter() - started:.1f} s (run {result.run_id[:8]})")
        for line in stage_summary(result):
            print(f"[codeboost]   {line}")
    return True


# Dagster's console shows warnings and errors only; every event still reaches the instance.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def stage_summary(result) -> list[str]:
    """One line per materialized asset (rows written, rows dropped by reason) and one for the checks."""
    lines = []
    for event in result.get_asset_materialization_events():
        metadata = event.materialization.metadata
        rows = metadata.get("dagster/row_count")
        line = f"{event.asset_key.to_user_string()}: {rows.value if rows else '?'} rows"
        dropped = counts_of(metadata.get("dropped_by_reason"))
        if dropped:
            line += "; dropped " + ", ".join(f"{reason} {count}" for reason, count in dropped.items())
        lines.append(line)
    checks = result.get_asset_check_evaluations()
    if checks:
        failed = [check.check_name for check in checks if not check.passed]
        lines.append(
            f"checks: {len(checks) - len(failed)} passed" + (f", failed: {', '.join(failed)}" if failed else "")
        )
    return lines


def print_trace(identifier: str, storage: str) -> int:
    """Print the lineage of a task, program, variant or snippet id; 1 when the id is unknown."""
    read = functools.cache(functools.partial(read_stored, storage))
    try:
        lines = trace(identifier, read)
    except UnknownId as error:
        print(f"[codeboost] {error} (storage {storage})", file=sys.stderr)
        return 1
    print("\n".join(lines))
    return 0


def main(argv: list[str] | None = None) -> int:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(prog="codeboost", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="run the pipeline (or its first jobs) for one dump in the dumps folder")
    run.add_argument("--dump", default="sample.jsonl", help="dump file or folder name in the dumps folder")
    run.add_argument(
        "--until",
        choices=PIPELINE_JOB_NAMES,
        default=PIPELINE_JOB_NAMES[-1],
        help="the last job to run (default: all of them); e.g. build_training_data skips training and evaluation",
    )
    smoke = commands.add_parser("gpu-smoke", help="a few real verl GRPO steps on this machine's GPU (make gpu-smoke)")
    smoke.add_argument("--dump", default="sample.jsonl", help="dump file or folder name in the dumps folder")
    smoke.add_argument("--verl-python", default=".venv-verl-gpu/bin/python", help="verl's GPU environment")
    smoke.add_argument("--gpus", type=int, default=1, help="GPUs of this machine the run uses")
    smoke.add_argument("--dry-run", action="store_true", help="submit verl's preflight instead of training")
    lineage = commands.add_parser("trace", help="print the lineage of a task, program, variant or snippet id")
    lineage.add_argument("id", help="a task_id, program_id, variant_id or snippet_id")
    lineage.add_argument("--storage", default=os.environ.get("CODEBOOST_STORAGE", "data/storage"))
    args = parser.parse_args(argv)
    if args.command == "trace":
        return print_trace(args.id, args.storage)
    if not os.environ.get("DAGSTER_HOME"):
        parser.error("set DAGSTER_HOME to an absolute folder with a dagster.yaml (the Makefile does)")
    if args.command == "gpu-smoke":
        return run_gpu_smoke(args.dump, str(Path(args.verl_python).absolute()), args.gpus, args.dry_run)
    try:
        validate_partition_key(args.dump)
    except UnsafePartitionKey as error:
        parser.error(str(error))
    with DagsterInstance.get() as instance:
        return 0 if run_pipeline(args.dump, instance, args.until) else 1


if __name__ == "__main__":
    sys.exit(main())
