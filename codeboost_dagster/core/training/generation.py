"""Greedy generation with transformers, batched, through the model's chat template (as in training).

Prompts are batched in order of length (little padding) and answered in their own order; the
answers are the same as one prompt at a time in its own order (BENCHMARKS.md, evaluation time).
`dtype` "auto" is bfloat16 on a GPU and float32 on a CPU; "bfloat16" on a CPU with AMX units is
3.3x faster there but changes about half of the greedy answers (near-ties of the argmax flip), so
it is a choice, not the default.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

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


def generate_greedy(
    model_location: str,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
    openings: Sequence[str] | None = None,
    dtype: str = "auto",
) -> list[str]:
    """The model's greedy answer to every prompt (one user turn each), in order; CPU or one GPU.
    With `openings`, each answer starts with its opening (written for the model, then continued)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

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
        with torch.inference_mode():
            output = model.generate(
                **batch, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id
            )
        decoded = tokenizer.batch_decode(output[:, batch["input_ids"].shape[1] :], skip_special_tokens=True)
        answers.update((index, openings[index] + text) for index, text in zip(chunk, decoded))
        if progress is not None:
            progress(len(answers), len(prompts))
    return [answers[index] for index in range(len(prompts))]
