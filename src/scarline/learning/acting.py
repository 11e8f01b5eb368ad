"""Greedy actions of a whole Q-network population in one compiled call (schema 11 on).

An acting step in torch is a dozen ops: gather the market rows, append the private part, mask,
one ``baddbmm`` and a ReLU per layer, an ``argmax``. Each costs microseconds of dispatch, so a
few agents (a frozen gate re-run of three candidates) spent ~60 µs a bar there; one loop per
agent does all of it in ~5 µs. At N = 4096 reading every agent's weights (8.4 MB for
12 → 32 → 3) is much of the cost either way; in a kernel run the loop, on one thread, still
beat torch's two. A large population's agents are spread over the learner's threads in
blocks (:data:`MIN_BLOCK`).

The rule that keeps replay exact: every layer sums its inputs in order, from the first and
starting at zero, adds the bias last, in float32, with no fused multiply-add (numba contracts
none without ``fastmath``), agent by agent, each agent on one thread. That is torch's own
order for a small layer (its plain batched kernel, under 400 multiply-adds a row: the output
layer), not MKL's for a larger one, so a Q-value may differ from torch's in its last bits and
an action on a near tie may differ. Runs of schema 11 on act here; older runs replay through
:meth:`scarline.learning.qnet.QPopulation.greedy` (``tests/learning/test_acting.py`` holds
this to a sequential reference bit for bit, and to torch within rounding).
"""

from __future__ import annotations

import numpy as np
from numba import njit

from scarline.learning.qnet import QPopulation
from scarline.learning.row_split import RowSplit

MIN_BLOCK = 1024
"""The fewest agents in a block of a split population (fewer than two blocks' worth: one
thread). Acting costs ~0.07 µs an agent, a hand-off 50–100 µs on the bench machine: at
N = 4096 two threads and one took about as long in an arena step (2026-12-07)."""


def greedy_actions(
    net: QPopulation,
    market: np.ndarray,
    instrument: np.ndarray,
    private: np.ndarray,
    mask: np.ndarray | None,
    heads: int = 1,
    head: int = 0,
    split: RowSplit | None = None,
) -> np.ndarray:
    """``int64[N]``: each agent's greedy action (the lowest index on ties; a NaN Q-value wins,
    as in ``torch.argmax``) on the observation ``concat(market[instrument[i]], private[i])``,
    times ``mask[i]`` when given.

    ``market``: ``float32[M, F]``, the feature table's row of this bar; ``private``:
    ``float32[N, P]``; with ``heads`` > 1 the outputs are ``heads`` blocks of actions and
    block ``head`` acts (the macro regime's micro policy head). One or two hidden layers.
    ``split``: the threads a large population's agents are spread over (blocks of
    :data:`MIN_BLOCK` or more); each agent's action is the same on any thread.
    """
    layers = net.arrays()
    depth = len(layers) // 2
    if depth not in (2, 3):
        raise ValueError(f"greedy_actions: one or two hidden layers, got {depth - 1}")
    w0, b0, w1, b1 = layers[:4]
    w2, b2 = layers[4:] if depth == 3 else (w1, b1)  # unread at depth 2
    n_out = net.n_actions // heads
    has_mask = mask is not None
    m = mask if mask is not None else _NO_MASK
    n = instrument.shape[0]
    actions = np.empty(n, dtype=np.int64)

    def rows(lo: int, hi: int) -> None:
        _rows(
            lo, hi, market, instrument, private, m, has_mask, depth, w0, b0, w1, b1, w2, b2,
            n_out, head * n_out, actions,
        )  # fmt: skip

    if split is None:
        rows(0, n)
    else:
        split.run(rows, n, MIN_BLOCK)
    return actions


_NO_MASK = np.empty((0, 0), dtype=np.float32)

GROUP = 4
"""Agents whose narrow output layers are summed together (:func:`_narrow_group`). An output
layer of 3 is three sums of 32 terms, each waiting on its own last add: one agent at a time
it took ~60 % of acting. Four agents' twelve sums interleave, each still in its own order:
acting at N = 4096 (12 → 32 → 3) took 281 µs against 418 in a loop of calls on one thread,
and an arena inference step ~3 % less. (An earlier try took 1.36x as long: how the loop is
written decides it, see :func:`_narrow_group`.)"""


