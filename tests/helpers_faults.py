"""Test helper for the fault tests: real ``inobhut`` processes on a small generated data set.

Belongs here: one generated landing zone (2 offices, 2 months, the four-office test settings)
copied into a fresh installation per test, starting ``inobhut`` as a subprocess in its own
process group (so that the test-only kill hook ``INOBHUT_TEST_KILL_AT`` ends it like a power cut),
and the comparisons every fault test makes: outputs byte for byte, the warehouse table by table,
the archive (every landed file archived exactly once, no temporary files).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers_fixtures import FIXTURES

REPO = Path(__file__).resolve().parent.parent
OFFICES = ("08111", "01062")
VON, BIS = "2024-03", "2024-04"
RUN_TIMEOUT_S = 300


@dataclass
class Install:
    base: Path

    @property
    def landing(self) -> Path:
        return self.base / "landing"

    @property
    def data(self) -> Path:  # archive, staging, warehouse, out (a tmpfs in the disk tests)
        return self.base / "data"

    @property
    def archive(self) -> Path:
        return self.data / "archive"

    @property
    def staging(self) -> Path:
        return self.data / "staging"

    @property
    def warehouse(self) -> Path:
        return self.data / "warehouse.duckdb"

    @property
    def out(self) -> Path:
        return self.data / "out"

    @property
    def dagster_home(self) -> Path:
        return self.base / "dagster_home"

    def env(self, **extra: str) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("INOBHUT_", "DAGSTER_"))}
        settings = (FIXTURES / "settings_test.toml").read_text(encoding="utf-8").replace(
            'jugendaemter_datei = "jugendaemter_test.csv"',
            f'jugendaemter_datei = "{(FIXTURES / "jugendaemter_test.csv").resolve().as_posix()}"')
        cfg = self.base / "settings_test.toml"
        if not cfg.exists():
            cfg.write_text(settings, encoding="utf-8")
        env.update(
            INOBHUT_LANDING=str(self.landing), INOBHUT_ARCHIVE=str(self.archive), INOBHUT_STAGING=str(self.staging),
            INOBHUT_WAREHOUSE=str(self.warehouse), INOBHUT_OUT=str(self.out), DAGSTER_HOME=str(self.dagster_home),
            INOBHUT_CONFIG=str(cfg), INOBHUT_PSEUDONYM_KEY="test-schluessel-fuer-die-stoerungstests",
            GX_ANALYTICS_ENABLED="false", PYTHONPATH=str(REPO), COLUMNS="200",
        )
        env.update(extra)
        return env

    def start(self, *args: str, kill_at: str | None = None, prefix: list[str] | None = None) -> subprocess.Popen:
        extra = {"INOBHUT_TEST_KILL_AT": kill_at} if kill_at else {}
        return subprocess.Popen([*(prefix or []), sys.executable, "-m", "pipelines.cli", *args], cwd=self.base,
                                env=self.env(**extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                start_new_session=True)

    def inobhut(self, *args: str, kill_at: str | None = None, prefix: list[str] | None = None,
                timeout: float = RUN_TIMEOUT_S) -> subprocess.CompletedProcess:
        proc = self.start(*args, kill_at=kill_at, prefix=prefix)
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, 9)
            out, err = proc.communicate()
            raise AssertionError(f"inobhut {' '.join(args)} hing (über {timeout} s): {out[-2000:]} {err[-2000:]}") from None
        return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def generated_landing(root: Path) -> Path:
    """The landing zone of the fault tests, generated once (callers copy it)."""
    landing = root / "landing"
    root.mkdir(parents=True, exist_ok=True)
    if not landing.exists():
        subprocess.run([sys.executable, "-m", "pipelines.cli", "generate", "--landing", str(landing), "--von", VON,
                        "--bis", BIS, *[a for o in OFFICES for a in ("--jugendamt", o)]],
                       cwd=root, env=Install(root).env(), check=True, capture_output=True)
    return landing


def new_install(base: Path, landing_template: Path) -> Install:
    inst = Install(Path(base))
    inst.data.mkdir(parents=True, exist_ok=True)
    shutil.copytree(landing_template, inst.landing, copy_function=shutil.copy2)  # mtimes = receipt times
    return inst


_BASELINE: dict[str, tuple] = {}


def baseline(root: Path) -> tuple[Path, Install, dict[str, str], dict[str, str]]:
    """Once per test session: the generated landing zone and an uninterrupted run on it --
    ``(landing template, installation, output digests, warehouse digests)``. Every recovered run
    must end with exactly these outputs and tables (callers must not modify the installation)."""
    if "b" not in _BASELINE:
        landing = generated_landing(Path(root) / "vorlage")
        inst = new_install(Path(root) / "ungestoert", landing)
        res = inst.inobhut("run")
        assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-3000:]
        assert_archived_exactly_once(inst)
        _BASELINE["b"] = (landing, inst, output_digests(inst.out), warehouse_digests(inst.warehouse))
    return _BASELINE["b"]


def assert_like_baseline(inst: Install, base: tuple) -> None:
    """Outputs byte for byte, the warehouse table by table, the archive exactly once."""
    _, _, outs, tables = base
    got = output_digests(inst.out)
    assert sorted(got) == sorted(outs), set(got) ^ set(outs)
    assert [k for k in outs if got[k] != outs[k]] == []
    assert warehouse_digests(inst.warehouse) == tables
    assert_archived_exactly_once(inst)
    assert_consistent_warehouse(inst)


def output_digests(out: Path) -> dict[str, str]:
    """sha256 of every file under ``out`` except the documented exceptions outside the
    reproducible outputs (``manifest.EXCLUDED_DIRS``: GX Data Docs, Protokoll with real times,
    fingerprints of report inputs, the operator's log of failed runs)."""
    from inobhut.manifest import EXCLUDED_DIRS

    res = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and rel.split("/")[0] not in EXCLUDED_DIRS:
            res[rel] = hashlib.sha256(p.read_bytes()).hexdigest()
    return res


def warehouse_digests(warehouse: Path) -> dict[str, str]:
    """Per table a digest of all rows in a canonical order (the audit mirror excepted: it holds
    wall-clock times of events; in ``schluessel`` only the key's fingerprint counts, not since
    when it is stored)."""
    import duckdb

    con = duckdb.connect(str(warehouse), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema='main' ORDER BY 1").fetchall()]
        res = {}
        for t in tables:
            if t == "audit":
                continue
            cols = "fingerabdruck" if t == "schluessel" else "*"
            rows = con.execute(f'SELECT {cols} FROM "{t}" ORDER BY ALL').fetchall()
            res[t] = hashlib.sha256(repr(rows).encode()).hexdigest()
        return res
    finally:
        con.close()


def assert_archived_exactly_once(inst: Install) -> None:
    """Every landed file is one archived version (same sha256), nothing else, no temp file."""
    from inobhut.archive import list_versions, sha256_file

    landed = sorted(sha256_file(p) for p in inst.landing.rglob("*") if p.is_file())
    versions = list_versions(inst.archive)
    assert sorted(v.sha256 for v in versions) == landed
    assert all(v.version == 1 for v in versions), [v.label for v in versions if v.version != 1]
    data_files = sorted(p.relative_to(inst.archive).as_posix() for p in inst.archive.rglob("v*_*.*") if p.is_file())
    assert data_files == sorted(v.archive_file for v in versions)
    leftovers = [p for p in inst.data.rglob("*") if p.name.endswith(".tmp")]
    assert not leftovers, leftovers


def assert_consistent_warehouse(inst: Install) -> None:
    """One version in force per office, dataset and month, and its rows are the rows loaded."""
    import duckdb

    con = duckdb.connect(str(inst.warehouse), read_only=True)
    try:
        bad = con.execute("SELECT ags, dataset, monat FROM deliveries GROUP BY ALL HAVING sum(in_force::INT) <> 1").fetchall()
        assert not bad, bad
        for ds in ("massnahmen", "uma", "plaetze", "personal"):
            diff = con.execute(
                f"SELECT d.ags, d.monat, d.n_rows, count(t.jugendamt) FROM deliveries d LEFT JOIN {ds} t "
                f"ON t.jugendamt = d.ags AND t.monat = d.monat WHERE d.dataset = '{ds}' AND d.in_force "
                "GROUP BY ALL HAVING d.n_rows <> count(t.jugendamt)").fetchall()
            assert not diff, (ds, diff)
        months = {m for (m,) in con.execute("SELECT monat FROM load_state").fetchall()}
        assert months == {VON, BIS}
    finally:
        con.close()


def no_traceback(*texts: str) -> None:
    """No raw Python traceback and no bare exception line (``SomethingError: …``) reaches the user."""
    import re

    for t in texts:
        assert "Traceback" not in t and not re.search(r"^\s*[\w.]+(Error|Exception): ", t, re.M), t[-3000:]
