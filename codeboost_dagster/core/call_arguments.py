"""Call arguments written as Python source: what a `call` test case may spell out, and how.

JSON holds lists, dicts, strings, numbers, booleans and None; real signatures also take tuples,
sets, bytes, `Fraction`, `Decimal`, dates. A case can therefore carry its arguments as Python
expressions, which the shown program spells out verbatim. An expression is accepted only if it
is built from literals (numbers, strings, bytes, booleans, None, tuples, lists, sets, dicts, a
sign) and calls of the standard-library value constructors below, qualified by their module
(`fractions.Fraction(1, 3)`); the harness imports those modules. Nothing else is allowed: an
argument never names the program's own objects and never runs code of its own beyond building a
value. Checking is by parsing (`ast`), never by evaluating, so untrusted source is safe to check
on the host.
"""

from __future__ import annotations

import ast
import collections
import datetime
import decimal
import fractions
import math
from collections.abc import Iterable
from typing import Any

CONSTRUCTORS = frozenset(
    {
        "fractions.Fraction",
        "decimal.Decimal",
        "datetime.date",
        "datetime.datetime",
        "datetime.time",
        "datetime.timedelta",
        "collections.OrderedDict",
        "collections.deque",
        "collections.Counter",
    }
)
"""Value constructors an argument may call, by their qualified name."""
BUILTIN_CONSTRUCTORS = frozenset({"set", "frozenset", "bytearray", "complex", "float", "range", "tuple"})
"""Builtins an argument may call (`set()` is the empty set, `float('nan')` a non-finite float)."""
BARE_NAMES = {name.rsplit(".", 1)[1]: name for name in CONSTRUCTORS if name != "datetime.datetime"} | {
    "datetime": "datetime.datetime"
}
"""A constructor as a module imports it (`from fractions import Fraction`), and its qualified name."""

_LITERAL_NODES = (ast.Constant, ast.Tuple, ast.List, ast.Set, ast.Dict, ast.Load)


class InvalidArgument(ValueError):
    """An argument expression that is not a literal or an allowed constructor call."""


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        parent = _dotted(node.value)
        return None if parent is None else f"{parent}.{node.attr}"
    return None


def _check(node: ast.AST) -> None:
    if isinstance(node, ast.Call):
        name = _dotted(node.func)
        if name not in CONSTRUCTORS and name not in BUILTIN_CONSTRUCTORS:
            raise InvalidArgument(f"calls {name or ast.unparse(node.func)}, which is not a value constructor")
        for part in (*node.args, *(keyword.value for keyword in node.keywords)):
            _check(part)
        if any(keyword.arg is None for keyword in node.keywords):
            raise InvalidArgument("unpacks keyword arguments")
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        _check(node.operand)
        return
    sides = (getattr(node, "left", None), getattr(node, "right", None))
    if (
        isinstance(node, ast.BinOp)
        and isinstance(node.op, (ast.Add, ast.Sub))
        and all(isinstance(side, (ast.Constant, ast.UnaryOp)) for side in sides)
    ):  # a complex literal: 1+2j
        _check(node.left)
        _check(node.right)
        return
    if isinstance(node, ast.Dict) and any(key is None for key in node.keys):
        raise InvalidArgument("unpacks a dict")
    if isinstance(node, (ast.Starred, ast.Name, ast.Attribute)) or not isinstance(node, _LITERAL_NODES):
        raise InvalidArgument(f"{ast.unparse(node)!r} is not a literal")
    for child in ast.iter_child_nodes(node):
        _check(child)


def _parse(source: str) -> ast.Expression:
    try:
        return ast.parse(source.strip(), mode="eval")
    except SyntaxError as error:
        raise InvalidArgument(f"{source!r} does not parse: {error.msg}") from None


def parse_argument(source: str) -> ast.expr:
    """The expression tree of one argument; InvalidArgument unless it is allowed (module docstring)."""
    tree = _parse(source)
    _check(tree.body)
    return tree.body


def argument_modules(sources: Iterable[str]) -> list[str]:
    """The modules allowed arguments' constructors come from, sorted (the harness imports them)."""
    modules = set()
    for source in sources:
        for node in ast.walk(parse_argument(source)):
            if isinstance(node, ast.Call):
                name = _dotted(node.func) or ""
                if "." in name:
                    modules.add(name.split(".", 1)[0])
    return sorted(modules)


class _Qualify(ast.NodeTransformer):
    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.func, ast.Name) and node.func.id in BARE_NAMES:
            module, name = BARE_NAMES[node.func.id].split(".")
            node.func = ast.Attribute(value=ast.Name(id=module, ctx=ast.Load()), attr=name, ctx=ast.Load())
        return node


def qualified_argument(source: str) -> str:
    """An argument as a module's own code spells it (`Fraction(1, 3)`), with its constructors
    qualified (`fractions.Fraction(1, 3)`); InvalidArgument when it is not allowed."""
    tree = _Qualify().visit(_parse(source))
    _check(tree.body)
    return ast.unparse(tree)


def python_source(value: Any) -> str:
    """Python source that builds `value` (an allowed type), for the harness and the prompt."""
    if isinstance(value, float) and not math.isfinite(value):
        return f"float({str(value)!r})"
    if value is None or isinstance(value, (bool, int, float, complex, str, bytes)):
        return repr(value)
    if isinstance(value, tuple):
        items = [python_source(item) for item in value]
        return "(" + ", ".join(items) + ("," if len(items) == 1 else "") + ")"
    if isinstance(value, list):
        return "[" + ", ".join(python_source(item) for item in value) + "]"
    if isinstance(value, (set, frozenset)):
        items = sorted(python_source(item) for item in value)
        inner = "{" + ", ".join(items) + "}" if items else ""
        return f"frozenset({inner})" if isinstance(value, frozenset) else (inner or "set()")
    if isinstance(value, bytearray):
        return f"bytearray({bytes(value)!r})"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{python_source(k)}: {python_source(v)}" for k, v in value.items()) + "}"
    if isinstance(value, fractions.Fraction):
        return f"fractions.Fraction({value.numerator}, {value.denominator})"
    if isinstance(value, decimal.Decimal):
        return f"decimal.Decimal({str(value)!r})"
    if isinstance(value, datetime.datetime):
        return f"datetime.datetime({value.year}, {value.month}, {value.day}, {value.hour}, {value.minute})"
    if isinstance(value, datetime.date):
        return f"datetime.date({value.year}, {value.month}, {value.day})"
    if isinstance(value, datetime.timedelta):
        return f"datetime.timedelta(days={value.days}, seconds={value.seconds})"
    if isinstance(value, collections.deque):
        return f"collections.deque({python_source(list(value))})"
    raise InvalidArgument(f"no source form for a {type(value).__name__}")


def literal_constants(tree: ast.expr) -> list[ast.Constant]:
    """The number and string constants of an argument that sit in its literal structure (not
    inside a constructor call, whose arguments must stay valid for that constructor)."""
    found: list[ast.Constant] = []

    def walk(node: ast.AST) -> None:
        if isinstance(node, ast.Call):
            return
        if (
            isinstance(node, ast.Constant)
            and not isinstance(node.value, bool)
            and isinstance(node.value, (int, float, str))
        ):
            found.append(node)
        for child in ast.iter_child_nodes(node):
            walk(child)

    walk(tree)
    return found
