"""Maximum-clique curation (METHOD.md section 2): plain typed Python, no Dagster.

`curate` keeps a maximum set of mutually distinct snippets (line-level Jaccard distance >=
gamma): globally, per component of the near-duplicate graph that MinHash LSH finds, or in the
paper's chunked rounds; it reports every snippet it removes.
"""

from codeboost_dagster.core.curation.curate import (
    DEFAULT_DISTANCE_SAMPLE_SIZE,
    GLOBAL,
    PAPER,
    CurationResult,
    KeySigner,
    curate,
)
from codeboost_dagster.core.curation.distance import chunk_distances, pair_distances
from codeboost_dagster.core.curation.global_selection import LshReport
from codeboost_dagster.core.curation.line_sets import LineIncidence, LineNormaliser, line_incidence, line_set
from codeboost_dagster.core.curation.minhash import LshParameters, code_band_keys, lsh_parameters
from codeboost_dagster.core.curation.report import DUPLICATE_SNIPPET_ID, NEAR_DUPLICATE
from codeboost_dagster.core.curation.verify import clique_violations, conservation_problems

__all__ = [
    "DEFAULT_DISTANCE_SAMPLE_SIZE",
    "DUPLICATE_SNIPPET_ID",
    "GLOBAL",
    "NEAR_DUPLICATE",
    "PAPER",
    "CurationResult",
    "KeySigner",
    "LineIncidence",
    "LineNormaliser",
    "LshParameters",
    "LshReport",
    "chunk_distances",
    "clique_violations",
    "code_band_keys",
    "conservation_problems",
    "curate",
    "line_incidence",
    "line_set",
    "lsh_parameters",
    "pair_distances",
]
