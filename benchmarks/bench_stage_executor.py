"""The local stage executor vs. the local path it replaced, side by side on the same inputs.

Since the structural pass, augmentation and execution on this machine run the same batch loop as
on Ray (core.scale_out: `augment_here`, `execute_here`), streaming batches to Parquet. Baseline:
the whole-table calls the local path made before (`augment_snippets` over a process pool of the
cores; one `execute_runs` over every planned run on the open sandbox). Inputs: the bundled sample
dump's filtered snippets, tiled to `--snippets` with fresh ids, and their augmented variants. Both
sides must give the same rows (execution: the same records, without times); the script says so
and reports wall-time ratios (ours / baseline), the median of `--repeats` runs each, interleaved.

    .venv/bin/python benchmarks/bench_stage_executor.py --snippets 1200 --repeats 3
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import statistics
import tempfile
import time
from pathlib import Path

import pandas as pd
import pyarrow as pa

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.augmentation.batch import default_workers
from codeboost_dagster.core.filtering import filter_snippets, raw_snippets_frame
from codeboost_dagster.core.readers import read_dump
from codeboost_dagster.core.sample_dump import write_sample_dump
from codeboost_dagster.core.sandbox import open_sandbox
from codeboost_dagster.core.scale_out import augment_here, execute_here
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import CodeBoostSettings
from codeboost_dagster.core.variant_runs import execute_runs, plan_runs

DEFAULT_OUT = Path(__file__).parent / "results" / "stage_executor.md"
TIMED = ["started_at", "finished_at", "wall_ms", "cpu_ms", "wall_limit_s", "returncode"]


def sample_snippets(count: int, settings: CodeBoostSettings) -> pd.DataFrame:
    """The sample's filtered snippets, tiled to `count` rows with distinct ids."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "sample.jsonl"
        write_sample_dump(path)
        raw = raw_snippets_frame(read_dump(path, "sample.jsonl", settings.ingestion))
    kept = filter_snippets(raw, settings.filtering).kept[["snippet_id", "code", "test_cases"]]
    tiles = [kept.assign(snippet_id=kept["snippet_id"] + f"-{tile}") for tile in range(-(-count // len(kept)))]
    return pd.concat(tiles, ignore_index=True).head(count)


def timed(function, *args, **kwargs):
    """(seconds, result) of one call."""
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def comparable(records: pd.DataFrame) -> pd.DataFrame:
    """Records as stored (through their schema), without what depends on timing (a timeout's
    signal depends on the machine's load)."""
    stored = pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False).to_pandas()
    return stored.drop(columns=TIMED)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--snippets", type=int, default=1200)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    settings = CodeBoostSettings()
    workers = default_workers()
    load_start = os.getloadavg()
    snippets = sample_snippets(args.snippets, settings)
    augmentation, scale_out, max_chars = settings.augmentation, settings.scale_out, settings.filtering.max_chars

    times: dict[str, list[float]] = {
        name: [] for name in ("augment baseline", "augment here", "execute baseline", "execute here")
    }
    same_augmentation = same_records = True
    with tempfile.TemporaryDirectory() as scratch:
        for repeat in range(args.repeats):
            seconds, whole = timed(augment_snippets, snippets, augmentation, workers=workers, max_code_chars=max_chars)
            times["augment baseline"].append(seconds)
            seconds, stage = timed(augment_here, snippets, Path(scratch), augmentation, scale_out, max_chars)
            times["augment here"].append(seconds)
            variants, dropped = (output.read() for output in stage.outputs)
            same_augmentation &= variants.equals(whole.variants) and dropped.equals(whole.dropped)
            with open_sandbox("forkserver", settings.sandbox, workers) as sandbox:
                seconds, records = timed(execute_runs, plan_runs(whole.variants), sandbox, "forkserver")
                times["execute baseline"].append(seconds)
                out = Path(scratch) / f"records-{repeat}.parquet"
                seconds, stage = timed(execute_here, whole.variants, out, sandbox, "forkserver", scale_out)
                times["execute here"].append(seconds)
            same_records &= comparable(stage.outputs[0].read()).equals(comparable(records))
    median = {name: statistics.median(values) for name, values in times.items()}
    lines = [
        "# Stage executor on this machine vs. the whole-table local path",
        "",
        f"- date: {datetime.date.today().isoformat()}; machine: {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, Python {platform.python_version()}; workers/slots: {workers}",
        f"- load average at start / end (1 min): {load_start[0]:.2f} / {os.getloadavg()[0]:.2f}",
        f"- inputs: {len(snippets)} snippets (the sample's filtered snippets, tiled), {len(whole.variants)} variants "
        f"(K = {augmentation.variants_per_snippet}), {len(records)} programs; "
        f"batches of {scale_out.augmentation_batch_rows} snippets / {scale_out.execution_batch_rows} variants",
        f"- same rows: augmentation {same_augmentation}, execution records (without times) {same_records}",
        "",
        "| stage | baseline (whole table) s | stage executor s | ratio (ours / baseline) | runs |",
        "|---|---|---|---|---|",
    ]
    for stage_name in ("augment", "execute"):
        base, ours = median[f"{stage_name} baseline"], median[f"{stage_name} here"]
        runs = ", ".join(
            f"{b:.1f}/{o:.1f}"
            for b, o in zip(times[f"{stage_name} baseline"], times[f"{stage_name} here"], strict=True)
        )
        lines.append(f"| {stage_name} | {base:.2f} | {ours:.2f} | {ours / base:.2f}x | {runs} |")
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
