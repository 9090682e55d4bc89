"""Build the bundled sample dump from the doctests of the `algorithms` PyPI package.

No third-party code is committed: the sample is made at setup time from the installed package,
as a JSONL file in the public CodeBoost release's row format (`code_str`, `test_cases_str`) plus
`expected_stdout` and `origin`. Run: `python -m codeboost_dagster.core.sample_dump OUT.jsonl`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from codeboost_dagster.core.readers.doctest_programs import read_package_doctests
from codeboost_dagster.core.settings import IngestionSettings

SAMPLE_PACKAGE = "algorithms"


def write_sample_dump(out: Path, package: str = SAMPLE_PACKAGE) -> int:
    """Write the runnable doctest programs of `package` to `out` (JSONL); returns the row count."""
    rows = [row for row in read_package_doctests("sample", package, IngestionSettings()) if row.read_error is None]
    out.parent.mkdir(parents=True, exist_ok=True)
    temporary = out.with_suffix(out.suffix + ".partial")
    with temporary.open("w", encoding="utf-8") as handle:
        for row in rows:
            record = {
                "origin": row.origin,
                "code_str": row.code,
                "test_cases_str": row.test_cases,
                "expected_stdout": row.expected_stdout,
            }
            handle.write(json.dumps(record, ensure_ascii=False) + "\n")
    temporary.replace(out)
    return len(rows)


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="JSONL file to write (e.g. data/dumps/sample.jsonl)")
    parser.add_argument("--package", default=SAMPLE_PACKAGE)
    args = parser.parse_args()
    print(f"wrote {write_sample_dump(args.out, args.package)} programs to {args.out}")


if __name__ == "__main__":
    main()
