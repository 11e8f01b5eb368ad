"""Clocks: where the kernel's notion of *now* comes from.

Nothing on the run path reads the wall clock. In simulation and replay, time is the
timestamp of the event being processed (:class:`SimClock`); only the live profiles use
:class:`LiveClock`, and what it returns is journaled with each record, so replay still
sees the same times.
"""

from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    def now(self) -> int:
        """Current time in integer nanoseconds since the Unix epoch (UTC)."""
        ...


class SimClock:
    """Time driven by events; it never goes backwards."""

    def __init__(self, start: int = 0) -> None:
        self._now = start

    def now(self) -> int:
        return self._now

    def advance_to(self, ts: int) -> None:
        if ts < self._now:
            raise ValueError(f"clock cannot go back from {self._now} to {ts}")
        self._now = ts


class LiveClock:
    """Wall-clock time for paper/live sessions (never used in sim or replay)."""

    def now(self) -> int:
        return time.time_ns()
