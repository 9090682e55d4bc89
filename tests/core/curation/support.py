"""Helpers shared by the curation tests (no tests here): frames, naive distances, brute force."""

from __future__ import annotations

import itertools
import random

import numpy as np
import pandas as pd

from codeboost_dagster.core.curation import CurationResult


def frame(codes: list[str], dump: str = "d", prefix: str = "s") -> pd.DataFrame:
    """Candidates with ids prefix0000, prefix0001, ... in the given order."""
    return pd.DataFrame(
        {"snippet_id": [f"{prefix}{index:04d}" for index in range(len(codes))], "dump": dump, "code": codes}
    )


def naive_distance(a: str, b: str) -> float:
    """METHOD.md's distance with plain Python sets, the reference for the vectorised one."""
    lines_a = {line.strip() for line in a.splitlines()} - {""}
    lines_b = {line.strip() for line in b.splitlines()} - {""}
    union = len(lines_a | lines_b)
    return 1.0 - len(lines_a & lines_b) / union if union else 0.0


def pool_snippets(count: int, pool_size: int, lines_each: int, seed: int) -> list[str]:
    """Snippets made of random lines from a small pool: distances spread around 0.5."""
    rng = random.Random(seed)
    pool = [f"value_{index} = compute({index})" for index in range(pool_size)]
    return ["\n".join(rng.sample(pool, lines_each)) for _ in range(count)]


def near_duplicate_families(families: int, members: int, seed: int, tag: str = "f") -> list[str]:
    """`families` unrelated base snippets, each with `members` edited copies (some near, some not).

    Snippets made with different `tag`s share no line.
    """
    rng = random.Random(seed)
    codes = []
    for family in range(families):
        base = [f"{tag}{family}_line_{line} = {rng.randrange(1000)}" for line in range(12)]
        for _ in range(members):
            edited = [
                line if rng.random() > rng.uniform(0.0, 0.5) else f"{line}  # {rng.randrange(99)}" for line in base
            ]
            codes.append("\n".join(edited))
    return codes


def independence_number(near: np.ndarray) -> int:
    """Brute force over all subsets, largest first (small graphs only)."""
    vertices = range(len(near))
    for size in range(len(near), 0, -1):
        for subset in itertools.combinations(vertices, size):
            if not near[np.ix_(subset, subset)].any():
                return size
    return 0


def is_independent(near: np.ndarray, members: np.ndarray) -> bool:
    """No two members are adjacent."""
    return not near[np.ix_(members, members)].any()


def is_maximal_independent(near: np.ndarray, members: np.ndarray) -> bool:
    """Independent, and every other vertex is adjacent to a member."""
    others = np.setdiff1d(np.arange(len(near)), members)
    return is_independent(near, members) and bool(near[np.ix_(others, members)].any(axis=1).all())


def comparable(result: CurationResult) -> dict[str, pd.DataFrame]:
    """The result's tables without wall-clock columns, for equality checks."""
    return {
        "selection": result.selection,
        "removed": result.removed,
        "rounds": result.rounds.drop(columns="seconds"),
        "dumps": result.dumps,
        "chunks": result.chunks.drop(columns=["seconds", "search_seconds"]),
        "distance_sample": result.distance_sample,
    }


def assert_same_result(left: CurationResult, right: CurationResult) -> None:
    """Equal tables (values and dtypes), timing aside."""
    for name, table in comparable(left).items():
        pd.testing.assert_frame_equal(table, comparable(right)[name], obj=name)
