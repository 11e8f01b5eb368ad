"""Run a compiled per-agent kernel over agent rows on several threads.

A learning kernel (:mod:`scarline.learning.update_kernel`, the replay sampler in
:mod:`scarline.learning.buffer`, the acting in :mod:`scarline.learning.acting`) treats agent
i from its own inputs into its own outputs, so splitting the rows into contiguous blocks only
changes which thread an agent runs on, never its arithmetic: the result is the same bits at
any thread count. The kernels release the GIL (``nogil=True``), so Python threads run them
in parallel. (numba's own parallel loops were not used: its OpenMP layer is not fork-safe,
and gate and island workers are forked.)
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from itertools import pairwise

import numpy as np

PIECES = 4
"""Blocks a thread's share is cut into (at most), taken one at a time."""


class RowSplit:
    """``run(kernel, n)`` calls ``kernel(lo, hi)`` on blocks covering ``[0, n)``, on every
    thread.

    ``threads``: a count, or a function asked at every run (the learner passes
    ``torch.get_num_threads``, so a worker that pins torch to one thread runs these passes on
    one too). The pool is made on first use and is this object's own (no global state). A
    forked child makes its own (its parent's threads do not exist there), and a copy starts
    without one.
    """

    def __init__(self, threads: int | Callable[[], int]) -> None:
        self._threads = threads
        self._pool: ThreadPoolExecutor | None = None
        self._owner: tuple[int, int] = (0, 0)  # (pid, threads) the pool was made for
        self._cuts: dict[tuple[int, int], list[tuple[int, int]]] = {}  # (n, count): blocks

    @property
    def threads(self) -> int:
        return max(1, self._threads() if callable(self._threads) else self._threads)

    def run(self, kernel: Callable[[int, int], None], n: int, min_block: int = 1) -> None:
        """``kernel`` over ``[0, n)`` in blocks of at least ``min_block`` rows (a small
        population's pass is shorter than a hand-off to a thread), up to :data:`PIECES` a
        thread: each thread takes the next block when done with its last, so one held up
        (the WAL's helper thread on its core) leaves the rest to the others. The calling
        thread takes blocks too: one hand-off fewer, and it would only wait.

        Every block has ended when ``run`` returns or raises. The first error raised in
        the calling thread wins (the blocks not yet taken are dropped), else a worker's."""
        threads = self.threads
        if threads == 1 or n < threads * max(2, min_block):
            kernel(0, n)
            return
        owner = (os.getpid(), threads)
        if self._pool is None or self._owner != owner:
            if self._pool is not None and self._owner[0] == owner[0]:
                self._pool.shutdown(wait=False)  # the thread count changed
            self._pool = ThreadPoolExecutor(threads - 1, thread_name_prefix="scarline-rows")
            self._owner = owner
        count = min(threads * PIECES, n // max(2, min_block))  # >= threads, by the test above
        cuts = self._cuts.get((n, count))
        if cuts is None:  # a population's size rarely changes: cut once (~6 µs a call)
            cuts = list(pairwise(np.linspace(0, n, count + 1).astype(int).tolist()))
            if len(self._cuts) >= 64:  # bounded, whatever sizes a caller passes
                self._cuts.clear()
            self._cuts[(n, count)] = cuts
        blocks = iter(cuts)
        lock = threading.Lock()

        def next_block() -> tuple[int, int] | None:
            with lock:  # each block is taken once (the GIL alone would not say so everywhere)
                return next(blocks, None)

        def take() -> None:
            while (block := next_block()) is not None:
                kernel(*block)

        futures = [self._pool.submit(take) for _ in range(threads - 1)]
        try:
            take()
        except BaseException:
            with lock:
                for _ in blocks:  # the others stop after the block they are in
                    pass
            raise
        finally:
            wait(futures)
        for future in futures:
            future.result()  # a worker's error

    def __deepcopy__(self, memo: dict[int, object]) -> RowSplit:
        return RowSplit(self._threads)

    def __getstate__(self) -> dict[str, object]:
        return {"_threads": self._threads, "_pool": None, "_owner": (0, 0), "_cuts": {}}
