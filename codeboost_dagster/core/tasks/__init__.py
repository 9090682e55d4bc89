"""The task domain and its reward (METHOD.md sections 5 and 6): what the policy is asked and how an
answer is scored. Construction and reward call each other's pieces, so they live together:

- `construction`: forward and backward tasks from execution records, each certified in the sandbox;
- `canonical`: the program that runs is the program shown (docstrings and comments removed);
- `masking`: which lines a backward task may mask; `probes`: the hidden perturbed runs;
- `exploit_audit`: the trivial answers every task must defeat;
- `prompts`: the prompt texts and answer blocks; `answers`: reading the blocks back;
- `reward_score`: the rule-based score; `backward`: re-running a completed program for it.

It imports no Dagster and no training code; verl's reward entry point
(`codeboost_dagster.verl.reward`) imports it in Ray workers.
"""

from codeboost_dagster.core.tasks.construction import TaskBuild, build_tasks, certificate_variations, split_of

__all__ = ["TaskBuild", "build_tasks", "certificate_variations", "split_of"]
