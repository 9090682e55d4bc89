"""Hostile programs on every backend: the right status, the runner survives, the next run is clean."""

from __future__ import annotations

import os
import socket
import uuid
from pathlib import Path

import pytest

from codeboost_dagster.core.sandbox import Program, Sandbox

# In the sandbox's pid namespace only the server (pid 1) and the probe itself may exist, and
# the scratch dirs must hold nothing but the probe's own main.py.
PROBE = (
    "import os\n"
    "print(sum(name.isdigit() for name in os.listdir('/proc')), sorted(os.listdir('.')), sorted(os.listdir('/tmp')))\n"
)


def assert_clean(sandbox: Sandbox) -> None:
    result = sandbox.run(Program(PROBE))
    assert result.status == "ok", result
    assert result.stdout == "2 ['main.py'] []\n"


def processes_with(marker: bytes) -> list[int]:
    """Host pids whose command line contains `marker` (containers' processes included)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                if marker in Path(f"/proc/{entry}/cmdline").read_bytes():
                    found.append(int(entry))
            except OSError:
                continue
    return found


SIMPLE_CASES = {
    "infinite_loop": ("while True:\n    pass\n", "timeout", None),
    "sleep": ("import time\ntime.sleep(60)\n", "timeout", None),
    "memory_bomb": (
        "chunks = []\nwhile True:\n    chunks.append(bytearray(16 * 1024 * 1024))\n",
        "memory",
        "MemoryError",
    ),
    "allocate_9_gib": ("buffer = bytearray(9 * 1024 ** 3)\n", "memory", "MemoryError"),
    "fork_bomb": (
        "import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n",
        "timeout",
        None,
    ),
    "exit_3": ("import sys\nsys.exit(3)\n", "error", None),
    "stdin_not_given": ("input()\n", "error", "EOFError"),
    "deep_recursion": ("def f(n):\n    return f(n + 1)\n\nf(0)\n", "error", "RecursionError"),
    "segfault": ("import ctypes\nctypes.string_at(0)\n", "error", None),
    "kill_every_process_it_can": ("import os, signal\nos.kill(-1, signal.SIGKILL)\n", "error", "ProcessLookupError"),
}


@pytest.mark.parametrize("case", sorted(SIMPLE_CASES))
def test_hostile_program_gets_its_status_and_leaves_nothing(sandbox, case):
    code, status, error_type = SIMPLE_CASES[case]
    result = sandbox.run(Program(code))
    assert (result.status, result.error_type) == (status, error_type), result
    assert_clean(sandbox)


def test_exit_code_and_signal_are_reported(sandbox):
    assert sandbox.run(Program("import sys\nsys.exit(3)\n")).returncode == 3
    assert sandbox.run(Program("import ctypes\nctypes.string_at(0)\n")).returncode == -11


@pytest.mark.parametrize("stream", ["stdout", "stderr"])
def test_100_mb_of_output_is_capped_while_reading(sandbox, stream, test_limits):
    result = sandbox.run(Program(f"import sys\nsys.{stream}.write('x' * 100_000_000)\n"))
    assert result.status == "output_limit"
    assert getattr(result, stream) == "x" * test_limits.max_output_bytes
    assert_clean(sandbox)


def test_setsid_double_fork_daemon_is_dead_afterwards(sandbox):
    marker = f"{uuid.uuid4().int % 10**6}.5"
    code = (
        "import os, time\n"
        "if os.fork() == 0:\n"
        "    os.setsid()\n"
        "    if os.fork() == 0:\n"
        f"        os.execv('/bin/sleep', ['sleep', '{marker}'])\n"
        "    os._exit(0)\n"
        "time.sleep(0.3)\n"
        "print('parent done')\n"
    )
    result = sandbox.run(Program(code))
    assert (result.status, result.stdout) == ("ok", "parent done\n"), result
    assert processes_with(b"sleep\x00" + marker.encode()) == []
    assert_clean(sandbox)


def test_host_files_cannot_be_read(sandbox, tmp_path):
    secret = f"host-secret-{uuid.uuid4()}"
    home_file = Path("/root" if os.geteuid() == 0 else Path.home()) / f".codeboost-sandbox-{uuid.uuid4().hex}"
    home_file.write_text(secret)
    (tmp_path / "secret.txt").write_text(secret)
    try:
        code = (
            f"for path in ['/etc/shadow', {str(home_file)!r}, {str(tmp_path / 'secret.txt')!r}]:\n"
            "    try:\n"
            "        print(open(path).read())\n"
            "    except OSError as error:\n"
            "        print(type(error).__name__)\n"
        )
        result = sandbox.run(Program(code))
    finally:
        home_file.unlink()
    assert result.status == "ok", result
    assert secret not in result.stdout
    assert result.stdout.splitlines()[0] == "PermissionError"
    assert result.stdout.splitlines()[1] in ("PermissionError", "FileNotFoundError")
    assert_clean(sandbox)


def test_writes_outside_the_work_dir_fail(sandbox, tmp_path):
    target = tmp_path / "escaped.txt"
    code = (
        f"for path in ['/usr/escaped.txt', '/etc/escaped.txt', '/escaped.txt', {str(target)!r}]:\n"
        "    try:\n"
        "        open(path, 'w').write('x')\n"
        "        print('wrote', path)\n"
        "    except OSError as error:\n"
        "        print(type(error).__name__)\n"
        "open('inside.txt', 'w').write('fine')\n"
        "print(open('inside.txt').read())\n"
    )
    result = sandbox.run(Program(code))
    assert result.status == "ok", result
    assert "wrote" not in result.stdout
    assert result.stdout.endswith("fine\n")
    assert not target.exists() and not Path("/usr/escaped.txt").exists()
    assert_clean(sandbox)


def test_no_network_to_localhost_or_by_name(sandbox):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        listener.settimeout(0)
        port = listener.getsockname()[1]
        code = (
            "import socket\n"
            f"for address in [('127.0.0.1', {port}), ('example.com', 80)]:\n"
            "    try:\n"
            "        socket.create_connection(address, timeout=1)\n"
            "        print('connected')\n"
            "    except OSError as error:\n"
            "        print(type(error).__name__)\n"
        )
        result = sandbox.run(Program(code))
        with pytest.raises(BlockingIOError):
            listener.accept()
    assert result.status == "ok", result
    assert result.stdout == "ConnectionRefusedError\ngaierror\n"
    assert_clean(sandbox)


def test_killing_the_parent_does_not_kill_the_runner(sandbox):
    result = sandbox.run(Program("import os, signal\nos.kill(os.getppid(), signal.SIGKILL)\nprint('alive')\n"))
    # Locally the parent is a root server (EPERM); in a container it is pid 1 (signal ignored).
    assert (result.status, result.error_type) in (("ok", None), ("error", "PermissionError")), result
    assert_clean(sandbox)


def test_non_utf8_output_is_replaced(sandbox):
    result = sandbox.run(Program("import sys\nsys.stdout.buffer.write(b'ok \\xff\\xfe\\n')\n"))
    assert (result.status, result.stdout) == ("ok", "ok \ufffd\ufffd\n")


def test_host_environment_is_not_visible(monkeypatch, start_sandbox, sandbox):
    secret = f"hunter2-{uuid.uuid4()}"
    monkeypatch.setenv("SECRET", secret)
    code = "import os\nprint(sorted(os.environ), os.environ.get('SECRET'))\nprint(open('/proc/self/environ').read())\n"
    with start_sandbox(sandbox.backend) as fresh:
        result = fresh.run(Program(code))
    assert result.status == "ok", result
    assert secret not in result.stdout
    variables = ["HOME", "LANG", "MKL_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "PATH", "PYTHONHASHSEED"]
    assert result.stdout.startswith(f"{variables} None\n")


def test_home_is_the_programs_working_directory(sandbox):
    code = "import os, pathlib\nprint(pathlib.Path.home(), os.path.expanduser('~'), os.getcwd())\n"
    result = sandbox.run(Program(code))
    assert result.status == "ok", result
    home, expanded, cwd = result.stdout.split()
    assert home == expanded == cwd
