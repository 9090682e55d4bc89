"""Greedy generation with transformers, batched, through the model's chat template (as in training)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from codeboost_dagster.core.verl_dataset import chat_messages


def policy_input(tokenizer: Any, prompt: str, opening: str = "") -> str:
    """The text the policy continues: the prompt as one user turn through the chat template, the
    generation prompt, then `opening` (the start of the assistant's answer; empty: none)."""
    return tokenizer.apply_chat_template(chat_messages(prompt), add_generation_prompt=True, tokenize=False) + opening


def generate_greedy(
    model_location: str,
    prompts: Sequence[str],
    max_new_tokens: int,
    batch_size: int,
    progress: Callable[[int, int], None] | None = None,
    openings: Sequence[str] | None = None,
) -> list[str]:
    """The model's greedy answer to every prompt (one user turn each), in order; CPU or one GPU.
    With `openings`, each answer starts with its opening (written for the model, then continued)."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tokenizer = AutoTokenizer.from_pretrained(model_location, padding_side="left")
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    model = (
        AutoModelForCausalLM.from_pretrained(
            model_location, dtype=torch.bfloat16 if device == "cuda" else torch.float32
        )
        .to(device)
        .eval()
    )
    openings = list(openings) if openings is not None else [""] * len(prompts)
    answers: list[str] = []
    for start in range(0, len(prompts), batch_size):
        chunk = range(start, min(start + batch_size, len(prompts)))
        texts = [policy_input(tokenizer, prompts[index], openings[index]) for index in chunk]
        batch = tokenizer(texts, return_tensors="pt", padding=True, add_special_tokens=False).to(device)
        with torch.no_grad():
            output = model.generate(
                **batch, do_sample=False, max_new_tokens=max_new_tokens, pad_token_id=tokenizer.pad_token_id
            )
        new_tokens = output[:, batch["input_ids"].shape[1] :]
        decoded = tokenizer.batch_decode(new_tokens, skip_special_tokens=True)
        answers.extend(openings[index] + text for index, text in zip(chunk, decoded))
        if progress is not None:
            progress(len(answers), len(prompts))
    return answers
