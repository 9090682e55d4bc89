"""The layering rules. `core` and `verl` are plain Python: verl imports the reward and the job in
its own environment, where Dagster cannot be installed, so not one of their modules may pull
Dagster in, directly or through another module. The schema registry imports nothing of ours (nor
libcst or pandas), so any layer can read the table contracts."""

from __future__ import annotations

import json
import subprocess
import sys

PROBE = """
import importlib, json, pkgutil, sys
import codeboost_dagster.core, codeboost_dagster.verl
names = sorted(
    info.name
    for package in (codeboost_dagster.core, codeboost_dagster.verl)
    for info in pkgutil.walk_packages(package.__path__, package.__name__ + ".")
)
offenders = {}
for name in names:
    before = set(sys.modules)
    importlib.import_module(name)
    pulled = sorted(m for m in set(sys.modules) - before if m == "dagster" or m.startswith("dagster."))
    if pulled:
        offenders[name] = pulled[:3]
print(json.dumps({"modules": names, "offenders": offenders}))
"""


def test_every_core_and_verl_module_imports_without_dagster():
    completed = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True, check=True)
    report = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "codeboost_dagster.verl.reward" in report["modules"]
    assert "codeboost_dagster.core.settings" in report["modules"]
    assert len(report["modules"]) > 50
    assert report["offenders"] == {}


def test_the_schema_registry_is_a_leaf():
    probe = (
        "import json, sys; import codeboost_dagster.core.schemas; "
        "print(json.dumps(sorted(m for m in sys.modules if m.startswith(('codeboost_dagster', 'libcst', 'pandas')))))"
    )
    completed = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(completed.stdout) == [
        "codeboost_dagster",
        "codeboost_dagster.core",
        "codeboost_dagster.core.schemas",
    ]
