"""Execution on Ray vs. the local path, side by side, and the Ray driver's peak memory.

    python benchmarks/bench_ray_execution.py [--variants 20000] [--memory-sizes 20000 200000] [--out FILE]

1. Overhead: the same synthetic variants (half trivial `print(i)`, half realistic snippets with
   errors, stdin and function calls) run through `execution_records`' two core paths on this
   machine: locally (`plan_runs` + `execute_runs` on a 2-slot forkserver sandbox, the default)
   and through a local Ray head with 2 CPUs (`execute_on_ray`: Parquet in, one sandbox pool,
   Parquet out, the asset's running tally). Each path runs in a fresh child process; its wall
   time includes opening the sandbox (local) or connecting and starting the pool (Ray), not the
   head's start-up (a cluster is already up in production). The records are compared too.
2. Memory: peak RSS (`ru_maxrss`) of the Ray driver for growing inputs, each in a fresh child.
   Executing 200k programs takes ~15 min on 2 cores, so the large sizes go through the same
   driver loop (`run_batches` + Parquet source + `ParquetSink` + tally) with a Ray task that
   plans each batch and returns its records without running them (`lost_records`: every row of
   the real schema, code and stdin filled): the driver's work per row is the same; only the
   workers' is skipped. The real 20k run's driver peak is reported beside it.
Results (machine, load and date included) go to benchmarks/results/ray_execution.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import resource
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

RESULTS = Path(__file__).parent / "results" / "ray_execution.md"
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}
TIMED = ["started_at", "finished_at", "wall_ms", "cpu_ms", "wall_limit_s"]
WRITE_ROWS = 10_000
REALISTIC = [
    (
        "def bubble(values):\n    values = list(values)\n    for i in range(len(values)):\n"
        "        for j in range(len(values) - i - 1):\n            if values[j] > values[j + 1]:\n"
        "                values[j], values[j + 1] = values[j + 1], values[j]\n    return values\n\n"
        "print(bubble([5, 3, {i}, 1, 7, 2, 8]))\n",
        "[]",
    ),
    (
        "class Account:\n    def __init__(self, balance):\n        self.balance = balance\n\n"
        "    def withdraw(self, amount):\n        if amount > self.balance:\n"
        "            raise ValueError('insufficient funds')\n"
        "        self.balance -= amount\n        return self.balance\n\nacct = Account({i})\nprint(acct.withdraw(30))\n"
        "print(acct.withdraw(80))\n",
        "[]",
    ),
    (
        "import sys\nfrom collections import Counter\ncounts = Counter(sys.stdin.read().split())\n"
        "for word, n in counts.most_common(3):\n    print(word, n, {i})\n",
        json.dumps([{"kind": "stdin", "stdin": "the cat and the dog and the bird\n"}]),
    ),
    (
        "def solve(n, k=2):\n    return [i ** k for i in range(n)] + [{i}]\n",
        json.dumps([{"kind": "call", "func_name": "solve", "args": [5], "kwargs": {"k": 3}}]),
    ),
    (
        "def average(values):\n    return sum(values) / len(values)\n\nprint(average([1, {i}]))\nprint(average([]))\n",
        "[]",
    ),
]


def variant_rows(start: int, count: int) -> list[dict]:
    """Synthetic variants: even indices trivial, odd ones a realistic snippet; ids are unique."""
    rows = []
    for i in range(start, start + count):
        code, cases = (f"print({i})\n", "[]") if i % 2 == 0 else REALISTIC[(i // 2) % len(REALISTIC)]
        rows.append(
            {
                "variant_id": f"v{i:07d}",
                "snippet_id": f"s{i:07d}",
                "variant_index": 0,
                "kind": "original",
                "mutations": "[]",
                "code": code.replace("{i}", str(i)),
                "test_cases": cases,
            }
        )
    return rows


def write_variants(path: Path, count: int) -> None:
    """The variants as Parquet, written in row groups (never all in memory)."""
    from codeboost_dagster.core.schemas import AUGMENTED_VARIANTS

    with pq.ParquetWriter(path, AUGMENTED_VARIANTS, compression="zstd") as writer:
        for start in range(0, count, WRITE_ROWS):
            writer.write_table(
                pa.Table.from_pylist(variant_rows(start, min(WRITE_ROWS, count - start)), AUGMENTED_VARIANTS)
            )


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def current_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


# ---- children -------------------------------------------------------------------------------
def child_local(variants: Path, out: Path) -> dict:
    from codeboost_dagster.core.sandbox import open_sandbox
    from codeboost_dagster.core.schemas import EXECUTION_RECORDS
    from codeboost_dagster.core.settings import SandboxLimits
    from codeboost_dagster.core.variant_runs import execute_runs, plan_runs

    baseline, start = current_rss_mb(), time.perf_counter()
    frame = pq.read_table(variants).to_pandas()
    with open_sandbox("forkserver", SandboxLimits(), 2) as sandbox:
        records = execute_runs(plan_runs(frame), sandbox, "forkserver")
    pq.write_table(
        pa.Table.from_pandas(records, schema=EXECUTION_RECORDS, preserve_index=False), out, compression="zstd"
    )
    return {
        "seconds": time.perf_counter() - start,
        "records": len(records),
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
    }


def child_ray(variants: Path, out: Path, address: str, plan_only: bool) -> dict:
    import ray

    from codeboost_dagster.core.scale_out import (
        ExecutionTally,
        ParquetFile,
        ParquetSink,
        SandboxPools,
        execute_on_ray,
        lost_records,
        run_batches,
        source_batches,
    )
    from codeboost_dagster.core.schemas import EXECUTION_RECORDS
    from codeboost_dagster.core.settings import SandboxLimits, ScaleOutSettings

    settings = ScaleOutSettings()
    tally = ExecutionTally(settings.summary_sample_rows, 10, SandboxLimits().wall_time_s)
    baseline, start = current_rss_mb(), time.perf_counter()
    ray.init(address=address, namespace="bench", log_to_driver=False)
    source = ParquetFile.at(variants)
    if not plan_only:
        with SandboxPools("forkserver", SandboxLimits(), settings) as pools:
            stage = execute_on_ray(
                source, out, pools, settings, lambda batch, table, report: tally.add(report.index, batch, table)
            )
        batches = stage.batches
    else:
        task = ray.remote(lost_records).options(num_cpus=1, max_retries=0)

        class Tasks:
            def submit(self, batch):
                return task.remote(batch, "planned only", "forkserver")

            def done(self, ref, failed):
                pass

        batches = 0
        with ParquetSink(out, EXECUTION_RECORDS, settings.sink_row_group_rows) as sink:
            runs = run_batches(
                source_batches(source, settings.execution_batch_rows),
                Tasks(),
                lost_records,
                window=2 * 3,
                retries=settings.batch_retries,
                rows=len,
                rows_total=source.rows,
            )
            for batch, table, report in runs:
                sink.write(table)
                tally.add(report.index, batch, table)
                batches += 1
            sink.close()
    seconds = time.perf_counter() - start
    ray.shutdown()
    return {
        "seconds": seconds,
        "records": tally.records,
        "planned": tally.planned,
        "batches": batches,
        "baseline_mb": baseline,
        "peak_mb": peak_rss_mb(),
    }


def run_child(*args: str) -> dict:
    command = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(command, capture_output=True, text=True, env={**os.environ, **RAY_ENV}, check=False)
    if done.returncode != 0:
        raise SystemExit(f"child {args} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


# ---- the Ray head ---------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_head(temp_dir: str) -> tuple[subprocess.Popen, str]:
    """A 2-CPU Ray head on loopback with its own temp dir (no dashboard); stopped by PID."""
    port = free_port()
    command = [
        str(Path(sys.executable).parent / "ray"),
        "start",
        "--head",
        "--block",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--num-cpus=2",
        "--include-dashboard=false",
        f"--temp-dir={temp_dir}",
        "--disable-usage-stats",
    ]
    head = subprocess.Popen(
        command,
        env={**os.environ, **RAY_ENV, "RAY_TMPDIR": temp_dir},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    address = f"127.0.0.1:{port}"
    probe = [sys.executable, "-c", f"import ray; ray.init(address={address!r}); ray.shutdown()"]
    deadline = time.monotonic() + 120
    while subprocess.run(probe, env={**os.environ, **RAY_ENV}, capture_output=True, check=False).returncode != 0:
        if time.monotonic() > deadline or head.poll() is not None:
            os.killpg(head.pid, signal.SIGKILL)
            raise SystemExit("the Ray head did not come up")
        time.sleep(1)
    return head, address


def stop_head(head: subprocess.Popen) -> None:
    head.send_signal(signal.SIGTERM)
    try:
        head.wait(timeout=30)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(head.pid, signal.SIGKILL)


# ---- report ---------------------------------------------------------------------------------
def same_records(local: Path, on_ray: Path) -> bool:
    left = pq.read_table(local).drop_columns(TIMED)
    right = pq.read_table(on_ray).drop_columns(TIMED)
    return left.equals(right)


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    import ray

    return {
        "cores (nproc)": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "ray": ray.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variants", type=int, default=20_000)
    parser.add_argument("--memory-sizes", type=int, nargs="+", default=[20_000, 200_000])
    parser.add_argument("--out", type=Path, default=RESULTS)
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, variants, out, *rest = args.child
        result = (
            child_local(Path(variants), Path(out))
            if kind == "local"
            else child_ray(Path(variants), Path(out), rest[0], plan_only=kind == "plan-only")
        )
        print(json.dumps(result))
        return
    started = datetime.now(UTC)
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="bench-ray-", dir="/tmp"))
    sizes = sorted({args.variants, *args.memory_sizes})
    for size in sizes:
        write_variants(work / f"variants-{size}.parquet", size)
    head, address = start_head(str(work / "ray"))
    try:
        inputs = work / f"variants-{args.variants}.parquet"
        local = run_child("local", str(inputs), str(work / "local.parquet"))
        on_ray = run_child("ray", str(inputs), str(work / "ray.parquet"), address)
        identical = same_records(work / "local.parquet", work / "ray.parquet")
        memory = {
            size: run_child(
                "plan-only", str(work / f"variants-{size}.parquet"), str(work / f"plan-{size}.parquet"), address
            )
            for size in args.memory_sizes
        }
    finally:
        stop_head(head)
        shutil.rmtree(work, ignore_errors=True)
    load_end = os.getloadavg()
    report(args, started, load_start, load_end, local, on_ray, identical, memory, sizes)


def report(args, started, load_start, load_end, local, on_ray, identical, memory, sizes) -> None:
    from codeboost_dagster.core.settings import ScaleOutSettings

    ratio = on_ray["seconds"] / local["seconds"]
    settings = ScaleOutSettings()
    lines = [
        "# Execution on Ray vs. the local path",
        "",
        f"Measured by `python benchmarks/bench_ray_execution.py` on {started:%Y-%m-%d %H:%M} UTC.",
        "",
        "## Machine",
        "",
        *[f"- {name}: {value}" for name, value in machine().items()],
        "- load average at start (1/5/15 min): " + " / ".join(f"{value:.2f}" for value in load_start),
        "- load average at end (1/5/15 min): " + " / ".join(f"{value:.2f}" for value in load_end),
        "",
        "## Setup",
        "",
        f"- variants: {args.variants:,} synthetic, half trivial (`print(i)`), half realistic snippets "
        "(sorting, a class that raises ValueError, stdin word counts, a function call, ZeroDivisionError); "
        "one test case each, so one program per variant. Default `SandboxLimits`.",
        "- local: `plan_runs` + `execute_runs` on `open_sandbox('forkserver', concurrency=2)` (the default path).",
        f"- Ray: a local head with 2 CPUs (loopback, own temp dir, no dashboard); `execute_on_ray` from a Parquet "
        f"file to a Parquet file, one `SandboxPool` actor with 2 forkserver slots, {settings.execution_batch_rows} "
        f"variants per batch, {settings.batches_per_pool} batches running + {settings.queued_batches_per_pool} "
        "queued per pool; the driver keeps the asset's running tally (conservation, counts, slowest runs).",
        "- each path in a fresh child process; wall time from after imports to the last record written "
        "(local: read input, open sandbox, run, write; Ray: connect, start the pool, stream). Head start-up excluded.",
        "",
        "## Overhead",
        "",
        "| path | variants | records | seconds | programs/s | driver peak RSS (MB) |",
        "|---|---:|---:|---:|---:|---:|",
        f"| local (forkserver, 2 slots) | {args.variants:,} | {local['records']:,} | {local['seconds']:.1f} | "
        f"{local['records'] / local['seconds']:.0f} | {local['peak_mb']:.0f} |",
        f"| Ray (1 pool, 2 slots) | {args.variants:,} | {on_ray['records']:,} | {on_ray['seconds']:.1f} | "
        f"{on_ray['records'] / on_ray['seconds']:.0f} | {on_ray['peak_mb']:.0f} |",
        "",
        f"- overhead ratio (Ray / local wall time): **{ratio:.2f}x** (target <= 1.3x)",
        f"- records identical apart from timestamps and wall/cpu times: {'yes' if identical else 'NO'}",
        f"- Ray batches: {on_ray['batches']}; records = planned runs: {on_ray['records'] == on_ray['planned']}",
        "",
        "## Driver memory",
        "",
        "Peak RSS of the driver process (`ru_maxrss`), each size in a fresh process; the baseline is the "
        "RSS after imports (pandas, pyarrow, ray, the package), before connecting.",
        "",
        "| input | variants | how | batches | seconds | baseline RSS (MB) | peak RSS (MB) | peak - baseline (MB) |",
        "|---|---:|---|---:|---:|---:|---:|---:|",
        f"| real execution | {args.variants:,} | `execute_on_ray` on the sandbox pool | {on_ray['batches']} | "
        f"{on_ray['seconds']:.1f} | {on_ray['baseline_mb']:.0f} | {on_ray['peak_mb']:.0f} | "
        f"{on_ray['peak_mb'] - on_ray['baseline_mb']:.0f} |",
    ]
    for size, result in memory.items():
        lines.append(
            f"| driver loop, runs planned not executed | {size:,} | `run_batches` + `lost_records` tasks | "
            f"{result['batches']} | {result['seconds']:.1f} | {result['baseline_mb']:.0f} | {result['peak_mb']:.0f} | "
            f"{result['peak_mb'] - result['baseline_mb']:.0f} |"
        )
    smallest, largest = min(memory), max(memory)
    growth = memory[largest]["peak_mb"] - memory[smallest]["peak_mb"]
    lines += [
        "",
        f"- {largest:,} vs {smallest:,} variants ({largest // smallest}x the input): peak RSS "
        f"{memory[largest]['peak_mb']:.0f} MB vs {memory[smallest]['peak_mb']:.0f} MB ({growth:+.0f} MB). "
        "Target: flat.",
    ]
    args.out.write_text("\n".join(lines) + "\n" + MULTI_NODE, encoding="utf-8")
    print("\n".join(lines))


MULTI_NODE = """
## Reading the figures

