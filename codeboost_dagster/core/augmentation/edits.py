"""A planned change of the code: the node it rewrites, how, and the record it leaves."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import libcst as cst

from codeboost_dagster.core.augmentation.mutations import CODE_TARGET, Mutation
from codeboost_dagster.core.augmentation.positions import LineIndex
from codeboost_dagster.core.augmentation.sites import Site

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
