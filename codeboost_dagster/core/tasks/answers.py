"""Find the model's fenced answer blocks (```answer_stdout ... ```) in a completion.

The last block with a tag wins: a model that restates the prompt's example first and then
answers is scored on its answer (the public release took the alphabetically largest block,
which rewards echoing the example).
"""

from __future__ import annotations

import re
from functools import lru_cache

MAX_ANSWER_CHARS = 200_000


@lru_cache(maxsize=64)
def _block_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(r"^[ \t]*(`{3,})" + re.escape(tag) + r"[ \t]*\n(.*?)^[ \t]*\1[ \t]*$", re.MULTILINE | re.DOTALL)


def last_block(completion: str, tag: str) -> str | None:
    """Content of the last fenced block tagged `tag` (its lines, newline-terminated), or None."""
    matches = _block_pattern(tag).findall(completion[-MAX_ANSWER_CHARS:])
    return matches[-1][1] if matches else None


def fence_for(text: str) -> str:
    """A backtick fence longer than any backtick run inside `text`, so the block cannot break."""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    return "`" * max(3, longest + 1)
