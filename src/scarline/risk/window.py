"""Per-agent counts over a sliding window of steps, O(N) per step whatever the window.

The order-rate rule and the ladder's breach counter both ask "how many in the last W
steps?". One count row per step that counted something, plus a running total, answers in
one vector read; moving forward expires only the rows that left the window (steps ≤ t − W).
Rows are kept for counting steps only, never one per step of the window: a window of 10¹²
steps (legal in the config: "the whole run") used to allocate a ring of W rows and failed
with an out-of-memory error before the first step.
"""

from __future__ import annotations

import numpy as np


class WindowCounter:
    """Counts per agent over the steps ``(t - window, t]``; steps never go backwards."""

    def __init__(self, n_agents: int, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._rows: dict[int, np.ndarray] = {}  # step -> counts, in step order (inserted so)
        self._total = np.zeros(n_agents, dtype=np.int64)
        self._step: int | None = None

    def advance(self, step: int) -> None:
        """Move to ``step``, expiring the rows of steps that fell out of the window."""
        last = self._step
        if last is not None and step < last:
            raise ValueError(f"step {step} is before the last step seen ({last})")
        self._step = step
        horizon = step - self.window  # rows of steps <= horizon have left the window
        rows = self._rows
        while rows:
            first = next(iter(rows))
            if first > horizon:
                break
            self._total -= rows.pop(first)

    def totals(self, step: int) -> np.ndarray:
        """``int64[N]`` counts within the window ending at ``step`` (a copy)."""
        self.advance(step)
        return self._total.copy()

    def add(self, step: int, counts: np.ndarray) -> None:
        """Add ``int64[N]`` counts at ``step``."""
        self.advance(step)
        row = self._rows.get(step)
        if row is None:
            row = self._rows[step] = np.zeros_like(self._total)
        row += counts
        self._total += counts

    def clear(self, agents: np.ndarray) -> None:
        """Forget the counts of ``agents`` (a new agent took their rows)."""
        for row in self._rows.values():
            row[agents] = 0
        self._total[agents] = 0
