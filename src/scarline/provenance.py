"""What code and environment produced a run (for the run manifest)."""

from __future__ import annotations

import hashlib
import platform
from functools import cache
from importlib import metadata
from pathlib import Path

from scarline._version import __version__

_PACKAGES = ("numpy", "pandas", "msgspec", "pydantic", "torch")


@cache
def code_hash() -> str:
    """sha256 over every ``.py`` file of the installed scarline package (path and bytes)."""
    root = Path(__file__).resolve().parent
    h = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(path.read_bytes() + b"\0")
    return h.hexdigest()


def run_code_hash(strategy_sources: dict[str, str]) -> str:
    """The code a run ran: scarline's :func:`code_hash`, and with user strategies the
    sha256 of each strategy file too (so editing a strategy changes the run's code hash)."""
    if not strategy_sources:
        return code_hash()
    h = hashlib.sha256(code_hash().encode())
    for file, digest in sorted(strategy_sources.items()):
        h.update(b"\0" + file.encode() + b"\0" + digest.encode())
    return h.hexdigest()


def environment() -> dict[str, str]:
    env = {"python": platform.python_version(), "scarline": __version__}
    for name in _PACKAGES:
        try:
            env[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            continue
    return env
