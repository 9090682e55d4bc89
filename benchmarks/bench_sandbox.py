"""Sandbox throughput: programs/s per backend against two per-program baselines.

    python benchmarks/bench_sandbox.py [--sample PATH] [--limit N] [--out FILE]

Workloads: trivial programs (`print(i)`), realistic ones (a built-in set of typical corpus
snippets, or the `code` column of a Parquet / JSONL file given with --sample) and numeric ones
(importing numpy or pandas, which the warm servers pre-import: issue 28). Each runs at
concurrency 1 and 2 on every backend that can start here (forkserver, subprocess, docker),
side by side with two baselines: a naive `python3 main.py` through a shell in a fresh temp dir
per program, and `docker run` per program (when an engine and the sandbox image exist).
Results (with the machine and date) go to benchmarks/results/sandbox.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from codeboost_dagster.core.sandbox import Program, SandboxUnavailable, open_sandbox, stitch
from codeboost_dagster.core.sandbox.docker_backend import DEFAULT_IMAGE
from codeboost_dagster.core.sandbox.local import default_interpreter
from codeboost_dagster.core.settings import SandboxLimits

RESULTS = Path(__file__).parent / "results" / "sandbox.md"
CONCURRENCIES = (1, 2)
TARGETS = (
    "local default >= 4x naive at 1 slot (issue 27) and >= 150 trivial programs/s; docker >= 25x `docker run`; "
    "numeric: forkserver >= 10x a fresh interpreter of the same runtime per program (issue 28)"
)

REALISTIC = [
    Program(
        "def bubble(values):\n    values = list(values)\n    for i in range(len(values)):\n"
        "        for j in range(len(values) - i - 1):\n            if values[j] > values[j + 1]:\n"
        "                values[j], values[j + 1] = values[j + 1], values[j]\n    return values\n\n"
        "data = [5, 3, 9, 1, 7, 2, 8]\nprint(bubble(data))\nprint(sorted(data, reverse=True))\n"
    ),
    Program(
        "class Account:\n    def __init__(self, owner, balance=0):\n        self.owner = owner\n"
        "        self.balance = balance\n\n    def withdraw(self, amount):\n        if amount > self.balance:\n"
        "            raise ValueError('insufficient funds')\n        self.balance -= amount\n"
        "        return self.balance\n\nacct = Account('ann', 100)\nprint(acct.withdraw(30))\n"
        "print(acct.withdraw(80))\n"
    ),
    Program(
        "import sys\nfrom collections import Counter\ncounts = Counter(sys.stdin.read().split())\n"
        "for word, n in counts.most_common(3):\n    print(word, n)\n",
        stdin="the cat and the dog and the bird\n",
    ),
    Program(
        "from functools import lru_cache\nfrom itertools import permutations\n\n@lru_cache(None)\n"
        "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)\n\nprint(fib(80))\n"
        "print(len(list(permutations(range(6)))))\n"
    ),
    Program(
        "import json\nfrom dataclasses import dataclass, asdict\n\n@dataclass\nclass Point:\n"
        "    x: int\n    y: int\n\npoints = [Point(i, i * i) for i in range(4)]\n"
        "print(json.dumps([asdict(p) for p in points], indent=1))\n"
    ),
    Program(
        "import re\nlog = 'ERROR 12:01 disk full; WARN 12:02 slow; ERROR 12:05 fan'\n"
        "for level, stamp, text in re.findall(r'(\\w+) (\\d+:\\d+) ([^;]+)', log):\n"
        "    print(f'{stamp} [{level.lower()}] {text}')\n"
    ),
    Program(
        "import heapq\nfrom collections import defaultdict\ngraph = defaultdict(list)\n"
        "for a, b, w in [(0, 1, 4), (0, 2, 1), (2, 1, 2), (1, 3, 5)]:\n    graph[a].append((b, w))\n"
        "dist = {0: 0}\nheap = [(0, 0)]\nwhile heap:\n    d, node = heapq.heappop(heap)\n"
        "    for nxt, w in graph[node]:\n        if d + w < dist.get(nxt, float('inf')):\n"
        "            dist[nxt] = d + w\n            heapq.heappush(heap, (d + w, nxt))\nprint(dist)\n"
    ),
    Program(
        "def average(values):\n    return sum(values) / len(values)\n\nprint(average([1, 2]))\nprint(average([]))\n"
    ),
    Program(
        "def solve(n, k=2):\n    return [i ** k for i in range(n)]\n", func_name="solve", args=[5], kwargs={"k": 3}
    ),
    Program(
        "from fractions import Fraction\nfrom decimal import Decimal, getcontext\ngetcontext().prec = 30\n"
        "print(sum(Fraction(1, d) for d in range(1, 8)))\nprint(Decimal(1) / Decimal(7))\n"
    ),
]


@dataclass
class Row:
    workload: str
    runner: str
    concurrency: int
    programs: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.programs / self.seconds


NUMERIC = [
    Program("import numpy as np\nm = np.arange(16).reshape(4, 4)\nprint(m @ m.T)\nprint(np.linalg.matrix_rank(m))\n"),
    Program(
        "import pandas as pd\nframe = pd.DataFrame({'k': list('abab'), 'v': [1, 2, 3, 4]})\n"
        "print(frame.groupby('k')['v'].sum().to_dict())\n"
    ),
    Program("import numpy as np\nvalues = np.array([3.5, 1.25, 9.0])\nprint(values.mean(), np.sort(values)[::-1])\n"),
    Program(
        "import numpy as np\nimport pandas as pd\nseries = pd.Series(np.arange(5) ** 2, index=list('vwxyz'))\n"
        "print(series[series > 3].to_string())\n"
    ),
]


def load_sample(path: Path, limit: int) -> list[Program]:
    """Programs from the `code` (and optional `stdin`) column of a Parquet or JSONL file."""
    if path.suffix == ".parquet":
        import pandas as pd

        rows = pd.read_parquet(path).head(limit).to_dict("records")
    else:
        with path.open(encoding="utf-8") as handle:
            rows = [json.loads(line) for line, _ in zip(handle, range(limit))]
    programs = [
        Program(code, stdin=row.get("stdin") or "")
        for row in rows
        if isinstance(code := row.get("code", row.get("code_str")), str)
    ]
    if not programs:
        raise SystemExit(f"{path} has no rows with a `code` or `code_str` text column")
    return programs


def timed(run: Callable[[Sequence[Program], int], object], programs: Sequence[Program], concurrency: int) -> float:
    start = time.perf_counter()
    run(programs, concurrency)
    return time.perf_counter() - start


def in_threads(one: Callable[[Program], object]) -> Callable[[Sequence[Program], int], object]:
    def run(programs: Sequence[Program], concurrency: int) -> object:
        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, programs))

    return run


def naive_shell(program: Program) -> None:
    """The baseline: write main.py into a fresh temp dir and run it through a shell."""
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "main.py").write_text(stitch(program), encoding="utf-8")
        subprocess.run(
            f"cd {directory} && {default_interpreter()} main.py",
            shell=True,
            input=program.stdin.encode(),
            capture_output=True,
            timeout=60,
            check=False,
        )


def docker_run(program: Program) -> None:
    """The container baseline: a fresh `docker run` per program."""
    with tempfile.TemporaryDirectory() as directory:
        Path(directory, "main.py").write_text(stitch(program), encoding="utf-8")
        os.chmod(directory, 0o755)
        subprocess.run(
            [
                "docker",
                "run",
                "--rm",
                "-i",
                "--network",
                "none",
                "-v",
                f"{directory}:/sandbox:ro",
                "-w",
                "/sandbox",
                DEFAULT_IMAGE,
                "python3",
                "main.py",
            ],
            input=program.stdin.encode(),
            capture_output=True,
            timeout=120,
            check=False,
        )


def docker_ready() -> bool:
    if shutil.which("docker") is None:
        return False
    probe = subprocess.run(["docker", "image", "inspect", DEFAULT_IMAGE], capture_output=True, check=False)
    return probe.returncode == 0


def repeat(programs: Sequence[Program], count: int) -> list[Program]:
    return [programs[i % len(programs)] for i in range(count)]


def bench_workload(name: str, base: Sequence[Program], sizes: dict[str, int], with_docker: bool) -> list[Row]:
    """Every backend and baseline on `base`, repeated to `sizes[runner]` programs, at each concurrency."""
    rows: list[Row] = []
    limits = SandboxLimits()
    backends = ["forkserver", "subprocess"] + (["docker"] if with_docker else [])
    for backend in backends:
        for concurrency in CONCURRENCIES:
            programs = repeat(base, sizes[backend])
            try:
                started = time.perf_counter()
                with open_sandbox(backend, limits, concurrency=concurrency) as sandbox:
                    startup = time.perf_counter() - started
                    sandbox.run_many(repeat(base, 2 * concurrency))
                    seconds = timed(lambda batch, _: sandbox.run_many(batch), programs, concurrency)
                    statuses = {result.status for result in sandbox.run_many(base)}
            except SandboxUnavailable as error:
                print(f"  {backend}: unavailable ({error})", file=sys.stderr)
                break
            rows.append(Row(name, backend, concurrency, len(programs), seconds))
            print(
                f"  {name:9} {backend:11} c={concurrency} {rows[-1].rate:8.1f}/s  "
                f"start {startup:.2f}s  {sorted(statuses)}",
                file=sys.stderr,
            )
    baselines = [("naive shell", naive_shell, sizes["naive shell"])]
    if with_docker:
        baselines.append(("docker run", docker_run, sizes["docker run"]))
    for runner, one, size in baselines:
        for concurrency in CONCURRENCIES:
            programs = repeat(base, size)
            in_threads(one)(programs[:concurrency], concurrency)
            rows.append(Row(name, runner, concurrency, size, timed(in_threads(one), programs, concurrency)))
            print(f"  {name:9} {runner:11} c={concurrency} {rows[-1].rate:8.1f}/s", file=sys.stderr)
    return rows


def machine() -> dict[str, str]:
    model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    docker_version = ""
    if shutil.which("docker"):
        probe = subprocess.run(
            ["docker", "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, check=False
        )
        docker_version = probe.stdout.strip()
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cores": str(os.cpu_count()),
        "cpu": model,
        "kernel": platform.release(),
        "sandbox python": subprocess.run(
            [default_interpreter(), "-c", "import sys; print(sys.version.split()[0])"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip(),
        "docker engine": docker_version or "none",
        "load average at start": " ".join(f"{value:.2f}" for value in os.getloadavg()),
    }


def report(rows: list[Row], info: dict[str, str], sample: str) -> str:
    intro = (
        "Measured by `python benchmarks/bench_sandbox.py` "
        f"(workloads: trivial `print(i)` programs; realistic: {sample}). Default `SandboxLimits`."
    )
    baselines = (
        "Baselines: *naive shell* writes main.py into a fresh temp dir and runs "
        f"`cd DIR && {default_interpreter()} main.py` through /bin/sh (no isolation, no limits); *docker run* "
        f"starts `docker run --rm --network none -v DIR:/sandbox:ro {DEFAULT_IMAGE} python3 main.py` per program. "
        "Throughput includes everything per program (write, run, collect); sandbox start-up is excluded. "
        "The machine is shared with other jobs: see the load average."
    )
    lines = ["# Sandbox throughput", "", intro, "", baselines, ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += [
        "",
        f"Targets: {TARGETS}.",
        "",
        "| workload | runner | concurrency | programs | seconds | programs/s | x naive shell | x docker run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    reference = {(row.workload, row.runner, row.concurrency): row.rate for row in rows}
    for row in rows:
        ratios = []
        for baseline in ("naive shell", "docker run"):
            base = reference.get((row.workload, baseline, row.concurrency))
            ratios.append(f"{row.rate / base:.1f}" if base else "n/a")
        lines.append(
            f"| {row.workload} | {row.runner} | {row.concurrency} | {row.programs} | {row.seconds:.2f} | "
            f"{row.rate:.1f} | {ratios[0]} | {ratios[1]} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sample", type=Path, help="Parquet or JSONL file with a `code` column")
    parser.add_argument("--limit", type=int, default=200, help="programs read from --sample")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    realistic = load_sample(args.sample, args.limit) if args.sample else REALISTIC
    sample = f"{len(realistic)} programs from {args.sample}" if args.sample else f"{len(REALISTIC)} built-in snippets"
    with_docker = docker_ready()
    info = machine()
    print(json.dumps(info), file=sys.stderr)
    sizes = {"forkserver": 600, "subprocess": 200, "docker": 400, "naive shell": 150, "docker run": 16}
    rows = bench_workload("trivial", [Program(f"print({i})\n") for i in range(50)], sizes, with_docker)
    rows += bench_workload("realistic", realistic, sizes, with_docker)
    numeric_sizes = {"forkserver": 200, "subprocess": 16, "docker": 200, "naive shell": 16, "docker run": 8}
    rows += bench_workload("numeric", NUMERIC, numeric_sizes, with_docker)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(report(rows, info, sample), encoding="utf-8")
    print(args.out.read_text(), end="")


if __name__ == "__main__":
    main()