- The local path and the Ray path run the same core functions (`plan_runs`, `execute_runs`) on the
  same sandbox backend and limits. On one 2-core machine Ray brings no extra cores, only costs (its
  GCS, raylet and the pool's worker share the two cores with the sandbox, and every batch is
  serialised twice); the gain is elsewhere: the Ray path is what lets a dump use every core of a
  cluster. The target here is that those costs stay small.
- A ratio at or below 1x is possible here: the Ray driver writes each batch's records while the
  pool runs the next ones, and the pool works on two batches of 128 at a time, whereas the local
  path plans and submits all runs at once (one future per program), then converts and writes the
  whole table at the end. The machine is shared (see the load average), so read small
  differences as noise.
- The driver holds at most `window` batches (pools x (`batches_per_pool` + `queued_batches_per_pool`))
  of `execution_batch_rows` variants plus their records, and the tally's bounded state (a
  reservoir of `summary_sample_rows` wall times, the 10 slowest runs, counters), so its memory is
  set by those settings, not by the dump's length.
- The streamed output is written in row groups of `sink_row_group_rows` (8,192) without column
  statistics. A first version wrote one row group per batch with statistics: the Parquet footer,
  which the writer keeps in memory until it closes, then grew by about 50 MB per 200k variants
  (min/max values of long code strings in every row group). A separate check of the driver loop
  with the current sink (same loop, in one process) gave peak RSS 248 / 252 / 259 MB for 20k /
  200k / 400k variants.

