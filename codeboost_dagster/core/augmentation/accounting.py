"""Accounting of augmentation: every attempted variant of every snippet is kept or dropped,
exactly once; and how many mutations of each level and kind the kept variants carry."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable

from codeboost_dagster.core.augmentation.batch import AugmentationResult
from codeboost_dagster.core.augmentation.reasons import WHOLE_SNIPPET_REASONS


def accounting_problems(snippet_ids: Iterable[str], result: AugmentationResult, variants_per_snippet: int) -> list[str]:
    """Human-readable violations (empty when every (snippet, index 0..K) is in exactly one table)."""
    expected = {(snippet_id, index) for snippet_id in snippet_ids for index in range(variants_per_snippet + 1)}
    seen = Counter(zip(result.variants["snippet_id"], result.variants["variant_index"].astype(int)))
    seen.update(zip(result.dropped["snippet_id"], result.dropped["variant_index"].astype(int)))
    problems = [f"{key} is neither kept nor dropped" for key in sorted(expected - set(seen))]
    problems += [f"{key} was never attempted" for key in sorted(set(seen) - expected)]
    problems += [f"{key} is accounted {count} times" for key, count in sorted(seen.items()) if count > 1]
    originals = set(result.variants["snippet_id"][result.variants["variant_index"] == 0])
    whole = set(result.dropped["snippet_id"][result.dropped["reason"].isin(WHOLE_SNIPPET_REASONS)])
    problems += [f"original of {sid!r} is missing" for sid in sorted({s for s, _ in expected} - originals - whole)]
    return problems


def mutation_counts(mutations: Iterable[str]) -> Counter:
    """Mutations per `level:kind` over the variants' `mutations` JSON lists."""
    return Counter(f"{mutation['level']}:{mutation['kind']}" for listed in mutations for mutation in json.loads(listed))
