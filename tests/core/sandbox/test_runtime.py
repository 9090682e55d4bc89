"""The sandbox runtime (Python + the lock's packages) and the warm servers that pre-import its heavy
modules: every backend runs the same runtime, and a warm fork looks like a fresh interpreter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codeboost_dagster.core.sandbox import Program, RuntimeMismatch, open_declared_sandbox
from codeboost_dagster.core.sandbox.runtime import DEFAULT_LOCK, Runtime, imported_modules, lock_digest
from codeboost_dagster.core.settings import SandboxLimits

BACKENDS = ["forkserver", "subprocess", pytest.param("docker", marks=pytest.mark.docker)]
LIMITS = SandboxLimits(wall_time_s=20.0, cpu_time_s=20.0, memory_bytes=4 * 1024**3)

# One deterministic program per default package of the lock: the output depends on the package's code.
PACKAGE_PROGRAMS = {
    "numpy": "import numpy as np\nprint(np.arange(12).reshape(3, 4).sum(axis=0), np.linalg.det(np.eye(3) * 2))",
    "pandas": "import pandas as pd\nframe = pd.DataFrame({'a': [3, 1, 2], 'b': list('xyz')})\n"
    "print(frame.sort_values('a').to_string())\nprint(frame.describe().loc['mean'])",
    "scipy": "from scipy import optimize, special\nprint(round(optimize.brentq(lambda x: x**3 - 2, 0, 2), 10), "
    "special.comb(10, 3))",
    "sympy": "import sympy\nx = sympy.Symbol('x')\n"
    "print(sympy.factor(x**3 - x), sympy.integrate(sympy.sin(x) ** 2, x))",
    "networkx": "import networkx as nx\ng = nx.petersen_graph()\nprint(nx.diameter(g), sorted(nx.degree_histogram(g)))",
    "more_itertools": "import more_itertools as mi\n"
    "print(list(mi.chunked(range(7), 3)), mi.ilen(mi.windowed('abcd', 2)))",
    "sortedcontainers": "from sortedcontainers import SortedList\n"
    "s = SortedList([5, 1, 3])\ns.add(2)\nprint(s, s.bisect_left(3))",
    "dateutil": "from dateutil.relativedelta import relativedelta\nfrom datetime import date\n"
    "print(date(2024, 1, 31) + relativedelta(months=1))",
    "regex": "import regex\nprint(regex.findall(r'\\p{Lu}\\w+', 'Alpha beta Gamma'))",
    "yaml": "import yaml\nprint(yaml.safe_dump({'b': [1, 2], 'a': {'c': None}}), end='')",
    "attrs": "import attrs\n@attrs.define\nclass Point:\n    x: int\n    y: int = 0\n"
    "print(Point(1), attrs.asdict(Point(2, 3)))",
}


@pytest.fixture(scope="module", params=BACKENDS)
def runtime_sandbox(request, start_sandbox):
    with start_sandbox(request.param, LIMITS) as opened:
        yield opened


def test_the_import_scan_finds_top_level_modules_and_skips_relative_imports():
    code = (
        "import numpy as np, os.path\nfrom pandas.api import types\n"
        "def f():\n    import scipy.stats  # late\nfrom . import sibling\nx = 'import nothing'\n"
    )
    assert imported_modules(code) == {"numpy", "os", "pandas", "scipy"}


def test_the_lock_digest_ignores_comments_and_order(tmp_path: Path):
    pins = DEFAULT_LOCK.read_text().splitlines()
    shuffled = tmp_path / "other.lock"
    shuffled.write_text("# reordered\n" + "\n".join(reversed([p for p in pins if not p.startswith("#")])))
    assert lock_digest(shuffled) == lock_digest(DEFAULT_LOCK)
    shuffled.write_text(shuffled.read_text().replace("numpy==", "numpy==0"))
    assert lock_digest(shuffled) != lock_digest(DEFAULT_LOCK)


def test_every_backend_runs_the_declared_runtime_and_names_imported_packages(runtime_sandbox):
    runtime = runtime_sandbox.runtime
    assert runtime.lock_digest == lock_digest(DEFAULT_LOCK), "build it: make setup / build_image.sh"
    assert runtime.identity == f"python {runtime_sandbox.python_version}, lock {runtime.lock_digest}"
    assert runtime.packages_imported("import yaml\nfrom dateutil import tz\nimport json") == [
        f"PyYAML {runtime.modules['yaml'][1]}",
        f"python-dateutil {runtime.modules['dateutil'][1]}",
    ]
    result = runtime_sandbox.run(Program("print(1)"))
    assert result.runtime == runtime.identity


@pytest.mark.docker
def test_every_default_package_gives_identical_output_on_every_backend(start_sandbox):
    outputs = {}
    for backend in ("forkserver", "subprocess", "docker"):
        with start_sandbox(backend, LIMITS, concurrency=2) as sandbox:
            results = sandbox.run_many([Program(code) for code in PACKAGE_PROGRAMS.values()])
            outputs[backend] = [(r.status, r.stdout, r.stderr) for r in results]
            outputs[backend + " runtime"] = sandbox.runtime.identity
    assert outputs["forkserver runtime"] == outputs["subprocess runtime"] == outputs["docker runtime"]
    for name, (status, stdout, stderr) in zip(PACKAGE_PROGRAMS, outputs["subprocess"]):
        assert status == "ok" and stdout and not stderr, (name, stdout, stderr)
    assert outputs["forkserver"] == outputs["subprocess"] == outputs["docker"]


def test_a_warm_fork_reseeds_every_random_generator(runtime_sandbox):
    """numpy's global RandomState, its bit generator and random.Random instances the imports made
    (sympy's) would otherwise repeat between forks: the certificate could not see a random program."""
    programs = [
        "import numpy as np\nprint(np.random.rand(), np.random.randint(10**9))",
        "import numpy\nprint(numpy.random.mtrand._rand._bit_generator.random_raw())",
        "import sympy\nfrom sympy.core.random import rng\nprint(rng.random())",
        "import random, pandas\nprint(random.random())",
    ]
    for code in programs:
        outputs = {runtime_sandbox.run(Program(code)).stdout for _ in range(3)}
        assert len(outputs) == 3, (code, outputs)


def test_a_warm_fork_sees_the_warning_filters_of_a_fresh_interpreter(start_sandbox):
    """Imports add warning filters (numpy: RankWarning 'always'); a program sees only those its own
    imports would add, compared against a fresh interpreter of the same runtime."""
    code = "import warnings, {}\n"
    code += "print([(a, getattr(c, '__name__', c), m and m.pattern) for a, m, c, *_ in warnings.filters])"
    programs = [Program(code.format(name)) for name in ("json", "numpy", "pandas", "sympy", "networkx", "scipy")]
    with start_sandbox("forkserver", LIMITS) as warm, start_sandbox("subprocess", LIMITS) as fresh:
        assert [r.stdout for r in warm.run_many(programs)] == [r.stdout for r in fresh.run_many(programs)]


def test_programs_are_routed_by_their_imports(start_sandbox):
    """Only a program that imports a warm module runs on the warm server (whose modules then show
    in sys.modules, which the task builder treats as reading interpreter state)."""
    code = "import sys{}\nprint('pandas' in sys.modules)"
    with start_sandbox("forkserver", LIMITS) as sandbox:
        assert sandbox.run(Program(code.format(""))).stdout == "False\n"
        assert sandbox.run(Program(code.format(", numpy"))).stdout == "True\n"
    no_warm = SandboxLimits(wall_time_s=20.0, cpu_time_s=20.0, memory_bytes=4 * 1024**3, warm_modules=())
    with start_sandbox("forkserver", no_warm) as sandbox:
        assert sandbox.run(Program(code.format(", numpy"))).stdout == "False\n"


def test_a_sandbox_built_from_another_lock_refuses_to_open(tmp_path: Path):
    other = tmp_path / "other.lock"
    other.write_text("numpy==1.0.0\n")
    with pytest.raises(RuntimeMismatch, match=r"runs python .*, lock [0-9a-f]{12}, but the settings declare"):
        open_declared_sandbox("forkserver", SandboxLimits(runtime_lock=str(other)), concurrency=1)
    with open_declared_sandbox("forkserver", SandboxLimits(), concurrency=1) as sandbox:
        assert sandbox.runtime.lock_digest == lock_digest(DEFAULT_LOCK)


def test_a_runtime_is_read_from_the_servers_hello():
    hello = {
        "python_version": "3.11.2",
        "runtime": json.loads('{"lock_digest": "abc", "modules": {"yaml": ["PyYAML", "6"]}}'),
    }
    assert Runtime.from_hello(hello).identity == "python 3.11.2, lock abc"
    assert Runtime.from_hello({"python_version": "3.11.2"}).identity == "python 3.11.2, standard library only"
