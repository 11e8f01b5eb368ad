"""Headless Chromium for the browser tests: Debian's ``chromium`` driven by Playwright with
``executable_path`` (``playwright install`` cannot download browsers here). ``make test``
installs Chromium with apt as root; where none can be had a test is skipped, saying why."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = os.environ.get("SCARLINE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(
    os.environ.get("SCARLINE_TEST_ARTIFACTS", Path(__file__).resolve().parents[1] / ".artifacts")
)


def sync_playwright() -> Any:
    """Playwright's sync API, or a skip naming what is missing."""
    if shutil.which(CHROMIUM) is None and not Path(CHROMIUM).is_file():
        pytest.skip(f"NO BROWSER: {CHROMIUM} is missing (make test installs it with apt as root)")
    try:
        from playwright.sync_api import sync_playwright as start
    except ImportError:
        pytest.skip("NO BROWSER DRIVER: playwright is not installed (pip install -e '.[dev]')")
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return start


def wait_for(page: Any, expression: str, timeout: float = 15.0) -> None:
    """Poll ``expression`` in the page until true. (Playwright's ``wait_for_function``
    evaluates a string inside the page, which a strict Content-Security-Policy refuses.)"""
    deadline = time.monotonic() + timeout
    while not page.evaluate(expression):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout} s: {expression}")
        time.sleep(0.05)
