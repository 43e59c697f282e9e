"""Shared pieces of the browser tests: Chromium, opening a page with request/console capture,
the axe-core run, and the hand-made fixture warehouse with its statistics computed."""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import Iterator

from tests.helpers_fixtures import FIXTURE_MONTHS as MONTHS  # noqa: F401 - re-exported for the browser tests

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
    from tests.helpers_fixtures import fixture_statistics

    with fixture_statistics(tmp) as wh:
        yield Paths(tmp / "l", tmp / "a", tmp / "s", wh.path, tmp / "out"), wh
