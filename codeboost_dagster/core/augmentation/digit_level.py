"""Digit-level augmentation of the code: every mutable digit of every candidate literal, with p."""

from __future__ import annotations

import random

import libcst as cst

from codeboost_dagster.core.augmentation.digits import mutate_digits
from codeboost_dagster.core.augmentation.edits import CodeEdit, Rewrite
from codeboost_dagster.core.augmentation.mutations import DIGIT_LEVEL, NUMBER_LITERAL
from codeboost_dagster.core.augmentation.sites import Site


def _with_value(value: str) -> Rewrite:
    def rewrite(updated: cst.CSTNode) -> cst.CSTNode:
        return updated.with_changes(value=value)

    return rewrite


def plan_digit_edits(sites: dict[str, list[Site]], rng: random.Random, p: float) -> list[CodeEdit]:
    """One edit per number literal in which at least one digit was drawn to change."""
    edits = []
    for site in sites.get(NUMBER_LITERAL, ()):
        value = mutate_digits(site.node, rng, p)
        if value != site.node.value:
            edits.append(CodeEdit(DIGIT_LEVEL, site, value, _with_value(value)))
    return edits
