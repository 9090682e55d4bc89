"""Resource for the folder that users drop code dumps into; one entry = one dump partition."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from dagster import ConfigurableResource

from codeboost_dagster.core.partition_keys import is_safe_partition_key, validate_partition_key


@dataclass(frozen=True)
class DumpEntry:
    """A file or folder in the dumps folder and a fingerprint that changes when its content does."""

    key: str
    path: Path
    fingerprint: str


def _fingerprint(path: Path) -> str:
    files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
    stats = [p.stat() for p in files]
    return f"{len(stats)}-{sum(s.st_size for s in stats)}-{max((s.st_mtime_ns for s in stats), default=0)}"


class DumpFolder(ConfigurableResource):
    """The watched folder; a dump's partition key is its file or folder name."""

    path: str

    def dump_path(self, key: str) -> Path:
        """Where the dump for partition `key` lives."""
        return Path(self.path) / validate_partition_key(key)

    def scan(self) -> tuple[list[DumpEntry], list[str]]:
        """(dumps ready to ingest, names refused as unsafe partition keys); hidden and partial files skipped."""
        root = Path(self.path)
        if not root.is_dir():
            return [], []
        entries: list[DumpEntry] = []
        refused: list[str] = []
        for child in sorted(root.iterdir()):
            if child.name.startswith(".") or child.name.endswith(".partial"):
                continue
            if not is_safe_partition_key(child.name):
                refused.append(child.name)
                continue
            entries.append(DumpEntry(child.name, child, _fingerprint(child)))
        return entries, refused
