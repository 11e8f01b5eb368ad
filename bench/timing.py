"""Timing the bench scripts share (imported by its bare name, as ``flop`` is)."""

from __future__ import annotations

import math
import time
from collections.abc import Callable


def fastest(call: Callable[[], object], repeat: int) -> float:
    """The fastest of ``repeat`` calls, in seconds (timeit's rule: the least disturbed)."""
    best = math.inf
    for _ in range(repeat):
        start = time.perf_counter()
        call()
        best = min(best, time.perf_counter() - start)
    return best
