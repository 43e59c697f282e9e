"""Test helper: one output of every page and workbook kind inobhut writes, from the fixtures.

Belongs here: rendering Landes- and Jugendamtsberichte (May 2024), the network reports
(Lieferstatus, Platzübersicht, Jahres-, Strategiebericht), the statutory outputs (UMA-Werktagsmeldung
for a range of Werktage, Fristenliste §42a of an office with a late case), the index page, the
Protokoll (audit report), the federal statistic workbooks of 2024 (listed on the index page) and a
Prüfbericht of a rejected delivery into a temporary folder -- for checks that look at the files with
outside tools (W3C Nu Html Checker, LibreOffice). Not here: the checks themselves.
"""

from __future__ import annotations

import warnings
from pathlib import Path


def render_every_kind(tmp: Path) -> list[Path]:
    """All files written (HTML, xlsx, JSON) for the fixtures; test settings active meanwhile."""
    warnings.filterwarnings("ignore")
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.report_run import render_all_other_reports, render_index_page, render_months
    from tests.helpers_browser import fixture_outputs
    from tests.test_pruefbericht import META, rejected_result

    files: list[Path] = []
    (tmp / "fx").mkdir(parents=True, exist_ok=True)
    with fixture_outputs(tmp / "fx") as (paths, wh):
        files += render_months(paths, wh, ["2024-05"])
        files += render_all_other_reports(paths, wh)
        files += render_statutory(paths, wh)
        files += _bundesstatistik(paths, wh)
        files.append(render_index_page(paths, wh))
        files += _protokoll(paths, wh)
    files += write_pruefbericht(rejected_result(tmp), META, tmp / "pb")
    return files


def render_statutory(paths, wh) -> list[Path]:
    """The UMA-Werktagsmeldung of BW for 29.04.–14.05.2024 (a holiday, a month change, a missing
    UMA delivery) and the Fristenliste of Konstanz (one late case) from the fixtures."""
    import datetime as dt

    from inobhut.meldungen import fristen, uma_tag

    with wh.connect() as con:
        days, _ = uma_tag.days_of(con, "BW", dt.date(2024, 4, 29), dt.date(2024, 5, 14))
        files = uma_tag.write(con, "BW", days, paths.out)
        files += fristen.write(con, "08335043", paths.out)
    return files


#: report kinds whose file names contain an underscore
MULTIWORD_KINDS = ("uma_tagesmeldung",)


def _protokoll(paths, wh) -> list[Path]:
    """The Protokoll (audit report) from a few events of every kind, of two offices and a run."""
    from inobhut import audit
    from inobhut.audit_report import write_audit_reports

    audit.record(paths.archive, "lauf_start", lauf="3f2a9c1e-lauf")
    for kind in audit.EVENTS:
        if kind not in ("lauf_start", "lauf_ende", "ausgabe"):
            audit.record(paths.archive, kind, lauf="3f2a9c1e-lauf", ags="08111", dataset="massnahmen", monat="2024-05", version=1)
    audit.record(paths.archive, "urteil", lauf="3f2a9c1e-lauf", ags="01062", dataset="uma", monat="2024-05", version=2)
    audit.record(paths.archive, "ausgabe", lauf="3f2a9c1e-lauf", datei="berichte/index.html", sha256="0" * 64)
    audit.record(paths.archive, "lauf_ende", lauf="3f2a9c1e-lauf", detail={"ergebnis": "erfolgreich"})
    return write_audit_reports(paths, wh)
def _bundesstatistik(paths, wh) -> list[Path]:
    from inobhut.meldungen.bund_ausgabe import write_year

    with wh.connect() as con:
        return [f for _, files in write_year(con, paths.out, "2024").values() for f in files]


def kind_of(path: Path) -> str:
    """Report kind from a file name (``massnahmen_…`` is the Prüfbericht)."""
    for k in MULTIWORD_KINDS:
        if path.name.startswith(k + "_"):
            return k
    stem = path.name.split("_")[0].removesuffix(path.suffix)
    return "pruefbericht" if stem in ("massnahmen", "uma", "plaetze", "personal") else stem
