"""Edits of the code: a site a mutation may change (found by `sites`, planned on by the levels), a
planned change (the site it rewrites, how, and the record it leaves), and applying a variant's
planned edits to the parsed module in one transformer pass, then printing it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from codeboost_dagster.core.augmentation.mutations import CODE_TARGET, Mutation
from codeboost_dagster.core.augmentation.positions import LineIndex


@dataclass(frozen=True, slots=True)
class Site:
    """A node that mutation `kind` may change, where its changing text lies, and its ancestors."""

    kind: str
    node: cst.CSTNode
    start: int
    end: int
    ancestors: tuple[cst.CSTNode, ...]


class _ApplyEdits(cst.CSTTransformer):
    """Rewrites the edited nodes, descending only into their ancestors (the rest is reused as is).

    Keyed by `id(node)` (cheaper than libcst's Python-level hash); the original module, alive
    throughout, keeps those ids valid.
    """

    def __init__(self, edits: list[CodeEdit]) -> None:
        super().__init__()
        self._rewrites: dict[int, Rewrite] = {id(edit.site.node): edit.rewrite for edit in edits}
        self._on_path: set[int] = {id(ancestor) for edit in edits for ancestor in edit.site.ancestors}

    def on_visit(self, node: cst.CSTNode) -> bool:
        return id(node) in self._on_path

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        rewrite = self._rewrites.get(id(original_node))
        return rewrite(updated_node) if rewrite is not None else updated_node

    def on_visit_attribute(self, node: cst.CSTNode, attribute: str) -> None:
        return None

    def on_leave_attribute(self, original_node: cst.CSTNode, attribute: str) -> None:
        return None


def render(
    module: cst.Module, source: str, statement_ranges: dict[cst.CSTNode, tuple[int, int]], edits: list[CodeEdit]
) -> str:
    """Source code of `module` (parsed from `source`) with `edits` applied; `module` is left unchanged.

    Only the top-level statements that changed are printed again; the others are copied from
    `source` (the same text libcst would print). A module without a final newline, whose last
    token libcst removes after printing, is printed whole.
    """
    edited = module.visit(_ApplyEdits(edits))
    if not module.has_trailing_newline:
        return edited.code
    pieces, cursor = [], 0
    for old, new in zip(module.body, edited.body, strict=True):
        if new is not old:
            start, end = statement_ranges[old]
            pieces += [source[cursor:start], edited.code_for_node(new)]
            cursor = end
    pieces.append(source[cursor:])
    return "".join(pieces)


Rewrite = Callable[[cst.CSTNode], cst.CSTNode]
"""Builds the replacement from the node as updated by the rewrites below it."""


@dataclass(frozen=True, slots=True)
class CodeEdit:
    """Replace `site.node` by `rewrite(updated node)`; in text, `source[site.start:site.end]` -> `new_text`."""

    level: str
    site: Site
    new_text: str
    rewrite: Rewrite

    def mutation(self, source: str, lines: LineIndex) -> Mutation:
        """The record of this edit, positioned in the original source."""
        line, column = lines.position(self.site.start)
        end_line, end_column = lines.position(self.site.end)
        return Mutation(
            level=self.level,
            kind=self.site.kind,
            node=type(self.site.node).__name__,
            target=CODE_TARGET,
            old=source[self.site.start : self.site.end],
            new=self.new_text,
            line=line,
            column=column,
            end_line=end_line,
            end_column=end_column,
        )
