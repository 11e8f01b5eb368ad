"""The kill switch: once fired, every agent is halted and every position is flattened.

It can fire from the config (``risk.kill = true``), from a flag file (``RUN_DIR/KILL`` for
one run, ``<runs_root>/KILL`` for all runs: what ``scarline kill RUN_DIR|--all`` writes),
or from an explicit :meth:`KillSwitch.fire`. It never un-fires within a run, and the risk
engine checks it before any other state, so it always wins.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np

from scarline.execution.types import MARKET, OrderBatch

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


def kill_file_present(run_dir: Path, runs_root: Path | None = None) -> bool:
    """True when ``RUN_DIR/KILL`` or ``<runs_root>/KILL`` (the ``--all`` form) exists."""
    return kill_file(run_dir, runs_root) is not None


def flatten_intents(
    positions: np.ndarray, pending: np.ndarray | None, next_order_id: int, step: int
) -> OrderBatch:
    """Reducing market orders that bring every position + pending exactly to zero.

    One order per nonzero (agent, instrument), in row-major order, with consecutive order
    ids from ``next_order_id``; the kernel cancels resting orders first (then pass
    ``pending=None``) or lets these net against them.
    """
    exposure = np.asarray(positions, dtype=np.int64)
    if pending is not None:
        exposure = exposure + np.asarray(pending, dtype=np.int64)
    agent, instrument = np.nonzero(exposure)
    held = exposure[agent, instrument]
    k = len(held)
    return OrderBatch(
        order_id=np.arange(next_order_id, next_order_id + k, dtype=np.int64),
        agent=agent.astype(np.int64),
        instrument=instrument.astype(np.int64),
        side=(-np.sign(held)).astype(np.int8),
        qty=np.abs(held),
        order_type=np.full(k, MARKET, dtype=np.int8),
        limit_price=np.zeros(k, dtype=np.int64),
        decision_step=np.full(k, step, dtype=np.int64),
        reducing=np.ones(k, dtype=bool),
    )
