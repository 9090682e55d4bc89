"""Benchmark of maximum-clique curation (METHOD.md section 2) on real and synthetic code.

Corpus: every function of at least five lines in the `algorithms` package and the Python
standard library (real code), topped up with seeded synthetic variants of real snippets (line
shuffles, line edits, deletions, insertions, identifier renames) to reach the wanted size.

Runs `curate` on 10k, 30k and 100k snippets with the default settings (M=5 rounds, chunks of
400, gamma=0.5) and, on 4k snippets, compares it with the straightforward implementation: Python
set loops for every pair plus networkx's exact maximum clique per chunk, with the same chunking
and seed. Writes the measured figures to benchmarks/results/curation.md.

    .venv/bin/python benchmarks/bench_curation.py [--sizes 10000 30000 100000] [--baseline-size 4000]
"""

from __future__ import annotations

import argparse
import ast
import datetime as dt
import os
import platform
import random
import re
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import networkx as nx
import numpy as np
import pandas as pd

import algorithms
from codeboost_dagster.core.curation import curate, line_set
from codeboost_dagster.core.settings import CurationSettings

RESULTS = Path(__file__).parent / "results" / "curation.md"
MIN_FUNCTION_LINES = 5
IDENTIFIER = re.compile(r"\b[a-z_][a-z0-9_]{2,}\b")


def _python_files() -> Iterator[Path]:
    yield from sorted(Path(algorithms.__file__).parent.rglob("*.py"))
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    yield from sorted(path for path in stdlib.rglob("*.py") if "site-packages" not in path.parts)


def real_functions() -> list[str]:
    """Source of every function with at least MIN_FUNCTION_LINES lines, deduplicated, in file order."""
    seen: dict[str, None] = {}
    for path in _python_files():
        try:
            source = path.read_text(encoding="utf-8")
            tree = ast.parse(source)
        except (SyntaxError, UnicodeDecodeError, ValueError):
            continue
        lines = source.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                if node.end_lineno - node.lineno + 1 >= MIN_FUNCTION_LINES:
                    seen.setdefault("\n".join(lines[node.lineno - 1 : node.end_lineno]), None)
    return list(seen)


def synthetic_variant(code: str, rng: random.Random) -> str:
    """A seeded mutation of `code`: some lines shuffled, edited, dropped or added, a name renamed."""
    lines = code.splitlines()
    strength = rng.uniform(0.0, 0.8)
    for index in rng.sample(range(len(lines)), k=int(strength * len(lines))):
        action = rng.random()
        if action < 0.4:
            lines[index] = f"{lines[index]}  # v{rng.randrange(10**6)}"
        elif action < 0.6:
            lines[index] = ""
        elif action < 0.8:
            lines[index] = f"{lines[index]}\n    _t{rng.randrange(10**6)} = {rng.randrange(100)}"
        else:
            other = rng.randrange(len(lines))
            lines[index], lines[other] = lines[other], lines[index]
    names = sorted(set(IDENTIFIER.findall(code)))
    variant = "\n".join(lines)
    if names and rng.random() < 0.5:
        variant = re.sub(rf"\b{re.escape(rng.choice(names))}\b", f"n{rng.randrange(10**6)}", variant)
    return variant


def corpus(size: int, real: list[str], seed: int = 0) -> pd.DataFrame:
    """`size` snippets: real functions first (as many as fit), then synthetic variants of them."""
    rng = random.Random(seed)
    codes = list(real[:size])
    while len(codes) < size:
        codes.append(synthetic_variant(rng.choice(real), rng))
    return pd.DataFrame(
        {
            "snippet_id": [f"s{index:07d}" for index in range(size)],
            "dump": [f"dump{index % 4}" for index in range(size)],
            "code": codes,
        }
    )
