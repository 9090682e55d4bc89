"""Greedy generation batched in order of length gives each prompt the answer it gets alone."""

from __future__ import annotations

import pytest

from codeboost_dagster.core.training.generation import generate_greedy, resolved_dtype


def test_batches_in_order_of_length_answer_every_prompt_as_alone_and_in_order(tiny_model):
    prompts = ["short", "a much longer prompt " * 12, "medium length prompt here", "x" * 90, "tiny"]
    openings = ["```answer_stdout\n", "", "```answer_MASKED_LINE_0\n", "", ""]
    seen = []
    batched = generate_greedy(tiny_model, prompts, 6, 3, lambda done, total: seen.append((done, total)), openings)
    alone = [
        generate_greedy(tiny_model, [prompt], 6, 1, openings=[opening])[0] for prompt, opening in zip(prompts, openings)
    ]
    assert batched == alone
    assert all(answer.startswith(opening) for answer, opening in zip(batched, openings))
    assert seen == [(3, 5), (5, 5)]


def test_auto_dtype_is_bfloat16_only_on_a_gpu():
    assert resolved_dtype("auto", "cpu") == "float32" and resolved_dtype("auto", "cuda") == "bfloat16"
    assert resolved_dtype("bfloat16", "cpu") == "bfloat16"
    with pytest.raises(ValueError, match="unknown dtype"):
        resolved_dtype("float16", "cpu")
