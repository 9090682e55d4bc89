"""Conversion between character offsets and (line, column) positions of a text.

Lines break at `\\n`, `\\r\\n` and `\\r`, as in Python source and in libcst's positions; lines
count from 1 and columns from 0, in characters.
"""

from __future__ import annotations

import bisect
import re

_LINE_BREAK = re.compile(r"\r\n?|\n")


class LineIndex:
    """Offsets <-> positions of one text, in O(log lines) per conversion."""

    __slots__ = ("_length", "_starts")

    def __init__(self, text: str) -> None:
        self._starts = [0, *(match.end() for match in _LINE_BREAK.finditer(text))]
        self._length = len(text)

    def position(self, offset: int) -> tuple[int, int]:
        """(line, column) of a character offset."""
        line = bisect.bisect_right(self._starts, offset)
        return line, offset - self._starts[line - 1]

    def offset(self, line: int, column: int) -> int:
        """Character offset of a (line, column) position; ValueError outside the text."""
        if not 1 <= line <= len(self._starts):
            raise ValueError(f"line {line} is outside the text ({len(self._starts)} lines)")
        offset = self._starts[line - 1] + column
        if column < 0 or offset > self._length:
            raise ValueError(f"column {column} of line {line} is outside the text")
        return offset
