"""Resource for files that trainers read and write (verl dataset splits, checkpoints)."""

from __future__ import annotations

from dagster import ConfigurableResource
from upath import UPath


class TrainingFiles(ConfigurableResource):
    """Root folder (local path or fsspec URL) shared by this process and the trainers' workers."""

    base_path: str

    def path(self, *parts: str) -> UPath:
        """A location under the root; local roots are made absolute, since trainers run elsewhere."""
        root = UPath(self.base_path)
        if root.protocol in ("", "file", "local"):
            root = UPath(root.path).absolute()
        return root.joinpath(*parts)
