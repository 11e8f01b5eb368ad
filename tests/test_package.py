"""Importing the package: what it sets up for the process before torch loads."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

SHOW = "import scarline.events, os, torch; print(os.environ.get('OMP_WAIT_POLICY'))"


@pytest.mark.parametrize(("given", "expected"), [(None, "PASSIVE"), ("ACTIVE", "ACTIVE")])
def test_openmp_threads_sleep_when_idle_unless_the_user_says(
    given: str | None, expected: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OMP_WAIT_POLICY"}
    if given is not None:
        env["OMP_WAIT_POLICY"] = given
    out = subprocess.run(
        [sys.executable, "-c", SHOW], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == expected


def test_python_dash_m_scarline_is_the_command() -> None:
    """``python -m scarline`` was "No module named scarline.__main__"."""
    from scarline import __version__

    out = subprocess.run(
        [sys.executable, "-m", "scarline", "--version"], capture_output=True, text=True
    )
    assert out.returncode == 0 and out.stdout.strip() == f"scarline {__version__}"


def test_dir_lists_the_lazy_api() -> None:
    """``dir(scarline)`` (tab completion) listed none of ``backtest``, ``Strategy``, …"""
    import scarline

    assert set(scarline.__all__) <= set(dir(scarline))
