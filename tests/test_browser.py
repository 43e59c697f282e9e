"""The HTML outputs in a real headless browser (Debian's Chromium driven by Playwright).

Checked for the index page, a Landesbericht and a Jugendamtsbericht: loads without any request
leaving the page (self-contained), no console errors, axe-core finds no accessibility violation
(WCAG 2.1 A/AA rules), a phone-sized viewport has no page-level horizontal scrolling, and the
index links lead to the reports. Chromium is installed by scripts/test.sh (apt); this test
fails, not skips, when it is missing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.helpers_browser import MONTHS, axe_violations, fixture_outputs, open_page, page_overflow

@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    warnings.filterwarnings("ignore")
    from inobhut.report_run import render_index_page, render_months

    with fixture_outputs(tmp_path_factory.mktemp("browser")) as (paths, wh):
        render_months(paths, wh, MONTHS)
        from tests.helpers_outputs import _bundesstatistik

        _bundesstatistik(paths, wh)  # the index also lists the federal statistic of each office
        index = render_index_page(paths, wh)
        assert "bundesstatistik_" in index.read_text(encoding="utf-8")
        yield index


def _pages(index: Path) -> list[Path]:
    berichte = index.parent
    return [
        index,
        next(berichte.rglob("landesbericht_BW_2024-05.html")),
        next(berichte.rglob("jugendamtsbericht_01060063_2024-05.html")),
    ]


@pytest.mark.browser
def test_pages_self_contained_accessible_and_phone_friendly(rendered, browser):
    for path in _pages(rendered):
        page, foreign, errors = open_page(browser, path.as_uri())
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.title().strip()
        assert foreign == [], (path.name, foreign)
        assert errors == [], (path.name, errors)
        assert axe_violations(page) == [], path.name
        page.close()

        phone, _, _ = open_page(browser, path.as_uri(), viewport={"width": 390, "height": 844})
        assert page_overflow(phone) <= 1, path.name
        phone.close()


@pytest.mark.browser
def test_index_links_lead_to_reports(rendered, browser, tmp_path):
    page, _, errors = open_page(browser, rendered.as_uri())
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
