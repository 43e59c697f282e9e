"""Test helper: one output of every page and workbook kind inobhut writes, from the fixtures.

Belongs here: rendering Landes- and Jugendamtsberichte (May 2024), the network reports
(Lieferstatus, Platzübersicht, Jahres-, Strategiebericht), the index page and a Prüfbericht of
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
        # the front page in full: a Prüfbericht of a May delivery to link from the status matrix
        # and a previous data status to show changes against
        files += write_pruefbericht(rejected_result(tmp), {**META, "ags": "08111", "base_name": "massnahmen_2024-05_v1"},
                                    paths.out / "pruefberichte" / "08111")
        write_previous_manifest(paths, wh)
        files.append(render_index_page(paths, wh))
    files += write_pruefbericht(rejected_result(tmp), META, tmp / "pb")
    return files


def write_previous_manifest(paths, wh, drop: int = 3) -> None:
    """``<out>/manifest.json`` of an earlier data status: the current deliveries without the
    last ``drop`` versions, the first version not yet in force, and one version since deleted."""
    import json

    from inobhut.overview import delivery_inputs

    with wh.connect() as con:
        inputs, stand = delivery_inputs(con)
    before = [dict(x) for x in inputs[:-drop]]
    next(x for x in before if x["in_kraft"])["in_kraft"] = False
    before.append({**before[-1], "version": 99, "in_kraft": False})
    doc = {"produkt": "inobhut", "datenstand": "2024-05-01T08:00:00", "lieferungen": before, "vergleichsbasis": None}
    paths.out.mkdir(parents=True, exist_ok=True)
    (paths.out / "manifest.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")


def kind_of(path: Path) -> str:
    """Report kind from a file name (``massnahmen_…`` is the Prüfbericht)."""
    stem = path.name.split("_")[0].removesuffix(path.suffix)
    return "pruefbericht" if stem in ("massnahmen", "uma", "plaetze", "personal") else stem
