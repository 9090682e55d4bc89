"""Prompt text of the forward and backward tasks (METHOD.md section 5).

Both prompts state the full run context (file path, working directory, Python version and the
runtime packages the program imports, with their versions, command, standard input) and end with
a short example of the answer blocks: small models write the format only when shown it, and GRPO
learns nothing when every reward is 0.
"""

from __future__ import annotations

from dataclasses import dataclass

from codeboost_dagster.core.tasks.answers import fence_for, last_block

STDOUT_TAG = "answer_stdout"
STDERR_TAG = "answer_stderr"


@dataclass(frozen=True)
class RunContext:
    """How the program was run; identical for the ground-truth run and any re-run."""

    program_path: str
    working_dir: str
    python_version: str
    command: str
    stdin: str
    packages: str = ""
    """The runtime packages the program imports, 'numpy 2.4.6, pandas 3.1.1' (never the whole set)."""


def fenced_block(tag: str, text: str) -> str:
    """`text` in a fenced block tagged `tag`, with a fence longer than any backtick run inside it."""
    fence = fence_for(text)
    body = text if not text or text.endswith("\n") else text + "\n"
    return f"{fence}{tag}\n{body}{fence}"


def _context_text(context: RunContext) -> str:
    stdin = fenced_block("stdin", context.stdin) if context.stdin else "(empty)"
    return (
        f"File: {context.program_path}\n"
        f"Working directory: {context.working_dir}\n"
        f"Python: {context.python_version}{f' with {context.packages}' if context.packages else ''}\n"
        f"Command: {context.command}\n"
        f"Standard input: {stdin}"
    )


FORWARD_EXAMPLE_STDOUT = "3\n"
FORWARD_EXAMPLE_STDERR = (
    'Traceback (most recent call last):\n  File "/sandbox/main.py", line 2, in <module>\n'
    "    print(1 / 0)\n          ~~^~~\nZeroDivisionError: division by zero\n"
)
FORWARD_EXAMPLE = (
    fenced_block(STDOUT_TAG, FORWARD_EXAMPLE_STDOUT) + "\n" + fenced_block(STDERR_TAG, FORWARD_EXAMPLE_STDERR)
)


def forward_prompt(code: str, context: RunContext) -> str:
    """Ask for the exact stdout and stderr of running `code` in `context`."""
    return (
        "Predict the exact output of running this Python program.\n\n"
        f"{_context_text(context)}\n\n{fenced_block('python', code)}\n\n"
        f"Answer with two fenced blocks, `{STDOUT_TAG}` and `{STDERR_TAG}`, holding exactly what the "
        "program writes to standard output and to standard error. Write both blocks even when one is "
        "empty. For example, a program that prints 3 and then divides by zero on line 2 is answered:\n"
        f"{FORWARD_EXAMPLE}\n"
    )


def shown_program(prompt: str) -> str:
    """The program a forward prompt shows ("" when it shows none)."""
    return last_block(prompt, "python") or ""


BACKWARD_EXAMPLE_LINE = "    total = total + value\n"
"""The example answer line every backward prompt shows (the exploit audit tries it as an answer)."""


def backward_prompt(masked_code: str, mask_token: str, stdout: str, stderr: str, context: RunContext) -> str:
    """Ask for the masked line, given what the completed program printed."""
    answer_tag = f"answer_{mask_token}"
    example = fenced_block(answer_tag, BACKWARD_EXAMPLE_LINE)
    return (
        f"One line of this Python program was replaced by `{mask_token}`. Running the original "
        "program produced the output shown below.\n\n"
        f"{_context_text(context)}\n\n{fenced_block('python', masked_code)}\n\n"
        f"Standard output:\n{fenced_block('stdout', stdout)}\n\nStandard error:\n{fenced_block('stderr', stderr)}\n\n"
        f"Write the missing line, with its indentation, in a fenced block tagged `{answer_tag}`. "
        f"For example:\n{example}\n"
    )


def reference_completion(ground_truth: dict, reference_answer: str | None = None) -> str:
    """The answer a perfect policy writes: the recorded outputs (forward) or the masked line
    (backward); used to check that a reward setup gives the maximum score end to end."""
    if ground_truth["task_type"] == "forward":
        return (
            fenced_block(STDOUT_TAG, ground_truth["stdout"]) + "\n" + fenced_block(STDERR_TAG, ground_truth["stderr"])
        )
    return fenced_block(answer_tags(ground_truth)[0], (reference_answer or "") + "\n")


def answer_tags(ground_truth: dict) -> tuple[str, ...]:
    """The tags of the blocks a task's answer holds (forward: stdout and stderr; backward: the mask's)."""
    if ground_truth["task_type"] == "forward":
        return (STDOUT_TAG, STDERR_TAG)
    return (f"answer_{ground_truth['mask_token']}",)


def answer_opening(ground_truth: dict) -> str:
    """The first line of a task's answer: the fence and tag of its first block (`answer_stdout`,
    or the masked line's tag). Written ahead of the model's turn when answers are opened for a
    small model (`LocalTrainingSettings.open_answers`); it shows the format, never the answer."""
    return opening_line(answer_tags(ground_truth)[0])


def opening_line(tag: str) -> str:
    """The opening fence line of a block tagged `tag`."""
    return f"```{tag}\n"
