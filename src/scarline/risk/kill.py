"""The kill switch: once fired, every agent is halted and every position is flattened.

It can fire from the config (``risk.kill = true``), from a flag file (``RUN_DIR/KILL`` for
one run, ``<runs_root>/KILL`` for all runs: what ``scarline kill RUN_DIR|--all`` writes,
polled by :class:`scarline.operator.LiveOperator`), or from an explicit
:meth:`KillSwitch.fire`. Flattening is the kernel's: killed agents get zero targets.
It never un-fires within a run, and the risk engine checks it before any other state, so
it always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

KILL_FILE = "KILL"
KillSource = Literal["config", "flag-file", "cli", "api"]
"""Where a kill came from (the same names as :class:`scarline.events.KillSwitch`)."""


@dataclass
class KillSwitch:
    """Whether the switch fired, and when, why and from where (first firing wins)."""

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


def kill_file(run_dir: Path, runs_root: Path | None = None) -> Path | None:
    """The flag file that is present (the run's own first), or ``None``."""
    candidates = [Path(run_dir) / KILL_FILE]
    if runs_root is not None:
        candidates.append(Path(runs_root) / KILL_FILE)
    return next((p for p in candidates if p.is_file()), None)
