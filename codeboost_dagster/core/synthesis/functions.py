"""Which functions of a module nobody calls, and the smallest program that defines each of them.

A top-level function with parameters is *uncalled* when the module's own run never calls it where
it could show the result (`_called_by_run`): running the module never shows what it computes.
Its *slice* is the module's `from __future__` imports plus every top-level statement that binds a
name the function needs, transitively (imports, constants, helper functions and classes), in the
module's order; the module's own top-level calls, prints and `__main__` block are left out. The
function then runs through a call harness like any `call` test case. Source is only parsed
(ast), never executed.

A function whose slice reaches the file system, the network, the clock, randomness, processes or
standard input is skipped with the reason (`touches_*`): its output would not be a fact about its
arguments. This static check is a first line; the determinism certificate catches the rest.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from dataclasses import dataclass

from codeboost_dagster.core.readers.doctest_programs import is_main_guard

# What a slice may not reach: imported modules (their top-level name), builtins called by name,
# attributes read off anything (datetime.now, numpy.random), each with the reason it records.
# fmt: off
_MODULE_REASONS = {
    **dict.fromkeys((
        "pathlib", "shutil", "glob", "tempfile", "fileinput", "io", "zipfile", "tarfile", "sqlite3", "pickle",
        "shelve", "dbm", "mmap", "fcntl", "csv", "linecache", "importlib", "pkgutil"
    ), "touches_file_system"),
    **dict.fromkeys((
        "socket", "ssl", "urllib", "http", "ftplib", "smtplib", "requests", "asyncio", "selectors", "email",
        "xmlrpc", "webbrowser"
    ), "touches_network"),
    **dict.fromkeys(("time", "zoneinfo"), "touches_clock"),
    **dict.fromkeys(("random", "secrets", "uuid"), "touches_randomness"),
    **dict.fromkeys((
        "subprocess", "multiprocessing", "threading", "signal", "concurrent", "sched", "atexit", "gc", "ctypes",
        "inspect"
    ), "touches_processes"),
}
# fmt: on
# `os` and its path modules also hold pure string functions (os.fspath, os.sep, os.path.join):
# a slice importing them is judged by the attributes it reads.
_OS_MODULES = frozenset({"os", "posixpath", "ntpath", "genericpath"})
# fmt: off
_OS_EFFECTS = frozenset({
    "listdir", "scandir", "walk", "fwalk", "stat", "lstat", "fstat", "open", "close", "read", "write", "remove",
    "unlink", "rename", "replace", "mkdir", "makedirs", "rmdir", "removedirs", "chdir", "getcwd", "getcwdb",
    "exists", "lexists", "isfile", "isdir", "islink", "ismount", "isjunction", "getsize", "getmtime", "getatime",
    "getctime", "samefile", "sameopenfile", "samestat", "realpath", "abspath", "expanduser", "expandvars",
    "system", "popen", "fork", "kill", "getpid", "getppid", "urandom", "environ", "environb", "getenv", "putenv",
    "unsetenv", "access", "chmod", "chown", "utime", "symlink", "readlink", "truncate", "pipe", "dup", "dup2",
    "execv", "execve", "execvp", "spawnv", "startfile", "times", "getlogin", "cpu_count",
})
# fmt: on
_BUILTIN_REASONS = {
    "open": "touches_file_system",
    "input": "reads_stdin",
    "exec": "touches_processes",
    "eval": "touches_processes",
    "compile": "touches_processes",
    "__import__": "touches_processes",
    "breakpoint": "touches_processes",
    "exit": "touches_processes",
    "quit": "touches_processes",
    "id": "touches_processes",
}
_ATTRIBUTE_REASONS = {
    "now": "touches_clock",
    "today": "touches_clock",
    "utcnow": "touches_clock",
    "random": "touches_randomness",
    "stdin": "reads_stdin",
    "argv": "touches_processes",
    "environ": "touches_processes",
}


@dataclass(frozen=True)
class Parameter:
    """One parameter of a function: its name, kind, default and annotation as source (or None)."""

    name: str
    kind: str  # "positional", "keyword_only", "var_positional", "var_keyword"
    default: str | None
    annotation: str | None


@dataclass(frozen=True)
class UncalledFunction:
    """A top-level function nobody calls, its parameters, the program slice that defines it and
    why it cannot be synthesized for (`skip_reason`, None when it can)."""

    name: str
    line: int
    parameters: tuple[Parameter, ...]
    slice_code: str
    skip_reason: str | None
    skip_detail: str | None


def _bound_names(node: ast.stmt) -> set[str]:
    """Module-level names a top-level statement binds (not the locals of functions it defines)."""
    names: set[str] = set()
    pending: list[ast.AST] = [node]
    while pending:
        child = pending.pop()
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(child.name)
            continue
        if isinstance(child, ast.Lambda):
            continue
        if isinstance(child, (ast.Import, ast.ImportFrom)):
            names |= {(alias.asname or alias.name).split(".")[0] for alias in child.names if alias.name != "*"}
        elif isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
            names.add(child.id)
        pending.extend(ast.iter_child_nodes(child))
    return names


def _used_names(node: ast.AST) -> set[str]:
    return {child.id for child in ast.walk(node) if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Load)}


def _called_by_run(tree: ast.Module) -> set[str]:
    """Names the module's own run calls where it can show the result: in expression statements
    (`main()`, `print(f(3))`) outside function and class bodies, and anywhere in its `__main__`
    block; a name handed to such a call (`map(f, xs)`) counts too. A call that only builds a
    module constant (`PATTERN = group(...)`) or an alias (`__lt__ = lt`) does not."""
    called: set[str] = set()

    def collect(node: ast.AST) -> None:
        for child in ast.walk(node):
            if isinstance(child, ast.Call):
                called.update(part.id for part in (child.func, *child.args) if isinstance(part, ast.Name))

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            return
        if isinstance(node, ast.Expr) or (isinstance(node, ast.stmt) and is_main_guard(node)):
            collect(node)
            return
        for child in ast.iter_child_nodes(node):
            visit(child)

    for statement in tree.body:
        visit(statement)
    return called


def _parameters(function: ast.FunctionDef | ast.AsyncFunctionDef) -> tuple[Parameter, ...]:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    defaults = [None] * (len(positional) - len(arguments.defaults)) + list(arguments.defaults)
    found = [
        Parameter(arg.arg, "positional", _source(default), _source(arg.annotation))
        for arg, default in zip(positional, defaults, strict=True)
    ]
    if arguments.vararg is not None:
        found.append(Parameter(arguments.vararg.arg, "var_positional", None, _source(arguments.vararg.annotation)))
    found += [
        Parameter(arg.arg, "keyword_only", _source(default), _source(arg.annotation))
        for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
    ]
    if arguments.kwarg is not None:
        found.append(Parameter(arguments.kwarg.arg, "var_keyword", None, _source(arguments.kwarg.annotation)))
    return tuple(found)


def _source(node: ast.AST | None) -> str | None:
    return None if node is None else ast.unparse(node)


def _statement_lines(lines: list[str], node: ast.stmt) -> list[str]:
    start = min([node.lineno, *(decorator.lineno for decorator in getattr(node, "decorator_list", []))])
    return lines[start - 1 : node.end_lineno]


# Top-level statements a slice takes for the names they bind; expression statements (the module's
# own calls and prints), `while` loops and the rest are left out.
_BINDING_STATEMENTS = (
    ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Assign, ast.AnnAssign,
    ast.AugAssign, ast.If, ast.Try, ast.With, ast.For,
)  # fmt: skip


class _Module:
    """A module's top-level statements (its `__main__` block left out) and, once for all its
    functions, which of them bind each name."""

    def __init__(self, tree: ast.Module, lines: list[str]) -> None:
        self.lines = lines
        self.statements = [node for node in tree.body if not is_main_guard(node)]
        self.binders: dict[str, list[int]] = {}
        for index, node in enumerate(self.statements):
            if isinstance(node, _BINDING_STATEMENTS):
                for name in _bound_names(node):
                    self.binders.setdefault(name, []).append(index)
        self.future = {
            index
            for index, node in enumerate(self.statements)
            if isinstance(node, ast.ImportFrom) and node.module == "__future__"
        }

    def slice(self, function: ast.stmt) -> tuple[str, list[ast.stmt]]:
        """The program defining `function` and what it needs, and the statements it holds."""
        chosen = {self.statements.index(function), *self.future}
        pending = [function]
        while pending:
            node = pending.pop()
            for name in _used_names(node):
                for index in self.binders.get(name, []):
                    if index not in chosen:
                        chosen.add(index)
                        pending.append(self.statements[index])
        kept = [self.statements[index] for index in sorted(chosen)]
        text = "\n".join("\n".join(_statement_lines(self.lines, node)) for node in kept)
        return text.rstrip() + "\n", kept


def _imports(statements: list[ast.stmt]) -> Iterator[tuple[str, str, bool]]:
    """(top-level module, bound name, whether the name is the module itself) for every import the
    statements make, at any depth."""
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    bound = alias.asname or alias.name.split(".")[0]
                    yield alias.name.split(".")[0], bound, True
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                for alias in node.names:
                    yield node.module.split(".")[0], alias.asname or alias.name, False


def _root(node: ast.expr) -> str | None:
    while isinstance(node, ast.Attribute):
        node = node.value
    return node.id if isinstance(node, ast.Name) else None


def side_effect(statements: list[ast.stmt]) -> tuple[str, str] | None:
    """(reason, detail) when the statements reach outside the arguments (module docstring), else None."""
    imports = list(_imports(statements))
    for module in sorted({module for module, _, _ in imports}):
        if module in _MODULE_REASONS:
            return _MODULE_REASONS[module], f"imports {module}"
    os_modules = {bound for module, bound, whole in imports if module in _OS_MODULES and whole}
    os_names = {bound for module, bound, whole in imports if module in _OS_MODULES and not whole}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Attribute) and node.attr in _OS_EFFECTS and _root(node) in os_modules:
                return "touches_file_system", f"uses {ast.unparse(node)}"
            if isinstance(node, ast.Name) and node.id in _OS_EFFECTS and node.id in os_names:
                return "touches_file_system", f"uses {node.id} from os"
    bound = {name for statement in statements for name in _bound_names(statement)}
    for statement in statements:
        for node in ast.walk(statement):
            if isinstance(node, ast.Name) and node.id in _BUILTIN_REASONS and node.id not in bound:
                return _BUILTIN_REASONS[node.id], f"uses {node.id}"
            if isinstance(node, ast.Attribute) and node.attr in _ATTRIBUTE_REASONS:
                return _ATTRIBUTE_REASONS[node.attr], f"reads .{node.attr}"
    return None


def _is_generator(function: ast.FunctionDef) -> bool:
    """Whether the function's own body yields (nested functions and lambdas are theirs)."""
    pending: list[ast.AST] = list(function.body)
    while pending:
        node = pending.pop()
        if isinstance(node, (ast.Yield, ast.YieldFrom)):
            return True
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            pending.extend(ast.iter_child_nodes(node))
    return False


def uncalled_functions(source: str) -> list[UncalledFunction]:
    """Every uncalled top-level function with parameters of a module, in source order."""
    tree = ast.parse(source)
    module = _Module(tree, source.splitlines())
    called = _called_by_run(tree)
    found = []
    for node in tree.body:
        if not isinstance(node, ast.FunctionDef) or node.name in called or node.name.startswith("__"):
            continue
        parameters = _parameters(node)
        if not parameters:
            continue
        code, statements = module.slice(node)
        reason = side_effect(statements)
        if reason is None and _is_generator(node):
            reason = ("generator_function", "returns a generator, whose printed form is its address")
        if reason is None and all(p.kind in ("var_positional", "var_keyword") for p in parameters):
            reason = ("only_variadic_parameters", "takes only *args/**kwargs")
        found.append(
            UncalledFunction(
                name=node.name,
                line=node.lineno,
                parameters=parameters,
                slice_code=code,
                skip_reason=reason[0] if reason else None,
                skip_detail=reason[1] if reason else None,
            )
        )
    return found
