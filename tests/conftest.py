"""Shared fixtures: isolated directories and environment for every test that needs them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")

FIXTURES = Path(__file__).parent / "fixtures"
TEST_ENV_KEY = "test-schluessel-nur-fuer-pytest-7f3a9c2e51"  # >= 32 bytes, as the key rules demand


@pytest.fixture
def inobhut_env(tmp_path, monkeypatch):
    """Directories under tmp_path exported as INOBHUT_* and DAGSTER_HOME, plus a test key."""
    from inobhut.config import Paths

    paths = Paths.from_env(
        landing=tmp_path / "landing", archive=tmp_path / "archive", staging=tmp_path / "staging",
        warehouse=tmp_path / "warehouse.duckdb", out=tmp_path / "out",
    )
    for var, val in {
        "INOBHUT_LANDING": paths.landing, "INOBHUT_ARCHIVE": paths.archive, "INOBHUT_STAGING": paths.staging,
        "INOBHUT_WAREHOUSE": paths.warehouse, "INOBHUT_OUT": paths.out, "DAGSTER_HOME": tmp_path / "dagster_home",
    }.items():
        monkeypatch.setenv(var, str(val))
    monkeypatch.setenv("INOBHUT_PSEUDONYM_KEY", TEST_ENV_KEY)
    paths.landing.mkdir(parents=True)
    return paths


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    from playwright.sync_api import sync_playwright

    from tests.helpers_browser import CHROMIUM_ARGS, chromium

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), args=CHROMIUM_ARGS)
        yield b
        b.close()
