"""A thread that checks the wall-clock alert rules between steps.

The stale-heartbeat and feed-down alerts exist for the moments when no step happens: a
session stuck in a slow call, or a feed that stopped answering. Evaluating them only after a
step would raise them when they no longer matter, so this thread looks every ``period``
seconds. It only reads (the latest snapshot, the feed's state) and raises alerts through the
same thread-safe rules and book; it never touches the kernel, and an error in a check is
logged and the next check goes on — a watchdog must not be what stops a session.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import structlog

MIN_PERIOD, MAX_PERIOD = 0.2, 5.0


def period_for(bar_seconds: float) -> float:
    """A quarter bar, within [0.2 s, 5 s]: a 3-bar stale limit is seen well before 4 bars."""
    return min(max(bar_seconds / 4.0, MIN_PERIOD), MAX_PERIOD)


class Watchdog:
    """Calls ``check`` every ``period`` seconds on a daemon thread until :meth:`stop`."""

    def __init__(self, check: Callable[[], None], period: float) -> None:
        self._check = check
        self.period = period
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="scarline-watchdog", daemon=True)
        self.checks = 0

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5.0)

    def _loop(self) -> None:
        while not self._stop.wait(self.period):
            try:
                self._check()
            except Exception as err:
                structlog.get_logger("scarline.watchdog").warning("watchdog.check", error=str(err))
            self.checks += 1
