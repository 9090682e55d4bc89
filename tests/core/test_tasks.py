"""Task construction from real execution records: every check runs in the real local sandbox."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from codeboost_dagster.core.sandbox import Program, open_sandbox
from codeboost_dagster.core.schemas import EXECUTION_RECORDS
from codeboost_dagster.core.settings import TaskSettings
from codeboost_dagster.core.tasks import build_tasks, certificate_variations, split_of
from codeboost_dagster.core.tasks.answers import last_block
from codeboost_dagster.core.tasks.masking import maskable_lines
from codeboost_dagster.core.tasks.probes import perturbations
from tests.task_records import LIMITS, certified_tasks, certified_tasks_varied, execution_records, programs


@pytest.fixture(scope="module")
def sandbox():
    with open_sandbox("forkserver", LIMITS, concurrency=2) as opened:
        yield opened


def test_every_record_gives_a_task_or_a_reason(sandbox):
    records = execution_records(sandbox, [*programs(6), "import time\ntime.sleep(5)\n", "raise RuntimeError('no')\n"])
    build = certified_tasks(sandbox, records)
    assert len(build.tasks) + len(build.dropped) == len(records)
    reasons = dict(zip(build.dropped["program_id"], build.dropped["reason"]))
    assert sorted(reasons.values()).count("status_timeout") == 1
    assert "error_type_not_allowed" in reasons.values()
    details = dict(zip(build.dropped["reason"], build.dropped["detail"]))
    assert details["status_timeout"] == f"stopped at its {LIMITS.wall_time_s:g} s wall limit"


def test_a_nondeterministic_program_is_dropped(sandbox):
    records = execution_records(
        sandbox, ["print(object())\n", "import os\nprint(os.urandom(8).hex())\n", "print(1 + 1)\n"]
    )
    build = certified_tasks(sandbox, records, forward_fraction=1.0)
    reasons = dict(zip(build.dropped["variant_id"], build.dropped["reason"]))
    assert reasons == {"v0": "nondeterministic", "v1": "nondeterministic"}
    assert build.tasks["variant_id"].tolist() == ["v2"]


def test_output_in_hash_order_is_dropped_as_hash_seed_dependent(sandbox):
    """The certificate's run on servers with another hash seed: a set of strings prints in hash
    order, which a fresh `python3` changes on every run, so it is no task; sorted, it is."""
    codes = [
        "print({'alpha', 'beta', 'gamma', 'delta', 'epsilon'})\n",
        "print(sorted({'alpha', 'beta', 'gamma', 'delta', 'epsilon'}))\n",
        "print(len({'alpha', 'beta'}), hash(7))\n",
    ]
    records = execution_records(sandbox, codes)
    settings = TaskSettings(forward_fraction=1.0)
    build = certified_tasks_varied(sandbox, records, settings)
    assert dict(zip(build.dropped["variant_id"], build.dropped["reason"])) == {"v0": "hash_seed_dependent"}
    assert build.tasks["variant_id"].tolist() == ["v1", "v2"]


def test_output_that_depends_on_the_date_is_dropped_as_clock_dependent(sandbox):
    """The certificate's run on servers whose clock is years ahead: this year's calendar or today's
    weekday would disagree with a reward re-run on a later day; a program that only sleeps is kept."""
    codes = [
        "import calendar, datetime\nprint(calendar.month(datetime.date.today().year, 2))\n",
        "import time\nprint(time.strftime('%A'))\n",
        "import time\ntime.sleep(0.02)\nprint(sorted({'beta', 'alpha'}))\n",
        "import datetime\nprint(datetime.date(2024, 2, 29) + datetime.timedelta(days=366))\n",
    ]
    records = execution_records(sandbox, codes)
    settings = TaskSettings(forward_fraction=1.0, certificate_hash_seed=0)
    assert list(certificate_variations(settings)) == ["determinism, clock years ahead"], "make faketime"
    build = certified_tasks_varied(sandbox, records, settings)
    reasons = dict(zip(build.dropped["variant_id"], build.dropped["reason"]))
    assert reasons == {"v0": "clock_dependent", "v1": "clock_dependent"}
    assert build.tasks["variant_id"].tolist() == ["v2", "v3"]


def test_hygiene_empty_outputs_and_duplicate_runs(sandbox):
    records = execution_records(sandbox, ["x = 1\n", "print(7)\n", "print(7)\n"])
    records.loc[2, "snippet_id"] = records.loc[1, "snippet_id"]  # a second variant of one snippet, same output
    build = certified_tasks(sandbox, records, forward_fraction=1.0)
    assert dict(zip(build.dropped["variant_id"], build.dropped["reason"])) == {
        "v0": "empty_output",
        "v2": "duplicate_outputs",
    }


def test_a_call_that_hands_back_its_literal_argument_is_dropped_as_exploitable(sandbox):
    """Copying the call's argument is right when the function returns its input unchanged for it; the
    argument of `print` itself is the output, so printing a literal stays a task."""
    sort = "def arrange(values):\n    return sorted(values)\n\nprint(arrange({}))\n"
    records = execution_records(sandbox, [sort.format("[1, 2, 3]"), sort.format("[3, 1, 2]"), "print('hello')\n"])
    build = certified_tasks(sandbox, records, forward_fraction=1.0)
    dropped = build.dropped.set_index("variant_id")
    assert dropped["reason"].to_dict() == {"v0": "exploitable"}
    assert dropped.loc["v0", "detail"] == "passed by stub(s): forward:argument_echo"
    echo = build.audit[build.audit["stub"] == "forward:argument_echo"].set_index("program_id")
    assert echo["answer"].tolist() == ["[1, 2, 3]\n", "[3, 1, 2]\n"]
    assert echo["passed"].tolist() == [True, False]
    assert sorted(build.tasks["variant_id"]) == ["v1", "v2"]


def test_backward_tasks_mask_load_bearing_lines_with_probes(sandbox):
    records = execution_records(sandbox, programs(40))
    build = certified_tasks(sandbox, records, forward_fraction=0.0)
    backward = build.tasks[build.tasks["task_type"] == "backward"]
    assert len(backward) >= 20
    noops, expected = [], []
    for task in backward.itertuples():
        truth = json.loads(task.ground_truth)
        lines = truth["masked_code"].split("\n")
        assert lines[task.masked_line_index] == "MASKED_LINE_0"
        assert task.masked_line.strip() not in task.prompt
        assert "if __name__" not in task.masked_line and task.masked_line.strip() != "pass"
        assert 1 <= len(truth["probes"]) <= 2 and truth["status"] in ("ok", "error")
        assert TaskSettings().check_wall_min_s <= truth["rerun_wall_time_s"] <= LIMITS.wall_time_s
        for probe in truth["probes"]:
            assert probe["masked_code"].split("\n")[task.masked_line_index] == "MASKED_LINE_0"
            assert (probe["stdout"], probe["stderr"]) != (truth["stdout"], truth["stderr"])
        noop = lines.copy()
        noop[task.masked_line_index] = (
            task.masked_line[: len(task.masked_line) - len(task.masked_line.lstrip())] + "pass"
        )
        noops.append("\n".join(noop))
        expected.append((truth["stdout"], truth["stderr"]))
    results = sandbox.run_many([Program(code) for code in noops])
    assert all((result.stdout, result.stderr) != outputs for result, outputs in zip(results, expected))
    assert set(build.audit["stub"]) >= {"noop", "prompt_example", "print_and_exit"}
    assert not build.audit[build.audit["task_id"].isin(build.tasks["task_id"])]["passed"].any()


def test_prompts_state_the_run_context_and_answer_format(sandbox):
    build = certified_tasks(sandbox, execution_records(sandbox, programs(12)))
    forward = build.tasks[build.tasks["task_type"] == "forward"].iloc[0]
    assert "Python: " in forward["prompt"] and "/sandbox/main.py" in forward["prompt"]
    assert last_block(forward["prompt"], "answer_stderr") is not None
    assert build.tasks.groupby("snippet_id")["split"].nunique().max() == 1


def test_builds_are_deterministic(sandbox):
    records = execution_records(sandbox, programs(10))
    first, again = certified_tasks(sandbox, records), certified_tasks(sandbox, records)
    assert first.tasks.equals(again.tasks) and first.dropped.equals(again.dropped)
    shares = pd.Series([split_of(f"snippet{i}", TaskSettings()) for i in range(4000)]).value_counts(normalize=True)
    assert abs(shares["train"] - 0.9) < 0.03 and abs(shares["test"] - 0.05) < 0.02


def test_records_with_a_frame_of_the_schema_columns_only():
    frame = pd.DataFrame(columns=EXECUTION_RECORDS.names)
    build = build_tasks(frame, TaskSettings(), LIMITS, lambda programs, _: [])
    assert build.tasks.empty and build.dropped.empty


statement = st.one_of(
    st.integers(0, 99).map(lambda n: f"x = {n}"),
    st.integers(0, 9).map(lambda n: f"print(x + {n})"),
    st.just("if x:\n    y = 1"),
    st.just("pass"),
    st.just("z = (1 +\n     2)"),
)


@settings(max_examples=200, deadline=None)
@given(st.lists(statement, min_size=1, max_size=12))
def test_maskable_lines_are_whole_simple_statements(statements):
    code = (
        "from __future__ import annotations\nx = 0\n"
        + "\n".join(statements)
        + '\nif __name__ == "__main__":\n    __result__ = f(1)\n    print(__result__)\n'
    )
    lines = code.split("\n")
    for index in maskable_lines(code):
        line = lines[index].strip()
        assert line and not line.startswith(("from __future__", "if ", "pass", "__result__", "print(__result__)"))
        assert line.count("(") == line.count(")")
        compile(
            "\n".join(
                [
                    *lines[:index],
                    lines[index][: len(lines[index]) - len(lines[index].lstrip())] + "pass",
                    *lines[index + 1 :],
                ]
            ),
            "<probe>",
            "exec",
        )


@settings(max_examples=200, deadline=None)
@given(st.lists(statement, min_size=2, max_size=12), st.integers(0, 2**32), st.text("ab1 \n", max_size=8))
def test_probes_never_touch_the_masked_line_or_the_layout(statements, seed, stdin):
    import random

    code = "\n".join(statements) + "\n"
    masked = maskable_lines(code)
    if not masked:
        return
    index = masked[0]
    for probe in perturbations(code, index, stdin, random.Random(seed), 6, 2):
        assert probe.code.split("\n")[index] == code.split("\n")[index]
        assert probe.code.count("\n") == code.count("\n")
        assert (probe.code, probe.stdin) != (code, stdin)
        compile(probe.code, "<probe>", "exec")


def test_runtime_packages_imports_outside_it_and_interpreter_state(sandbox):
    """A numpy program is a task whose prompt names numpy's version (never the whole runtime) and
    whose ground truth names the runtime; an import the runtime lacks, and a read of state a warm
    server shares with its forks, are dropped with their reasons; a numpy random draw is not
    deterministic once the warm fork reseeds it."""
    codes = [
        "import numpy as np\nprint(np.arange(6).reshape(2, 3).T.tolist())\n",
        "import requests\nprint(requests.get)\n",
        "import sys, numpy\nprint('scipy' in sys.modules)\n",
        "import numpy as np\nprint(np.random.rand())\n",
    ]
    records = execution_records(sandbox, codes)
    runtime = sandbox.runtime
    assert records["runtime"].tolist() == [runtime.identity] * 4
    assert records["packages"].tolist()[:2] == [f"numpy {runtime.modules['numpy'][1]}", ""]
    build = certified_tasks(sandbox, records, forward_fraction=1.0)
    reasons = dict(zip(build.dropped["variant_id"], build.dropped["reason"]))
    details = dict(zip(build.dropped["variant_id"], build.dropped["detail"]))
    assert reasons == {"v1": "module_not_in_runtime", "v2": "reads_interpreter_state", "v3": "nondeterministic"}
    assert details["v1"] == f"ModuleNotFoundError: No module named 'requests' (runtime: {runtime.identity})"
    (task,) = build.tasks.itertuples()
    assert f"Python: {runtime.python_version} with numpy {runtime.modules['numpy'][1]}\n" in task.prompt
    assert "pandas" not in task.prompt
