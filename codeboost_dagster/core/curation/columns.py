"""Column names and pandas dtypes of every table `curate` returns, in column order.

This is the contract the Dagster layer turns into pyarrow schemas ("str" is pandas' string
dtype, missing values NaN; it maps to pa.string()).
"""

from __future__ import annotations

NEAR_DUPLICATE = "near_duplicate"
DUPLICATE_SNIPPET_ID = "duplicate_snippet_id"

SELECTION_ADDED_DTYPES = {
    "previously_selected": "bool",
    "final_chunk": "int32",
    "rounds_survived": "int32",
    "near_duplicates_represented": "int32",
    "component": "int64",
}
REMOVED_DTYPES = {
    "snippet_id": "str",
    "dump": "str",
    "previously_selected": "bool",
    "reason": "str",
    "round": "int32",
    "chunk": "int32",
    "component": "int64",
    "nearest_survivor_id": "str",
    "nearest_survivor_dump": "str",
    "nearest_survivor_distance": "float64",
    "representative_id": "str",
    "representative_dump": "str",
    "representative_distance": "float64",
}
CHUNK_DTYPES = {
    "round": "int32",
    "chunk": "int32",
    "size": "int32",
    "pairs": "int64",
    "near_duplicate_pairs": "int64",
    "edge_density": "float64",
    "clique_size": "int32",
    "removed": "int32",
    "kernel_vertices": "int32",
    "method": "str",
    "fallback_reason": "str",
    "seconds": "float64",
    "search_seconds": "float64",
}
ROUND_DTYPES = {
    "round": "int32",
    "snippets_in": "int64",
    "chunks": "int32",
    "kept": "int64",
    "removed": "int64",
    "exact_chunks": "int32",
    "fallback_chunks": "int32",
    "seconds": "float64",
}
DUMP_DTYPES = {
    "dump": "str",
    "snippets_in": "int64",
    "kept": "int64",
    "kept_previously_selected": "int64",
    "removed": "int64",
    "removed_previously_selected": "int64",
    "removed_for_other_dump": "int64",
}
DISTANCE_SAMPLE_DTYPES = {"snippet_id_a": "str", "snippet_id_b": "str", "distance": "float64"}
SIGNATURE_DTYPES = {"snippet_id": "str", "lsh_fingerprint": "str", "band_keys": "object"}
"""band_keys: one uint64 array per snippet (LSH band keys, see `minhash`)."""
