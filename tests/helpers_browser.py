"""Shared pieces of the browser tests: Chromium, opening a page with request/console capture,
the axe-core run, and the hand-made fixture warehouse with its statistics computed."""

from __future__ import annotations

import contextlib
import os
import shutil
from collections.abc import Iterator

MONTHS = ["2024-03", "2024-04", "2024-05"]
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]


def chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "Chromium fehlt: scripts/test.sh installiert ihn mit apt-get install chromium"
    return exe


def open_page(browser, url: str, viewport=None):
    """The page plus lists that collect requests leaving the page and console errors."""
    page = browser.new_page(viewport=viewport or {"width": 1280, "height": 900})
    foreign, errors = [], []
    page.on("request", lambda r: foreign.append(r.url) if not r.url.startswith(("file:", "data:")) else None)
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_load_state("load")
    return page, foreign, errors


def axe_violations(page) -> list[tuple[str, int]]:
    from axe_playwright_python.sync_playwright import Axe

    result = Axe().run(page, options={"runOnly": {"type": "tag", "values": WCAG_TAGS}})
    return [(v["id"], len(v["nodes"])) for v in result.response["violations"]]


def page_overflow(page) -> int:
    """Horizontal scrolling of the whole page (tables scroll inside their wrappers instead)."""
    return page.evaluate("document.documentElement.scrollWidth - window.innerWidth")


@contextlib.contextmanager
def fixture_outputs(tmp) -> Iterator[tuple]:
    """(paths, warehouse) of the hand-made fixtures with their statistics, test settings active."""
    from inobhut.config import Paths
    from inobhut.statistics import compute_month, write_month
    from tests.helpers_fixtures import activate_test_settings, load_fixture_warehouse

    old = os.environ.get("INOBHUT_CONFIG")
    activate_test_settings(tmp)
    try:
        wh = load_fixture_warehouse(tmp / "w.duckdb")
        with wh.connect() as con:
            for m in MONTHS:
                write_month(con, m, compute_month(con, m))
        yield Paths(tmp / "l", tmp / "a", tmp / "s", tmp / "w.duckdb", tmp / "out"), wh
    finally:
        if old is None:
            os.environ.pop("INOBHUT_CONFIG", None)
        else:
            os.environ["INOBHUT_CONFIG"] = old
