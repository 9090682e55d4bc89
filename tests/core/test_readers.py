"""Readers over every dump format and every kind of bad input, called directly."""

from __future__ import annotations

import ast
import json

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from codeboost_dagster.core.readers import DumpNotFound, read_dump
from codeboost_dagster.core.readers.doctest_programs import (
    absolute_imports,
    program_from_module,
    read_package_doctests,
)
from codeboost_dagster.core.sandbox.runtime import built_runtime_site_packages
from codeboost_dagster.core.settings import IngestionSettings
from tests.helpers import GOOD_PROGRAM, write_messy_dump

SETTINGS = IngestionSettings()


def test_messy_folder_dump_gives_one_row_per_unit_with_reasons(tmp_path):
    expected = write_messy_dump(tmp_path / "messy")
    rows = {row.origin: row for row in read_dump(tmp_path / "messy", "messy", SETTINGS)}
    assert set(rows) == set(expected)
    for origin, outcome in expected.items():
        if outcome in {"kept", "exact_duplicate", "too_short", "syntax_error", "empty_code"}:
            assert rows[origin].read_error is None, origin
        else:
            assert rows[origin].read_error == outcome, origin
    assert "huge.py" in rows["huge.py"].read_error_detail
    assert rows["huge.py"].code == ""


def test_release_format_rows_are_normalised(tmp_path):
    path = tmp_path / "release.jsonl"
    rows = [
        {"code_str": "a = input()\nprint(a)", "test_cases_str": json.dumps([{"input": "x\n"}])},
        {
            "code_str": "def f(a, b):\n    return a + b",
            "test_cases_str": json.dumps([{"input": [1, 2], "func_name": "f"}]),
        },
        {"code_str": "def g(a):\n    return a", "test_cases_str": json.dumps([{"input": {"a": 1}, "func_name": "g"}])},
        {"code_str": "print(1)", "test_cases_str": "[]"},
    ]
    path.write_text("\n".join(json.dumps(row) for row in rows))
    read = list(read_dump(path, "release.jsonl", SETTINGS))
    cases = [json.loads(row.test_cases) for row in read]
    assert cases[0] == [{"kind": "stdin", "stdin": "x\n"}]
    assert cases[1] == [{"kind": "call", "func_name": "f", "args": [1, 2], "kwargs": {}}]
    assert cases[2] == [{"kind": "call", "func_name": "g", "args": [], "kwargs": {"a": 1}}]
    assert cases[3] == []
    assert [row.origin for row in read] == [f"release.jsonl:row={i}" for i in range(4)]


def test_parquet_and_csv_rows(tmp_path):
    frame = pd.DataFrame({"code": [GOOD_PROGRAM, GOOD_PROGRAM + "\n# b"], "path": ["a.py", "b.py"]})
    pq.write_table(pa.Table.from_pandas(frame), tmp_path / "rows.parquet")
    frame.to_csv(tmp_path / "rows.csv", index=False)
    parquet_rows = list(read_dump(tmp_path / "rows.parquet", "p", SETTINGS))
    csv_rows = list(read_dump(tmp_path / "rows.csv", "c", SETTINGS))
    assert [row.code for row in parquet_rows] == [row.code for row in csv_rows] == list(frame["code"])
    assert parquet_rows[1].origin == "rows.parquet:row=1:path=b.py"
    assert parquet_rows[0].snippet_id == csv_rows[0].snippet_id


def test_ids_are_content_hashes_independent_of_origin(tmp_path):
    (tmp_path / "a.py").write_text(GOOD_PROGRAM)
    (tmp_path / "b.py").write_text(GOOD_PROGRAM)
    first, second = read_dump(tmp_path, "d", SETTINGS)
    assert first.snippet_id == second.snippet_id
    assert first.origin != second.origin


def test_missing_dump_is_a_clear_error(tmp_path):
    with pytest.raises(DumpNotFound, match="does not exist"):
        list(read_dump(tmp_path / "nope", "nope", SETTINGS))


def test_unparseable_tabular_file_is_recorded_not_raised(tmp_path):
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 not really parquet")
    (tmp_path / "empty.jsonl").write_text("")
    rows = {row.origin: row.read_error for row in read_dump(tmp_path, "d", SETTINGS)}
    assert rows == {"broken.parquet:after_row=0": "unreadable_file", "empty.jsonl": "empty_file"}


def test_doctest_session_becomes_program_with_expected_output():
    source = '''
def double(x):
    """Double a number.

    >>> double(2)
    4
    >>> items = [double(1), double(3)]
    >>> print(items)
    [2, 6]
    >>> double(None)
    Traceback (most recent call last):
    TypeError: unsupported
    """
    return x * 2

if __name__ == "__main__":
    import doctest
    doctest.testmod()
'''
    program = program_from_module(source)
    assert program is not None and program.examples == 3
    assert "doctest.testmod" not in program.code
    assert program.code.rstrip().endswith("    print(items)")
    assert "    print(repr(double(2)))" in program.code
    assert program.expected_stdout == "4\n[2, 6]\n"
    compile(program.code, "<doctest program>", "exec")


def test_sample_package_mines_hundreds_of_programs():
    rows = list(read_package_doctests("sample", "algorithms", SETTINGS))
    runnable = [row for row in rows if row.read_error is None]
    assert len(runnable) >= 200
    assert {row.read_error for row in rows} <= {None, "imports_own_package"}
    assert all(row.origin.startswith("algorithms/") for row in rows)


def test_doctest_spec_file_names_packages(tmp_path):
    (tmp_path / "pkgs.doctests").write_text("# packages\nalgorithms\nno_such_package_xyz\n")
    rows = list(read_dump(tmp_path / "pkgs.doctests", "pkgs.doctests", SETTINGS))
    assert rows[-1].read_error == "package_not_found"
    assert sum(row.read_error is None for row in rows) >= 200


def test_relative_imports_become_absolute_in_place():
    source = "import os\nfrom . import sibling\nfrom ..base import (\n    Node,\n    Edge,\n)\nx = 1  # after\n"
    rewritten = absolute_imports(source, ast.parse(source), "pkg.sub")
    assert rewritten.split("\n") == [
        "import os",
        "from pkg.sub import sibling",
        "from pkg.base import Node, Edge",
        "",
        "",
        "",
        "x = 1  # after",
        "",
    ]


def test_a_runtime_package_keeps_modules_that_import_their_own_package():
    """networkx is in the sandbox runtime: its modules are read from the runtime's copy, relative
    imports made absolute, and none is refused; the rest of the package comes from the runtime."""
    assert built_runtime_site_packages() is not None, "build the runtime: make setup"
    rows = list(read_package_doctests("real", "networkx", SETTINGS))
    assert len(rows) >= 150 and {row.read_error for row in rows} == {None}
    assert not any(line.lstrip().startswith("from .") for row in rows for line in row.code.splitlines())
    assert sum("import networkx" in row.code or "from networkx" in row.code for row in rows) >= 100
