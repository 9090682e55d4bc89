"""Greedy generation batched in order of length gives each prompt the answer it gets alone, and
stops an answer once its blocks are closed."""

from __future__ import annotations

import pytest

from codeboost_dagster.core.training.generation import answer_complete, generate_greedy, resolved_dtype


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


def test_an_answer_is_complete_once_every_block_it_holds_closes_on_a_finished_line():
    tags = ("answer_stdout", "answer_stderr")
    answer = "```answer_stdout\n3\n```\n```answer_stderr\n```"
    assert not answer_complete(answer, tags)  # the closing fence could still grow into "```python"
    assert answer_complete(answer + "\n", tags)
    assert not answer_complete("```answer_stdout\n3\n```\n", tags)
    assert answer_complete("```answer_stdout\n3\n```\n", tags[:1])
    assert not answer_complete("anything\n", ())


def test_generation_stops_an_answered_prompt_and_leaves_the_others_unchanged(tiny_model):
    prompts = ["short", "a much longer prompt " * 12, "medium length prompt here"]
    answered = "```answer_stdout\n3\n```\n```answer_stderr\n```\n"
    openings = [answered, "```answer_stdout\n", answered]
    tags = [("answer_stdout", "answer_stderr")] * 3
    free = generate_greedy(tiny_model, prompts, 8, 3, openings=openings)
    stopped = generate_greedy(tiny_model, prompts, 8, 3, openings=openings, answer_tags=tags)
    assert stopped[1] == free[1]  # never closes its blocks: the whole budget, token for token
    assert all(stopped[index] == free[index][: len(stopped[index])] for index in (0, 2))
    assert all(len(stopped[index]) < len(free[index]) for index in (0, 2))