@njit(cache=True, nogil=True, error_model="numpy")
def _rows(
    lo: int, hi: int, market: np.ndarray, instrument: np.ndarray, private: np.ndarray,
    mask: np.ndarray, has_mask: bool, depth: int, w0: np.ndarray, b0: np.ndarray,
    w1: np.ndarray, b1: np.ndarray, w2: np.ndarray, b2: np.ndarray, n_out: int, offset: int,
    actions: np.ndarray,
) -> None:  # fmt: skip
    """Agents ``lo`` … ``hi - 1``'s actions into ``actions``: observation, each layer (a ReLU
    between), argmax over the ``n_out`` outputs from ``offset``; :data:`GROUP` agents at a
    time, whose narrow output layers are summed together (:func:`_narrow_group`)."""
    f = market.shape[1]
    p = private.shape[1]
    w_last, b_last = (w2, b2) if depth == 3 else (w1, b1)
    narrow = w_last.shape[2] < _NARROW
    obs = np.empty(f + p, dtype=np.float32)
    h1 = np.empty((GROUP, w0.shape[2]), dtype=np.float32)
    h2 = np.empty((GROUP, w1.shape[2]), dtype=np.float32)
    q = np.empty((GROUP, w_last.shape[2]), dtype=np.float32)
    for first in range(lo, hi, GROUP):
        size = min(GROUP, hi - first)
        for a in range(size):
            i = first + a
            row = instrument[i]
            for j in range(f):
                obs[j] = market[row, j]
            for j in range(p):
                obs[f + j] = private[i, j]
            if has_mask:
                for j in range(f + p):
                    obs[j] = obs[j] * mask[i, j]
            _dense(obs, w0, b0, i, h1[a], True)
            if depth == 3:
                _dense(h1[a], w1, b1, i, h2[a], True)
        last_in = h2 if depth == 3 else h1
        if narrow and size == GROUP:
            _narrow_group(last_in, w_last, b_last, first, q)
        else:
            for a in range(size):
                _dense(last_in[a], w_last, b_last, first + a, q[a], False)
        for a in range(size):
            best = 0
            top = q[a, offset]
            for k in range(1, n_out):
                v = q[a, offset + k]
                if top != top:  # a NaN is the maximum; the first one wins
                    break
                if v > top or v != v:
                    best = k
                    top = v
            actions[first + a] = best


_NARROW = 16  # fewer outputs than this: accumulate in registers (see _dense_narrow)


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _dense(x: np.ndarray, w: np.ndarray, b: np.ndarray, i: int, y: np.ndarray, relu: bool) -> None:
    """``y = x @ w[i] + b[i, 0]`` (a ReLU that lets a NaN through when ``relu``); each output
    summed over the inputs in order from zero, the bias added last."""
    if w.shape[2] < _NARROW:
        _dense_narrow(x, w, i, y)
    else:
        _dense_wide(x, w, i, y)
    for o in range(w.shape[2]):
        v = y[o] + b[i, 0, o]
        if relu and not v > 0.0 and v == v:
            v = 0.0
        y[o] = v


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _dense_wide(x: np.ndarray, w: np.ndarray, i: int, y: np.ndarray) -> None:
    """Four inputs at a time, every output at once: the compiler vectorizes the loop over
    outputs, and each output adds its four terms one after the other (its own order of sums,
    as one input at a time) with a quarter of the loads and stores of ``y``: acting at
    N = 4096 took ~9 % less (405–430 µs a step in the arena against 452–476; 0.91× in 200
    paired calls). Four agents' hidden layers summed together, block by block, took 1.1x as
    long: unlike the output layer (:data:`GROUP`), this one was not waiting on its adds."""
    n_out = w.shape[2]
    n_in = w.shape[1]
    full = n_in - n_in % 4
    for o in range(n_out):
        y[o] = 0.0
    for j in range(0, full, 4):
        x0, x1, x2, x3 = x[j], x[j + 1], x[j + 2], x[j + 3]
        w0, w1, w2, w3 = w[i, j], w[i, j + 1], w[i, j + 2], w[i, j + 3]
        for o in range(n_out):
            y[o] = (((y[o] + x0 * w0[o]) + x1 * w1[o]) + x2 * w2[o]) + x3 * w3[o]
    for j in range(full, n_in):
        xv = x[j]
        for o in range(n_out):
            y[o] += xv * w[i, j, o]


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _dense_narrow(x: np.ndarray, w: np.ndarray, i: int, y: np.ndarray) -> None:
    """Up to four outputs at a time in local accumulators. With a few outputs the wide loop
    waits on its own stores, one input after the next (an output layer of 3 took 5x as long)."""
    n_in = w.shape[1]
    n_out = w.shape[2]
    for o in range(0, n_out, 4):
        k = min(4, n_out - o)
        a0 = a1 = a2 = a3 = np.float32(0.0)
        if k == 4:
            for j in range(n_in):
                xv = x[j]
                a0 += xv * w[i, j, o]
                a1 += xv * w[i, j, o + 1]
                a2 += xv * w[i, j, o + 2]
                a3 += xv * w[i, j, o + 3]
        elif k == 3:
            for j in range(n_in):
                xv = x[j]
                a0 += xv * w[i, j, o]
                a1 += xv * w[i, j, o + 1]
                a2 += xv * w[i, j, o + 2]
        elif k == 2:
            for j in range(n_in):
                xv = x[j]
                a0 += xv * w[i, j, o]
                a1 += xv * w[i, j, o + 1]
        else:
            for j in range(n_in):
                a0 += x[j] * w[i, j, o]
        y[o] = a0
        if k > 1:
            y[o + 1] = a1
        if k > 2:
            y[o + 2] = a2
        if k > 3:
            y[o + 3] = a3


