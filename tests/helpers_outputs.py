"""Test helper: one output of every page and workbook kind inobhut writes, from the fixtures.

Belongs here: rendering Landes- and Jugendamtsberichte (May 2024), the network reports
(Lieferstatus, Platzübersicht, Jahres-, Strategiebericht), the federal statistic workbooks of
2024 (listed on the index page), the index page and a Prüfbericht of
a rejected delivery into a temporary folder -- for checks that look at the files with outside
tools (W3C Nu Html Checker, LibreOffice). Not here: the checks themselves.
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
        files += _bundesstatistik(paths, wh)
        files.append(render_index_page(paths, wh))
    files += write_pruefbericht(rejected_result(tmp), META, tmp / "pb")
    return files


def _bundesstatistik(paths, wh) -> list[Path]:
    from inobhut.meldungen.bund_ausgabe import write_year

    with wh.connect() as con:
        return [f for _, files in write_year(con, paths.out, "2024").values() for f in files]


def kind_of(path: Path) -> str:
    """Report kind from a file name (``massnahmen_…`` is the Prüfbericht)."""
    stem = path.name.split("_")[0].removesuffix(path.suffix)
    return "pruefbericht" if stem in ("massnahmen", "uma", "plaetze", "personal") else stem
