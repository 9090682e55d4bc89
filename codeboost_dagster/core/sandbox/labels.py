"""Turn the facts a sandbox server reports into a status label and an error type."""

from __future__ import annotations

import re
import signal
from typing import Any

from codeboost_dagster.core.settings import SandboxLimits

from .result import Status

TRACEBACK_HEADER = "Traceback (most recent call last):"
# A final traceback line: an (optionally dotted) exception name, alone or followed by ": message".
_FINAL_LINE = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)(?::\s|:$|$)")
# How CPython starts a SyntaxError report for a script (it has no "Traceback" header).
_SYNTAX_LOCATION = re.compile(r'^  File ".*", line \d+', re.MULTILINE)
# Exception-group tracebacks prefix every line with a "  | " gutter.
_GROUP_GUTTER = re.compile(r"^\s*\| ")


def parse_error_type(stderr: str) -> str | None:
    """The class name of the exception that ended the program, from its final traceback line.

    After the last traceback header (or SyntaxError location line) come indented frame lines,
    then the exception line: "ZeroDivisionError: division by zero" gives "ZeroDivisionError",
    "json.decoder.JSONDecodeError: ..." gives "JSONDecodeError". None when there is no traceback.
    """
    start = stderr.rfind(TRACEBACK_HEADER)
    if start < 0:
        locations = list(_SYNTAX_LOCATION.finditer(stderr))
        if not locations:
            return None
        start = locations[-1].start()
    for line in stderr[start:].splitlines()[1:]:
        line = _GROUP_GUTTER.sub("", line, count=1)
        if not line.strip() or line[0].isspace():
            continue
        match = _FINAL_LINE.match(line)
        return match.group(1).rsplit(".", 1)[-1] if match else None
    return None


def classify(facts: dict[str, Any], limits: SandboxLimits) -> tuple[Status, str | None]:
    """Status and error type from a server reply.

    timeout: the server killed the program at the wall limit, or the CPU rlimit the harness set
    fired (SIGXCPU at the soft limit, SIGKILL at the hard one after using the CPU budget).
    output_limit: the server stopped reading at the cap. memory: the program died of a
    MemoryError (the RLIMIT_AS the harness set refused an allocation).
    """
    if facts.get("setup_error"):
        return "sandbox_error", None
    killed_for = facts.get("killed_for")
    if killed_for in ("timeout", "output_limit"):
        return killed_for, None
    sig = facts.get("signal")
    used_cpu_budget = facts.get("cpu_ms", 0.0) >= limits.cpu_time_s * 1000
    if sig == signal.SIGXCPU or (sig == signal.SIGKILL and used_cpu_budget):
        return "timeout", None
    failed = facts.get("exit_code") != 0
    error_type = parse_error_type(facts.get("stderr", "")) if failed else None
    if error_type == "MemoryError":
        return "memory", error_type
    return ("error" if failed else "ok"), error_type