@njit(cache=True, nogil=True, error_model="numpy", inline="always")
def _narrow_group(x: np.ndarray, w: np.ndarray, b: np.ndarray, first: int, y: np.ndarray) -> None:
    """``y[a] = x[a] @ w[first + a] + b[first + a, 0]`` for the :data:`GROUP` agents from
    ``first``, no ReLU: each output summed over its inputs in order from zero, the bias added
    last, as :func:`_dense` sums it (the same floats; a NaN's sign may differ, which no argmax
    sees); up to three outputs of all four agents at once, so the adder has up to twelve
    independent sums to work on.

    The weights' indices are unsigned: numba turns a negative signed index into one from the
    end, and that select on every load kept the compiler from loading an agent's three
    adjacent weights together (the loop took 1.8x as long). The branches repeat each other
    on purpose: the same loop with the remainder in a second loop, or in a helper, timed the
    same alone but made acting at N = 4096 take 347 or 474 µs against 281 (in :func:`_rows`,
    2026-12-07). Time acting whole after changing it."""
    n_in = w.shape[1]
    n_out = w.shape[2]
    i0, i1 = np.uint64(first), np.uint64(first + 1)
    i2, i3 = np.uint64(first + 2), np.uint64(first + 3)
    for o in range(0, n_out, 3):
        k = min(3, n_out - o)
        o0, o1, o2 = np.uint64(o), np.uint64(o + 1), np.uint64(o + 2)
        z = np.float32(0.0)
        a0 = a1 = a2 = b0 = b1 = b2 = c0 = c1 = c2 = d0 = d1 = d2 = z
        if k == 3:
            for j in range(n_in):
                u0 = x[0, j]
                u1 = x[1, j]
                u2 = x[2, j]
                u3 = x[3, j]
                a0 += u0 * w[i0, j, o0]
                a1 += u0 * w[i0, j, o1]
                a2 += u0 * w[i0, j, o2]
                b0 += u1 * w[i1, j, o0]
                b1 += u1 * w[i1, j, o1]
                b2 += u1 * w[i1, j, o2]
                c0 += u2 * w[i2, j, o0]
                c1 += u2 * w[i2, j, o1]
                c2 += u2 * w[i2, j, o2]
                d0 += u3 * w[i3, j, o0]
                d1 += u3 * w[i3, j, o1]
                d2 += u3 * w[i3, j, o2]
        elif k == 2:
            for j in range(n_in):
                u0 = x[0, j]
                u1 = x[1, j]
                u2 = x[2, j]
                u3 = x[3, j]
                a0 += u0 * w[i0, j, o0]
                a1 += u0 * w[i0, j, o1]
                b0 += u1 * w[i1, j, o0]
                b1 += u1 * w[i1, j, o1]
                c0 += u2 * w[i2, j, o0]
                c1 += u2 * w[i2, j, o1]
                d0 += u3 * w[i3, j, o0]
                d1 += u3 * w[i3, j, o1]
        else:
            for j in range(n_in):
                a0 += x[0, j] * w[i0, j, o0]
                b0 += x[1, j] * w[i1, j, o0]
                c0 += x[2, j] * w[i2, j, o0]
                d0 += x[3, j] * w[i3, j, o0]
        # the bias last; written out, not through a helper: inlining one that took the
        # twelve sums took the loop back to 1.7x as long
        y[0, o0] = a0 + b[i0, 0, o0]
        y[1, o0] = b0 + b[i1, 0, o0]
        y[2, o0] = c0 + b[i2, 0, o0]
        y[3, o0] = d0 + b[i3, 0, o0]
        if k > 1:
            y[0, o1] = a1 + b[i0, 0, o1]
            y[1, o1] = b1 + b[i1, 0, o1]
            y[2, o1] = c1 + b[i2, 0, o1]
            y[3, o1] = d1 + b[i3, 0, o1]
        if k > 2:
            y[0, o2] = a2 + b[i0, 0, o2]
            y[1, o2] = b2 + b[i1, 0, o2]
            y[2, o2] = c2 + b[i2, 0, o2]
            y[3, o2] = d2 + b[i3, 0, o2]
