"""What every backend must do alike: input, stitching, tracebacks, records, batch runs."""

from __future__ import annotations

import contextlib
import subprocess
import sys
from datetime import datetime

import pytest

from codeboost_dagster.core.sandbox import (
    STATUSES,
    ExecutionResult,
    Program,
    Variation,
    program_from_test_case,
    stitch,
)
from codeboost_dagster.core.sandbox.base import SANDBOX_ENV
from codeboost_dagster.core.test_cases import normalize_test_cases

NESTED_ERROR = (
    "def parse(text):\n"
    "    return int(text)\n"
    "\n"
    "def total(items):\n"
    "    return sum(parse(item) for item in items)\n"
    "\n"
    "print(total(['1', '2']))\n"
    "print(total(['3', 'x']))\n"
)

# Programs whose stdout and stderr must be byte-identical on every backend and every re-run.
REFERENCE_PROGRAMS = {
    "nested_value_error": NESTED_ERROR,
    "recursion_error": "def f(n):\n    return f(n + 1)\n\nf(0)\n",
    "syntax_error": "def broken(:\n    pass\n",
    "chained": "try:\n    {}['missing']\nexcept KeyError as error:\n    raise ValueError('bad') from error\n",
    "exit_message": "import sys\nprint('before')\nsys.exit('bye')\n",
    "custom_exception": "class Oops(Exception):\n    pass\n\nraise Oops('custom')\n",
    "set_order_and_context": (
        "import os, sys, socket\n"
        "print({'apple', 'banana', 'cherry', 'date', 'elderberry'})\n"
        "print(__name__, __file__, sys.argv, os.getcwd(), socket.gethostname(), sys.version_info[:2])\n"
        "print(sys.stdout.encoding, sys.stdin.read() == '', os.cpu_count() > 0)\n"
    ),
    "atexit_and_threads": (
        "import atexit, threading\n"
        "atexit.register(print, 'at exit')\n"
        "threading.Thread(target=print, args=('in thread',)).start()\n"
        "print('main')\n"
    ),
}


def test_stdin_is_fed(sandbox):
    result = sandbox.run(
        Program("import sys\nfor line in sys.stdin:\n    print(line.strip().upper())\n", stdin="ab\ncd\n")
    )
    assert (result.status, result.stdout, result.stderr) == ("ok", "AB\nCD\n", "")


def test_function_call_is_stitched_and_printed(sandbox):
    code = "def describe(numbers, label='n', *, scale=1):\n    return f'{label}: {sum(numbers) * scale}'\n"
    case = normalize_test_cases('[{"input": {"numbers": [1, 2, 3], "scale": 2}, "func_name": "describe"}]')[0]
    program = program_from_test_case(code, case)
    result = sandbox.run(program)
    assert (result.status, result.stdout) == ("ok", "n: 12\n")
    assert stitch(program).endswith(
        'if __name__ == "__main__":\n    __result__ = describe(numbers=[1, 2, 3], scale=2)\n    print(__result__)\n'
    )


def test_traceback_is_byte_identical_across_runs_and_names_the_fixed_path(sandbox):
    first, second = (sandbox.run(Program(NESTED_ERROR)) for _ in range(2))
    assert first.stderr == second.stderr
    assert first.stdout == "3\n"
    assert first.stderr == (
        "Traceback (most recent call last):\n"
        '  File "/sandbox/main.py", line 8, in <module>\n'
        "    print(total(['3', 'x']))\n"
        "          ^^^^^^^^^^^^^^^^^\n"
        '  File "/sandbox/main.py", line 5, in total\n'
        "    return sum(parse(item) for item in items)\n"
        "           ^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^\n"
        '  File "/sandbox/main.py", line 5, in <genexpr>\n'
        "    return sum(parse(item) for item in items)\n"
        "               ^^^^^^^^^^^\n"
        '  File "/sandbox/main.py", line 2, in parse\n'
        "    return int(text)\n"
        "           ^^^^^^^^^\n"
        "ValueError: invalid literal for int() with base 10: 'x'\n"
    )
    assert (first.status, first.error_type, first.returncode) == ("error", "ValueError", 1)


