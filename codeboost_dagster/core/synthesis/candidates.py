"""Candidate call arguments for an uncalled function, from five sources tried in order.

1. `example`: calls of the function written in the module itself: its doctest examples (the
   function's and the module's docstrings) and calls from other functions' bodies, whose
   arguments are literals or value constructors (core.call_arguments).
2. `default`: the function called with its defaults (required parameters filled from the best
   domain below), then its defaulted parameters varied within their default's type.
3. `type_hint`: values drawn from each annotated parameter's type (small sizes).
4. `literal_pool`: constants the function's slice compares against, slices with or counts to
   (with their neighbours for integers), each offered to parameters of a compatible type.
5. `generic`: small values chosen by the parameter's name (`n` an int, `text` a string, ...).

Every candidate is Python source for the argument list; nothing runs here (candidates run only
in the sandbox, core.synthesis.probe). Draws are seeded per function, so the candidates do not
depend on row order.
"""

from __future__ import annotations

import ast
import datetime
import decimal
import doctest
import fractions
import random
from dataclasses import dataclass
from typing import Any

from codeboost_dagster.core.call_arguments import InvalidArgument, python_source, qualified_argument
from codeboost_dagster.core.synthesis.functions import Parameter, UncalledFunction

EXAMPLE, DEFAULT, TYPE_HINT, LITERAL_POOL, GENERIC = "example", "default", "type_hint", "literal_pool", "generic"
SOURCES = (EXAMPLE, DEFAULT, TYPE_HINT, LITERAL_POOL, GENERIC)

_DOCTESTS = doctest.DocTestParser()

_VALUES: dict[str, list[Any]] = {
    "int": [3, 0, 1, 10, -2, 7, 100],
    "float": [2.5, 0.0, 1.0, -0.75, 10.25],
    "str": ["abc", "hello world", "", "aaabccdd", "A1b2", "x,y;z"],
    "bool": [True, False],
    "bytes": [b"abc", b"", b"\x00\xffA"],
    "complex": [complex(1, 2), complex(0, -1)],
    "None": [None],
    "Fraction": [fractions.Fraction(3, 4), fractions.Fraction(-5, 2), fractions.Fraction(1)],
    "Decimal": [decimal.Decimal("2.50"), decimal.Decimal("-0.125"), decimal.Decimal("7")],
    "date": [datetime.date(2024, 2, 29), datetime.date(1999, 12, 31)],
    "datetime": [datetime.datetime(2024, 2, 29, 13, 45), datetime.datetime(1999, 12, 31, 23, 59)],
    "timedelta": [datetime.timedelta(days=1, seconds=30), datetime.timedelta(seconds=90)],
}
_TYPE_NAMES = {
    "int": "int", "float": "float", "str": "str", "bool": "bool", "bytes": "bytes", "bytearray": "bytes",
    "complex": "complex", "None": "None", "Fraction": "Fraction", "Decimal": "Decimal", "date": "date",
    "datetime": "datetime", "timedelta": "timedelta", "Rational": "Fraction", "Real": "float",
    "Integral": "int", "Number": "int", "AnyStr": "str", "Text": "str",
}  # fmt: skip
_SEQUENCES = {"list", "List", "Sequence", "MutableSequence", "Iterable", "Collection", "Iterator", "Reversible"}
_SETS = {"set", "Set", "frozenset", "FrozenSet", "AbstractSet", "MutableSet"}
_MAPPINGS = {"dict", "Dict", "Mapping", "MutableMapping", "OrderedDict", "defaultdict"}
_TUPLES = {"tuple", "Tuple"}
_NAME_HINTS = (
    ("int", ("n", "k", "i", "j", "m", "count", "num", "size", "width", "length", "len", "depth", "level", "index",
             "idx", "start", "stop", "end", "step", "pos", "offset", "base", "limit", "year", "month", "day", "bits",
             "digits", "precision", "places", "times", "x", "y", "a", "b", "number", "val", "value")),
    ("str", ("s", "text", "string", "word", "name", "line", "prefix", "suffix", "sep", "char", "ch", "c", "pattern",
             "key", "word", "msg", "message", "label", "title", "path", "fmt", "format", "delimiter", "src", "source",
             "chars", "letters", "sentence", "encoding")),
    ("list", ("items", "seq", "sequence", "lst", "values", "nums", "numbers", "arr", "array", "data", "elements",
              "xs", "iterable", "it", "list", "vals", "points", "words", "lines", "args", "rows", "weights")),
    ("bool", ("flag", "strict", "reverse", "verbose", "inclusive", "upper", "lower", "ignore_case", "keep")),
    ("dict", ("mapping", "d", "table", "dct", "dictionary", "counts", "kwargs", "options", "config")),
)  # fmt: skip
_GENERIC_FALLBACK: list[Any] = [3, "abc", [3, 1, 2], 2.5, b"abc", (1, 2), {"a": 1}, True, None]
KIND_SWEEP: tuple[Any, ...] = (
    "abc", [3, 1, 2], b"abc", "a", 2.5, {"a": 1}, (1, 2), [[1, 2], [3, 4]], ["b", "a"], [2.5, 1.0], {3, 1}, True,
    None, 3, "3 1 2",
)  # fmt: skip
"""One value of each kind the parameter search tries in turn (core.synthesis.synthesize)."""
_SAME_KIND: dict[type, list[Any]] = {
    int: [7, 0, -2, 100],
    float: [0.5, -3.25, 10.0],
    str: ["hello world", "aaabccdd", "A1b2", "z"],
    bytes: [b"hello", b"\x00\xffA", b""],
    list: [[5, -1, 4, 0], [2], []],
    tuple: [(3, 1, 2), (5,), ()],
    dict: [{"b": 2, "a": 1, "c": 3}, {}],
    set: [{5, -1, 4}, set()],
}


