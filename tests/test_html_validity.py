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
from pathlib import Path

import pytest

from tests.helpers_outputs import kind_of, render_every_kind

ROOT = Path(__file__).resolve().parents[1]
VNU_JAR = Path(os.environ.get("INOBHUT_VNU_JAR", ROOT / ".tools" / "node_modules" / "vnu-jar" / "build" / "dist" / "vnu.jar"))

BROKEN = """<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>kaputt</title></head>
<body><table><tr><td>1</td></tr></table><p><div>Block in Absatz</p></div></body></html>"""


@pytest.fixture(scope="module")
def pages(tmp_path_factory) -> list[Path]:
    return [f for f in render_every_kind(tmp_path_factory.mktemp("nu")) if f.suffix == ".html"]


def _vnu(files: list[Path]) -> list[dict]:
    java = shutil.which("java")
    assert java, "Java fehlt: scripts/test.sh installiert es (apt-get install default-jre-headless)"
    assert VNU_JAR.is_file(), f"Nu Html Checker fehlt ({VNU_JAR}): scripts/test.sh installiert ihn (npm, vnu-jar)"
    res = subprocess.run([java, "-jar", str(VNU_JAR), "--format", "json", "--also-check-css", *map(str, files)],
                         capture_output=True, text=True, timeout=600)
    return json.loads(res.stderr or "{}").get("messages", [])


@pytest.mark.htmlcheck
def test_all_pages_pass_the_nu_html_checker(pages, tmp_path):
    assert {kind_of(p) for p in pages} == {"landesbericht", "jugendamtsbericht", "lieferstatus", "platzuebersicht",
                                           "jahresbericht", "strategiebericht", "index", "pruefbericht",
                                           "uma_tagesmeldung", "fristenliste", "protokoll"}
    index = next(p for p in pages if p.name == "index.html")
    assert "bundesstatistik_" in index.read_text(encoding="utf-8")  # the index lists the federal statistic too
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
