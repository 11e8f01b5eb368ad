"""Keep the garbage collector's full passes off the objects a run stands on.

A kernel at N = 4096 stands on ~540,000 objects that CPython's cyclic collector tracks:
torch's and numba's functions, types and closures (~370,000 once they are imported), the
config, the market, the kernel. None of them becomes garbage while the run steps, but a full
collection (generation 2) walks every one: 200–270 ms on the 2-core bench machine, at
moments set by allocation counts, not by the run. An arena run of 5 s at N = 4096 took
4.87 s against 4.30–4.44 s when one landed in its loop. (Those during imports and set-up,
8 in ``make run``, ~1 s of its ~23 s, happen before any loop and stay.)

:func:`settled_heap` moves everything that exists when a loop starts into the collector's
permanent generation (``gc.freeze``), where no collection looks, and back into the oldest
generation when the loop ends (``gc.unfreeze``); both are O(1). Objects made during the loop
are collected as before, and cyclic garbage among the frozen ones is collected after the
loop. Results do not depend on it: the collector frees memory, it computes nothing a run
records.

The price: cyclic garbage that exists when a loop starts lives until the loop ends (the
arena bench's peak RSS, three runs of each kind in one process: 1,386 MiB against 1,359).

It leaves the permanent generation alone when something already keeps objects there (a
server that froze its heap before forking workers, an enclosing loop, a loop on another
thread): unfreezing would hand those objects back to the collector. The permanent
generation is the process's, so of two loops on two threads the first to end releases it
for both; the other runs on without the shortcut, with the same results.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def settled_heap() -> Iterator[None]:
    """Within the block, full collections skip every object that existed when it began."""
    if gc.get_freeze_count():  # someone else's frozen objects: not ours to hand back
        yield
        return
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
