"""Reader for a folder tree of Python source files: one row per regular file."""

from __future__ import annotations

from pathlib import Path

from codeboost_dagster.core.readers.records import RawSnippet, snippet_from_source, unreadable
from codeboost_dagster.core.readers.text_files import read_source_text
from codeboost_dagster.core.settings import IngestionSettings


def read_source_file(dump: str, path: Path, origin: str, settings: IngestionSettings) -> RawSnippet:
    """One `.py` file as one snippet run without input."""
    result = read_source_text(path, settings.max_code_bytes)
    if result.text is None:
        return unreadable(dump, origin, result.reason or "unreadable_file", result.detail or str(path))
    return snippet_from_source(dump, origin, result.text)
