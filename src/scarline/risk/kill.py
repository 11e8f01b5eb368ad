"""The kill switch: once fired, every agent is halted and every position is flattened.

It can fire from the config (``risk.kill = true``), from a flag file (``RUN_DIR/KILL`` for
one run, ``<runs_root>/KILL`` for all runs: what ``scarline kill RUN_DIR|--all`` writes,
polled by :class:`scarline.operator.LiveOperator`), or from an explicit
:meth:`KillState.fire`. Flattening is the kernel's: killed agents get zero targets.
It never un-fires within a run, and the risk engine checks it before any other state, so
it always wins.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from scarline.rundir import RunDir

KillSource = Literal["config", "flag-file", "cli", "api"]
"""Where a kill came from (the same names as :class:`scarline.events.KillSwitch`)."""


@dataclass
class KillState:
    """The kill switch's state: whether it fired, and when, why and from where (first firing
    wins). The WAL event a kill is journaled as is :class:`scarline.events.KillSwitch`."""

    fired: bool = False
    step: int | None = None
    reason: str = ""
    source: KillSource | None = None

    def fire(self, step: int, reason: str, source: KillSource = "api") -> bool:
        """Fire at ``step``; False (and no change) when it had already fired."""
        if self.fired:
            return False
        self.fired, self.step, self.reason, self.source = True, step, reason, source
        return True


REASON_BYTES = 4096
"""At most this much of a flag file is read as the kill's reason (it goes into the WAL)."""


def kill_file(run_dir: Path, runs_root: Path | None = None) -> Path | None:
    """The flag path that is present (the run's own first), or ``None``.

    Anything at the path counts — a directory, a dangling link, a file nobody can read: an
    operator who made the flag wrongly still meant to kill, and ignoring it is the one
    outcome that must not happen.
    """
    candidates = [RunDir(Path(run_dir)).kill]
    if runs_root is not None:
        candidates.append(Path(runs_root) / RunDir.KILL)  # every run under the root
    return next((p for p in candidates if os.path.lexists(p)), None)


def kill_reason(path: Path) -> str:
    """The reason a flag gives: its text (UTF-8, undecodable bytes replaced), else what is
    wrong with it. Never raises: a flag that cannot be read still kills, it does not crash
    the run mid-step."""
    if os.path.isdir(path):
        return f"flag {path} (a directory)"
    try:  # non-blocking: a FIFO without a writer must not stall the kernel
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        try:
            raw = os.read(fd, REASON_BYTES)
        finally:
            os.close(fd)
    except OSError as err:
        return f"flag file {path} (unreadable: {err.strerror or type(err).__name__})"
    return raw.decode("utf-8", errors="replace").strip() or f"flag file {path}"
