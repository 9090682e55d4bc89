"""Global vs paper curation on the same corpora: surviving near-duplicate pairs, size, time, memory.

Corpus as in `bench_curation.py` (every real function of `algorithms` and the standard library,
topped up with seeded near-variants). For each size and mode, `curate` runs in a fresh process
(so peak RSS is its own); the surviving near-duplicate pairs of its selection (line-Jaccard
distance < gamma) are then counted exactly, all pairs, by the prefix-filter join, as are the
input's. Also measured: the incremental path (a new dump of 1% against the stored selection and
its signatures vs curating everything again), rensa vs datasketch MinHash on the same line sets,
and the rename-insensitive line setting. Writes benchmarks/results/curation_modes.md.

    .venv/bin/python benchmarks/bench_curation_modes.py [--sizes 20000 100000 1000000]
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import multiprocessing
import os
import re
import resource
import textwrap
import time
from importlib.metadata import version
from pathlib import Path

import datasketch
import pandas as pd
from bench_curation import corpus, machine, real_functions
from bench_reward import write_results

from codeboost_dagster.core.curation import curate, line_incidence, line_set
from codeboost_dagster.core.curation.line_sets import renamed_identifiers
from codeboost_dagster.core.curation.minhash import band_keys, lsh_parameters
from codeboost_dagster.core.curation.similarity_join import near_duplicate_pairs
from codeboost_dagster.core.settings import CurationSettings

RESULTS = Path(__file__).parent / "results" / "curation_modes.md"


def surviving_pairs(codes: list[str], gamma: float, rename: bool = False) -> int:
    """Exact number of pairs among `codes` at distance < gamma."""
    if rename:
        codes = [renamed_identifiers(code) for code in codes]
    return len(near_duplicate_pairs(line_incidence(codes), gamma)[0])


def _curate_in_child(size: int, settings: CurationSettings, queue: multiprocessing.Queue) -> None:
    candidates = corpus(size, real_functions())
    started = time.perf_counter()
    result = curate(candidates, settings=settings)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    queue.put((seconds, peak_mb, sorted(result.selection["snippet_id"]), result.lsh, result.fallback_chunks))


def curated_in_child(size: int, settings: CurationSettings):
    """(seconds, peak MB, selected ids, lsh report, fallbacks) of one curation in a fresh process."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    child = context.Process(target=_curate_in_child, args=(size, settings, queue))
    child.start()
    outcome = queue.get()
    child.join()
    return outcome


def mode_rows(sizes: list[int], real: list[str]) -> list[str]:
    rows = []
    for size in sizes:
        candidates = corpus(size, real).set_index("snippet_id")
        before = surviving_pairs(list(candidates["code"]), CurationSettings().gamma)
        for mode in ("paper", "global"):
            settings = dataclasses.replace(CurationSettings(), mode=mode)
            seconds, peak_mb, ids, lsh, fallbacks = curated_in_child(size, settings)
            left = surviving_pairs(list(candidates.loc[ids, "code"]), settings.gamma)
            recall = f"{lsh.near_duplicate_pairs / before:.4%} of all; sample {lsh.recall_estimate:.4%}" if lsh else ""
            rows.append(
                f"| {size:,} | {mode} | {before:,} | {left:,} ({left / max(before, 1):.3%}) | {len(ids):,} | "
                f"{seconds:.1f} | {peak_mb:,.0f} | {fallbacks} | {recall} |"
            )
            print(rows[-1], flush=True)
    return rows


def incremental_rows(size: int, real: list[str]) -> list[str]:
    """A 1% dump curated against the stored selection vs everything from scratch."""
    settings = CurationSettings()
    candidates = corpus(size, real)
    new = candidates.sample(frac=0.01, random_state=1)
    old = candidates.drop(new.index)
    first = curate(old, settings=settings)
    started = time.perf_counter()
    incremental = curate(new, first.selection, settings=settings, signatures=first.signatures)
    incremental_s = time.perf_counter() - started
    started = time.perf_counter()
    scratch = curate(pd.concat([old, new]), settings=settings)
    scratch_s = time.perf_counter() - started
    left = surviving_pairs(list(incremental.selection["code"]), settings.gamma)
    return [
        f"| {size:,} + {len(new):,} new | {incremental_s:.1f} s | {scratch_s:.1f} s | "
        f"{scratch_s / incremental_s:.1f}x | "
        f"{len(incremental.selection):,} vs {len(scratch.selection):,} | {left:,} |"
    ]


