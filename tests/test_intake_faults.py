"""File-level faults at intake (issue 8, findings 2, 3, 6 and part of 8), on generated deliveries.

Misdated, misnamed or duplicated files must never stop the intake of the other files; every file
of the landing zone ends as a delivery (archived and validated) or as reported unassignable;
intake is idempotent even with two files for one delivery; the demo never writes into foreign
directories; reader errors and the size limit are explained in German.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from inobhut import audit
from inobhut.archive import intake, list_versions, pending_files
from inobhut.calendar import add_months, last_complete_month
from inobhut.config import office_keys
from inobhut.generate import generate
from inobhut.naming import NameError_, parse_name, restore_ags
from tests.conftest import TEST_ENV_KEY

OFFICES = ["08221", "01062"]
VON, BIS = "2024-01", "2024-02"
ARABIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
FULLWIDTH = str.maketrans("0123456789", "０１２３４５６７８９")


def _flat(text: str) -> str:
    return text.replace("\n", "")


def _members() -> set[str]:
    return set(office_keys())


def _events(archive: Path, kind: str) -> list[dict]:
    return [e for e in audit.read(archive) if e["ereignis"] == kind]


def _misdated_names() -> dict[str, str]:
    """file name (in office 08221) -> kind of the finding expected for it."""
    running = add_months(last_complete_month(), 1)  # the month that is not complete yet
    return {
        f"08221_massnahmen_{running}.csv": "monat",
        "08221_massnahmen_2052-01.csv": "monat",  # typo year
        "08221_uma_2019-12.csv": "monat",  # before zeitraum.erster_monat
        "08221_plaetze_2024-01.csv".translate(ARABIC): "name",  # all digits Arabic-Indic
        "08221_uma_2024-02.csv".translate(FULLWIDTH): "name",
        "08221_personal_٢٠٢٤-02.csv": "name",  # mixed digits
    }


def test_non_ascii_digits_are_not_digits():
    for name in ("08335_massnahmen_2025-01.csv".translate(ARABIC), "08335_massnahmen_2025-01.csv".translate(FULLWIDTH),
                 "٠8335_massnahmen_2025-01.csv", "08335_massnahmen_2025-0١.csv"):
        with pytest.raises(NameError_, match="Ziffern 0–9"):
            parse_name(name)
    assert restore_ags("٨٣٣٥") == "٨٣٣٥"  # not "0٨٣٣٥"
    from inobhut.calendar import parse_month
    from inobhut.ingest_values import _Bad, _parse_date, _parse_int

    with pytest.raises(ValueError):
        parse_month("٢٠٢٥-٠١")
    for parse, text in ((_parse_date, "٠١.٠٢.٢٠٢٤"), (_parse_int, "١٢"), (_parse_date, "２０２４-０１-０１")):
        with pytest.raises(_Bad):
            parse(text)


def test_misdated_files_never_stop_the_intake_of_the_others(inobhut_env):
    paths = inobhut_env
    summary = generate(paths.landing, VON, BIS, seed=5, jugendaemter=OFFICES)
    bad = _misdated_names()
    for name in bad:
        (paths.landing / "08221" / name).write_text("Fallnummer;Jugendamt\n", encoding="utf-8")
    s = intake(paths.landing, paths.archive, _members())
    assert len(s.new_versions) == summary["files"] == 16  # every office's delivery is archived
    reported = {u.path: u for u in s.unassignable}
    assert set(reported) == {f"08221/{n}" for n in bad}
    for name, kind in bad.items():
        u = reported[f"08221/{name}"]
        assert u.kind == kind and name in u.reason and u.hinweis, u  # names the file and the fix
        assert u.ags == "08221"
        assert (paths.archive / u.kopie).read_bytes() == (paths.landing / "08221" / name).read_bytes()
    assert "Tippfehler" in reported["08221/08221_massnahmen_2052-01.csv"].hinweis
    assert "vor dem ersten" in reported["08221/08221_uma_2019-12.csv"].reason
    # nothing of them became a version; the landing files are untouched
    assert {v.month for v in list_versions(paths.archive)} == {VON, BIS}
    assert all((paths.landing / "08221" / n).exists() for n in bad)
    # audit: one record per archived version and per unassignable file ...
    assert len(_events(paths.archive, "archiviert")) == 16
    assert len(_events(paths.archive, "nicht_zuordenbar")) == len(bad)
    # ... and a second intake of the same landing state adds nothing at all
    s2 = intake(paths.landing, paths.archive, _members())
    assert s2.new_versions == [] and s2.unchanged == 16 and len(s2.unassignable) == len(bad)
    assert len(audit.read(paths.archive)) == 16 + len(bad)
    assert pending_files(paths.landing, paths.archive, _members()) == []


def _delivery(paths, name="08221_massnahmen_2024-01.csv") -> Path:
    return paths.landing / "08221" / name


def test_same_delivery_under_two_names_is_resolved_once_and_never_flip_flops(inobhut_env):
    paths = inobhut_env
    generate(paths.landing, VON, VON, seed=5, jugendaemter=["08221"])
    a = _delivery(paths)
    content_a = a.read_bytes()
    content_b = content_a + b"\n"  # a different content (a correction) of the same delivery
    members = _members()

    # the same content under two names: one version, the copy reported, nothing archived twice
    twin = a.with_suffix(".CSV")
    shutil.copyfile(a, twin)
    s = intake(paths.landing, paths.archive, members)
    assert [v.file_name for v in s.new_versions if v.dataset == "massnahmen"] in (["08221_massnahmen_2024-01.CSV"],
                                                                                   ["08221_massnahmen_2024-01.csv"])
    dup = [u for u in s.unassignable if u.kind == "doppelt"]
    assert len(dup) == 1 and "denselben Inhalt" in dup[0].reason and dup[0].kopie is None

    # two different contents: the newer file counts, the other is reported and kept as a copy
    t0 = time.time() - 1000
    twin.write_bytes(content_b)
    os.utime(a, (t0, t0))
    os.utime(twin, (t0 + 10, t0 + 10))
    for round_ in range(3):  # A, B, A, ... must not happen
        s = intake(paths.landing, paths.archive, members)
        versions = list_versions(paths.archive, "08221", "massnahmen", VON)
        assert [v.sha256 for v in versions][-1] == __import__("hashlib").sha256(content_b).hexdigest()
        assert len(versions) == 2, [(v.version, v.file_name) for v in versions]
        dup = [u for u in s.unassignable if u.kind == "doppelt"]
        assert [u.path for u in dup] == ["08221/08221_massnahmen_2024-01.csv"]
        assert "08221_massnahmen_2024-01.CSV" in dup[0].reason and dup[0].kopie
        assert pending_files(paths.landing, paths.archive, members) == []
    # equal times: a fixed order decides (first name in code-point order: .CSV before .csv), stable
    os.utime(a, (t0, t0))
    os.utime(twin, (t0, t0))
    for _ in range(2):
        intake(paths.landing, paths.archive, members)
    assert len(list_versions(paths.archive, "08221", "massnahmen", VON)) == 2

    # .csv beside .xlsx: the newer one counts, once
    xlsx = a.with_suffix(".xlsx")
    shutil.copyfile(_delivery(paths, "08221_massnahmen_2024-01.csv"), xlsx)  # content of A, newest
    os.utime(xlsx, (t0 + 20, t0 + 20))
    for _ in range(2):
        intake(paths.landing, paths.archive, members)
    versions = list_versions(paths.archive, "08221", "massnahmen", VON)
    assert [v.file_name for v in versions][2:] == ["08221_massnahmen_2024-01.xlsx"]
    # the copies of the reported contents exist once each in the archive
    kopien = sorted(p.name for p in (paths.archive / "_nicht_zuordenbar" / "kopien").iterdir())
    assert len(kopien) == len(set(kopien)) >= 1


def test_csv_cell_over_the_field_limit_names_file_row_and_cause(tmp_path):
    from inobhut.ingest import read_delivery

    from schemas.datasets import DATASETS

    p = tmp_path / "08221_plaetze_2024-01.csv"
    header = [c.header for c in DATASETS["plaetze"].columns]
    rows = [";".join(header), ";".join(["E1", '"offen'] + ["1"] * (len(header) - 2)), *["x" * 1000] * 200,
            ";".join(["E2"] + ["1"] * (len(header) - 1))]
    p.write_text("\n".join(rows) + "\n", encoding="utf-8")
    res = read_delivery(p, "plaetze", max_bytes=50 * 1024 * 1024, max_rows=1000)
    assert res.frame is None
    f = res.findings
    assert [x.rule_id for x in f] == ["D029"], f
    assert f[0].zeile == 2 and f[0].severity == "Fehler"
    assert "länger als 131.072 Zeichen" in f[0].meldung and "Anführungszeichen" in f[0].meldung
    assert "Error" not in f[0].meldung
    # the same in the header row: row 1, no misleading "Pflichtspalte fehlt"
    p.write_text('Einrichtung;Stichtag;"' + "x" * 140_000 + "\n", encoding="utf-8")
    res = read_delivery(p, "plaetze", max_bytes=50 * 1024 * 1024, max_rows=1000)
    assert [(x.rule_id, x.zeile) for x in res.findings] == [("D029", 1)]


@pytest.mark.parametrize("size,limit,expect", [
    (50 * 1024 * 1024 + 1, 50 * 1024 * 1024, ("50,0 MB (52.428.801 Bytes)", "50,0 MB (52.428.800 Bytes)")),
    (60 * 1024 * 1024, 50 * 1024 * 1024, ("60,0 MB", "50,0 MB")),
])
def test_size_message_shows_enough_precision(tmp_path, size, limit, expect):
    from inobhut.ingest import read_delivery

    p = tmp_path / "08221_plaetze_2024-01.csv"
    with open(p, "wb") as fh:
        fh.truncate(size)
    res = read_delivery(p, "plaetze", max_bytes=limit, max_rows=10)
    (f,) = res.findings
    assert f.rule_id == "D001"
    assert f"ist {expect[0]} groß; angenommen werden höchstens {expect[1]}." in f.meldung


def test_demo_never_writes_into_a_directory_with_other_data(tmp_path, monkeypatch):
    from pipelines.cli import main
    from pipelines.cli_support import DEMO_MARKER, mark_demo

    monkeypatch.chdir(tmp_path)
    real = tmp_path / "echt" / "landing" / "08221" / "08221_massnahmen_2024-01.csv"
    real.parent.mkdir(parents=True)
    real.write_bytes(b"echte Lieferung")
    res = CliRunner().invoke(main, ["demo", "--daten", str(tmp_path / "echt"), "--out", str(tmp_path / "aus")])
    assert res.exit_code == 2 and "nicht von der Demo" in res.output, res.output
    assert real.read_bytes() == b"echte Lieferung" and not (tmp_path / "echt" / DEMO_MARKER).exists()
    assert not (tmp_path / "aus").exists()

    # a demo directory of its own, into which somebody dropped a real delivery: refused too
    demo = tmp_path / "demo"
    generate(demo / "landing", VON, VON, seed=1, jugendaemter=["08221"])
    mark_demo(demo, tmp_path / "aus")
    dropped = demo / "landing" / "08221" / "08221_uma_2024-01.csv"
    dropped.write_bytes(b"echte Korrektur")
    res = CliRunner().invoke(main, ["demo", "--daten", str(demo), "--out", str(tmp_path / "aus"), "--monate", "1"])
    assert res.exit_code == 2 and "08221_uma_2024-01.csv" in _flat(res.output), res.output
    assert dropped.read_bytes() == b"echte Korrektur"
    # an output directory with foreign outputs: refused
    (tmp_path / "real_out").mkdir()
    (tmp_path / "real_out" / "manifest.json").write_text("{}")
    shutil.rmtree(demo)
    res = CliRunner().invoke(main, ["demo", "--daten", str(demo), "--out", str(tmp_path / "real_out")])
    assert res.exit_code == 2 and "Ausgabeverzeichnis" in res.output
    assert not demo.exists()


# ------------------------------------------------------------------ the whole landing zone, on a real run
def _hostile_landing(paths, outside: Path) -> None:
    """Generated deliveries of two offices plus many hostile variants."""
    generate(paths.landing, VON, BIS, seed=9, jugendaemter=OFFICES)
    o = paths.landing / "08221"
    good = o / "08221_massnahmen_2024-01.csv"
    for name in _misdated_names():
        shutil.copyfile(good, o / name)
    shutil.copyfile(good, o / "massnahmen_2024-01.csv")  # misnamed
    shutil.copyfile(good, o / "08221_kosten_2024-01.csv")  # unknown dataset
    shutil.copyfile(good, paths.landing / "01062" / "08221_uma_2024-01.csv")  # wrong folder
    shutil.copyfile(good, paths.landing / "08221_uma_2024-01.csv")  # landing root
    (o / "alt").mkdir()
    shutil.copyfile(good, o / "alt" / "08221_uma_2024-01.csv")  # nested
    (paths.landing / "99999").mkdir()
    shutil.copyfile(good, paths.landing / "99999" / "99999_uma_2024-01.csv")  # not a member
    shutil.copyfile(good, o / "08221_massnahmen_2024-01.CSV")  # same delivery, same content
    (o / "08221_uma_2024-02.xlsx").write_bytes(b"PK\x03\x04 kaputt")  # same delivery, other content, newer
    os.utime(o / "08221_uma_2024-02.xlsx", (time.time(), time.time()))
    (o / "08221_plaetze_2023-12.csv").write_bytes(b"")  # empty: archived and rejected
    (o / ".08221_personal_2024-01.csv").write_bytes(b"versteckt")  # hidden
    (o / "08221_personal_2024-02.csv.part").write_bytes(b"halb")  # transfer in progress
    (paths.landing / ".versteckt").mkdir()
    (paths.landing / ".versteckt" / "08221_uma_2024-01.csv").write_bytes(b"x")
    os.symlink(outside / "geheim.csv", o / "08221_personal_2023-12.csv")  # symlink to a file
    (outside / "08335").mkdir()
    shutil.copyfile(good, outside / "08335" / "08335_massnahmen_2024-01.csv")
    os.symlink(outside / "08335", paths.landing / "08335")  # office folder that is a symlink


def _landing_files(landing: Path) -> list[str]:
    out = []
    for root, dirs, names in os.walk(landing, followlinks=False):
        for n in names + [d for d in dirs if (Path(root) / d).is_symlink()]:
            out.append((Path(root) / n).relative_to(landing).as_posix())
    return sorted(out)


def _assert_partition(paths) -> dict[str, str]:
    """Every landing file is exactly one of: the delivery in the warehouse (archived and
    validated) or reported as unassignable (itself or a folder above it). Returns file -> fate."""
    from inobhut.archive import sha256_file
    from inobhut.landing import load_state
    from inobhut.warehouse import Warehouse

    reported = {u.path for u in load_state(paths.staging)}
    with Warehouse(paths.warehouse).connect() as con:
        rows = con.execute("SELECT ags, file_name, sha256, verdict FROM deliveries").fetchall()
    delivered = {(a, f, s) for a, f, s, verdict in rows if verdict is not None}
    fate = {}
    for rel in _landing_files(paths.landing):
        parts = rel.split("/")
        is_reported = any("/".join(parts[:i]) in reported for i in range(1, len(parts) + 1))
        p = paths.landing / rel
        is_delivery = (len(parts) == 2 and not p.is_symlink() and p.is_file()
                       and (parts[0], parts[1], sha256_file(p)) in delivered)
        assert is_reported != is_delivery, (rel, is_reported, is_delivery)
        fate[rel] = "gemeldet" if is_reported else "geliefert"
    return fate


@pytest.mark.slow
def test_every_landing_file_is_delivered_or_reported_on_a_real_run(inobhut_env, tmp_path):
    import openpyxl

    from pipelines.cli import main

    paths = inobhut_env
    outside = tmp_path / "ausserhalb"
    outside.mkdir()
    (outside / "geheim.csv").write_bytes(b"nicht lesen")
    _hostile_landing(paths, outside)
    before = {rel: (paths.landing / rel).read_bytes() for rel in _landing_files(paths.landing)
              if (paths.landing / rel).is_file() and not (paths.landing / rel).is_symlink()}

    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    fate = _assert_partition(paths)
    assert list(fate.values()).count("geliefert") == 16 + 1  # 2 offices x 4 datasets x 2 months + the empty file
    assert fate["08221/08221_plaetze_2023-12.csv"] == "geliefert"
    for rel in ("08335", "08221/08221_personal_2023-12.csv", ".versteckt/08221_uma_2024-01.csv"):
        assert fate[rel] == "gemeldet", rel
    # the same content under two names: one of them is the delivery, the other is reported
    assert {fate["08221/08221_massnahmen_2024-01.csv"], fate["08221/08221_massnahmen_2024-01.CSV"]} == {
        "gemeldet", "geliefert"}
    assert fate["08221/08221_uma_2024-02.csv"] == "gemeldet"  # the older of two different contents
    assert fate["08221/08221_uma_2024-02.xlsx"] == "geliefert"  # the newer one counts (and is rejected)
    # the run's result: CLI summary and Dagster metadata name the files
    assert "Nicht zuordenbare Dateien" in res.output and "08221_massnahmen_2052-01.csv" in _flat(res.output)
    # landing files untouched; nothing outside the landing zone was read
    assert all((paths.landing / rel).read_bytes() == data for rel, data in before.items())
    assert not any("geheim" in str(p) for p in paths.archive.rglob("*"))
    # the Lieferstatus of a month lists the files of its network's offices and month; files
    # without a recognisable office in every network, files without a processable month in the newest
    def listed(verbund, month):
        ls = next((paths.out / "berichte").rglob(f"lieferstatus_{verbund}_{month}.xlsx"))
        wb = openpyxl.load_workbook(ls, read_only=True)
        return " ".join(str(c) for row in wb["Nicht zuordenbar"].iter_rows(values_only=True) for c in row if c)

    bw1, bw2, sh1 = listed("BW", "2024-01"), listed("BW", "2024-02"), listed("SH-KOOP", "2024-01")
    for rel in ("08221/massnahmen_2024-01.csv", "99999/99999_uma_2024-01.csv", "08221_uma_2024-01.csv",
                "08221/" + "08221_plaetze_2024-01.csv".translate(ARABIC)):
        assert rel in bw1 and rel not in bw2, rel
    for rel in ("08221/08221_uma_2019-12.csv", "08221/08221_massnahmen_2052-01.csv"):
        assert rel in bw2 and rel not in bw1, rel
    assert "„08335“ ist eine Verknüpfung" in bw2  # the symlinked office folder
    assert "01062/08221_uma_2024-01.csv" in sh1 and "99999/99999_uma_2024-01.csv" in sh1
    assert "08221/massnahmen_2024-01.csv" not in sh1  # a BW office's file stays in BW

    # idempotent: a second run over the same landing state archives and records nothing new
    n_versions, n_events = len(list_versions(paths.archive)), len(audit.read(paths.archive))
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    assert len(list_versions(paths.archive)) == n_versions
    assert [e["ereignis"] for e in audit.read(paths.archive)[n_events:]
            if e["ereignis"] in ("archiviert", "nicht_zuordenbar")] == []
    assert _assert_partition(paths) == fate


def test_only_unassignable_files_are_still_reported(inobhut_env):
    from pipelines.cli import main

    paths = inobhut_env
    (paths.landing / "08221").mkdir()
    (paths.landing / "08221" / "08221_massnahmen_2052-01.csv").write_text("x")
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0
    assert "nichts zu tun" in _flat(res.output) and "08221_massnahmen_2052-01.csv" in _flat(res.output)
    assert _events(paths.archive, "nicht_zuordenbar")


# ------------------------------------------------------------------ reproducible outputs (finding 5)
def _outputs(out: Path) -> dict[str, bytes]:
    from inobhut.manifest import EXCLUDED_DIRS

    files = {}
    for p in sorted(out.rglob("*")):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and rel.split("/")[0] not in EXCLUDED_DIRS:
            files[rel] = p.read_bytes()
    return files


@pytest.mark.slow
def test_outputs_are_byte_identical_across_directories_times_and_time_zones(tmp_path, monkeypatch):
    """A run, and a second installation elsewhere rebuilt from a copy of its archive (archive
    files with new modification times, landing copied with its receipt times, another process,
    time zone and locale, minutes later): every output file and the manifest are byte-identical."""
    from inobhut.config import Paths

    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", TEST_ENV_KEY)
    monkeypatch.delenv("INOBHUT_CONFIG", raising=False)
    for var in ("INOBHUT_LANDING", "INOBHUT_ARCHIVE", "INOBHUT_STAGING", "INOBHUT_WAREHOUSE", "INOBHUT_OUT"):
        monkeypatch.setenv(var, "")

    def paths_at(base: Path) -> Paths:
        return Paths.from_env(base, landing=base / "eingang", archive=base / "archiv", staging=base / "staging",
                              warehouse=base / "wh.duckdb", out=base / "ausgabe")

    a = paths_at(tmp_path / "a")
    generate(a.landing, VON, BIS, seed=21, fehlerquote=0.3, jugendaemter=OFFICES)  # rejected versions too
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()

    def cli_run(p: Paths, home: Path, **extra: str) -> subprocess.CompletedProcess:
        """``inobhut run`` in a process of its own (state of this test process cannot leak in)."""
        env = {k: v for k, v in os.environ.items() if not k.startswith("INOBHUT_")}
        env.update(DAGSTER_HOME=str(home), INOBHUT_PSEUDONYM_KEY=TEST_ENV_KEY, INOBHUT_ARCHIVE=str(p.archive),
                   INOBHUT_STAGING=str(p.staging), INOBHUT_WAREHOUSE=str(p.warehouse),
                   PYTHONPATH=os.pathsep.join([str(Path(__file__).resolve().parent.parent), env.get("PYTHONPATH", "")]),
                   **extra)
        return subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--landing", str(p.landing), "--out",
                               str(p.out), "--monat", VON, "--monat", BIS], cwd=p.landing.parent, env=env,
                              capture_output=True, text=True, timeout=1200)

    try:
        proc = cli_run(a, tmp_path / "a" / "dagster", TZ="UTC")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        first = _outputs(a.out)
        assert any(k.startswith("pruefberichte/") and k.endswith(".xlsx") for k in first)

        b = paths_at(tmp_path / "zweite" / "installation" / "b")
        shutil.copytree(a.landing, b.landing)  # copy2: the receipt times travel with the files
        shutil.copytree(a.archive, b.archive, copy_function=shutil.copyfile)  # new mtimes in the archive
        later = time.time() + 3 * 86400
        for p in b.archive.rglob("*"):
            os.utime(p, (later, later))
        # the second installation: another process (another hash seed: set and dict order of
        # strings), another time zone (UTC+14) and locale, through the command line
        proc = cli_run(b, tmp_path / "b_dagster", TZ="Pacific/Kiritimati", PYTHONHASHSEED="4242",
                       LC_ALL="C.UTF-8", LANG="C.UTF-8")
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        second = _outputs(b.out)
    finally:
        monkeypatch.setenv("TZ", "UTC")
        time.tzset()
    assert sorted(first) == sorted(second)
    differing = [k for k in first if first[k] != second[k]]
    assert differing == []
    manifest = json.loads(first["manifest.json"])
    assert {o["datei"] for o in manifest["ausgaben"]} == set(first) - {"manifest.json"}


def test_sensor_requests_runs_only_for_processable_months():
    """A misdated file must not make the sensor request a run for a month without a partition."""
    from pipelines.sensors import run_requests_for_changes

    new = {f"08221/{n}": [1, 1] for n in _misdated_names()}
    new["08221/08221_uma_2024-01.csv"] = [1, 1]
    reqs = run_requests_for_changes({}, new, _members())
    assert [r.partition_key for r in reqs] == ["2024-01"]


@pytest.mark.parametrize("exc,expect", [
    ("zlib", "komprimierte Inhalt ist beschädigt"),
    ("xml", "XML-Inhalt"),
    ("key", "Bestandteil der Arbeitsmappe fehlt"),
    ("value", "erwarteten Aufbau"),
    ("perm", "Leseberechtigung"),
])
def test_every_reader_exception_becomes_a_german_finding(tmp_path, monkeypatch, exc, expect):
    """Whatever a reader library raises, the finding says in German what is wrong."""
    import xml.etree.ElementTree as ET
    import zlib

    from inobhut import ingest, ingest_xlsx
    from inobhut.template import build_template

    errors = {"zlib": zlib.error("Error -3 while decompressing data"), "xml": ET.ParseError("not well-formed"),
              "key": KeyError("xl/sharedStrings.xml"), "value": ValueError("Max value is 14"),
              "perm": PermissionError(13, "Permission denied")}

    def boom(*a, **k):
        raise errors[exc]

    p = build_template("plaetze", tmp_path / "08221_plaetze_2024-01.xlsx")
    monkeypatch.setattr(ingest_xlsx, "_read_workbook", boom)
    res = ingest.read_delivery(p, "plaetze", max_bytes=10**8, max_rows=10)
    (f,) = res.findings
    assert f.rule_id == "D007" and expect in f.meldung, f.meldung
    monkeypatch.setattr(ingest, "_read", boom)  # anything outside the format readers: D024
    (f,) = ingest.read_delivery(p, "plaetze", max_bytes=10**8, max_rows=10).findings
    assert f.rule_id == "D024" and expect in f.meldung and "unerwarteter Fehler: " not in f.meldung, f.meldung


def test_nightly_schedule_reports_unassignable_files_on_a_day_without_deliveries(inobhut_env):
    """A misnamed file alone must still be registered and reported (an intake-only run)."""
    import dagster as dg

    from assets.raw.intake import RAW_INTAKE
    from pipelines.schedules import nightly

    paths = inobhut_env
    (paths.landing / "08221").mkdir()
    (paths.landing / "08221" / "08221_massnahmen_2052-01.csv").write_text("x")
    with dg.instance_for_test() as instance:
        req = nightly(dg.build_schedule_context(instance=instance))
        assert isinstance(req, dg.RunRequest) and req.asset_selection == [RAW_INTAKE]
        # the request runs: the intake alone, as one run of the job on the instance
        from pipelines.definitions import build_definitions

        job = build_definitions().resolve_job_def(req.job_name or "inobhut")
        result = job.execute_in_process(instance=instance, asset_selection=req.asset_selection, tags=req.tags)
        assert result.success
        assert _events(paths.archive, "nicht_zuordenbar")
        assert isinstance(nightly(dg.build_schedule_context(instance=instance)), dg.SkipReason)
