"""Pure parts of the sandbox: stitching, programs from test cases, error types, labels."""

from __future__ import annotations

import signal

import pytest

from codeboost_dagster.core.sandbox import (
    Program,
    classify,
    open_sandbox,
    parse_error_type,
    program_from_test_case,
    programs_from_test_cases,
    stitch,
)
from codeboost_dagster.core.settings import SandboxLimits
from codeboost_dagster.core.test_cases import normalize_test_cases


def test_stitch_appends_the_call_under_a_main_guard():
    program = Program(
        "def f(a, b=0):\n    return a", func_name="f", args=[[1, "x"], None, True], kwargs={"b": {"k": 1.5}}
    )
    assert stitch(program) == (
        "def f(a, b=0):\n    return a\n\n\n"
        'if __name__ == "__main__":\n'
        "    __result__ = f([1, 'x'], None, True, b={'k': 1.5})\n"
        "    print(__result__)\n"
    )


def test_stitch_leaves_stdin_programs_alone_and_renders_non_finite_floats():
    assert stitch(Program("print(1)", stdin="x")) == "print(1)"
    rendered = stitch(Program("def f(x):\n    return x\n", func_name="f", args=[float("inf"), float("nan")]))
    assert "f(float('inf'), float('nan'))" in rendered
    compile(rendered, "main.py", "exec")


def test_programs_from_release_test_cases():
    cases = normalize_test_cases('[{"input": "3\\n"}, {"input": [1, 2], "func_name": "add"}]')
    stdin_program, call_program = programs_from_test_cases("code", cases)
    assert (stdin_program.stdin, stdin_program.is_call) == ("3\n", False)
    assert (call_program.func_name, call_program.args, call_program.kwargs) == ("add", [1, 2], {})
    assert programs_from_test_cases("code", []) == [Program("code")]
    assert program_from_test_case("code", None) == Program("code")


@pytest.mark.parametrize(
    "kwargs",
    [
        {"func_name": "not an identifier"},
        {"func_name": "f", "stdin": "x"},
        {"args": [1]},
        {"func_name": "f", "kwargs": {"a b": 1}},
    ],
)
def test_invalid_programs_are_rejected(kwargs):
    with pytest.raises(ValueError):
        Program("code", **kwargs)


@pytest.mark.parametrize(
    ("stderr", "expected"),
    [
        (
            (
                'Traceback (most recent call last):\n  File "/sandbox/main.py", line 1, in <module>\n    1/0\n'
                "ZeroDivisionError: division by zero\n"
            ),
            "ZeroDivisionError",
        ),
        ('  File "/sandbox/main.py", line 1\n    def f(:\n          ^\nSyntaxError: invalid syntax\n', "SyntaxError"),
        (
            "Traceback (most recent call last):\n  ...\njson.decoder.JSONDecodeError: Expecting value: line 1\n",
            "JSONDecodeError",
        ),
        (
            (
                "Traceback (most recent call last):\n  ...\nKeyError: 'a'\n\nDuring handling of the above exception, "
                "another exception occurred:\n\nTraceback (most recent call last):\n  ...\nValueError: multi\nline\n"
            ),
            "ValueError",
        ),
        ("Traceback (most recent call last):\n  ...\nMemoryError\n", "MemoryError"),
        ("Traceback (most recent call last):\n  ...\nKeyboardInterrupt\nextra text from atexit\n", "KeyboardInterrupt"),
        ("just a message on stderr\n", None),
        ("", None),
    ],
)
def test_parse_error_type(stderr, expected):
    assert parse_error_type(stderr) == expected


LIMITS = SandboxLimits(cpu_time_s=2.0)


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        ({"exit_code": 0, "stderr": ""}, ("ok", None)),
        (
            {"exit_code": 0, "stderr": "Traceback (most recent call last):\nValueError: printed, not raised\n"},
            ("ok", None),
        ),
        ({"exit_code": 1, "stderr": "Traceback (most recent call last):\nIndexError: x\n"}, ("error", "IndexError")),
        ({"exit_code": 1, "stderr": "Traceback (most recent call last):\nMemoryError\n"}, ("memory", "MemoryError")),
        ({"exit_code": None, "signal": 9, "killed_for": "timeout", "cpu_ms": 10.0}, ("timeout", None)),
        ({"exit_code": None, "signal": 9, "killed_for": "output_limit"}, ("output_limit", None)),
        ({"exit_code": None, "signal": signal.SIGXCPU, "cpu_ms": 2000.0}, ("timeout", None)),
        ({"exit_code": None, "signal": signal.SIGKILL, "cpu_ms": 2500.0}, ("timeout", None)),
        ({"exit_code": None, "signal": signal.SIGKILL, "cpu_ms": 5.0, "stderr": ""}, ("error", None)),
        ({"exit_code": 137, "stderr": ""}, ("error", None)),
        ({"exit_code": 127, "setup_error": "OSError: boom"}, ("sandbox_error", None)),
    ],
)
def test_classify_takes_labels_from_the_harness(facts, expected):
    assert classify(facts, LIMITS) == expected


def test_unknown_backend_and_bad_limits_are_rejected():
    with pytest.raises(ValueError, match="unknown sandbox backend"):
        open_sandbox("nope")
    with pytest.raises(ValueError, match="program_path"):
        open_sandbox("forkserver", SandboxLimits(program_path="/elsewhere/main.py"))


def test_parse_error_type_of_an_exception_group():
    stderr = (
        "  + Exception Group Traceback (most recent call last):\n"
        '  |   File "/sandbox/main.py", line 1, in <module>\n'
        "  | ExceptionGroup: many (2 sub-exceptions)\n"
        "  +-+---------------- 1 ----------------\n"
        "    | ValueError: 1\n"
    )
    assert parse_error_type(stderr) == "ExceptionGroup"
