"""Every module of the project can be the first one a process imports.

Import cycles between the project's modules (``ingest`` -> ``validation.rules`` -> the
``validation`` package -> ``checks`` -> ``ingest`` ...) work in one order and fail in another
(``ImportError: cannot import name ... from partially initialized module``); which order a
command, a worker process or a test takes depends on what it happens to import first. Here each
module is imported first in a fresh process (forked from one that has loaded only third-party
libraries, so that it stays quick)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PACKAGES = ("inobhut", "pipelines", "assets", "schemas")

CHILD = r"""
import importlib, os, sys
import numpy, pandas, duckdb, pyarrow, dagster  # third-party only: the project's order is what is tested
failed = []
for name in sys.argv[1:]:
    pid = os.fork()
    if pid == 0:
        try:
            importlib.import_module(name)
        except BaseException as exc:  # noqa: BLE001
            sys.stderr.write(f"{name}: {type(exc).__name__}: {exc}\n")
            sys.stderr.flush()
            os._exit(1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    if status:
        failed.append(name)
print("FAILED", " ".join(failed))
"""


def _modules() -> list[str]:
    out = []
    for pkg in PACKAGES:
        for p in sorted((REPO / pkg).rglob("*.py")):
            parts = p.relative_to(REPO).with_suffix("").parts
            out.append(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    return out


def test_every_module_can_be_imported_first(tmp_path):
    mods = _modules()
    assert len(mods) > 80 and "inobhut.ingest_values" in mods and "pipelines.cli" in mods
    res = subprocess.run([sys.executable, "-W", "ignore", "-c", CHILD, *mods], cwd=REPO, capture_output=True, text=True,
                         timeout=900, env={"GX_ANALYTICS_ENABLED": "false", "PATH": "/usr/bin:/bin",
                                           "PYTHONPATH": str(REPO), "HOME": str(tmp_path)})
    assert res.returncode == 0, res.stderr[-3000:]
    failed = res.stdout.strip().splitlines()[-1].split()[1:]
    assert not failed, res.stderr[-5000:]
