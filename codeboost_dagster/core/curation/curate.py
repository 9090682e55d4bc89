"""Maximum-clique curation (METHOD.md section 2), from scratch or incrementally, in two modes.

Global mode (the default, `global_selection`): near-duplicate pairs over the whole input from
MinHash LSH, exact distances, a maximum distinct set per component of the near-duplicate graph.
Paper mode (`rounds`): the paper's shuffled chunks, round by round.

Incremental semantics, precisely. `curate(new, existing=selection, settings=s)` curates the
union U of the existing selection's rows and the new candidates (one node per snippet_id), as a
from-scratch curation of U would, with three differences:

1. U holds the previous *selection*, not every snippet ever seen: a snippet removed by an
   earlier curation is not reconsidered (unless it comes again as a candidate).
2. Two previously selected snippets are never judged against each other again: their pair
   always counts as distinct. So an existing snippet leaves the selection only when new
   snippets replace it under the clique rule (a larger distinct set without it).
3. Ties between maximum sets prefer previously selected snippets, so a new near-duplicate never
   swaps one-for-one with an existing snippet.

In global mode the result is exactly that of a from-scratch global curation of U in which the
existing rows are marked previously selected: band keys depend only on a snippet's lines and the
settings, so the candidate pairs are the same. The stored `signatures` of the selection make the
work grow with the new rows: only the new rows are hashed, and only selected snippets that share
a band key with a new one are read into line sets and compared. When no existing snippet is
within gamma of a new one, adding a dump removes nothing that was selected.

Determinism: rows are sorted by snippet_id before anything random happens, and all
randomness comes from `settings.seed`, so the same input in any row order gives the same
output, except where an exact search hit `settings.clique_time_limit_s` (a chunk or component
with method "fallback" and a time-limit reason): then the outcome depends on machine speed.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation.exact_search import ExactCliqueSearch
from codeboost_dagster.core.curation.global_selection import LshReport, select_globally
from codeboost_dagster.core.curation.inputs import CurationInput, prepare_input
from codeboost_dagster.core.curation.line_sets import LineNormaliser, line_incidence, renamed_identifiers
from codeboost_dagster.core.curation.minhash import LshParameters, candidate_pairs, code_band_keys, lsh_parameters
from codeboost_dagster.core.curation.pairs import decode
from codeboost_dagster.core.curation.report import (
    chunks_frame,
    distance_sample_frame,
    dumps_frame,
    removed_frame,
    representatives,
    rounds_frame,
    selection_frame,
)
from codeboost_dagster.core.curation.rounds import run_rounds
from codeboost_dagster.core.schemas import SIGNATURE_DTYPES
from codeboost_dagster.core.settings import CurationSettings

DEFAULT_DISTANCE_SAMPLE_SIZE = 10_000
GLOBAL, PAPER = "global", "paper"

KeySigner = Callable[[Sequence[str]], np.ndarray]
"""Maps raw snippet codes to their LSH band keys (one row each), e.g. on Ray; see `minhash`."""


@dataclass(frozen=True)
class CurationResult:
    """The selection and the curation report; columns and dtypes as in `core.schemas`.

    - selection: every input column of the kept rows, then previously_selected (bool),
      final_chunk (int32: the chunk of the last round in paper mode, where the clique property
      holds; 0 in global mode, where it holds over the whole selection), rounds_survived (int32,
      rounds run), near_duplicates_represented (int32, removed rows whose representative it
      is), component (int64: its component of the near-duplicate graph; -1 in paper mode);
      sorted by snippet_id.
    - removed: one row per removed input row (REMOVED_DTYPES): reason ("near_duplicate", or
      "duplicate_snippet_id" for a second row of an id), round and chunk of removal, its
      component (global mode), the nearest survivor it lost to (id, dump, distance) and its
      representative in the selection (the end of the chain of losses; id, dump, distance).
    - rounds, dumps, chunks: counts per round / dump / chunk (ROUND_, DUMP_, CHUNK_DTYPES); in
      global mode one round, and one "chunk" row per component with a near-duplicate pair.
    - distance_sample: distances of random pairs (DISTANCE_SAMPLE_DTYPES).
    - signatures: the selection's LSH band keys (SIGNATURE_DTYPES), for the next incremental
      run; empty in paper mode. `lsh`: what LSH found and its measured recall (global mode).
    """

    selection: pd.DataFrame
    removed: pd.DataFrame
    rounds: pd.DataFrame
    dumps: pd.DataFrame
    chunks: pd.DataFrame
    distance_sample: pd.DataFrame
    signatures: pd.DataFrame
    lsh: LshReport | None

    @property
    def fallback_chunks(self) -> int:
        """How many chunks (components, in global mode) did not get a proven maximum set."""
        return int((self.chunks["method"] != "exact").sum())


def _check(settings: CurationSettings) -> None:
    if settings.mode not in (GLOBAL, PAPER):
        raise ValueError(f"curation mode must be {GLOBAL!r} or {PAPER!r}, not {settings.mode!r}")
    if settings.chunk_size < 1 or settings.rounds < 1 or settings.clique_time_limit_s < 0:
        raise ValueError(f"invalid curation settings {settings}")


def signatures_frame(snippet_ids: Sequence[str], keys: np.ndarray, parameters: LshParameters) -> pd.DataFrame:
    """The stored form of band keys (SIGNATURE_DTYPES)."""
    return pd.DataFrame(
        {
            "snippet_id": pd.Series(list(snippet_ids), dtype="str"),
            "lsh_fingerprint": pd.Series([parameters.fingerprint] * len(snippet_ids), dtype="str"),
            "band_keys": list(keys),
        }
    )[list(SIGNATURE_DTYPES)]


def _node_keys(
    data: CurationInput, signatures: pd.DataFrame | None, parameters: LshParameters, sign: KeySigner
) -> np.ndarray:
    """Band keys of every node: stored ones where they match the parameters, the rest computed."""
    keys = np.zeros((len(data.nodes), parameters.bands), dtype=np.uint64)
    known = np.zeros(len(data.nodes), dtype=bool)
    if signatures is not None and len(signatures):
        usable = signatures[signatures["lsh_fingerprint"] == parameters.fingerprint]
        usable = usable.drop_duplicates("snippet_id").set_index("snippet_id")["band_keys"]
        position = data.nodes["snippet_id"].map(pd.Series(np.arange(len(usable)), index=usable.index))
        known = (position.notna() & data.nodes["previously_selected"]).to_numpy()
        if known.any():
            keys[known] = np.stack(usable.to_numpy()[position[known].astype(np.int64).to_numpy()]).astype(np.uint64)
    missing = np.flatnonzero(~known)
    if len(missing):
        keys[missing] = sign(list(data.nodes["code"].to_numpy()[missing]))
    return keys


def _global(
    data: CurationInput,
    codes: list[str],
    signatures: pd.DataFrame | None,
    settings: CurationSettings,
    normalise: LineNormaliser,
    sign: KeySigner | None,
    distance_sample_size: int,
):
    parameters = lsh_parameters(
        settings.gamma, settings.minhash_rows, settings.minhash_recall_at_threshold, settings.seed
    )
    if sign is None:

        def sign(codes: Sequence[str]) -> np.ndarray:
            step = settings.signature_batch_size
            return np.concatenate(
                [
                    code_band_keys(codes[start : start + step], parameters, normalise, settings.rename_identifiers)
                    for start in range(0, len(codes), step)
                ]
                or [np.zeros((0, parameters.bands), dtype=np.uint64)]
            )

    preferred = data.nodes["previously_selected"].to_numpy(dtype=bool)
    keys = _node_keys(data, signatures, parameters, sign)
    pairs = candidate_pairs(keys, exempt=preferred)
    involved = ~preferred
    involved[np.concatenate(decode(pairs, len(keys)))] = True
    node_count = len(data.nodes)
    duplicate_of = data.nodes["snippet_id"].searchsorted(data.duplicates["snippet_id"])
    involved[duplicate_of] = True
    compared = [code if involved[row] else "" for row, code in enumerate(codes[:node_count])] + codes[node_count:]
    incidence = line_incidence(compared, normalise)
    with ExactCliqueSearch() as search:
        outcome, component, lsh = select_globally(
            incidence.head(node_count), pairs, preferred, involved, settings, parameters, search, distance_sample_size
        )
    return (
        incidence,
        outcome,
        component,
        lsh,
        signatures_frame(data.nodes["snippet_id"].to_numpy()[outcome.survivors], keys[outcome.survivors], parameters),
    )


def curate(
    candidates: pd.DataFrame,
    existing: pd.DataFrame | None = None,
    *,
    settings: CurationSettings,
    signatures: pd.DataFrame | None = None,
    normalise: LineNormaliser = str.strip,
    sign: KeySigner | None = None,
    distance_sample_size: int = DEFAULT_DISTANCE_SAMPLE_SIZE,
) -> CurationResult:
    """Keep a maximum set of mutually distinct snippets (globally, or per chunk in paper mode).

    `candidates` and `existing` (a previous `selection`, or None) need string columns
    snippet_id, dump and code; other columns pass through to the selection. `signatures` are a
    previous result's (global mode: existing snippets with stored keys are not hashed again).
    `normalise` maps a line before it enters a line set (default: strip); `sign` computes band
    keys (default: here, in batches; the Dagster layer passes a Ray one). `distance_sample_size`
    bounds the distance sample (about that many pairs). Every input row ends up in exactly one
    of `selection` and `removed`.
    """
    _check(settings)
    data = prepare_input(candidates, existing)
    codes = list(data.nodes["code"]) + list(data.duplicates["code"])
    if settings.rename_identifiers:
        codes = [renamed_identifiers(code) for code in codes]
    node_count = len(data.nodes)
    if settings.mode == GLOBAL:
        incidence, outcome, component, lsh, kept_signatures = _global(
            data, codes, signatures, settings, normalise, sign, distance_sample_size
        )
    else:
        incidence = line_incidence(codes, normalise)
        preferred = data.nodes["previously_selected"].to_numpy(dtype=bool)
        with ExactCliqueSearch() as search:
            outcome = run_rounds(incidence.head(node_count), preferred, settings, search, distance_sample_size)
        component, lsh, kept_signatures = np.full(node_count, -1, dtype=np.int64), None, _no_signatures()
    removed = removed_frame(data, incidence, outcome, representatives(node_count, outcome), component)
    selection = selection_frame(data, outcome, removed, component)
    return CurationResult(
        selection=selection,
        removed=removed,
        rounds=rounds_frame(outcome),
        dumps=dumps_frame(selection, removed),
        chunks=chunks_frame(outcome),
        distance_sample=distance_sample_frame(data, outcome),
        signatures=kept_signatures,
        lsh=lsh,
    )


def _no_signatures() -> pd.DataFrame:
    return pd.DataFrame({name: pd.Series([], dtype=dtype) for name, dtype in SIGNATURE_DTYPES.items()})
