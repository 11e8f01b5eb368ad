"""Clocks: where the kernel's notion of *now* comes from.

Nothing on the run path reads the wall clock: in simulation and replay, time is the
timestamp of the event being processed (:class:`SimClock`). :class:`Clock` is the port a
live session's clock will implement (not built yet); whatever time it gives must be
journaled with each record, so that replay sees the same times.
"""

from __future__ import annotations

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
