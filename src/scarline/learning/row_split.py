"""Run a compiled per-agent kernel over agent rows on several threads.

A learning kernel (:mod:`scarline.learning.update_kernel`, the replay sampler in
:mod:`scarline.learning.buffer`) treats agent i from its own inputs into its own outputs, so
splitting the rows into contiguous blocks only changes which thread an agent runs on, never
its arithmetic: the result is the same bits at any thread count. The kernels release the GIL
(``nogil=True``), so Python threads run them in parallel.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import pairwise

import numpy as np


class RowSplit:
    """``run(kernel, n)`` calls ``kernel(lo, hi)`` on ``threads`` blocks covering ``[0, n)``.

    The pool is made on first use and is this object's own (no global state); a copy (a
    kernel forked for a gate's prefix) starts without one, as thread pools do not copy.
    """

    def __init__(self, threads: int) -> None:
        self.threads = max(1, threads)
        self._pool: ThreadPoolExecutor | None = None

    def run(self, kernel: Callable[[int, int], None], n: int) -> None:
        if self.threads == 1 or n < 2 * self.threads:
            kernel(0, n)
            return
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="scarline-rows")
        cuts = np.linspace(0, n, self.threads + 1).astype(int).tolist()
        for future in [self._pool.submit(kernel, lo, hi) for lo, hi in pairwise(cuts)]:
            future.result()  # re-raises a block's error

    def __deepcopy__(self, memo: dict[int, object]) -> RowSplit:
        return RowSplit(self.threads)

    def __getstate__(self) -> dict[str, object]:
        return {"threads": self.threads, "_pool": None}