@pytest.fixture(scope="module")
def reference_outputs(start_sandbox) -> dict[str, tuple[str, str, int | None]]:
    """Outputs of the reference programs under the subprocess backend (a fresh interpreter)."""
    with start_sandbox("subprocess") as reference:
        return {name: _observed(reference.run(Program(code))) for name, code in REFERENCE_PROGRAMS.items()}


def _observed(result: ExecutionResult) -> tuple[str, str, int | None]:
    return result.stdout, result.stderr, result.returncode


@pytest.mark.parametrize("name", sorted(REFERENCE_PROGRAMS))
def test_output_is_identical_to_a_fresh_interpreter(sandbox, reference_outputs, name):
    assert _observed(sandbox.run(Program(REFERENCE_PROGRAMS[name]))) == reference_outputs[name]


def test_error_types_come_from_the_final_traceback_line(sandbox):
    expectations = {
        "nested_value_error": "ValueError",
        "recursion_error": "RecursionError",
        "syntax_error": "SyntaxError",
        "chained": "ValueError",
        "exit_message": None,
        "custom_exception": "Oops",
    }
    for name, error_type in expectations.items():
        result = sandbox.run(Program(REFERENCE_PROGRAMS[name]))
        assert (result.status, result.error_type) == ("error", error_type), name


def test_every_program_gets_fresh_random_state(sandbox):
    outputs = {sandbox.run(Program("import random\nprint(random.getrandbits(64))\n")).stdout for _ in range(3)}
    assert len(outputs) == 3


@pytest.mark.parametrize(
    "code",
    [
        "print(object())\n",
        "print(id([]), id({}))\n",
        "class Point:\n    pass\n\nprint(Point())\n",
        "print(hash(object()))\n",
        "print(object.__repr__(bytearray(5000)))\n",
    ],
)
def test_object_addresses_differ_between_runs_as_in_fresh_interpreters(sandbox, code):
    """Else the determinism check would certify programs that print addresses (p ~ 1/256 a pair)."""
    outputs = {sandbox.run(Program(code)).stdout for _ in range(10)}
    assert len(outputs) >= 8


def test_result_record_is_complete(sandbox):
    result = sandbox.run(Program("print('hi')\n"))
    record = result.to_dict()
    assert record["status"] in STATUSES and record["backend"] == sandbox.backend
    assert record["command"] == "python3 /sandbox/main.py"
    assert record["python_version"].startswith("3.")
    assert record["cpu_ms"] >= 0 and record["wall_ms"] > 0 and record["detail"] is None
    started, finished = (datetime.fromisoformat(record[key]) for key in ("started_at", "finished_at"))
    assert started.utcoffset().total_seconds() == 0 and started <= finished


def test_a_lowered_limit_stops_a_program_that_spins_not_one_that_waits(sandbox, test_limits):
    """A run's own limit (derived from another run) counts CPU use: a program that got little CPU by
    then (it sleeps, or the machine was loaded) gets the time again, up to the sandbox's limit."""
    spinning = sandbox.run(Program("while True:\n    pass\n", wall_time_s=0.2))
    assert spinning.status == "timeout" and 0.2 <= spinning.wall_limit_s < test_limits.wall_time_s
    waiting = sandbox.run(Program("import time\ntime.sleep(0.5)\nprint('awake')\n", wall_time_s=0.2))
    assert waiting.status == "ok" and waiting.stdout == "awake\n"
    assert 0.5 <= waiting.wall_limit_s <= test_limits.wall_time_s
    sleeping = sandbox.run(Program("import time\ntime.sleep(9)\n", wall_time_s=0.2))
    assert sleeping.status == "timeout" and sleeping.wall_limit_s == test_limits.wall_time_s


