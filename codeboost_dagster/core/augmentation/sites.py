"""Every place of a parsed snippet that a mutation may change, found in ONE pass.

The pass is libcst's own code generation with a recording state (the technique libcst's
`PositionProvider` uses), which visits every node without rebuilding any; this is several
times cheaper than a `CSTVisitor` plus position metadata. For each candidate node it records
the exact source range of the text a mutation replaces (a literal, an operator token, `not `
with its space, an `if` test) and the chain of ancestors, so a variant's rewrite only descends
into the branches it changes; and the range of each top-level statement, so a variant's code
only regenerates the statements it changes. The generated text must equal the source, which
makes every recorded offset exact; a mismatch raises `SiteLocationError`.

Never candidates: anything inside a `__name__ == "__main__"` comparison, the `if` it guards,
number literals that are directly a subscript index or slice bound (`a[1]`, `a[-1]`, `a[1:2]`)
and number literals without decimal digits to change (hex/octal/binary, `00`).
"""

from __future__ import annotations

from dataclasses import dataclass

import libcst as cst
from libcst._nodes.internal import CodegenState  # what libcst's PositionProvider builds on

from codeboost_dagster.core.augmentation.digit_level import has_mutable_digits
from codeboost_dagster.core.augmentation.edits import Site
from codeboost_dagster.core.augmentation.logical_level import (
    AUGMENTED_ALTERNATIVES,
    BINARY_ALTERNATIVES,
    BOOLEAN_ALTERNATIVES,
    COMPARISON_ALTERNATIVES,
    UNARY_REPLACEMENTS,
    operator_token,
)
from codeboost_dagster.core.augmentation.mutations import (
    AUGMENTED_ASSIGNMENT,
    BINARY_OPERATOR,
    BOOLEAN_OPERATOR,
    COMPARISON_OPERATOR,
    IF_NEGATION,
    NUMBER_LITERAL,
    UNARY_OPERATOR,
)

_SUBSCRIPT_SLOTS = (cst.Index, cst.Slice)

_SYNTACTIC = "syntactic"
_INCLUSIVE = "inclusive"
_TOKEN = "token"


class SiteLocationError(RuntimeError):
    """The recording pass disagreed with the source; no offset of this snippet can be trusted."""


class SourceNotReproduced(SiteLocationError):
    """libcst's tree does not print back to the source (e.g. a lone carriage return): not our bug."""


@dataclass(frozen=True)
class LocatedSites:
    """Candidate sites by mutation kind (source order), and the source range of each top-level statement."""

    by_kind: dict[str, list[Site]]
    statement_ranges: dict[cst.CSTNode, tuple[int, int]]


@dataclass(frozen=True, slots=True)
class _Pending:
    kind: str
    node: cst.CSTNode
    range_node: cst.CSTNode
    flavor: str
    ancestors: tuple[cst.CSTNode, ...]


def is_main_guard(test: cst.BaseExpression) -> bool:
    """True for `__name__ == "__main__"` (either side, any quotes)."""
    if not isinstance(test, cst.Comparison) or len(test.comparisons) != 1:
        return False
    target = test.comparisons[0]
    if not isinstance(target.operator, cst.Equal):
        return False
    sides = (test.left, target.comparator)
    has_name = any(isinstance(side, cst.Name) and side.value == "__name__" for side in sides)
    has_main = any(isinstance(side, cst.SimpleString) and side.evaluated_value == "__main__" for side in sides)
    return has_name and has_main


class _NoRecord:
    __slots__ = ()

    def __enter__(self) -> None:
        return None

    def __exit__(self, *_: object) -> None:
        return None


_NO_RECORD = _NoRecord()


class _SyntacticRecord:
    __slots__ = ("_node", "_start", "_state")

    def __init__(self, state: _LocatingState, node: cst.CSTNode) -> None:
        self._state, self._node = state, node

    def __enter__(self) -> None:
        self._start = self._state.offset

    def __exit__(self, *_: object) -> None:
        self._state.syntactic[id(self._node)] = (self._start, self._state.offset)


