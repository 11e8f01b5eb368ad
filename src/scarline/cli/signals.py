"""SIGTERM as SIGINT: a polite stop from a supervisor gets the same clean stop as Ctrl-C.

Python turns SIGINT into :class:`KeyboardInterrupt`, which unwinds through the runner's
abort path (the WAL is flushed, synced and closed; no manifest is written, so the run can be
finished with ``scarline wal seal``). SIGTERM's default action kills the process on the
spot, losing whatever the WAL writer still buffered. Raising the same exception from a
SIGTERM handler puts both signals on one path.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

EXIT_INTERRUPTED = 130
"""A command stopped by SIGINT or SIGTERM: 128 + SIGINT, what a shell reports for Ctrl-C."""


def signal_name(stop: KeyboardInterrupt) -> str:
    """``SIGTERM`` for an interrupt raised by :func:`sigterm_as_interrupt`, else ``SIGINT``."""
    return str(stop) if str(stop).startswith("SIG") else "SIGINT"


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While active, SIGTERM raises :class:`KeyboardInterrupt` in the main thread (once: a
    second SIGTERM during the stop is ignored, so the flush it started is not cut short).

    Outside the main thread (where handlers cannot be set) it does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    fired = False

    def interrupt(signum: int, frame: FrameType | None) -> None:
        nonlocal fired
        if fired:
            return
        fired = True
        raise KeyboardInterrupt(signal.Signals(signum).name)

    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextmanager
def signals_set(stop: threading.Event) -> Iterator[None]:
    """While active, SIGINT and SIGTERM set ``stop`` instead of raising: a long-running
    session (``scarline paper``) finishes its step and closes the run cleanly. A second
    signal raises :class:`KeyboardInterrupt` (the user insists: the WAL is still flushed,
    and the run can be resumed). Outside the main thread it does nothing."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def request(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, request) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
