"""Per-agent counts over a sliding window of steps, O(N) per step whatever the window.

The order-rate rule and the ladder's breach counter both ask "how many in the last W
steps?". A ring of W per-step count rows plus a running total answers in one vector read;
moving forward expires only the rows that left the window (steps ≤ t − W).
"""

from __future__ import annotations

import numpy as np


class WindowCounter:
    """Counts per agent over the steps ``(t - window, t]``; steps never go backwards."""

    def __init__(self, n_agents: int, window: int) -> None:
        if window < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = window
        self._ring = np.zeros((window, n_agents), dtype=np.int64)
        self._total = np.zeros(n_agents, dtype=np.int64)
        self._dirty = [False] * window  # rows holding counts; clean rows expire for free
        self._step: int | None = None

    def advance(self, step: int) -> None:
        """Move to ``step``, expiring the rows of steps that fell out of the window."""
        last = self._step
        if last is None:
            self._step = step
            return
        if step < last:
            raise ValueError(f"step {step} is before the last step seen ({last})")
        gap = step - last
        if gap >= self.window:
            if any(self._dirty):
                self._ring[:] = 0
                self._total[:] = 0
                self._dirty = [False] * self.window
        else:
            for k in range(last + 1, step + 1):  # at most window - 1 rows, never per agent
                slot = k % self.window
                if self._dirty[slot]:
                    row = self._ring[slot]
                    self._total -= row
                    row[:] = 0
                    self._dirty[slot] = False
        self._step = step

    def totals(self, step: int) -> np.ndarray:
        """``int64[N]`` counts within the window ending at ``step`` (a copy)."""
        self.advance(step)
        return self._total.copy()

    def add(self, step: int, counts: np.ndarray) -> None:
        """Add ``int64[N]`` counts at ``step``."""
        self.advance(step)
        self._ring[step % self.window] += counts
        self._total += counts
        self._dirty[step % self.window] = True

    def clear(self, agents: np.ndarray) -> None:
        """Forget the counts of ``agents`` (a new agent took their rows)."""
        self._ring[:, agents] = 0
        self._total[agents] = 0
