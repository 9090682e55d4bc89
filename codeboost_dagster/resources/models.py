"""Resource for the policy model's files: where converted packaged models are cached."""

from __future__ import annotations

from typing import Any

from dagster import ConfigurableResource

from codeboost_dagster.core.models import load_tokenizer, model_location


class ModelCache(ConfigurableResource):
    """A local folder holding transformers copies of packaged (GGUF) models, made once."""

    cache_dir: str

    def tokenizer(self, spec: str) -> Any:
        """The tokenizer of model `spec` (see `ModelSettings.policy`)."""
        return load_tokenizer(spec, self.cache_dir)

    def location(self, spec: str) -> str:
        """A folder or hub id that `from_pretrained` loads the full model `spec` from."""
        return model_location(spec, self.cache_dir)
