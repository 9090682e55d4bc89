"""The sandbox's runtime: one Python interpreter plus a pinned package set (METHOD.md section 4).

Real code imports libraries, so untrusted programs run on Debian's /usr/bin/python3 with the
packages `runtime.lock` pins (numpy, pandas, scipy, sympy, networkx, ... and their dependencies).
`runtime_build` makes it at setup time; beside the packages it leaves a marker
(`codeboost_runtime.json`: the lock's digest and which distribution provides each importable
name), which every sandbox server reports when it starts (`Runtime.from_hello`).

A runtime's identity is its Python version plus its lock's digest. It is recorded on every
execution record, versions the execution asset, travels in every task's ground truth, and the
reward refuses to score on a sandbox whose identity differs. Without a built runtime the local
backends fall back to the bare interpreter, whose identity says "standard library only".
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_LOCK = Path(__file__).with_name("runtime.lock")
MARKER = "codeboost_runtime.json"
RUNTIME_ENV = "CODEBOOST_SANDBOX_RUNTIME"
"""Where the local backends find the built runtime (a directory; `make` exports it)."""
SYSTEM_PYTHON = "/usr/bin/python3"
STANDARD_LIBRARY_ONLY = "standard library only"

_IMPORT = re.compile(r"^[ \t]*(?:from[ \t]+([A-Za-z_][\w.]*)[ \t]+import\b|import[ \t]+([^\n#;]+))", re.MULTILINE)


def imported_modules(code: str) -> set[str]:
    """Top-level module names a program imports, by a static scan of its import statements
    (relative imports and `__import__` calls are not seen)."""
    names = set()
    for from_module, import_list in _IMPORT.findall(code):
        if from_module:
            names.add(from_module.split(".")[0])
            continue
        for item in import_list.split(","):
            words = item.strip().strip("()\\").split()
            if words and re.fullmatch(r"[A-Za-z_][\w.]*", words[0]):
                names.add(words[0].split(".")[0])
    return names


def lock_digest(lock: Path = DEFAULT_LOCK) -> str:
    """A short hash of a lock's pins (comments and order ignored): equal exactly when the sets are."""
    pins = sorted(line.split("#")[0].strip().lower() for line in lock.read_text(encoding="utf-8").splitlines())
    text = "\n".join(pin for pin in pins if pin)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class Runtime:
    """What a sandbox server runs on: its Python and, when built from a lock, the lock's packages."""

    python_version: str
    lock_digest: str | None = None
    modules: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    """Importable top-level name -> (distribution, version), e.g. yaml -> (PyYAML, 6.0.4)."""

    @property
    def identity(self) -> str:
        packages = f"lock {self.lock_digest}" if self.lock_digest else STANDARD_LIBRARY_ONLY
        return f"python {self.python_version}, {packages}"

    def packages_imported(self, code: str) -> list[str]:
        """'name version' of each runtime distribution the program imports, sorted."""
        found = {self.modules[name] for name in imported_modules(code) if name in self.modules}
        return [f"{name} {version}" for name, version in sorted(found)]

    @classmethod
    def from_hello(cls, hello: Mapping[str, Any]) -> Runtime:
        """The runtime a sandbox server reported when it started."""
        marker = hello.get("runtime") or {}
        modules = {name: tuple(provider) for name, provider in (marker.get("modules") or {}).items()}
        return cls(hello.get("python_version", ""), marker.get("lock_digest"), modules)


class RuntimeMismatch(RuntimeError):
    """A sandbox runs another runtime than the one its work was made on or declared for."""


def declared_lock(runtime_lock: str) -> Path:
    """The lock a `SandboxLimits.runtime_lock` setting names ("" = the bundled one)."""
    return Path(runtime_lock) if runtime_lock else DEFAULT_LOCK


def require_lock(found: Runtime, lock: Path, backend: str) -> None:
    """Raise RuntimeMismatch unless a sandbox's runtime was built from `lock`."""
    wanted = lock_digest(lock)
    if found.lock_digest != wanted:
        raise RuntimeMismatch(
            f"the {backend} sandbox runs {found.identity}, but the settings declare the runtime of {lock} "
            f"(lock {wanted}); build it with `make setup` (local backends: .sandbox-runtime, found through "
            f"${RUNTIME_ENV}) or docker/sandbox/build_image.sh (docker)"
        )


def built_runtime_site_packages() -> Path | None:
    """The package directory of the runtime `make` built, if there is one (read, never imported)."""
    directory = os.environ.get(RUNTIME_ENV)
    found = sorted(Path(directory).glob("lib/python3*/site-packages")) if directory else []
    return found[0] if found and (found[0] / MARKER).is_file() else None


def built_runtime_modules() -> dict[str, tuple[str, str]]:
    """Importable name -> (distribution, version) of the built runtime (empty without one)."""
    site = built_runtime_site_packages()
    if site is None:
        return {}
    marker = json.loads((site / MARKER).read_text(encoding="utf-8"))
    return {name: tuple(provider) for name, provider in marker["modules"].items()}


def built_runtime_python() -> str | None:
    """The interpreter of the runtime `make` built (`$CODEBOOST_SANDBOX_RUNTIME`), if there is one."""
    directory = os.environ.get(RUNTIME_ENV)
    if not directory:
        return None
    python = Path(directory) / "bin" / "python"
    return str(python) if os.access(python, os.X_OK) else None