@dataclass(frozen=True)
class Candidate:
    """Argument source for one call (positional, then keyword), and where it came from."""

    args: tuple[str, ...]
    kwargs: tuple[tuple[str, str], ...]
    source: str

    def replaced(self, position: int, value: Any) -> Candidate:
        """A `generic` candidate: this one with argument `position` (positional ones first, then
        keywords) set to `value`."""
        text = python_source(value)
        if position < len(self.args):
            args = (*self.args[:position], text, *self.args[position + 1 :])
            return Candidate(args, self.kwargs, GENERIC)
        index = position - len(self.args)
        kwargs = (*self.kwargs[:index], (self.kwargs[index][0], text), *self.kwargs[index + 1 :])
        return Candidate(self.args, kwargs, GENERIC)

    @property
    def arity(self) -> int:
        return len(self.args) + len(self.kwargs)


def _literal(source: str) -> Any:
    try:
        return ast.literal_eval(source)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return None


def _annotation_values(node: ast.expr | None) -> list[Any] | None:
    """Values of the type an annotation names, or None when the type is not one we can build."""
    if node is None:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        try:
            return _annotation_values(ast.parse(node.value, mode="eval").body)
        except SyntaxError:
            return None
    if isinstance(node, ast.Constant) and node.value is None:
        return [None]
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
        return _union([node.left, node.right])
    name = node.attr if isinstance(node, ast.Attribute) else getattr(node, "id", None)
    if isinstance(node, ast.Subscript):
        base = node.value.attr if isinstance(node.value, ast.Attribute) else getattr(node.value, "id", None)
        items = list(node.slice.elts) if isinstance(node.slice, ast.Tuple) else [node.slice]
        return _generic_alias(base, items)
    if name in _TYPE_NAMES:
        return list(_VALUES[_TYPE_NAMES[name]])
    if name in _SEQUENCES:
        return [[3, 1, 2], [], [5]]
    if name in _SETS:
        return [{3, 1, 2}, set()]
    if name in _MAPPINGS:
        return [{"a": 1, "b": 2}, {}]
    if name in _TUPLES:
        return [(1, 2), ()]
    return None


def _union(options: list[ast.expr]) -> list[Any] | None:
    domains = [values for values in map(_annotation_values, options) if values is not None]
    if not domains:
        return None
    merged: list[Any] = []
    for row in range(max(map(len, domains))):
        merged += [values[row] for values in domains if row < len(values) and values[row] is not None]
    return merged + ([None] if any(None in values for values in domains) else [])


def _generic_alias(base: str | None, items: list[ast.expr]) -> list[Any] | None:
    if base in ("Optional",):
        inner = _annotation_values(items[0])
        return None if inner is None else [*inner, None]
    if base == "Union":
        return _union(items)
    element = _annotation_values(items[0]) or _VALUES["int"]
    if base in _SEQUENCES:
        return [element[:3], [], element[1:2]]
    if base in _SETS:
        hashable = [value for value in element if _hashable(value)]
        return [set(hashable[:3]), set()]
    if base in _MAPPINGS:
        values = (_annotation_values(items[1]) if len(items) > 1 else None) or _VALUES["int"]
        keys = [key for key in element if _hashable(key)]
        return [dict(zip(keys[:2], values[:2], strict=False)), {}]
    if base in _TUPLES:
        if len(items) == 2 and isinstance(items[1], ast.Constant) and items[1].value is Ellipsis:
            return [tuple(element[:3]), ()]
        domains = [_annotation_values(item) or _VALUES["int"] for item in items]
        return [tuple(domain[row % len(domain)] for domain in domains) for row in range(2)]
    return None


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _name_values(name: str) -> list[Any]:
    lowered = name.lower().strip("_")
    for kind, names in _NAME_HINTS:
        if lowered in names or any(lowered.endswith("_" + hint) or lowered.startswith(hint + "_") for hint in names):
            if kind == "list":
                return [[3, 1, 2], [5, -1, 4, 0], ["b", "a"], []]
            if kind == "dict":
                return [{"a": 1, "b": 2}, {}]
            return list(_VALUES[kind])
    return list(_GENERIC_FALLBACK)


