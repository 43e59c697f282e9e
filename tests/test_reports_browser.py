"""The four report kinds that are not per office × month (Lieferstatus, Platzübersicht,
Jahresbericht, Strategiebericht) in a real headless browser (Debian's Chromium via Playwright).

Same checks as tests/test_browser.py (helpers copied, not imported): no request leaves the page,
no console errors, axe-core finds no WCAG 2.1 A/AA violation, and a phone-sized viewport (390 px)
has no page-level horizontal scrolling. Fails, not skips, when Chromium is missing.
"""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import pytest

MONTHS = ["2024-03", "2024-04", "2024-05"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Chromium fehlt: scripts/test.sh installiert ihn mit apt-get install chromium"
    return exe


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    warnings.filterwarnings("ignore")
    import os

    from inobhut.config import Paths
    from inobhut.report_run import render_all_other_reports
    from inobhut.statistics import compute_month, write_month
    from tests.helpers_fixtures import activate_test_settings, load_fixture_warehouse

    tmp = tmp_path_factory.mktemp("browser_other")
    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp)
    try:
        wh = load_fixture_warehouse(tmp / "w.duckdb")
        with wh.connect() as con:
            for m in MONTHS:
                write_month(con, m, compute_month(con, m))
        paths = Paths(tmp / "l", tmp / "a", tmp / "s", tmp / "w.duckdb", tmp / "out")
        yield render_all_other_reports(paths, wh)
    finally:
        if old is None:
            os.environ.pop("INOBHUT_CONFIG", None)
        else:
            os.environ["INOBHUT_CONFIG"] = old


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()


def _open(browser, url: str, viewport=None):
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    foreign, errors = [], []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, foreign, errors


PAGES = ["lieferstatus_SH-KOOP_2024-05.html", "platzuebersicht_BW.html", "jahresbericht_BW_2024.html",
         "strategiebericht_SH-KOOP.html"]


@pytest.mark.browser
@pytest.mark.parametrize("name", PAGES)
def test_report_self_contained_accessible_and_phone_friendly(rendered, browser, name):
    from axe_playwright_python.sync_playwright import Axe

    path: Path = next(p for p in rendered if p.name == name)
    page, foreign, errors = _open(browser, path.as_uri())
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.title().strip()
    assert page.locator("table caption").count() >= 3
    assert foreign == [], foreign
    assert errors == [], errors
    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
    violations = [(v["id"], len(v["nodes"])) for v in result.response["violations"]]
    assert violations == [], violations
    page.close()

    phone, _, _ = _open(browser, path.as_uri(), viewport={"width": 390, "height": 844})
    overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
    assert overflow <= 1, overflow
    phone.close()


@pytest.mark.browser
def test_strategiebericht_charts_have_text_alternative(rendered, browser):
    path = next(p for p in rendered if p.name == "strategiebericht_SH-KOOP.html")
    page, _, errors = _open(browser, path.as_uri())
    svgs = page.locator("svg[role='img']")
    assert svgs.count() >= 3
    for i in range(svgs.count()):
        s = svgs.nth(i)
        assert (s.get_attribute("aria-labelledby") or s.get_attribute("aria-label")), i
    assert errors == []
    page.close()