class _LocatingState(CodegenState):
    """Code generation that tracks the character offset, the ancestors and the candidates.

    Node sets and maps are keyed by `id(node)`: libcst nodes hash in Python, ids in C, and every
    node of the module stays alive (and so keeps its id) for the whole pass.
    """

    def __init__(self, module: cst.Module) -> None:
        super().__init__(default_indent=module.default_indent, default_newline=module.default_newline)
        self.offset = 0
        self.stack: list[cst.CSTNode] = []
        self.pending: list[_Pending] = []
        self.syntactic: dict[int, tuple[int, int]] = {}
        self.inclusive: dict[int, tuple[int, int]] = {}
        self._wanted_syntactic: set[int] = set()
        self._wanted_inclusive: set[int] = set()
        self._inclusive_start: dict[int, int] = {}
        self._protected: set[int] = set()
        self._protected_depth = 0
        self.top_level: dict[cst.CSTNode, tuple[int, int]] = {}

    def add_token(self, value: str) -> None:
        self.tokens.append(value)
        self.offset += len(value)

    def add_indent_tokens(self) -> None:
        self.tokens.extend(self.indent_tokens)
        self.offset += sum(map(len, self.indent_tokens))

    def record_syntactic_position(self, node: cst.CSTNode, **_: object):  # type: ignore[override]
        return _SyntacticRecord(self, node) if id(node) in self._wanted_syntactic else _NO_RECORD

    def before_codegen(self, node: cst.CSTNode) -> None:
        key = id(node)
        if key in self._wanted_inclusive or len(self.stack) == 1:
            self._inclusive_start[key] = self.offset
        handler = _HANDLERS.get(type(node))
        if handler is not None:
            handler(self, node)
        if key in self._protected:
            self._protected_depth += 1
        self.stack.append(node)

    def after_codegen(self, node: cst.CSTNode) -> None:
        self.stack.pop()
        key = id(node)
        if key in self._protected:
            self._protected_depth -= 1
        if key in self._wanted_inclusive:
            self.inclusive[key] = (self._inclusive_start[key], self.offset)
        if len(self.stack) == 1:
            self.top_level[node] = (self._inclusive_start[key], self.offset)

    def want(self, kind: str, node: cst.CSTNode, range_node: cst.CSTNode, flavor: str) -> None:
        """Make `node` a candidate of `kind` unless it is protected; remember which range to record."""
        if self._protected_depth:
            return
        (self._wanted_syntactic if flavor == _SYNTACTIC else self._wanted_inclusive).add(id(range_node))
        self.pending.append(_Pending(kind, node, range_node, flavor, tuple(self.stack)))

    def protect(self, node: cst.CSTNode) -> None:
        """Nothing inside `node` becomes a candidate."""
        self._protected.add(id(node))

    def parent(self, generations: int = 1) -> cst.CSTNode | None:
        """The ancestor `generations` levels up of the node being entered, if any."""
        return self.stack[-generations] if len(self.stack) >= generations else None


def _number(state: _LocatingState, node: cst.CSTNode) -> None:
    parent = state.parent()
    if isinstance(parent, cst.UnaryOperation):
        parent = state.parent(2)
    if not isinstance(parent, _SUBSCRIPT_SLOTS) and has_mutable_digits(node):
        state.want(NUMBER_LITERAL, node, node, _SYNTACTIC)


def _binary(state: _LocatingState, node: cst.BinaryOperation) -> None:
    if type(node.operator) in BINARY_ALTERNATIVES:
        state.want(BINARY_OPERATOR, node, node.operator, _SYNTACTIC)


def _boolean(state: _LocatingState, node: cst.BooleanOperation) -> None:
    if type(node.operator) in BOOLEAN_ALTERNATIVES:
        state.want(BOOLEAN_OPERATOR, node, node.operator, _SYNTACTIC)


def _unary(state: _LocatingState, node: cst.UnaryOperation) -> None:
    operator_type = type(node.operator)
    if operator_type in UNARY_REPLACEMENTS:
        flavor = _INCLUSIVE if UNARY_REPLACEMENTS[operator_type] is None else _TOKEN
        state.want(UNARY_OPERATOR, node, node.operator, flavor)


def _augmented(state: _LocatingState, node: cst.AugAssign) -> None:
    if type(node.operator) in AUGMENTED_ALTERNATIVES:
        state.want(AUGMENTED_ASSIGNMENT, node, node.operator, _SYNTACTIC)


def _comparison(state: _LocatingState, node: cst.Comparison) -> None:
    if is_main_guard(node):
        state.protect(node)


def _comparison_target(state: _LocatingState, node: cst.ComparisonTarget) -> None:
    if type(node.operator) in COMPARISON_ALTERNATIVES:
        state.want(COMPARISON_OPERATOR, node, node.operator, _SYNTACTIC)


def _if(state: _LocatingState, node: cst.If) -> None:
    if not is_main_guard(node.test):
        state.want(IF_NEGATION, node, node.test, _INCLUSIVE)


_HANDLERS = {
    cst.Integer: _number,
    cst.Float: _number,
    cst.Imaginary: _number,
    cst.BinaryOperation: _binary,
    cst.BooleanOperation: _boolean,
    cst.UnaryOperation: _unary,
    cst.AugAssign: _augmented,
    cst.Comparison: _comparison,
    cst.ComparisonTarget: _comparison_target,
    cst.If: _if,
}


def _expected_text(pending: _Pending) -> str | None:
    if pending.kind == NUMBER_LITERAL:
        return pending.node.value
    if pending.kind == IF_NEGATION:
        return None
    return operator_token(type(pending.range_node))


def _site(state: _LocatingState, source: str, pending: _Pending) -> Site:
    ranges = state.syntactic if pending.flavor == _SYNTACTIC else state.inclusive
    start, end = ranges[id(pending.range_node)]
    if pending.flavor == _TOKEN:
        end = start + len(operator_token(type(pending.range_node)))
    expected = _expected_text(pending)
    if expected is not None:
        found = " ".join(source[start:end].split())
        if not found.startswith(expected):
            raise SiteLocationError(f"{pending.kind}: expected {expected!r} at offset {start}, found {found!r}")
    return Site(pending.kind, pending.node, start, end, pending.ancestors)


def locate_sites(module: cst.Module, source: str) -> LocatedSites:
    """Candidate sites of `module` (parsed from `source`) and its top-level statement ranges."""
    state = _LocatingState(module)
    module._codegen(state)
    if "".join(state.tokens) != source:
        raise SourceNotReproduced("libcst did not reproduce the source exactly")
    by_kind: dict[str, list[Site]] = {}
    for pending in state.pending:
        by_kind.setdefault(pending.kind, []).append(_site(state, source, pending))
    return LocatedSites(by_kind, state.top_level)
