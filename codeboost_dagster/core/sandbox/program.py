"""What the sandbox runs: a snippet plus its input, and the stitched code the model sees."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from codeboost_dagster.core.call_arguments import argument_modules, python_source

MAIN_GUARD = 'if __name__ == "__main__":'


@dataclass(frozen=True)
class Program:
    """A snippet with either text for stdin or a function call.

    A call's arguments are JSON values (`args`, `kwargs`) or Python source (`python_args`,
    `python_kwargs`: literals and value constructors, core.call_arguments). A call program runs
    `stitch(program)`: the code with `__result__ = f(...)` and `print(__result__)` appended under a
    main guard (after importing the modules of the constructors its arguments use); stdin stays
    empty for calls.
    `wall_time_s` lowers the sandbox's wall limit for this run only (checks and reward re-runs
    derive it from the ground truth's own run); it can never raise it.
    """

    code: str
    stdin: str = ""
    func_name: str | None = None
    args: list[Any] = field(default_factory=list)
    kwargs: dict[str, Any] = field(default_factory=dict)
    python_args: list[str] = field(default_factory=list)
    python_kwargs: dict[str, str] = field(default_factory=dict)
    wall_time_s: float | None = None

    def __post_init__(self) -> None:
        if self.func_name is None:
            if self.args or self.kwargs or self.python_args or self.python_kwargs:
                raise ValueError("call arguments need a func_name")
            return
        if not self.func_name.isidentifier():
            raise ValueError(f"func_name {self.func_name!r} is not an identifier")
        if self.stdin:
            raise ValueError("a function-call program takes no stdin")
        bad = [
            name for name in (*self.kwargs, *self.python_kwargs) if not (isinstance(name, str) and name.isidentifier())
        ]
        if bad:
            raise ValueError(f"keyword argument names must be identifiers: {bad}")

    @property
    def is_call(self) -> bool:
        return self.func_name is not None


def derived_wall_time_s(reference_ms: float, factor: float, floor_s: float, ceiling_s: float) -> float:
    """A run's wall limit derived from a reference run that finished in `reference_ms`: `factor`
    times it, at least `floor_s`, at most `ceiling_s` (the sandbox's own limit)."""
    return min(ceiling_s, max(floor_s, factor * reference_ms / 1000))


def stitch(program: Program) -> str:
    """The exact code that runs, and that the model later sees, for `program`."""
    if not program.is_call:
        return program.code
    arguments = [python_source(arg) for arg in program.args] + list(program.python_args)
    arguments += [f"{name}={python_source(value)}" for name, value in program.kwargs.items()]
    arguments += [f"{name}={source}" for name, source in program.python_kwargs.items()]
    modules = argument_modules([*program.python_args, *program.python_kwargs.values()])
    imports = "".join(f"    import {module}\n" for module in modules)
    body = program.code if program.code.endswith("\n") else program.code + "\n"
    return (
        f"{body}\n\n{MAIN_GUARD}\n{imports}    __result__ = {program.func_name}({', '.join(arguments)})\n"
        "    print(__result__)\n"
    )


def program_from_test_case(code: str, case: Mapping[str, Any] | None) -> Program:
    """A Program from a snippet and one normalised test case (see core.test_cases); None = no input."""
    if case is None:
        return Program(code)
    if case["kind"] == "stdin":
        return Program(code, stdin=case["stdin"])
    if case["kind"] == "call":
        return Program(
            code,
            func_name=case["func_name"],
            args=list(case["args"]),
            kwargs=dict(case["kwargs"]),
            python_args=list(case.get("python_args", [])),
            python_kwargs=dict(case.get("python_kwargs", {})),
        )
    raise ValueError(f"unknown test case kind {case['kind']!r}")


def programs_from_test_cases(code: str, cases: list[Mapping[str, Any]]) -> list[Program]:
    """One Program per normalised test case; an empty list means one run with no input."""
    return [program_from_test_case(code, case) for case in cases] or [Program(code)]


def harness_start(code: str) -> int | None:
    """0-based index of the first line of the call harness `stitch` appended, or None without one."""
    lines = code.rstrip("\n").split("\n")
    if len(lines) < 3 or not lines[-2].startswith("    __result__ = ") or lines[-1] != "    print(__result__)":
        return None
    start = len(lines) - 3
    while start > 0 and lines[start].startswith("    import "):
        start -= 1
    return start if lines[start] == MAIN_GUARD else None