def _kind_of(value: Any) -> str:
    return type(value).__name__


_POOL_FUNCTIONS = ("range", "len", "startswith", "endswith")
_POOL_METHODS = ("startswith", "endswith", "split", "count")


def literal_pool(statements_source: str) -> list[Any]:
    """Constants of a program that shape its control flow: compared against, sliced with, counted
    to (range, len), used as dict keys, with integer neighbours; in first-seen order, deduplicated."""
    pool: list[Any] = []
    seen: set[tuple[type, Any]] = set()

    def add(value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, (int, float, str, bytes)):
            return
        if isinstance(value, str) and len(value) > 40:
            return
        nearby = (
            [near for near in (value, value + 1, value - 1) if abs(near) < 10**6] if isinstance(value, int) else [value]
        )
        for near in nearby:
            if (type(near), near) not in seen:
                seen.add((type(near), near))
                pool.append(near)

    tree = ast.parse(statements_source)
    for node in ast.walk(tree):
        interesting: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            interesting = [node.left, *node.comparators]
        elif isinstance(node, ast.Subscript):
            interesting = [
                node.slice,
                *getattr(node.slice, "elts", []),
                *(getattr(node.slice, part) for part in ("lower", "upper", "step") if getattr(node.slice, part, None)),
            ]
        elif isinstance(node, ast.Call) and (
            getattr(node.func, "id", None) in _POOL_FUNCTIONS or getattr(node.func, "attr", None) in _POOL_METHODS
        ):
            interesting = list(node.args)
        elif isinstance(node, ast.Dict):
            interesting = [key for key in node.keys if key is not None]
        for part in interesting:
            if isinstance(part, ast.Constant):
                add(part.value)
            elif isinstance(part, ast.UnaryOp) and isinstance(part.op, ast.USub):
                value = getattr(part.operand, "value", None)
                if isinstance(value, (int, float)) and not isinstance(value, bool):
                    add(-value)
    return pool


def _examples(function: UncalledFunction, module: ast.Module) -> list[Candidate]:
    """Calls of the function the module itself writes: doctests and other functions' bodies."""
    sources: list[str] = []
    for node in ast.walk(module):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            docstring = ast.get_docstring(node, clean=True)
            if docstring and function.name in docstring:
                try:
                    sources += [example.source for example in _DOCTESTS.get_examples(docstring)]
                except ValueError:
                    continue
    body_calls = [
        node
        for node in ast.walk(module)
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == function.name
    ]
    calls = []
    for text in sources:
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        calls += [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "id", None) == function.name]
    found: list[Candidate] = []
    for call in [*calls, *body_calls]:
        try:
            args = tuple(qualified_argument(ast.unparse(arg)) for arg in call.args)
            kwargs = tuple((kw.arg, qualified_argument(ast.unparse(kw.value))) for kw in call.keywords if kw.arg)
        except InvalidArgument:
            continue
        if any(isinstance(arg, ast.Starred) for arg in call.args) or any(kw.arg is None for kw in call.keywords):
            continue
        candidate = Candidate(args, kwargs, EXAMPLE)
        if candidate not in found:
            found.append(candidate)
    return found


class _Domains:
    """Each parameter's values per source, for one function."""

    def __init__(self, function: UncalledFunction, pool: list[Any]) -> None:
        self.pool = pool
        self.hinted = {p.name: _annotation_values(_parse(p.annotation)) for p in function.parameters}
        defaults = {p.name: _literal(p.default) for p in function.parameters if p.default is not None}
        self.default_typed = {
            name: list(_VALUES[_kind_of(value)]) for name, value in defaults.items() if _kind_of(value) in _VALUES
        }

    def type_hint(self, parameter: Parameter) -> list[Any] | None:
        return self.hinted.get(parameter.name)

    def expected_kinds(self, parameter: Parameter) -> set[str] | None:
        values = self.hinted.get(parameter.name) or self.default_typed.get(parameter.name)
        return None if values is None else {_kind_of(value) for value in values}

    def literal_pool(self, parameter: Parameter) -> list[Any] | None:
        kinds = self.expected_kinds(parameter)
        values = [value for value in self.pool if kinds is None or _kind_of(value) in kinds]
        return values or None

    def generic(self, parameter: Parameter) -> list[Any]:
        return _name_values(parameter.name)

    def best(self, parameter: Parameter) -> list[Any]:
        return (
            self.type_hint(parameter)
            or self.default_typed.get(parameter.name)
            or self.literal_pool(parameter)
            or self.generic(parameter)
        )


