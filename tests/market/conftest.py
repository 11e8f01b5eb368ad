"""Helpers shared by the market tests: write small CSV files from text."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def write_text(tmp_path: Path) -> Callable[[str, str], Path]:
    """``write_text("prices.csv", body)`` → the path of a file holding ``body``."""

    def write(name: str, body: str) -> Path:
        path = tmp_path / name
        path.write_text(body)
        return path

    return write
