"""Worker process for exact maximum cliques (run as a script; imports nothing but igraph).

igraph's clique search cannot be interrupted from Python, so it runs here, where the parent
can kill it at the chunk's deadline. Protocol, one JSON object per line: the worker prints
{"ready": true} once igraph is imported; then for each request {"size", "edges", "preferred",
"rank"} (a kernel of the near-duplicate graph) it prints {"members": [...]}: a maximum
independent set of the kernel, i.e. a maximum clique of its complement, chosen among all of
them by most preferred vertices, then by the smallest ranks.
"""

import json
import sys

UNUSED_PLOTTING_BACKENDS = ("matplotlib", "plotly", "cairo", "cairocffi")
sys.modules.update(dict.fromkeys(UNUSED_PLOTTING_BACKENDS))  # igraph imports them if present: seconds of start-up
import igraph  # noqa: E402


def best_maximum_independent_set(request: dict) -> list[int]:
    """Among all maximum cliques of the complement, the most preferred one (see module doc)."""
    preferred, rank = request["preferred"], request["rank"]
    complement = igraph.Graph(n=request["size"], edges=request["edges"]).complementer(loops=False)
    cliques = complement.largest_cliques()
    best = min(cliques, key=lambda clique: (-sum(preferred[v] for v in clique), sorted(rank[v] for v in clique)))
    return sorted(best)


def main() -> None:
    """Answer requests from stdin until it closes."""
    print(json.dumps({"ready": True}), flush=True)
    for line in sys.stdin:
        try:
            answer = {"members": best_maximum_independent_set(json.loads(line))}
        except Exception as error:
            answer = {"error": f"{type(error).__name__}: {error}"}
        print(json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