## How it extends to a multi-node cluster

- One `SandboxPool` actor is pinned to every alive node with CPUs (`NodeAffinitySchedulingStrategy`,
  hard), each opening the configured sandbox backend (forkserver, or Docker with warm containers)
  with one slot per CPU of its node (`scale_out.slots_per_pool`, 0 = all). A cluster of N nodes
  therefore runs sum(CPUs) programs at once; the driver sends each batch to the least loaded pool
  (in-flight batches per slot), so bigger nodes get proportionally more.
- The window grows with the number of pools, so every pool keeps `batches_per_pool` batches running
  and `queued_batches_per_pool` waiting; results are written in input order (one Parquet row
  group per batch), so records are byte-for-byte the local path's, in the same order.
- Input and output stream: with the Parquet IO manager (`ParquetIOManagerFactory`, the default in `build_resources`)
  the asset reads `augmented_variants` row group by row group from storage (local disk or an
  fsspec URL such as s3://) and hands the finished records file to the IO manager, which copies it
  in 16 MiB chunks. The driver never holds the dump.
- Failures: a pool whose worker dies is restarted by Ray (`pool_restarts`); the driver waits for
  the restart and re-submits the batch (`batch_retries`, default once); a batch that still fails
  is written as `sandbox_error` rows with the reason in `detail`. A node that leaves the cluster
  takes its pool with it; its batches are retried on the pools that remain.
- Where it runs: set `CODEBOOST_DATA_RAY_ADDRESS` to the cluster's GCS address (`head:6379`, or
  `auto` on a cluster node; `local` starts a single-node Ray for the run). The nodes need this
  package and the sandbox interpreter (`/usr/bin/python3`) or the sandbox image; with
  `StageExecutor(ship_code=True)` the package is shipped as a `py_modules` runtime env.
- The reward does not use these pools: under verl it runs in verl's reward-loop workers (one per
  node, each with a sandbox over the node's cores; BENCHMARKS.md "Reward through verl's reward loop").
"""


if __name__ == "__main__":
    main()
