"""Read a code dump (a file or a folder of files) into raw snippet rows.

Formats, chosen by file suffix: `.py` source files (one snippet each, run without input);
`.jsonl` / `.parquet` / `.csv` rows with a code column and optional test cases; `.doctests`
files naming installed packages (one name per line) whose doctests become programs. Every file
yields at least one row; a file that cannot be read yields a row that says why.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from codeboost_dagster.core.readers.doctest_programs import read_package_doctests
from codeboost_dagster.core.readers.records import RawSnippet, unreadable
from codeboost_dagster.core.readers.source_tree import read_source_file
from codeboost_dagster.core.readers.tabular import TABULAR_SUFFIXES, read_tabular_file
from codeboost_dagster.core.readers.text_files import read_source_text
from codeboost_dagster.core.settings import IngestionSettings

DOCTEST_SPEC_SUFFIX = ".doctests"

__all__ = ["DumpNotFound", "RawSnippet", "read_dump"]


class DumpNotFound(FileNotFoundError):
    """The dump path named by a partition does not exist."""


def _read_doctest_spec(dump: str, path: Path, relative: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    text = read_source_text(path, settings.max_code_bytes)
    if text.text is None:
        yield unreadable(dump, relative, text.reason or "unreadable_file", text.detail or relative)
        return
    packages = [line.strip() for line in text.text.splitlines() if line.strip() and not line.startswith("#")]
    for package in packages:
        try:
            yield from read_package_doctests(dump, package, settings)
        except ValueError as error:
            yield unreadable(dump, f"{relative}:{package}", "package_not_found", str(error))


def _read_file(dump: str, path: Path, relative: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    suffix = path.suffix.lower()
    if path.is_symlink():
        yield unreadable(dump, relative, "symlink_not_followed", f"{relative} is a symbolic link")
    elif suffix in settings.source_suffixes:
        yield read_source_file(dump, path, relative, settings)
    elif suffix in TABULAR_SUFFIXES:
        yield from read_tabular_file(dump, path, relative, settings)
    elif suffix == DOCTEST_SPEC_SUFFIX:
        yield from _read_doctest_spec(dump, path, relative, settings)
    else:
        yield unreadable(
            dump, relative, "unsupported_file", f"{relative}: no reader for {suffix or 'files without suffix'}"
        )


def read_dump(path: str | Path, dump: str, settings: IngestionSettings) -> Iterator[RawSnippet]:
    """Stream every unit of the dump at `path` as `RawSnippet` rows tagged with the dump key."""
    path = Path(path)
    if not path.exists():
        raise DumpNotFound(f"dump {dump!r}: path {path} does not exist")
    if path.is_file():
        yield from _read_file(dump, path, path.name, settings)
        return
    for file in sorted(p for p in path.rglob("*") if p.is_file() or p.is_symlink()):
        yield from _read_file(dump, file, file.relative_to(path).as_posix(), settings)
