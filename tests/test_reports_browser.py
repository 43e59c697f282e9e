"""The four report kinds that are not per office × month (Lieferstatus, Platzübersicht,
Jahresbericht, Strategiebericht) in a real headless browser (Debian's Chromium via Playwright).

Same checks as tests/test_browser.py (shared helpers in tests/helpers_browser.py): no request leaves the page,
no console errors, axe-core finds no WCAG 2.1 A/AA violation, and a phone-sized viewport (390 px)
has no page-level horizontal scrolling. Fails, not skips, when Chromium is missing.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from tests.helpers_browser import axe_violations, fixture_outputs, open_page, page_overflow


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    warnings.filterwarnings("ignore")
    from inobhut.report_run import render_all_other_reports

    with fixture_outputs(tmp_path_factory.mktemp("browser_other")) as (paths, wh):
        yield render_all_other_reports(paths, wh)


PAGES = ["lieferstatus_SH-KOOP_2024-05.html", "platzuebersicht_BW.html", "jahresbericht_BW_2024.html",
         "strategiebericht_SH-KOOP.html"]


@pytest.mark.browser
@pytest.mark.parametrize("name", PAGES)
def test_report_self_contained_accessible_and_phone_friendly(rendered, browser, name):
    path: Path = next(p for p in rendered if p.name == name)
    page, foreign, errors = open_page(browser, path.as_uri())
    assert page.locator("html").get_attribute("lang") == "de"
    assert page.title().strip()
    assert page.locator("table caption").count() >= 3
    assert foreign == [], foreign
    assert errors == [], errors
    assert axe_violations(page) == []
    page.close()

    phone, _, _ = open_page(browser, path.as_uri(), viewport={"width": 390, "height": 844})
    assert page_overflow(phone) <= 1
    phone.close()


@pytest.mark.browser
def test_strategiebericht_charts_have_text_alternative(rendered, browser):
    path = next(p for p in rendered if p.name == "strategiebericht_SH-KOOP.html")
    page, _, errors = open_page(browser, path.as_uri())
    svgs = page.locator("svg[role='img']")
    assert svgs.count() >= 3
    for i in range(svgs.count()):
        s = svgs.nth(i)
        assert (s.get_attribute("aria-labelledby") or s.get_attribute("aria-label")), i
    assert errors == []
    page.close()


@pytest.fixture(scope="module")
def every_kind(tmp_path_factory):
    from tests.helpers_outputs import render_every_kind

    return render_every_kind(tmp_path_factory.mktemp("browser_every"))


@pytest.mark.browser
@pytest.mark.parametrize("name", ["index.html", "massnahmen_2025-03_v3.html"])
def test_front_page_and_pruefbericht_accessible_and_phone_friendly(every_kind, browser, name):
    """The front page (status matrix, changes, newest, archive with every <details> opened) and
    the Prüfbericht, the page a data steward reads most: same checks as the reports."""
    path: Path = next(p for p in every_kind if p.name == name)
    for viewport in ({"width": 1280, "height": 900}, {"width": 390, "height": 844}):
        page, foreign, errors = open_page(browser, path.as_uri(), viewport=viewport)
        assert page.locator("html").get_attribute("lang") == "de"
        assert page.title().strip()
        page.evaluate("document.querySelectorAll('details').forEach(d => d.open = true)")
        assert foreign == [], foreign
        assert errors == [], errors
        assert axe_violations(page) == [], viewport
        assert page_overflow(page) <= 1, viewport
        page.close()


@pytest.mark.browser
def test_front_page_status_is_told_in_text_not_only_colour(every_kind, browser):
    path = next(p for p in every_kind if p.name == "index.html")
    page, _, _ = open_page(browser, path.as_uri())
    cells = page.locator("table.status td")
    assert cells.count() == 4 * 4  # the fixtures: four offices × four datasets
    texts = {cells.nth(i).inner_text().split(" (")[0].split(";")[0] for i in range(cells.count())}
    assert texts <= {"angenommen", "mit Hinweisen", "abgelehnt", "überfällig", "noch nicht fällig"}, texts
    colours = {cells.nth(i).evaluate("e => getComputedStyle(e).backgroundColor") for i in range(cells.count())}
    assert len(colours) >= 2  # statuses differ in colour as well
    link = page.locator("table.status a").first
    link.click()
    page.wait_for_load_state("load")
    assert "Prüfbericht" in page.locator("h1").first.inner_text()
    page.close()
