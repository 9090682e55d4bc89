"""Greedy generation with transformers, batched, through the model's chat template (as in training).

Prompts are batched in order of length (little padding) and answered in their own order; the
answers are the same as one prompt at a time in its own order (BENCHMARKS.md, evaluation time).
With `answer_tags`, a prompt's generation stops once every block its answer holds is closed (the
answer the reward reads is written; greedy decoding up to there is unchanged), and a batch ends
when all of its prompts have stopped or reached the token budget.
`dtype` "auto" is bfloat16 on a GPU and float32 on a CPU; "bfloat16" on a CPU with AMX units is
3.3x faster there but changes about half of the greedy answers (near-ties of the argmax flip), so
it is a choice, not the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.training.verl_dataset import chat_messages

DTYPES = ("auto", "bfloat16", "float32")


def policy_input(tokenizer: Any, prompt: str, opening: str = "") -> str:
    """The text the policy continues: the prompt as one user turn through the chat template, the
    generation prompt, then `opening` (the start of the assistant's answer; empty: none)."""
    return tokenizer.apply_chat_template(chat_messages(prompt), add_generation_prompt=True, tokenize=False) + opening


def resolved_dtype(dtype: str, device: str) -> str:
    """The dtype "auto" stands for on `device`: bfloat16 on a GPU, float32 on a CPU."""
    if dtype not in DTYPES:
        raise ValueError(f"unknown dtype {dtype!r}; known: {DTYPES}")
    if dtype != "auto":
        return dtype
    return "bfloat16" if device == "cuda" else "float32"


def answer_complete(text: str, tags: Sequence[str]) -> bool:
    """Every block tagged in `tags` closed on a finished line (a fence the next token could still
    extend does not count)."""
    finished_lines = text[: text.rfind("\n") + 1]
    return bool(tags) and all(last_block(finished_lines, tag) is not None for tag in tags)


def stop_when_answered(tokenizer: Any, prompt_tokens: int, openings: Sequence[str], tags: Sequence[Sequence[str]]):
    """A transformers stopping criterion: per sequence of a batch, whether its answer (its opening,
    then what was generated after the `prompt_tokens` of the padded input) is complete."""
    import torch
    from transformers import StoppingCriteria

    class AnswerComplete(StoppingCriteria):
        def __call__(self, input_ids, scores, **kwargs):
            texts = tokenizer.batch_decode(input_ids[:, prompt_tokens:], skip_special_tokens=True)
            done = [answer_complete(opening + text, needed) for opening, text, needed in zip(openings, texts, tags)]
            return torch.tensor(done, dtype=torch.bool, device=input_ids.device)

    return AnswerComplete()


def generate_greedy(
    model_location: str,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
    openings: Sequence[str] | None = None,
    dtype: str = "auto",
    answer_tags: Sequence[Sequence[str]] | None = None,
) -> list[str]:
    """The model's greedy answer to every prompt (one user turn each), in order; CPU or one GPU.
    With `openings`, each answer starts with its opening (written for the model, then continued);
    with `answer_tags`, each stops once the blocks of those tags are closed."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, StoppingCriteriaList

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_location, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    torch_dtype = getattr(torch, resolved_dtype(dtype, device))
    model = AutoModelForCausalLM.from_pretrained(model_location, dtype=torch_dtype).to(device).eval()
    openings = list(openings) if openings is not None else [""] * len(prompts)
    texts = [policy_input(tokenizer, prompt, opening) for prompt, opening in zip(prompts, openings)]
    lengths = [len(ids) for ids in tokenizer(texts, add_special_tokens=False)["input_ids"]]
    order = sorted(range(len(texts)), key=lambda index: (lengths[index], index))
    answers: dict[int, str] = {}
    for start in range(0, len(order), batch_size):
        chunk = order[start : start + batch_size]
        batch = tokenizer(
            [texts[index] for index in chunk], return_tensors="pt", padding=True, add_special_tokens=False
        ).to(device)
        stopping = (
            StoppingCriteriaList(
                [
                    stop_when_answered(
                        tokenizer,
                        batch["input_ids"].shape[1],
                        [openings[index] for index in chunk],
                        [answer_tags[index] for index in chunk],
                    )
                ]
            )
            if answer_tags is not None
            else None
        )
        with torch.inference_mode():
            output = model.generate(
                **batch,
                do_sample=False,
                max_new_tokens=max_new_tokens,
                pad_token_id=tokenizer.pad_token_id,
                stopping_criteria=stopping,
            )
        decoded = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
        answers.update((index, openings[index] + text) for index, text in zip(chunk, decoded))
        if progress is not None:
            progress(len(answers), len(prompts))
    return [answers[index] for index in range(len(prompts))]
