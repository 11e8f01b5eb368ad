"""How much memory this machine can still give, and how to say a size to a person.

Checked before the big allocations a run makes (the market's panel, the population), so a
config or a data file that cannot fit is refused with the figures, not killed by the OS.
"""

from __future__ import annotations

from pathlib import Path


def available_memory() -> int | None:
    """Bytes the machine can still give: ``MemAvailable`` of ``/proc/meminfo`` (Linux), else
    psutil's figure if installed, else None (not checked)."""
    try:
        for line in Path("/proc/meminfo").read_text(encoding="ascii").splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        import psutil  # type: ignore[import-not-found, unused-ignore]
    except ImportError:
        return None
    return int(psutil.virtual_memory().available)


def gib(n: int) -> str:
    """``n`` bytes as GiB (from a quarter GiB on) or MiB."""
    return f"{n / 2**30:,.1f} GiB" if n >= 2**28 else f"{n / 2**20:,.1f} MiB"
