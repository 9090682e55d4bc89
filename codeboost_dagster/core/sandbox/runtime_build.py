"""Building the sandbox runtime from its lock, at setup time only (never while programs run).

`make` builds the local backends' runtime (`build_runtime`: a venv of Debian's python3 without pip
in `.sandbox-runtime`, which the servers bind read-only into their private root);
docker/sandbox/build_image.sh installs the same lock into the image's /usr/local with the same
command (`install_packages`). Both leave the marker the servers report (`runtime.MARKER`).

    python -m codeboost_dagster.core.sandbox.runtime_build build .sandbox-runtime
"""

from __future__ import annotations

import importlib.metadata
import json
import shutil
import subprocess
import sys
from pathlib import Path

from .runtime import DEFAULT_LOCK, MARKER, SYSTEM_PYTHON, lock_digest


def _top_level_names(distribution: importlib.metadata.Distribution) -> set[str]:
    listed = distribution.read_text("top_level.txt")
    if listed:
        return {name.strip() for name in listed.split() if name.strip()}
    names = set()
    for path in distribution.files or ():
        first = path.parts[0]
        if first.endswith((".dist-info", ".data")) or first in ("__pycache__", "..", "bin"):
            continue
        stem = first.split(".")[0] if len(path.parts) == 1 else first
        if stem.isidentifier() and (len(path.parts) > 1 or first.endswith((".py", ".so"))):
            names.add(stem)
    return names


def module_providers(site_dir: Path) -> dict[str, tuple[str, str]]:
    """Importable top-level name -> (distribution, version) for every distribution in `site_dir`."""
    providers = {}
    for distribution in importlib.metadata.distributions(path=[str(site_dir)]):
        for name in _top_level_names(distribution):
            providers[name] = (distribution.metadata["Name"], distribution.version)
    return dict(sorted(providers.items()))


def install_packages(site_dir: Path, lock: Path = DEFAULT_LOCK, python: str = SYSTEM_PYTHON) -> None:
    """Install exactly the lock's pins into `site_dir` (wheels only, no dependency resolution),
    with pip run by the runtime's own interpreter so wheel tags and bytecode match it; then write
    the marker the servers report."""
    site_dir.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--disable-pip-version-check"]
    command += ["--root-user-action=ignore", "--no-deps", "--only-binary=:all:", "--target", str(site_dir)]
    subprocess.run([*command, "-r", str(lock)], check=True)
    shutil.rmtree(site_dir / "bin", ignore_errors=True)  # console scripts: nothing in the sandbox runs them
    marker = {"lock_digest": lock_digest(lock), "modules": module_providers(site_dir)}
    (site_dir / MARKER).write_text(json.dumps(marker, indent=1, sort_keys=True) + "\n", encoding="utf-8")


def build_runtime(directory: Path, lock: Path = DEFAULT_LOCK, python: str = SYSTEM_PYTHON) -> Path:
    """A venv of `python` without pip at `directory` holding the lock's packages; replaces an older
    one only once the new one is complete. Returns its interpreter."""
    building = directory.with_name(directory.name + ".building")
    shutil.rmtree(building, ignore_errors=True)
    subprocess.run([python, "-m", "venv", "--without-pip", str(building)], check=True)
    version = subprocess.run(
        [str(building / "bin" / "python"), "-c", "import sys; print('%d.%d' % sys.version_info[:2])"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    install_packages(building / "lib" / f"python{version}" / "site-packages", lock, python)
    shutil.rmtree(directory, ignore_errors=True)
    building.rename(directory)
    return directory / "bin" / "python"


def main(argv: list[str] | None = None) -> None:
    """`build DIR` (the local backends' runtime) or `install SITE_DIR` (into an image's root)."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m " + __spec__.name, description=main.__doc__)
    parser.add_argument("action", choices=("build", "install", "digest"))
    parser.add_argument("target", nargs="?", type=Path)
    parser.add_argument("--lock", type=Path, default=DEFAULT_LOCK)
    parser.add_argument("--python", default=SYSTEM_PYTHON, help="the runtime's interpreter (default: %(default)s)")
    options = parser.parse_args(argv)
    if options.action == "digest":
        print(lock_digest(options.lock))
    elif options.target is None:
        parser.error(f"{options.action} needs a target directory")
    elif options.action == "build":
        print(build_runtime(options.target.resolve(), options.lock, options.python))
    else:
        install_packages(options.target.resolve(), options.lock, options.python)


if __name__ == "__main__":
    main()
