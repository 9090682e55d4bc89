"""Does code compile? Parsing and compiling only: nothing is executed."""

from __future__ import annotations

import warnings


def compile_problem(code: str) -> str | None:
    """Why `compile()` rejects the code ("line N: message"), or None when it compiles."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            compile(code, "<snippet>", "exec", dont_inherit=True)
    except SyntaxError as error:
        return f"line {error.lineno}: {error.msg}"
    except (ValueError, RecursionError, MemoryError, OverflowError) as error:
        return f"{type(error).__name__}: {error}"
    return None
