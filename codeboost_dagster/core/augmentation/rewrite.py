"""Apply a variant's planned edits to the parsed module in one transformer pass, and print it."""

from __future__ import annotations

import libcst as cst

from codeboost_dagster.core.augmentation.edits import CodeEdit, Rewrite


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
