"""The normal form of a snippet's test cases, shared by ingestion, augmentation and execution.

A snippet carries a JSON list of test cases. Each normalised case is one of
  {"kind": "stdin", "stdin": "<text fed on standard input>"}
  {"kind": "call", "func_name": "f", "args": [...], "kwargs": {...}}
A call's arguments are JSON values, or (keys present only then) Python source the shown program
spells out: `"python_args": ["(1, 2)", "fractions.Fraction(1, 3)"]`, `"python_kwargs": {"n": "3"}`,
literals and standard-library value constructors only (core.call_arguments). A synthesized case
also says where its input came from (`"source"`, core.synthesis). An empty list means "run the
program once with no input". The public CodeBoost release stores
`{"input": str}` for stdin and `{"input": list | dict, "func_name": name}` for a call
(positional arguments for a list, keyword arguments for a dict); `normalize_test_cases` maps
that format (and ours) to the normal form and raises `InvalidTestCases` with a reason otherwise.
"""

from __future__ import annotations

import json
from typing import Any

from codeboost_dagster.core.call_arguments import InvalidArgument, qualified_argument


class InvalidTestCases(ValueError):
    """The test cases of a row cannot be interpreted; the message is the recorded drop reason."""


def _normalize_case(index: int, case: Any) -> dict[str, Any]:
    if not isinstance(case, dict):
        raise InvalidTestCases(f"test case {index} is a {type(case).__name__}, not an object")
    kind = case.get("kind")
    if kind == "stdin" or (kind is None and isinstance(case.get("input"), str)):
        stdin = case.get("stdin", case.get("input"))
        if not isinstance(stdin, str):
            raise InvalidTestCases(f"test case {index}: stdin must be a string")
        return {"kind": "stdin", "stdin": stdin}
    func_name = case.get("func_name")
    if not isinstance(func_name, str) or not func_name.isidentifier():
        raise InvalidTestCases(f"test case {index}: a function call needs a valid func_name")
    if kind == "call":
        args, kwargs = case.get("args", []), case.get("kwargs", {})
    elif "input" in case:
        value = case["input"]
        args, kwargs = (value, {}) if isinstance(value, list) else ([], value)
    else:
        raise InvalidTestCases(f"test case {index} has neither 'input' nor 'kind'")
    if not isinstance(args, list) or not isinstance(kwargs, dict):
        raise InvalidTestCases(f"test case {index}: call input must be a list or an object")
    _check_keyword_names(index, kwargs)
    return {"kind": "call", "func_name": func_name, "args": args, "kwargs": kwargs, **_python_arguments(index, case)}


def _check_keyword_names(index: int, kwargs: dict) -> None:
    if not all(isinstance(k, str) and k.isidentifier() for k in kwargs):
        raise InvalidTestCases(f"test case {index}: keyword argument names must be identifiers")


def _python_arguments(index: int, case: dict[str, Any]) -> dict[str, Any]:
    """The case's Python-source arguments, qualified and checked, and its input source."""
    extra: dict[str, Any] = {}
    python_args, python_kwargs = case.get("python_args", []), case.get("python_kwargs", {})
    if not isinstance(python_args, list) or not isinstance(python_kwargs, dict):
        raise InvalidTestCases(f"test case {index}: python_args must be a list and python_kwargs an object")
    if (python_args or python_kwargs) and (case.get("args") or case.get("kwargs")):
        raise InvalidTestCases(f"test case {index}: give arguments as JSON or as Python source, not both")
    _check_keyword_names(index, python_kwargs)
    try:
        if python_args:
            extra["python_args"] = [qualified_argument(_text(index, arg)) for arg in python_args]
        if python_kwargs:
            extra["python_kwargs"] = {
                name: qualified_argument(_text(index, arg)) for name, arg in python_kwargs.items()
            }
    except InvalidArgument as error:
        raise InvalidTestCases(f"test case {index}: {error}") from None
    if "source" in case:
        if not isinstance(case["source"], str):
            raise InvalidTestCases(f"test case {index}: source must be a string")
        extra["source"] = case["source"]
    return extra


def _text(index: int, argument: Any) -> str:
    if not isinstance(argument, str):
        raise InvalidTestCases(f"test case {index}: a Python argument must be source text")
    return argument


def normalize_test_cases(raw: str | list | None) -> list[dict[str, Any]]:
    """Parse a release-format or normal-form test-case list into the normal form."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return []
    if isinstance(raw, str):
        try:
            raw = json.loads(raw)
        except json.JSONDecodeError as error:
            raise InvalidTestCases(f"test cases are not valid JSON: {error.msg} at char {error.pos}") from None
    if not isinstance(raw, list):
        raise InvalidTestCases(f"test cases must be a JSON list, got {type(raw).__name__}")
    return [_normalize_case(i, case) for i, case in enumerate(raw)]


def dump_test_cases(cases: list[dict[str, Any]]) -> str:
    """Canonical JSON text of normalised cases (stable key order, so content hashes are stable)."""
    return json.dumps(cases, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
