"""The run's front page (berichte/index.html): the latest month's deliveries per network, the
changes against the previous data status, the newest reports and the archive grid; found
through the output registry (inobhut/reports/kinds.py), byte-reproducible, idempotent on rerun."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from tests.helpers_browser import fixture_outputs
from tests.helpers_outputs import write_previous_manifest


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from inobhut.report_run import render_all_other_reports, render_index_page, render_months

    with fixture_outputs(tmp_path_factory.mktemp("front")) as (paths, wh):
        render_months(paths, wh, ["2024-05"])
        render_all_other_reports(paths, wh)
        yield paths, wh, render_index_page


def _cells(html: str, network_id: str) -> dict[str, list[str]]:
    part = html[html.index(f'id="status-{network_id}"'):]
    part = part[:part.index("</table>")]
    rows = {}
    for tr in re.findall(r"<tr><th scope=\"row\">(.*?)</th>(.*?)</tr>", part):
        rows[tr[0]] = re.findall(r'<td class="st st-([a-z]+)">(.*?)</td>', tr[1])
    return rows


def test_status_matrix_colour_and_text_overdue_and_pruefbericht_links(run, tmp_path):
    paths, wh, render = run
    from inobhut.pruefbericht import write_pruefbericht
    from tests.test_pruefbericht import META, rejected_result

    with wh.connect() as con:  # deliveries received after the due date (10.06.2024): missing ones are overdue
        con.execute("UPDATE deliveries SET received_at = TIMESTAMP '2024-06-12 07:00:00'")
    pb = write_pruefbericht(rejected_result(tmp_path), {**META, "ags": "08111", "base_name": "massnahmen_2024-05_v1"},
                            paths.out / "pruefberichte" / "08111")[0]
    html = render(paths, wh).read_text(encoding="utf-8")
    assert "<h2 id=\"h-lieferungen\">Lieferungen Mai 2024</h2>" in html
    bw = _cells(html, "BW")
    # Stuttgart delivered all four in May; its massnahmen cell links to the Prüfbericht (relative)
    assert [s for s, _ in bw["Stuttgart"]] == ["angenommen"] * 4
    assert 'href="../pruefberichte/08111/massnahmen_2024-05_v1.html"' in bw["Stuttgart"][0][1]
    assert (paths.out / "berichte" / "../pruefberichte/08111/massnahmen_2024-05_v1.html").resolve() == pb.resolve()
    # Konstanz delivered neither Plätze nor Personal: overdue, said in words, not only in colour
    assert bw["Konstanz"][2] == ("ueberfaellig", "überfällig") and bw["Konstanz"][3] == ("ueberfaellig", "überfällig")
    sh = _cells(html, "SH-KOOP")
    assert sh["Norderstedt"][0] == ("angenommen", "angenommen (Version 2)")
    assert "1 von 2 Jugendämtern vollständig angenommen" in html
    assert "3 × überfällig; überfällig: Konstanz (UMA, Plätze, Personal)." in html  # who needs a call, by name
    # before the due date the same gap is not yet due
    with wh.connect() as con:
        con.execute("UPDATE deliveries SET received_at = TIMESTAMP '2024-06-03 07:00:00'")
    html = render(paths, wh).read_text(encoding="utf-8")
    assert _cells(html, "BW")["Konstanz"][3] == ("ausstehend", "noch nicht fällig")


def test_changes_against_previous_data_status_and_rerun_is_byte_identical(run):
    paths, wh, render = run
    from inobhut.manifest import write_manifest

    manifest = paths.out / "manifest.json"
    manifest.unlink(missing_ok=True)
    first = render(paths, wh).read_text(encoding="utf-8")
    assert "Erster Lauf in diesem Ausgabeverzeichnis" in first
    write_manifest(paths, wh)
    assert render(paths, wh).read_text(encoding="utf-8") == first  # rerun: same deliveries, same bytes
    write_manifest(paths, wh)
    assert json.loads(manifest.read_text(encoding="utf-8"))["vergleichsbasis"] is None

    write_previous_manifest(paths, wh, drop=3)  # an earlier data status: three versions fewer
    second = render(paths, wh).read_text(encoding="utf-8")
    section = second[second.index('id="aenderungen"'):second.index('id="neueste"')]
    assert "Gegenüber dem Datenstand vom 01.05.2024, 08:00 Uhr: 3 neue Versionen" in section
    assert "1 Versionen neu in Kraft gesetzt" in section and "1 Versionen nicht mehr im Datenstand" in section
    assert section.count("<tr><th scope=\"row\">") == 5
    write_manifest(paths, wh)  # the run's manifest keeps the base: a rerun shows the same changes
    assert json.loads(manifest.read_text(encoding="utf-8"))["vergleichsbasis"]["datenstand"] == "2024-05-01T08:00:00"
    assert render(paths, wh).read_text(encoding="utf-8") == second
    write_manifest(paths, wh)
    assert render(paths, wh).read_text(encoding="utf-8") == second


def test_same_deliveries_same_bytes_in_another_directory(run, tmp_path):
    paths, wh, render = run
    import shutil

    from inobhut.config import Paths

    copy = Paths(paths.landing, paths.archive, paths.staging, paths.warehouse, tmp_path / "out")
    shutil.copytree(paths.out, copy.out)  # same outputs and previous manifest, another place
    a = render(paths, wh).read_bytes()
    assert render(copy, wh).read_bytes() == a
    assert re.search(rb"\d\d:\d\d:\d\d", a) is None  # no wall-clock seconds anywhere


def test_a_new_output_kind_is_one_registry_entry(run, monkeypatch):
    """A kind another part writes elsewhere (here: a per-office CSV with a companion file under
    jugendaemter/) appears in the newest reports and the archive, linked relatively, by adding
    one OutputKind."""
    paths, wh, render = run
    from inobhut.reports import kinds

    folder = paths.out / "jugendaemter" / "08111" / "probe" / "2024"
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "probemeldung_08111_2024.csv").write_text("a;b\n1;2\n", encoding="utf-8")
    (folder / "probemeldung_08111_2024_anhang.csv").write_text("c\n3\n", encoding="utf-8")
    html = render(paths, wh).read_text(encoding="utf-8")
    assert "probemeldung_08111_2024.csv" not in html  # not registered: not listed
    monkeypatch.setattr(kinds, "OUTPUT_KINDS", (*kinds.OUTPUT_KINDS, kinds.OutputKind(
        "probemeldung", "Probemeldungen", "Probemeldung", companions=("_anhang",))))
    html = render(paths, wh).read_text(encoding="utf-8")
    newest = html[html.index('id="neueste"'):html.index('id="archiv"')]
    archive = html[html.index('id="archiv"'):]
    assert '<th scope="row">Probemeldungen</th>' in newest
    assert '<th scope="col">Probemeldungen</th>' in archive
    link = 'href="../jugendaemter/08111/probe/2024/probemeldung_08111_2024{}.csv"'
    assert link.format("") in archive and link.format("_anhang") in archive  # one output, two files
    assert archive.index(link.format("")) < archive.index(link.format("_anhang"))
    assert 'aria-label="CSV: Probemeldung Stuttgart Jahr 2024"' in archive
    for f in folder.iterdir():
        f.unlink()


def test_links_resolve_symbolic_links_like_path_resolve(tmp_path):
    """The front page resolves directories once per page; links must stay what Path.resolve gives
    (a linked output directory, a linked file, a directory moved and linked between two pages)."""
    import os
    from urllib.parse import quote

    from inobhut.reports.html import _href, forget_resolved_dirs

    real = tmp_path / "echt" / "berichte"
    real.mkdir(parents=True)
    (real / "a b.html").write_text("x")
    out = tmp_path / "out"
    out.mkdir()
    (out / "berichte").symlink_to(real)
    (tmp_path / "anderswo").mkdir()
    (tmp_path / "anderswo" / "ziel.xlsx").write_text("x")
    (real / "verweis.xlsx").symlink_to(tmp_path / "anderswo" / "ziel.xlsx")

    def expected(t):
        return quote(os.path.relpath(Path(t).resolve(), out.resolve()))

    (out / "oben ä.html").write_text("x")  # a file in the base folder itself, and one above it
    (tmp_path / "daneben.html").write_text("x")
    for t in (out / "berichte" / "a b.html", out / "berichte" / "verweis.xlsx", real / "a b.html",
              out / "oben ä.html", tmp_path / "daneben.html"):
        assert _href(t, out) == expected(t)
    # between two pages the directory becomes a link to somewhere else
    moved = tmp_path / "neu"
    moved.mkdir()
    (moved / "a b.html").write_text("x")
    (out / "berichte").unlink()
    (out / "berichte").symlink_to(moved)
    forget_resolved_dirs()
    assert _href(out / "berichte" / "a b.html", out) == expected(out / "berichte" / "a b.html")


def _find_outputs_by_rglob(out, kinds):
    """The reference: ``find_outputs`` as written with pathlib (rglob, is_file, Path keys)."""
    ordered = sorted(kinds.OUTPUT_KINDS, key=lambda k: -len(k.kind))
    groups = {}
    for d in kinds.SEARCH_DIRS:
        root = out / d
        if root.is_dir():
            for p in root.rglob("*"):
                if p.suffix.lower() in kinds.FILE_KINDS and p.is_file() and not p.name.startswith("."):
                    groups.setdefault((p.parent, p.stem), []).append(p)
    found = {}
    for (parent, stem), files in sorted(groups.items()):
        for k in ordered:
            m = k.pattern().match(stem)
            if m:
                base = stem[:m.start("extra")] if m.groupdict().get("extra") else stem
                found.setdefault((parent, base), (k, m, []))[2].extend(files)
                break
    res = []
    for (_, base), (k, m, files) in sorted(found.items()):
        files = sorted(files, key=lambda f: (f.stem != base, list(kinds.FILE_KINDS).index(f.suffix.lower()), f.name))
        res.append(kinds.FoundOutput(k.kind, m["scope"], m["period"] or "", tuple(files)))
    return res


def test_found_outputs_are_those_pathlib_finds_in_the_same_order(tmp_path, monkeypatch):
    """The front page's search for outputs walks the folder listings with strings; it finds the
    same outputs, files and order as pathlib's rglob: folders whose names sort differently as
    text and as paths (``a-b`` / ``a/x``), hidden files and folders, links to files (taken) and
    to folders (not entered), upper-case suffixes, companions, files of no registered kind."""
    from inobhut.reports import kinds

    monkeypatch.setattr(kinds, "OUTPUT_KINDS", (*kinds.OUTPUT_KINDS, kinds.OutputKind(
        "probemeldung", "Probemeldungen", "Probemeldung", companions=("_anhang",))))
    out = tmp_path / "out"
    names = ["jahresbericht_08111_2024.html", "jahresbericht_08111_2024.xlsx", "jahresbericht_08111_2024.HTML",
             "probemeldung_08111_2024.csv", "probemeldung_08111_2024_anhang.csv", "probemeldung_08111_2024_anhang.json",
             ".landesbericht_bw_2024-01.html", "landesbericht_bw_2024-01.txt", "notiz.html", "x.", ".html",
             "lieferstatus_bw_2024-01.html"]
    for folder in ("berichte", "berichte/a-b", "berichte/a/x", "berichte/a", "berichte/.versteckt",
                   "jugendaemter/08111/2024", "jugendaemter/08111-2024", "andere"):
        (out / folder).mkdir(parents=True, exist_ok=True)
        for n in names:
            (out / folder / n).write_text(n, encoding="utf-8")
    (out / "berichte" / "verknuepft").symlink_to(out / "berichte" / "a")  # a folder link: not entered
    (out / "berichte" / "a" / "jahresbericht_08115_2023.html").symlink_to(out / "andere" / "notiz.html")
    (out / "berichte" / "kaputt_2024.html").symlink_to(out / "fehlt.html")  # a broken link: no file
    got = kinds.find_outputs(out)
    assert got == _find_outputs_by_rglob(out, kinds)
    assert len(got) > 20 and any(len(f.files) == 3 for f in got)
