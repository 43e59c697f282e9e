"""`inobhut ui` / `dagster dev`: the Dagster UI starts on the code location and lists its assets."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request

import pytest


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _graphql(port: int, query: str) -> dict:
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/graphql", data=json.dumps({"query": query}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:
        return json.loads(resp.read())


@pytest.mark.slow
def test_dagster_dev_serves_the_code_location(tmp_path):
    from pipelines.runner import REPO_ROOT, prepare_dagster_home

    env = {k: v for k, v in os.environ.items() if not k.startswith("DAGSTER_")}
    home = tmp_path / ".dagster"
    env.update(DAGSTER_HOME=str(home), GX_ANALYTICS_ENABLED="false", INOBHUT_OUT=str(tmp_path / "out"))
    old = os.environ.get("DAGSTER_HOME")
    prepare_dagster_home(home)  # what `inobhut ui` does first: the repository's dagster.yaml
    if old is None:
        os.environ.pop("DAGSTER_HOME", None)
    else:
        os.environ["DAGSTER_HOME"] = old
    assert (home / "dagster.yaml").read_bytes() == (REPO_ROOT / "dagster.yaml").read_bytes()
    port = _free_port()
    proc = subprocess.Popen(
        [sys.executable, "-m", "dagster", "dev", "-h", "127.0.0.1", "-p", str(port)],
        cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        deadline = time.time() + 240
        assets = None
        while time.time() < deadline:
            try:
                data = _graphql(port, "{ assetNodes { assetKey { path } } }")
                nodes = data.get("data", {}).get("assetNodes") or []
                if nodes:
                    assets = {"/".join(n["assetKey"]["path"]) for n in nodes}
                    break
            except OSError:
                pass
            time.sleep(2)
        assert assets, "Dagster-Oberfläche antwortet nicht"
        assert "raw/intake" in assets and "validated/office_08111" in assets and "reports/index_and_manifest" in assets
        data = _graphql(port, "{ workspaceOrError { ... on Workspace { locationEntries { name } } } }")
        names = [e["name"] for e in data["data"]["workspaceOrError"]["locationEntries"]]
        assert names == ["inobhut"]  # [tool.dagster] code_location_name in pyproject.toml
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
