"""Heterogeneous augmentation (METHOD.md section 3): digit, logical and input-level variants.

Public API:
- `augment_snippets(snippets, settings, workers, progress, max_code_chars) -> AugmentationResult`
  with `variants` and `dropped` (the AUGMENTED_VARIANTS and AUGMENTATION_REPORT schemas of core.schemas).
- `augment_snippet(...)`: the same for one snippet, without pandas.
- `apply_mutations(original_code, mutations)` / `apply_input_mutations(test_cases, mutations)`
  (original_code: the original row's code, i.e. the canonical program):
  rebuild a variant from its original and its records (`mutations_from_json(row.mutations)`).
- `accounting_problems(...)`: the conservation check (kept + dropped = 1 + K per snippet);
  `mutation_counts(mutations)`: mutations per level and kind.
Plain Python; no Dagster import. The pandas-based names are imported on first use, so pool
workers, which only need `snippet`, do not pay for importing pandas and pyarrow.
"""

import importlib
from typing import Any

from codeboost_dagster.core.augmentation.mutations import Mutation, mutations_from_json, mutations_to_json
from codeboost_dagster.core.augmentation.reasons import DROP_REASONS
from codeboost_dagster.core.augmentation.replay import ReplayError, apply_input_mutations, apply_mutations
from codeboost_dagster.core.augmentation.snippet import SnippetAugmentation, augment_snippet

_TABLE_API = {
    "AugmentationResult": "batch",
    "augment_snippets": "batch",
    "accounting_problems": "batch",
    "mutation_counts": "batch",
}

__all__ = [
    "DROP_REASONS",
    "AugmentationResult",
    "Mutation",
    "ReplayError",
    "SnippetAugmentation",
    "accounting_problems",
    "apply_input_mutations",
    "apply_mutations",
    "augment_snippet",
    "augment_snippets",
    "mutation_counts",
    "mutations_from_json",
    "mutations_to_json",
]


def __getattr__(name: str) -> Any:
    """The pandas-based part of the API, imported when first asked for."""
    if name not in _TABLE_API:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_TABLE_API[name]}"), name)
