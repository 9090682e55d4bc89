"""Augmentation throughput: this project's augmenter against the straightforward approach.

Corpora (real code nobody here wrote): the modules of the installed `algorithms` package, and
10,000 functions and methods cut out of the standard library. "Ours" is `augment_snippets`:
one libcst parse per snippet, one recording pass to find every candidate, then per variant one
pruned transformer pass that prints only the statements it changed. "Straightforward" runs, per
variant, one pass per mutation kind (digit, then each of the six logical transformers), each
re-parsing the current code with libcst and resolving metadata through `MetadataWrapper`, as
a plain libcst implementation would; it uses the same mutation rules, so the work is the same.
The straightforward approach is slow, so it runs on an evenly spaced sample of each corpus, and
ours runs on that same sample too for the ratio.

Usage: python benchmarks/bench_augmentation.py [--stdlib-snippets N] [--sample-every N] [--out PATH]
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import libcst as cst
import pandas as pd
from libcst.metadata import MetadataWrapper, ParentNodeProvider, PositionProvider

from codeboost_dagster.core.augmentation import augment_snippets
from codeboost_dagster.core.augmentation.digit_level import has_mutable_digits, mutate_digits
from codeboost_dagster.core.augmentation.edits import Site
from codeboost_dagster.core.augmentation.logical_level import (
    AUGMENTED_ALTERNATIVES,
    BINARY_ALTERNATIVES,
    BOOLEAN_ALTERNATIVES,
    COMPARISON_ALTERNATIVES,
    TRANSFORMERS,
    UNARY_REPLACEMENTS,
    operator_token,
)
from codeboost_dagster.core.augmentation.mutations import (
    AUGMENTED_ASSIGNMENT,
    BINARY_OPERATOR,
    BOOLEAN_OPERATOR,
    CODE_TARGET,
    COMPARISON_OPERATOR,
    DIGIT_LEVEL,
    IF_NEGATION,
    LOGICAL_KINDS,
    NUMBER_LITERAL,
    UNARY_OPERATOR,
    Mutation,
)
from codeboost_dagster.core.augmentation.positions import LineIndex
from codeboost_dagster.core.augmentation.sites import is_main_guard
from codeboost_dagster.core.augmentation.snippet import variant_rng
from codeboost_dagster.core.settings import AugmentationSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the corpora are test data, in tests/
from tests.real_snippets import RealSnippet, algorithms_modules, stdlib_functions

DEFAULT_OUT = Path(__file__).parent / "results" / "augmentation.md"
TARGET_VARIANTS_PER_SECOND = 200


def _offsets(lines: LineIndex, code_range) -> tuple[int, int]:
    return (
        lines.offset(code_range.start.line, code_range.start.column),
        lines.offset(code_range.end.line, code_range.end.column),
    )


class _DigitPass(cst.CSTTransformer):
    """Straightforward digit level: a metadata-resolving transformer over the freshly parsed code."""

    METADATA_DEPENDENCIES = (PositionProvider, ParentNodeProvider)

    def __init__(self, rng, p: float) -> None:
        super().__init__()
        self.rng, self.p = rng, p
        self.mutations: list[Mutation] = []

    def _number(self, original: cst.BaseNumber, updated: cst.BaseNumber) -> cst.BaseNumber:
        parent = self.get_metadata(ParentNodeProvider, original)
        if isinstance(parent, cst.UnaryOperation):
            parent = self.get_metadata(ParentNodeProvider, parent)
        if isinstance(parent, (cst.Index, cst.Slice)) or not has_mutable_digits(original):
            return updated
        value = mutate_digits(original, self.rng, self.p)
        if value == original.value:
            return updated
        where = self.get_metadata(PositionProvider, original)
        self.mutations.append(
            Mutation(
                DIGIT_LEVEL,
                NUMBER_LITERAL,
                type(original).__name__,
                CODE_TARGET,
                original.value,
                value,
                where.start.line,
                where.start.column,
                where.end.line,
                where.end.column,
            )
        )
        return updated.with_changes(value=value)

    leave_Integer = leave_Float = leave_Imaginary = _number


class _Candidates(cst.CSTVisitor):
    """Every node one logical transformer may change, in source order, skipping the main guard."""

    def __init__(self, kind: str) -> None:
        super().__init__()
        self.kind = kind
        self.found: list[cst.CSTNode] = []

    def _add(self, kind: str, node: cst.CSTNode, eligible: bool) -> None:
        if kind == self.kind and eligible:
            self.found.append(node)

    def visit_Comparison(self, node: cst.Comparison) -> bool:
        return not is_main_guard(node)

    def visit_If(self, node: cst.If) -> None:
        self._add(IF_NEGATION, node, not is_main_guard(node.test))

    def visit_BinaryOperation(self, node: cst.BinaryOperation) -> None:
        self._add(BINARY_OPERATOR, node, type(node.operator) in BINARY_ALTERNATIVES)

    def visit_BooleanOperation(self, node: cst.BooleanOperation) -> None:
        self._add(BOOLEAN_OPERATOR, node, type(node.operator) in BOOLEAN_ALTERNATIVES)

    def visit_UnaryOperation(self, node: cst.UnaryOperation) -> None:
        self._add(UNARY_OPERATOR, node, type(node.operator) in UNARY_REPLACEMENTS)

    def visit_AugAssign(self, node: cst.AugAssign) -> None:
        self._add(AUGMENTED_ASSIGNMENT, node, type(node.operator) in AUGMENTED_ALTERNATIVES)

    def visit_ComparisonTarget(self, node: cst.ComparisonTarget) -> None:
        self._add(COMPARISON_OPERATOR, node, type(node.operator) in COMPARISON_ALTERNATIVES)


class _ReplaceOne(cst.CSTTransformer):
    def __init__(self, target: cst.CSTNode, rewrite: Callable[[cst.CSTNode], cst.CSTNode]) -> None:
        super().__init__()
        self.target, self.rewrite = target, rewrite

    def on_leave(self, original_node: cst.CSTNode, updated_node: cst.CSTNode) -> cst.CSTNode:
        return self.rewrite(updated_node) if original_node is self.target else updated_node


def _logical_pass(code: str, kind: str, rng, p: float) -> tuple[str, list[Mutation]]:
    wrapper = MetadataWrapper(cst.parse_module(code))
    collector = _Candidates(kind)
    wrapper.visit(collector)
    if not collector.found or rng.random() >= p:
        return code, []
    node = collector.found[rng.randrange(len(collector.found))]
    position = wrapper.resolve(PositionProvider)[node.test if kind == IF_NEGATION else node.operator]
    lines = LineIndex(code)
    start, end = _offsets(lines, position)
    if kind == UNARY_OPERATOR and UNARY_REPLACEMENTS[type(node.operator)] is not None:
        end = start + len(operator_token(type(node.operator)))
    edit = TRANSFORMERS[kind](Site(kind, node, start, end, ()), rng, code)
    return wrapper.module.visit(_ReplaceOne(node, edit.rewrite)).code, [edit.mutation(code, lines)]


def straightforward_variant(code: str, snippet_id: str, index: int, settings: AugmentationSettings):
    """One variant the straightforward way: a re-parse and a full pass per mutation kind."""
    rng = variant_rng(settings.seed, snippet_id, index)
    digits = _DigitPass(rng, settings.p)
    code = MetadataWrapper(cst.parse_module(code)).visit(digits).code
    mutations = list(digits.mutations)
    for kind in LOGICAL_KINDS:
        code, changes = _logical_pass(code, kind, rng, settings.p)
        mutations += changes
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            compile(code, "<variant>", "exec", dont_inherit=True)
            compiles = True
        except SyntaxError:
            compiles = False
    return code, mutations, compiles


@dataclass(frozen=True)
class Measurement:
    """One timed run: what ran, on how many snippets, how long, and what it produced."""

    approach: str
    corpus: str
    workers: int
    snippets: int
    attempted: int
    kept: int
    seconds: float

    def row(self) -> str:
        per_second = self.attempted / self.seconds
        return (
            f"| {self.corpus} | {self.approach} | {self.workers} | {self.snippets:,} | {self.attempted:,} "
            f"| {self.kept:,} | {self.seconds:.1f} | {self.snippets / self.seconds:,.1f} | {per_second:,.1f} "
            f"| {self.kept / self.seconds:,.1f} |"
        )


def _frame(snippets: list[RealSnippet]) -> pd.DataFrame:
    return pd.DataFrame(
        {"snippet_id": [s.snippet_id for s in snippets], "code": [s.code for s in snippets], "test_cases": "[]"}
    )


def measure_ours(corpus: str, snippets: list[RealSnippet], settings: AugmentationSettings, workers: int) -> Measurement:
    """Time `augment_snippets` on the snippets (pool start-up included)."""
    frame = _frame(snippets)
    start = time.perf_counter()
    result = augment_snippets(frame, settings, workers=workers)
    seconds = time.perf_counter() - start
    attempted = len(snippets) * settings.variants_per_snippet
    return Measurement("ours", corpus, workers, len(snippets), attempted, len(result.variants) - len(snippets), seconds)


def measure_straightforward(corpus: str, snippets: list[RealSnippet], settings: AugmentationSettings) -> Measurement:
    """Time the straightforward approach, in this process, on the same kind of work."""
    kept = 0
    start = time.perf_counter()
    for snippet in snippets:
        for index in range(1, settings.variants_per_snippet + 1):
            code, mutations, compiles = straightforward_variant(snippet.code, snippet.snippet_id, index, settings)
            kept += bool(mutations) and compiles and code != snippet.code
    seconds = time.perf_counter() - start
    attempted = len(snippets) * settings.variants_per_snippet
    return Measurement("straightforward", corpus, 1, len(snippets), attempted, kept, seconds)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _report(measurements: list[Measurement], machine: dict[str, str], settings: AugmentationSettings) -> str:
    header = (
        "| corpus | approach | workers | snippets | attempted variants | kept variants | seconds "
        "| snippets/s | attempted variants/s | kept variants/s |\n|---|---|---|---|---|---|---|---|---|---|"
    )
    ratios = []
    for straightforward in (m for m in measurements if m.approach == "straightforward"):
        ours = next(
            m for m in measurements if m.approach == "ours" and m.corpus == straightforward.corpus and m.workers == 1
        )
        ratios.append(
            f"- {straightforward.corpus}: ours is {straightforward.seconds / ours.seconds:.1f}x faster (1 worker each)."
        )
    largest = max(m.snippets for m in measurements if m.approach == "ours")
    best = max(
        (m for m in measurements if m.approach == "ours" and m.snippets == largest),
        key=lambda m: m.attempted / m.seconds,
    )
    verdict = "meets" if best.attempted / best.seconds >= TARGET_VARIANTS_PER_SECOND else "misses"
    lines = [
        "# Augmentation benchmark",
        "",
        f"Produced by `python benchmarks/bench_augmentation.py` on {machine['date']}.",
        "",
        "## Machine",
        "",
        *(f"- {name}: {value}" for name, value in machine.items() if name != "date"),
        "",
        "## Settings",
        "",
        (
            f"- AugmentationSettings: p={settings.p}, variants_per_snippet={settings.variants_per_snippet}, "
            f"int_delta={settings.int_delta}, seed={settings.seed}; test cases: none (code-level work only)."
        ),
        (
            "- attempted variants = snippets x variants_per_snippet; kept variants = attempted minus those dropped "
            "(unchanged, duplicate, not compiling). Originals are not counted. Times include pool start-up."
        ),
        "",
        "## Results",
        "",
        header,
        *(m.row() for m in measurements),
        "",
        "## Ratios (same snippets)",
        "",
        *ratios,
        "",
        (
            f"Target >= {TARGET_VARIANTS_PER_SECOND} variants/s: the best run on the largest corpus gives "
            f"{best.attempted / best.seconds:,.0f} attempted ({best.kept / best.seconds:,.0f} kept) variants/s "
            f"on {best.workers} workers ({best.corpus}): {verdict} it in attempted variants."
        ),
        "",
    ]
    return "\n".join(lines)


def main() -> None:
    """Run every measurement once and write the Markdown report."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdlib-snippets", type=int, default=10_000)
    parser.add_argument("--sample-every", type=int, default=10, help="straightforward runs on every N-th snippet")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args()
    settings = AugmentationSettings()
    workers = len(os.sched_getaffinity(0))
    machine = {
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": _cpu_model(),
        "nproc": str(workers),
        "python": platform.python_version(),
        "libcst": version("libcst"),
        "load average at start (1/5/15 min)": " / ".join(f"{load:.2f}" for load in os.getloadavg()),
    }
    corpora = {
        "algorithms modules": algorithms_modules(),
        f"stdlib functions ({args.stdlib_snippets:,})": stdlib_functions(args.stdlib_snippets),
    }
    measurements = []
    for name, snippets in corpora.items():
        sample = snippets[:: args.sample_every]
        sample_name = f"{name}, every {args.sample_every}th"
        for measurement in (
            measure_ours(name, snippets, settings, workers),
            measure_ours(name, snippets, settings, 1),
            measure_ours(sample_name, sample, settings, 1),
            measure_straightforward(sample_name, sample, settings),
        ):
            print(measurement.row(), flush=True)
            measurements.append(measurement)
    machine["load average at end (1/5/15 min)"] = " / ".join(f"{load:.2f}" for load in os.getloadavg())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(_report(measurements, machine, settings))
    print(f"wrote {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
