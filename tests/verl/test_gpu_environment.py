"""The GPU nodes' environment resolves: pip's resolver, for Linux x86_64 with CUDA wheels and the
GPU image's Python, installs nothing here (`--dry-run`) and reports what a node would get."""

from __future__ import annotations

import json
import subprocess
import sys
from importlib import metadata

from codeboost_dagster.verl.launch_checks import GPU_LOCK

GPU_PYTHON = "3.12"
# Every glibc a manylinux wheel may name up to Ubuntu 22.04's (2.35); pip does not widen --platform.
PLATFORMS = [f"manylinux_2_{minor}_x86_64" for minor in range(17, 36)] + ["manylinux2014_x86_64", "linux_x86_64"]


def test_the_gpu_lock_resolves_for_the_gpu_nodes_platform(tmp_path):
    report = tmp_path / "report.json"
    platforms = [argument for platform in PLATFORMS for argument in ("--platform", platform)]
    completed = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--quiet",
            "--report",
            str(report),
            "--python-version",
            GPU_PYTHON,
            *platforms,
            "--only-binary=:all:",
            "-r",
            str(GPU_LOCK),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert completed.returncode == 0, completed.stderr[-4000:]
    installed = {
        item["metadata"]["name"].lower().replace("_", "-"): item["metadata"]["version"]
        for item in json.loads(report.read_text())["install"]
    }
    assert installed["verl"] == "0.9.1" and installed["vllm"] == "0.24.0"
    assert installed["torch"] == "2.11.0"  # what vllm 0.24.0 pins, not the CPU tests' 2.13.0
    assert installed["ray"] == metadata.version("ray")  # the driver's
    assert "flash-attn" not in installed  # sdpa attention: nothing to build against CUDA
    assert not any(name.startswith("dagster") and name != "dagster-pipes" for name in installed)