def _parse(annotation: str | None) -> ast.expr | None:
    if annotation is None:
        return None
    try:
        return ast.parse(annotation, mode="eval").body
    except SyntaxError:
        return None


def _assemble(
    function: UncalledFunction,
    values: dict[str, list[Any]],
    omitted: set[str],
    source: str,
    count: int,
    rng: random.Random,
) -> list[Candidate]:
    """Up to `count` argument tuples: every parameter's first value, then seeded draws."""
    required = [p for p in function.parameters if p.kind in ("positional", "keyword_only") and p.name not in omitted]
    if not required:
        return [Candidate((), (), source)]
    found: list[Candidate] = []
    for row in range(count * 3):
        if len(found) >= count:
            break
        chosen = {p.name: values[p.name][0] if row == 0 else rng.choice(values[p.name]) for p in required}
        try:
            args = tuple(python_source(chosen[p.name]) for p in required if p.kind == "positional")
            kwargs = tuple((p.name, python_source(chosen[p.name])) for p in required if p.kind == "keyword_only")
        except InvalidArgument:
            continue
        candidate = Candidate(args, kwargs, source)
        if candidate not in found:
            found.append(candidate)
    return found


def kind_sweep(base: Candidate, position: int) -> list[Candidate]:
    """`base` with the argument at `position` set to one value of each kind in KIND_SWEEP."""
    return [base.replaced(position, value) for value in KIND_SWEEP]


def same_kind_variations(base: Candidate) -> list[Candidate]:
    """`base` with each argument in turn set to other values of the same kind (lists stay lists)."""
    varied = []
    for position, text in enumerate([*base.args, *(value for _, value in base.kwargs)]):
        value = _literal(text)
        for other in _SAME_KIND.get(type(value), []):
            if other != value and (type(value) is not list or not value or all(type(v) is int for v in value)):
                varied.append(base.replaced(position, other))
    return varied


def candidates(
    function: UncalledFunction, module: ast.Module, budget: int, per_source: int, seed: int
) -> list[Candidate]:
    """Up to `budget` distinct candidates in source order (module docstring) for a function of
    `module` (its parsed source); deterministic in `seed`."""
    domains = _Domains(function, literal_pool(function.slice_code))
    fillable = [p for p in function.parameters if p.kind in ("positional", "keyword_only")]
    defaulted = {p.name for p in fillable if p.default is not None}

    def rng(source: str) -> random.Random:
        return random.Random(f"{seed}:{function.name}:{source}")

    by_source: list[list[Candidate]] = [_examples(function, module)[:per_source]]
    if defaulted:
        best = {p.name: domains.best(p) for p in fillable}
        varied = {p.name: domains.default_typed.get(p.name) or best[p.name] for p in fillable}
        by_source.append(
            _assemble(function, best, defaulted, DEFAULT, 1, rng(DEFAULT))
            + _assemble(function, varied, set(), DEFAULT, per_source - 1, rng(DEFAULT))
        )
    if any(domains.type_hint(p) for p in fillable):
        hinted = {p.name: domains.type_hint(p) or domains.best(p) for p in fillable}
        by_source.append(_assemble(function, hinted, set(), TYPE_HINT, per_source, rng(TYPE_HINT)))
    if any(domains.literal_pool(p) for p in fillable):
        pooled = {p.name: domains.literal_pool(p) or domains.best(p) for p in fillable}
        by_source.append(_assemble(function, pooled, set(), LITERAL_POOL, per_source, rng(LITERAL_POOL)))
    generic = {p.name: domains.generic(p) for p in fillable}
    # Generic values close the budget: the fewer other sources a function has, the more it gets.
    by_source.append(_assemble(function, generic, set(), GENERIC, budget, rng(GENERIC)))
    found: list[Candidate] = []
    seen: set[tuple] = set()
    for group in by_source:
        for candidate in group:
            key = (candidate.args, candidate.kwargs)
            if key not in seen and len(found) < budget:
                seen.add(key)
                found.append(candidate)
    return found
