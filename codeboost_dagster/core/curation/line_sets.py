"""Snippets as sets of normalised lines, held as one sparse binary incidence matrix.

Row i of the matrix is snippet i, column j is one distinct normalised line of the whole input,
and entry (i, j) is 1 when the line occurs in the snippet. Intersections of line sets are then
sparse products, so a chunk's distances never loop over pairs in Python.
"""

from __future__ import annotations

import builtins
import keyword
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import chain

import numpy as np
import pandas as pd
import scipy.sparse as sp

LineNormaliser = Callable[[str], str]
"""Maps a raw line to the text compared; METHOD.md's default is `str.strip`. Empty means no line."""


@dataclass(frozen=True)
class LineIncidence:
    """Binary snippet-by-line matrix (CSR, int32) and the line-set size of every snippet."""

    matrix: sp.csr_array
    sizes: np.ndarray

    def __len__(self) -> int:
        return self.matrix.shape[0]

    def head(self, rows: int) -> LineIncidence:
        """The first `rows` snippets, sharing the same line columns."""
        return LineIncidence(matrix=self.matrix[:rows], sizes=self.sizes[:rows])


IDENTIFIER = re.compile(r"\b[A-Za-z_][A-Za-z0-9_]*\b")
KEPT_NAMES = frozenset(keyword.kwlist) | frozenset(keyword.softkwlist) | frozenset(dir(builtins))


def renamed_identifiers(code: str) -> str:
    """`code` with every identifier other than keywords and builtins replaced by `_k`, k its order
    of first appearance, so a consistently renamed clone gets exactly the same lines."""
    names: dict[str, str] = {}

    def rename(match: re.Match[str]) -> str:
        name = match.group(0)
        if name in KEPT_NAMES:
            return name
        return names.setdefault(name, f"_{len(names)}")

    return IDENTIFIER.sub(rename, code)


def line_set(code: str, normalise: LineNormaliser = str.strip) -> frozenset[str]:
    """L(code): the distinct normalised non-empty lines (lines as `str.splitlines` cuts them)."""
    lines = set(map(normalise, code.splitlines()))
    lines.discard("")
    return frozenset(lines)


def line_incidence(codes: Sequence[str], normalise: LineNormaliser = str.strip) -> LineIncidence:
    """The incidence matrix of `codes`, in their order; lines are interned once for all snippets."""
    sets = [line_set(code, normalise) for code in codes]
    sizes = np.fromiter((len(lines) for lines in sets), dtype=np.int64, count=len(sets))
    line_ids, distinct_lines = pd.factorize(pd.Series(list(chain.from_iterable(sets)), dtype=object), sort=False)
    indptr = np.zeros(len(sets) + 1, dtype=np.int64)
    np.cumsum(sizes, out=indptr[1:])
    matrix = sp.csr_array(
        (np.ones(len(line_ids), dtype=np.int32), line_ids.astype(np.int64), indptr),
        shape=(len(sets), len(distinct_lines)),
    )
    return LineIncidence(matrix=matrix, sizes=sizes)
