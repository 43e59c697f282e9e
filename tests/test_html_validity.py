"""Every kind of HTML page inobhut writes, checked by the W3C Nu Html Checker (vnu.jar).

Pages: Landes- and Jugendamtsbericht, Lieferstatus, Platzübersicht, Jahres- and
Strategiebericht, the index page and a Prüfbericht, all rendered from the hand-made fixtures.
The checker runs once over all files (one JVM start, a few seconds) with CSS checking on; no
error and no warning may remain. A deliberately broken page in the same run proves that the
checker reports errors at all. ``scripts/test.sh`` installs Java and the pinned ``vnu-jar``
(npm registry) into ``.tools/``; the test fails, not skips, without them.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import warnings
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
VNU_JAR = Path(os.environ.get("INOBHUT_VNU_JAR", ROOT / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"))

BROKEN = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>kaputt</title></head>
<body><table><tr><td>1</td></tr></table><p><div>Block in Absatz</p></div></body></html>"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    warnings.filterwarnings("ignore")
    from inobhut.pruefbericht import write_pruefbericht
    from inobhut.report_run import render_all_other_reports, render_index_page, render_months
    from tests.helpers_browser import fixture_outputs
    from tests.test_pruefbericht import META, rejected_result

    tmp = tmp_path_factory.mktemp("nu")
    files: list[Path] = []
    (tmp / "fx").mkdir()
    with fixture_outputs(tmp / "fx") as (paths, wh):
        files += render_months(paths, wh, ["2024-05"])
        files += render_all_other_reports(paths, wh)
        files.append(render_index_page(paths, wh))
    files += write_pruefbericht(rejected_result(tmp), META, tmp / "pb")
    return [f for f in files if f.suffix == ".html"]


def _vnu(files: list[Path]) -> list[dict]:
    java = shutil.which("java")
    assert java, "Java fehlt: scripts/test.sh installiert es (apt-get install default-jre-headless)"
    assert VNU_JAR.is_file(), f"Nu Html Checker fehlt ({VNU_JAR}): scripts/test.sh installiert ihn (npm, vnu-jar)"
    res = subprocess.run([java, "-jar", str(VNU_JAR), "--format", "json", "--also-check-css", *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    return json.loads(res.stderr or "{}").get("messages", [])


@pytest.mark.htmlcheck
def test_all_pages_pass_the_nu_html_checker(pages, tmp_path):
    kinds = {p.name.split("_")[0].removesuffix(".html") for p in pages}
    assert {"landesbericht", "jugendamtsbericht", "lieferstatus", "platzuebersicht", "jahresbericht",
            "strategiebericht", "index", "massnahmen"} <= kinds  # massnahmen_…: the Prüfbericht
    broken = tmp_path / "kaputt.html"
    broken.write_text(BROKEN, encoding="utf-8")
    messages = _vnu([*pages, broken])
    by_file: dict[str, list[str]] = {}
    for m in messages:
        by_file.setdefault(Path(m.get("url", "").removeprefix("file:")).name, []).append(
            f"{m.get('type')}/{m.get('subType', '')} Zeile {m.get('lastLine')}: {m.get('message')}")
    # the checker works: the broken page has errors ...
    assert by_file.pop("kaputt.html", None), "der Nu-Checker meldet für eine fehlerhafte Seite nichts"
    # ... and ours have no error and no warning
    assert by_file == {}, json.dumps(by_file, ensure_ascii=False, indent=1)
