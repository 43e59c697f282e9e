"""What an operator copies from deploy/: the units pass systemd's own check, the production
instance file really loads against PostgreSQL with the documented limits, the environment file
template names every variable the code reads, and the Helm values agree with dagster.yaml."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers_postgres import pg_env, pg_server, pg_url  # noqa: F401  (fixtures)

REPO = Path(__file__).resolve().parent.parent
DEPLOY = REPO / "deploy"


def test_systemd_units_verify(tmp_path):
    """`systemd-analyze verify` on both units (the venv path pointed at this machine's venv,
    since /opt/inobhut does not exist here); any warning counts as a failure."""
    exe = shutil.which("systemd-analyze")
    assert exe, "systemd-analyze fehlt: scripts/test.sh installiert das Paket systemd"
    venv = Path(sys.executable).parent.parent
    units = []
    for src in sorted((DEPLOY / "systemd").glob("*.service")):
        text = src.read_text(encoding="utf-8")
        assert "EnvironmentFile=/etc/inobhut/inobhut.env" in text and "User=inobhut" in text
        dst = tmp_path / src.name
        dst.write_text(text.replace("/opt/inobhut/.venv", str(venv)), encoding="utf-8")
        units.append(str(dst))
    assert [Path(u).name for u in units] == ["inobhut-dagster-daemon.service", "inobhut-dagster-webserver.service"]
    proc = subprocess.run([exe, "verify", *units], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0 and proc.stderr.strip() == "", proc.stdout + proc.stderr
    daemon = (DEPLOY / "systemd" / "inobhut-dagster-daemon.service").read_text(encoding="utf-8")
    assert "dagster-daemon run -m pipelines.definitions" in daemon
    assert "LoadCredential=pseudonym.key:/etc/inobhut/pseudonym.key" in daemon


def _code_variables() -> set[str]:
    found = set()
    for base in ("inobhut", "pipelines", "assets", "schemas"):
        for py in (REPO / base).rglob("*.py"):
            found |= set(re.findall(r"\bINOBHUT_[A-Z0-9_]*[A-Z0-9]\b", py.read_text(encoding="utf-8")))
    yml = (DEPLOY / "dagster.yaml").read_text(encoding="utf-8")
    found |= set(re.findall(r"\bINOBHUT_[A-Z0-9_]*[A-Z0-9]\b", yml))
    # a key itself is never put into the file (only its _FILE variable, set by the unit; the new
    # key of a rotation is given once on the command line); test-only hooks are no setting
    return {v for v in found if not v.startswith("INOBHUT_TEST_")} - {"INOBHUT_PSEUDONYM_KEY", "INOBHUT_PSEUDONYM_KEY_NEU"}


def test_environment_template_names_every_variable():
    text = (DEPLOY / "inobhut.env.beispiel").read_text(encoding="utf-8")
    named = set(re.findall(r"^#?\s*(INOBHUT_[A-Z0-9_]+|DAGSTER_HOME|GX_ANALYTICS_ENABLED)=", text, re.MULTILINE))
    missing = _code_variables() - named
    assert not missing, f"in deploy/inobhut.env.beispiel nachtragen: {sorted(missing)}"
    assert {"DAGSTER_HOME", "INOBHUT_PG_PASSWORD", "INOBHUT_DAGSTER_YAML", "INOBHUT_PSEUDONYM_KEY_FILE"} <= named
    assert not re.search(r"^INOBHUT_PSEUDONYM_KEY=", text, re.MULTILINE)  # never the key itself


def test_production_instance_on_postgres(pg_url, tmp_path, monkeypatch):  # noqa: F811
    import dagster as dg
    from dagster._core.run_coordinator import QueuedRunCoordinator
    from dagster_postgres import PostgresEventLogStorage, PostgresRunStorage

    from pipelines.runner import prepare_dagster_home

    for var, val in pg_env(pg_url).items():
        monkeypatch.setenv(var, val)
    monkeypatch.setenv("INOBHUT_DAGSTER_YAML", str(DEPLOY / "dagster.yaml"))
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    home = prepare_dagster_home()
    assert (home / "dagster.yaml").read_bytes() == (DEPLOY / "dagster.yaml").read_bytes()
    with dg.DagsterInstance.get() as instance:
        assert isinstance(instance.run_storage, PostgresRunStorage)
        assert isinstance(instance.event_log_storage, PostgresEventLogStorage)
        assert isinstance(instance.run_coordinator, QueuedRunCoordinator)
        assert instance.run_retries_enabled and instance.run_retries_max_retries == 2
        assert instance.run_monitoring_enabled
        queue = instance.get_concurrency_config().run_queue_config
        assert queue.max_concurrent_runs == 2
        assert instance.get_concurrency_config().pool_config.default_pool_limit == 1
        assert not instance.telemetry_enabled


def test_missing_instance_file_is_a_german_error(tmp_path, monkeypatch):
    from pipelines.runner import prepare_dagster_home

    monkeypatch.setenv("INOBHUT_DAGSTER_YAML", str(tmp_path / "fehlt.yaml"))
    with pytest.raises(FileNotFoundError, match="INOBHUT_DAGSTER_YAML"):
        prepare_dagster_home(tmp_path / "home")


def test_helm_values_agree_with_instance_file():
    values = yaml.safe_load((DEPLOY / "helm" / "values.yaml").read_text(encoding="utf-8"))
    inst = yaml.safe_load((DEPLOY / "dagster.yaml").read_text(encoding="utf-8"))
    assert values["runLauncher"]["type"] == "K8sRunLauncher"
    (dep,) = values["dagster-user-deployments"]["deployments"]
    assert dep["dagsterApiGrpcArgs"] == ["-m", "pipelines.definitions"] and dep["image"]["tag"] != "latest"
    assert values["postgresql"]["enabled"] is False
    assert values["concurrency"]["pools"]["defaultLimit"] == inst["concurrency"]["pools"]["default_limit"]
    assert values["concurrency"]["runs"]["maxConcurrentRuns"] == inst["concurrency"]["runs"]["max_concurrent_runs"]
    assert values["dagsterDaemon"]["runRetries"]["maxRetries"] == inst["run_retries"]["max_retries"]
    assert values["dagsterDaemon"]["runCoordinator"]["type"] == "QueuedRunCoordinator"
    assert values["telemetry"]["enabled"] is False


def test_key_from_file(tmp_path, monkeypatch):
    from inobhut.pseudonym import MissingKeyError, key_from_env

    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY", raising=False)
    f = tmp_path / "pseudonym.key"
    f.write_text("geheim-aus-datei-mindestens-32-bytes-lang\n", encoding="utf-8")  # key rules: >= 32 bytes
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY_FILE", str(f))
    assert key_from_env() == b"geheim-aus-datei-mindestens-32-bytes-lang"
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", "aus-variable-ebenfalls-mindestens-32-bytes")  # the variable wins
    assert key_from_env() == b"aus-variable-ebenfalls-mindestens-32-bytes"
    monkeypatch.delenv("INOBHUT_PSEUDONYM_KEY")
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY_FILE", str(tmp_path / "fehlt.key"))
    with pytest.raises(MissingKeyError, match="nicht lesbar"):
        key_from_env()
    f.write_text("\n", encoding="utf-8")
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY_FILE", str(f))
    with pytest.raises(MissingKeyError, match="leer"):
        key_from_env()


def test_pg_test_server_prints_only_the_url_even_when_the_tools_talk(tmp_path):
    """scripts/pg_test_server.sh is read with $(…) by scripts/test.sh: whatever pg_ctlcluster,
    psql or apt print (a CI run failed on pg_ctlcluster's "Removed stale pid file." on stdout)
    must go to stderr, so stdout is exactly one connection URL. The PostgreSQL tools are replaced
    by chatty stand-ins on PATH (and `id` reports root), so the script's own plumbing is tested.
    The stand-in pg_ctlcluster leaves a daemon behind as the real one does (its stdin/stdout/stderr
    redirected, every other inherited descriptor kept): the script must not hand it the caller's
    stdout under another number, or `$(…)` waits for the server to exit (a CI run hung so)."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # free once closed: the script sees the cluster's port free
    fakes = {
        "id": "echo 0",
        "apt-get": "echo 'Reading package lists... Done'",
        "pg_lsclusters": f"echo '16  main {port} down   postgres /var/lib/postgresql/16/main log'",
        "pg_createcluster": "echo 'Creating new PostgreSQL cluster 16/main ...'",
        "pg_conftool": "echo 'port = 1'",
        "pg_ctlcluster": ("echo 'Removed stale pid file.'; echo 'waiting for server to start.... done';"
                          f" sleep 30 </dev/null >/dev/null 2>&1 & echo $! > {tmp_path}/daemon.pid"),
        "pg_isready": "echo '127.0.0.1:5432 - accepting connections'",
        # runuser -u postgres -- psql …: the role query answers "1", anything else chats
        "runuser": 'case "$*" in *"SELECT 1 FROM pg_roles"*) echo 1;; *) echo CREATE ROLE;; esac',
    }
    bindir = tmp_path / "bin"
    bindir.mkdir()
    for name, body in fakes.items():
        f = bindir / name
        f.write_text(f"#!/bin/sh\n{body}\n", encoding="utf-8")
        f.chmod(0o755)
    env = {"PATH": f"{bindir}:/usr/bin:/bin", "HOME": str(tmp_path)}
    try:
        proc = subprocess.run(["bash", str(REPO / "scripts" / "pg_test_server.sh")], capture_output=True,
                              text=True, timeout=15, env=env)
    finally:
        pid_file = tmp_path / "daemon.pid"
        if pid_file.exists():
            subprocess.run(["kill", pid_file.read_text().strip()], capture_output=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == f"postgresql://inobhut_test:inobhut_test@127.0.0.1:{port}/postgres\n", proc.stdout
    assert "Removed stale pid file." in proc.stderr
