"""Fixtures for the panel: live servers over each adapter, and a real headless Chromium."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .browser import PanelPage, new_panel_page
from .servers import ADAPTER_NAMES, Site, serve

CHROMIUM = os.environ.get("SUPPORTCHAT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(params=ADAPTER_NAMES)
def site(request: pytest.FixtureRequest) -> Iterator[Site]:
    """The panel and API over a fresh in-memory desk, on a real server, once per adapter."""
    with serve(str(request.param)) as served:
        yield served


@pytest.fixture
def fastapi_site() -> Iterator[Site]:
    with serve("fastapi") as served:
        yield served


def _chromium_missing() -> str | None:
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        return f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "Playwright for Python is not installed (pip install playwright; no browser download needed)"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """Debian's Chromium driven by Playwright; missing, it fails the run in CI and skips elsewhere."""
    missing = _chromium_missing()
    if missing:
        if os.environ.get("CI"):
            pytest.fail(missing + " — CI must install it")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        launched.close()


@pytest.fixture
def ui(browser: Any) -> Iterator[PanelPage]:
    """One instrumented page in Spanish, checked clean (no dialog, error, foreign request or injection) at the end."""
    page = new_panel_page(browser, "es-ES")
    yield page
    try:
        page.assert_clean()
    finally:
        page.context.close()
