"""Test helper: load the hand-made fixture deliveries (``tests/fixtures``) into a warehouse.

Belongs here: activating the test settings (four member offices), a deliberately simple
reader for the clean fixture format (``;``, German dates, headers exactly as in delivery.md),
and the verdicts of every fixture file as decided BY HAND (see ``tests/fixtures/README.md``).
Not here: the real ingest/validation pipeline -- the statistics tests must not depend on it,
and the pipeline is later compared against the same expected tables by its own tests.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from inobhut.naming import parse_name
from inobhut.pseudonym import pseudonymise
from inobhut.warehouse import Warehouse, replace_partition
from schemas.datasets import DATASETS

FIXTURES = Path(__file__).parent / "fixtures"
LIEFERUNGEN = FIXTURES / "lieferungen"
ERWARTET = FIXTURES / "erwartet"
TEST_KEY = b"inobhut-test-schluessel"

# Verdicts decided by hand, one entry per fixture file and round:
# (round, file name) -> verdict. Versions are numbered per (ags, dataset, month) in round order.
A, H, X = "angenommen", "angenommen mit Hinweisen", "abgelehnt"
VERDICTS: dict[tuple[str, str], str] = {
    ("runde1", "08111_massnahmen_2024-03.csv"): A,
    ("runde1", "08111_massnahmen_2024-04.csv"): A,
    ("runde1", "08111_massnahmen_2024-05.csv"): A,
    ("runde1", "08111_uma_2024-03.csv"): A,
    ("runde1", "08111_uma_2024-04.csv"): A,
    ("runde1", "08111_uma_2024-05.csv"): A,
    ("runde1", "08111_plaetze_2024-03.csv"): H,  # E2 überbelegt (14 > 12)
    ("runde1", "08111_plaetze_2024-04.csv"): A,
    ("runde1", "08111_plaetze_2024-05.csv"): A,
    ("runde1", "08111_personal_2024-03.csv"): A,
    ("runde1", "08111_personal_2024-04.csv"): A,
    ("runde1", "08111_personal_2024-05.csv"): A,
    ("runde1", "08335043_massnahmen_2024-03.csv"): H,  # K-101 Meldung nach 12 Werktagen
    ("runde1", "08335043_massnahmen_2024-04.csv"): H,  # dieselbe Meldung
    ("runde1", "08335043_massnahmen_2024-05.csv"): A,
    ("runde1", "08335043_uma_2024-03.csv"): A,
    ("runde1", "08335043_uma_2024-04.csv"): A,
    ("runde1", "01060063_massnahmen_2024-03.csv"): A,
    ("runde1", "01060063_massnahmen_2024-04.csv"): X,  # Ende vor Beginn
    ("runde1", "01060063_massnahmen_2024-05.csv"): A,
    ("runde1", "01060063_uma_2024-03.csv"): A,
    ("runde1", "01060063_uma_2024-04.csv"): A,
    ("runde1", "01060063_uma_2024-05.csv"): A,
    ("runde1", "01060063_plaetze_2024-03.csv"): A,
    ("runde1", "01060063_plaetze_2024-04.csv"): A,
    ("runde1", "01060063_plaetze_2024-05.csv"): A,
    ("runde1", "01060063_personal_2024-03.csv"): A,
    ("runde1", "01062_massnahmen_2024-03.csv"): A,
    ("runde1", "01062_massnahmen_2024-04.csv"): A,
    ("runde1", "01062_massnahmen_2024-05.csv"): A,
    ("runde1", "01062_uma_2024-03.csv"): A,  # Fehlanzeige (nur Kopfzeile)
    ("runde1", "01062_uma_2024-04.csv"): A,
    ("runde1", "01062_uma_2024-05.csv"): A,
    ("runde2", "01060063_massnahmen_2024-04.csv"): A,  # Korrektur der abgelehnten Datei
    ("runde2", "01060063_massnahmen_2024-05.csv"): A,  # Korrektur: N-2 beendet am 15.05.
    ("runde2", "01062_massnahmen_2024-03.csv"): X,  # Geschlecht "x": v1 bleibt in Kraft
    ("runde2", "01062_massnahmen_2024-05.csv"): A,  # Korrektur: St-3 nachgemeldet
}
ROUNDS = ("runde1", "runde2")


def activate_test_settings(tmp_dir: Path) -> Path:
    """Write the test settings with an absolute member-list path into ``tmp_dir`` and point
    ``INOBHUT_CONFIG`` at it. Returns the settings file. (Callers restore the environment,
    e.g. with pytest's ``monkeypatch``.)"""
    text = (FIXTURES / "settings_test.toml").read_text(encoding="utf-8")
    absolute = (FIXTURES / "jugendaemter_test.csv").resolve().as_posix()
    text = text.replace('jugendaemter_datei = "jugendaemter_test.csv"', f'jugendaemter_datei = "{absolute}"')
    out = Path(tmp_dir) / "settings_test.toml"
    out.write_text(text, encoding="utf-8")
    os.environ["INOBHUT_CONFIG"] = str(out)
    return out


def _codes(text: str) -> str | None:
    parts = sorted({p.strip().zfill(2) for p in text.replace("|", ",").split(",") if p.strip()})
    return ",".join(parts) or None


def read_fixture(path: Path, dataset: str, key: bytes = TEST_KEY) -> pd.DataFrame:
    """Read one clean fixture file into the canonical frame (``fall_id`` instead of
    ``fallnummer``, ``_zeile`` = row in the file with header = 1)."""
    ds = DATASETS[dataset]
    raw = pd.read_csv(path, sep=";", dtype=str, keep_default_na=False, encoding="utf-8")
    by_header = {c.header.lower(): c for c in ds.columns}
    out = pd.DataFrame(index=raw.index)
    for head in raw.columns:
        col = by_header[head.strip().lower()]
        s = raw[head].str.strip()
        empty = s == ""
        if col.kind == "date":
            v = pd.to_datetime(s.where(~empty), format="%d.%m.%Y")
        elif col.kind == "month":
            v = pd.to_datetime(s.where(~empty), format="%m.%Y")
        elif col.kind == "bool":
            v = s.map({"1": True, "0": False, "": pd.NA}).astype("boolean")
        elif col.kind == "int":
            v = pd.to_numeric(s.where(~empty)).astype("Int64")
        elif col.kind == "decimal":
            v = pd.to_numeric(s.str.replace(",", ".").where(~empty)).astype("Float64")
        elif col.kind == "codes":
            v = s.map(_codes).astype("string")
        else:
            v = s.where(~empty).astype("string")
        out[col.name] = v
    if "fallnummer" in out.columns:
        ags = parse_name(path.name).ags
        out["fall_id"] = [pseudonymise(ags, f, key) for f in out.pop("fallnummer")]
    out["_zeile"] = pd.array(range(2, len(out) + 2), dtype="Int64")
    return out


def load_fixture_warehouse(db_path: Path, key: bytes = TEST_KEY) -> Warehouse:
    """A fresh warehouse holding the in-force versions of all fixture files after both
    rounds, and every version with its hand-decided verdict in ``deliveries``."""
    return load_files(db_path, [(path, VERDICTS[(rnd, path.name)]) for rnd in ROUNDS
                                for path in sorted((LIEFERUNGEN / rnd).glob("*/*.csv"))], key)


def load_files(db_path: Path, files: list[tuple[Path, str]], key: bytes = TEST_KEY) -> Warehouse:
    """A warehouse holding clean fixture files delivered in the given order with the given
    verdicts (the same file name again = the next version; an accepted one is put in force)."""
    wh = Warehouse(db_path)
    versions: dict[tuple[str, str, str], int] = {}
    with wh.connect() as con:
        for path, verdict in files:
            dn = parse_name(path.name)
            k = (dn.ags, dn.dataset, dn.month)
            versions[k] = versions.get(k, 0) + 1
            v = versions[k]
            accepted = verdict != X
            con.execute("BEGIN")
            if accepted:
                con.execute(
                    "UPDATE deliveries SET in_force = FALSE WHERE ags=? AND dataset=? AND monat=?", list(k)
                )
                replace_partition(con, dn.dataset, dn.ags, dn.month, v, read_fixture(path, dn.dataset, key))
            n_rows = sum(1 for _ in path.open(encoding="utf-8")) - 1
            con.execute(
                "INSERT INTO deliveries (ags, dataset, monat, version, file_name, verdict, n_rows, in_force)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [dn.ags, dn.dataset, dn.month, v, path.name, verdict, n_rows, accepted],
            )
            con.execute("COMMIT")
    return wh


# ---------------------------------------------------------------------------------------------
# generated multi-office data sets through the real pipeline steps


GENERATED_KEY = b"inobhut-test-generiert"


def generated_warehouse(base: Path, jugendaemter: list[str], von: str, bis: str, *, seed: int = 7,
                        fehlerquote: float = 0.0):
    """Synthetic deliveries (:func:`inobhut.generate.generate`) taken through the real pipeline
    steps -- archive intake, validation, warehouse load -- and every month's statistics written.
    Uses the settings active at call time. Returns ``(warehouse, paths, generate_summary)``."""
    from inobhut import archive
    from inobhut import stat_store
    from inobhut.calendar import month_range
    from inobhut.config import Paths, office_keys
    from inobhut.generate import generate
    from inobhut.load import load_month
    from inobhut.office_validation import validate_offices

    base = Path(base)
    paths = Paths.from_env(base, landing=base / "landing", archive=base / "archive", staging=base / "staging",
                           warehouse=base / "warehouse.duckdb", out=base / "out")
    summary = generate(paths.landing, von, bis, seed=seed, fehlerquote=fehlerquote, jugendaemter=jugendaemter)
    archive.intake(paths.landing, paths.archive, set(office_keys()))
    months = month_range(von, bis)
    # as the pipeline's validation step: all offices and months in one batch (the Data Docs
    # site is the pipeline's separate step and not needed here)
    validate_offices(paths, list(jugendaemter), months, GENERATED_KEY)
    wh = Warehouse(paths.warehouse)
    for m in months:
        load_month(paths, wh, m)
    with wh.connect() as con:
        for m in months:
            stat_store.write_month(con, m, stat_store.compute_month(con, m))
    return wh, paths, summary


_GENERATED_CACHE: dict[tuple, tuple] = {}


def generated_warehouse_cached(jugendaemter: tuple[str, ...], von: str, bis: str, *, seed: int = 7,
                               fehlerquote: float = 0.0):
    """:func:`generated_warehouse` once per test session and argument set (several test modules
    share the same data set; callers must not modify it). Built with the shipped member list."""
    import tempfile

    key = (tuple(jugendaemter), von, bis, seed, fehlerquote)
    if key not in _GENERATED_CACHE:
        old = os.environ.pop("INOBHUT_CONFIG", None)
        try:
            base = Path(tempfile.mkdtemp(prefix="inobhut_generiert_"))
            _GENERATED_CACHE[key] = generated_warehouse(base, list(jugendaemter), von, bis, seed=seed,
                                                        fehlerquote=fehlerquote)
        finally:
            if old is not None:
                os.environ["INOBHUT_CONFIG"] = old
    return _GENERATED_CACHE[key]


def generated_warehouse_copy(target: Path, jugendaemter: tuple[str, ...], von: str, bis: str, *, seed: int = 7):
    """A private copy (at ``target``) of :func:`generated_warehouse_cached`'s warehouse, for a
    test that changes it."""
    import shutil

    from inobhut.warehouse import Warehouse

    wh, _, _ = generated_warehouse_cached(jugendaemter, von, bis, seed=seed)
    shutil.copyfile(wh.path, target)
    return Warehouse(target)


# SH-KOOP complete (UMA quota with Soll) plus one BW office (BW incomplete: Soll stays empty);
# December to January crosses a year; with delivery mistakes (rejected versions).
MULTI_OFFICE = ("01053", "01056", "01060", "01060063", "01062", "08335043")
MULTI_VON, MULTI_BIS = "2023-12", "2024-01"


def multi_office_warehouse():
    return generated_warehouse_cached(MULTI_OFFICE, MULTI_VON, MULTI_BIS, seed=11, fehlerquote=0.15)


def load_generated(landing: Path, wh: Warehouse, datasets: tuple[str, ...], key: bytes) -> int:
    """Read generated deliveries of ``datasets`` with the real ingest (no validation: the
    generator's clean output) and load them as version 1; returns the number of files."""
    from inobhut.ingest import read_delivery
    from inobhut.naming import parse_name
    from inobhut.pseudonym import pseudonymise

    n = 0
    with wh.connect() as con:
        con.execute("BEGIN")
        for path in sorted(Path(landing).glob("*/*")):
            dn = parse_name(path.name)
            if dn.dataset not in datasets:
                continue
            res = read_delivery(path, dn.dataset, max_bytes=50 << 20, max_rows=200_000)
            assert res.frame is not None, (path.name, res.findings[:3])
            f = res.frame
            if "fallnummer" in f.columns:
                f["fall_id"] = [pseudonymise(dn.ags, x, key) for x in f.pop("fallnummer")]
            replace_partition(con, dn.dataset, dn.ags, dn.month, 1, f)
            n += 1
        con.execute("COMMIT")
    return n


@contextlib.contextmanager
def ingested_network_warehouse(tmp_dir: Path, verbund: str, von: str, bis: str, *, seed: int,
                               datasets: tuple[str, ...], key: bytes) -> Iterator[tuple[Warehouse, int]]:
    """Synthetic deliveries of all offices of ``verbund`` from ``von`` to ``bis`` (default
    settings, not the test settings), read with the real ingest into a new warehouse
    (:func:`load_generated`: no archive, no validation -- the fast path for large data sets;
    :func:`generated_warehouse` takes the full pipeline steps). Yields the warehouse and the
    number of files loaded; restores INOBHUT_CONFIG."""
    from inobhut.config import network_offices
    from inobhut.generate import generate

    old = os.environ.pop("INOBHUT_CONFIG", None)
    try:
        tmp_dir = Path(tmp_dir)
        generate(tmp_dir / "landing", von, bis, seed=seed, jugendaemter=[o.ags for o in network_offices(verbund)])
        wh = Warehouse(tmp_dir / "warehouse.duckdb")
        yield wh, load_generated(tmp_dir / "landing", wh, datasets, key)
    finally:
        if old is not None:
            os.environ["INOBHUT_CONFIG"] = old


FIXTURE_MONTHS = ["2024-03", "2024-04", "2024-05"]


@contextlib.contextmanager
def fixture_statistics(tmp_dir: Path) -> Iterator[Warehouse]:
    """The fixture warehouse (in-force versions of both rounds) with the statistics of every
    fixture month written, while the test settings are active; restores INOBHUT_CONFIG."""
    from inobhut.stat_store import compute_month, write_month

    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp_dir)
    try:
        wh = load_fixture_warehouse(Path(tmp_dir) / "warehouse.duckdb")
        with wh.connect() as con:
            for m in FIXTURE_MONTHS:
                write_month(con, m, compute_month(con, m))
        yield wh
    finally:
        if old is None:
            os.environ.pop("INOBHUT_CONFIG", None)
        else:
            os.environ["INOBHUT_CONFIG"] = old