@pytest.mark.parametrize("backend", ["forkserver", "subprocess", pytest.param("docker", marks=pytest.mark.docker)])
def test_servers_with_another_hash_seed_run_programs_as_a_fresh_interpreter_would(start_sandbox, backend):
    """Another hash seed reorders a set of strings and changes str hashes, as in a fresh `python3`;
    a forked program's os.environ stays the sandbox's."""
    programs = [
        Program("print({'alpha', 'beta', 'gamma', 'delta', 'epsilon'})\n"),
        Program("print(hash('alpha'), hash(7))\n"),
        Program("import os\nprint(os.environ['PYTHONHASHSEED'])\n"),
    ]
    outputs = {}
    for seed in (0, 1):
        with start_sandbox(backend, variation=Variation(hash_seed=seed)) as sandbox:
            outputs[seed] = [result.stdout for result in sandbox.run_many(programs)]
    assert outputs[0][0] != outputs[1][0] and outputs[0][1] != outputs[1][1]
    assert outputs[0][1].split()[1] == outputs[1][1].split()[1] == "7"
    if backend != "subprocess":  # a fresh interpreter's environment is the one it started with
        assert outputs[0][2] == outputs[1][2] == "0\n"


@pytest.mark.parametrize("backend", ["forkserver", pytest.param("docker", marks=pytest.mark.docker)])
def test_servers_with_a_shifted_clock_show_a_later_date_and_still_sleep(start_sandbox, backend):
    """The certificate's clock run: the wall clock is years ahead for the program (date, time.time),
    while sleeping, timeouts and the program's environment are as on a default server."""
    code = (
        "import datetime, os, threading, time\nstart = time.monotonic()\ntime.sleep(0.05)\n"
        "print(datetime.date.today().year, int(time.time() // 86400))\n"
        "print(threading.Event().wait(0.01), time.monotonic() - start >= 0.05, sorted(os.environ))\n"
    )
    outputs = {}
    for days in (0, 1200):
        with start_sandbox(backend, variation=Variation(clock_shift_days=days)) as sandbox:
            result = sandbox.run(Program(code))
        assert result.status == "ok", result
        outputs[days] = result.stdout.split("\n")
    (year, day), (later_year, later_day) = (outputs[days][0].split() for days in (0, 1200))
    assert int(later_year) - int(year) >= 3 and abs(int(later_day) - int(day) - 1200) <= 1
    assert outputs[0][1] == outputs[1200][1] == f"False True {sorted([*SANDBOX_ENV, 'HOME'])}"


@pytest.mark.parametrize("backend", ["forkserver", "subprocess", pytest.param("docker", marks=pytest.mark.docker)])
def test_run_many_keeps_order_on_two_slots(start_sandbox, backend):
    programs = [Program(f"print({index} * {index})\n") for index in range(12)] + [
        Program("import time\ntime.sleep(9)\n")
    ]
    seen = []
    with start_sandbox(backend, concurrency=2) as sandbox:
        results = sandbox.run_many(programs, progress=lambda done, total: seen.append((done, total)))
    assert [result.stdout for result in results[:-1]] == [f"{index * index}\n" for index in range(12)]
    assert results[-1].status == "timeout"
    assert seen[-1] == (13, 13) and len(seen) == 13


def test_package_imports_without_dagster():
    code = (
        "import sys, codeboost_dagster.core.sandbox\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in ('dagster', 'docker')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"


def _kill_server(sandbox) -> None:
    channel = sandbox._slots[0].channel
    if sandbox.backend == "docker":
        import docker

        channel.container.kill()
        with contextlib.suppress(docker.errors.NotFound):  # auto-removed already
            channel.container.wait()
    else:
        channel.process.kill()
        channel.process.wait()


@pytest.mark.parametrize("backend", ["forkserver", "subprocess", pytest.param("docker", marks=pytest.mark.docker)])
def test_a_dead_server_is_replaced_before_the_next_program(start_sandbox, backend):
    with start_sandbox(backend) as sandbox:
        assert sandbox.run(Program("print('before')\n")).stdout == "before\n"
        _kill_server(sandbox)
        result = sandbox.run(Program("print('after')\n"))
    assert (result.status, result.stdout) == ("ok", "after\n"), result


@pytest.mark.docker
def test_docker_containers_are_recycled_after_n_runs(start_sandbox):
    with start_sandbox("docker", recycle_after=2) as sandbox:
        containers = []
        for _ in range(5):
            assert sandbox.run(Program("print(1)\n")).status == "ok"
            containers.append(sandbox._slots[0].channel.container.id)
    assert len(set(containers)) == 3