def minhash_rows(real: list[str], count: int = 20_000) -> list[str]:
    """rensa vs datasketch: signatures of the same line sets, same length."""
    parameters = lsh_parameters(0.5, 3, 0.998, 0)
    sets = [sorted(line_set(code)) for code in real[:count]]
    started = time.perf_counter()
    band_keys(sets, parameters)
    rensa_s = time.perf_counter() - started
    started = time.perf_counter()
    datasketch.MinHash.bulk([[line.encode() for line in lines] for lines in sets], num_perm=parameters.num_perm, seed=0)
    datasketch_s = time.perf_counter() - started
    return [
        f"| {len(sets):,} line sets, {parameters.num_perm} permutations | {rensa_s:.2f} s | {datasketch_s:.2f} s | "
        f"{datasketch_s / rensa_s:.1f}x |"
    ]


def renamed_clone(code: str) -> str:
    """`code` with its parameters and assigned local names consistently renamed (`v0`, `v1`, ...),
    as a copied solution with other variable names would be."""
    tree = ast.parse(textwrap.dedent(code))
    local = {node.arg for node in ast.walk(tree) if isinstance(node, ast.arg)}
    local |= {node.id for node in ast.walk(tree) if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store)}
    mapping = {name: f"v{index}_renamed" for index, name in enumerate(sorted(local))}
    return re.sub(r"\b[A-Za-z_]\w*\b", lambda match: mapping.get(match.group(0), match.group(0)), code)


def rename_rows(real: list[str], count: int = 5_000) -> list[str]:
    """Planted renamed clones found (recall) and pairs among distinct real functions, plain vs renamed lines."""
    originals = [code for code in real if _parses(code)][:count]
    clones = [renamed_clone(code) for code in originals]
    rows = []
    for rename in (False, True):
        normalise = renamed_identifiers if rename else (lambda code: code)
        planted = sum(
            _distance(line_set(normalise(a)), line_set(normalise(b))) < 0.5 for a, b in zip(originals, clones)
        )
        among_real = surviving_pairs(originals, 0.5, rename=rename)
        label = "identifiers renamed" if rename else "plain lines"
        rows.append(
            f"| {label} | {planted:,} of {len(originals):,} ({planted / len(originals):.1%}) | {among_real:,} |"
        )
    return rows


def _distance(a: frozenset[str], b: frozenset[str]) -> float:
    return 1 - len(a & b) / len(a | b)


def _parses(code: str) -> bool:
    try:
        ast.parse(textwrap.dedent(code))
    except SyntaxError:
        return False
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[20_000, 100_000, 1_000_000])
    parser.add_argument("--incremental-size", type=int, default=100_000)
    parser.add_argument("--output", type=Path, default=RESULTS)
    arguments = parser.parse_args()
    info = machine()
    real = real_functions()
    lines = ["## Curation modes: global (MinHash LSH + components) vs paper (chunks), measured", ""]
    lines += [f"- {key}: {value}" for key, value in info.items()]
    lines += [
        f"- rensa {version('rensa')}, datasketch {version('datasketch')}",
        f"- settings: {CurationSettings()}",
        "",
    ]
    lines += [
        "| snippets | mode | near-duplicate pairs in | left in selection | selected | seconds | peak RSS MB | "
        "fallbacks | LSH recall |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    lines += mode_rows(arguments.sizes, real)
    lines += [
        "",
        "### Incremental: a 1% dump against the stored selection and signatures",
        "",
        "| corpus | incremental | from scratch | ratio | selected (incremental vs scratch) | pairs left |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    lines += incremental_rows(arguments.incremental_size, real)
    lines += [
        "",
        "### MinHash library",
        "",
        "| input | rensa | datasketch (bulk) | ratio |",
        "| --- | --- | --- | --- |",
    ]
    lines += minhash_rows(real)
    lines += [
        "",
        "### Rename-insensitive lines (gamma 0.5)",
        "",
        "Each of the first 5,000 real functions beside a clone with its locals renamed: how many clone pairs are "
        "near-duplicates, and how many near-duplicate pairs the 5,000 distinct functions have among themselves.",
        "",
        "| lines | renamed clones found | pairs among the real functions |",
        "| --- | --- | --- |",
    ]
    lines += rename_rows(real)
    lines += [""]
    lines.append(f"- load average at end: {' '.join(f'{value:.1f}' for value in os.getloadavg())}")
    write_results(arguments.output, lines)


if __name__ == "__main__":
    main()
