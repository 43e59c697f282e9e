"""The HTML outputs in a real headless browser (Debian's Chromium driven by Playwright).

Checked for the index page, a Landesbericht and a Jugendamtsbericht: loads without any request
leaving the page (self-contained), no console errors, axe-core finds no accessibility violation
(WCAG 2.1 A/AA rules), a phone-sized viewport has no page-level horizontal scrolling, and the
index links lead to the reports. Chromium is installed by scripts/test.sh (apt); this test
fails, not skips, when it is missing.
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
    from inobhut.report_run import render_index_page, render_months
    from inobhut.statistics import compute_month, write_month
    from tests.helpers_fixtures import activate_test_settings, load_fixture_warehouse

    tmp = tmp_path_factory.mktemp("browser")
    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp)
    try:
        wh = load_fixture_warehouse(tmp / "w.duckdb")
        with wh.connect() as con:
            for m in MONTHS:
                write_month(con, m, compute_month(con, m))
        paths = Paths(tmp / "l", tmp / "a", tmp / "s", tmp / "w.duckdb", tmp / "out")
        render_months(paths, wh, MONTHS)
        index = render_index_page(paths, wh)
        yield index
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


def _pages(index: Path) -> list[Path]:
    berichte = index.parent
    return [
        index,
        next(berichte.rglob("landesbericht_BW_2024-05.html")),
        next(berichte.rglob("jugendamtsbericht_01060063_2024-05.html")),
    ]


@pytest.mark.browser
def test_pages_self_contained_accessible_and_phone_friendly(rendered, browser):
    from axe_playwright_python.sync_playwright import Axe

    axe = Axe()
    for path in _pages(rendered):
        page, foreign, errors = _open(browser, path.as_uri())
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.title().strip()
        assert foreign == [], (path.name, foreign)
        assert errors == [], (path.name, errors)
        result = axe.run(page, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}})
        violations = [(v["id"], len(v["nodes"])) for v in result.response["violations"]]
        assert violations == [], (path.name, violations)
        page.close()

        phone, _, _ = _open(browser, path.as_uri(), viewport={"width": 390, "height": 844})
        overflow = phone.evaluate("document.documentElement.scrollWidth - window.innerWidth")
        assert overflow <= 1, (path.name, overflow)
        phone.close()


@pytest.mark.browser
def test_index_links_lead_to_reports(rendered, browser, tmp_path):
    page, _, errors = _open(browser, rendered.as_uri())
    links = page.locator("a[href$='.html']")
    assert links.count() >= 4 * 3 + 2 * 3  # every Jugendamts- and Landesbericht of the three months
    href = links.first.get_attribute("href")
    links.first.click()
    page.wait_for_load_state("load")
    assert page.url.endswith(href.split("/")[-1])
    assert page.locator("h1").first.inner_text().strip()
    assert page.locator("table caption").count() >= 3
    shot = tmp_path / "bericht.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    assert errors == []
